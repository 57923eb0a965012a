package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/cli"
	"github.com/evtool/evtool/sources"
)

// formatFlags are the reader/writer settings shared by verbs that open files.
type formatFlags struct {
	sensor      string
	compression string
	params      []string
	strict      bool
}

// notices sums what readers dropped, altered or distrusted (formats.Notice); main prints it as warnings.
var notices formats.Tally

func (ff *formatFlags) register(cmd *cobra.Command, withCompression bool) {
	cmd.Flags().StringVar(&ff.sensor, "sensor", "", "sensor size WxH when the file does not say (e.g. 34x34, 346x260)")
	cmd.Flags().StringArrayVarP(&ff.params, "option", "O", nil, "format-specific option key=value (repeatable; see: evtool formats)")
	cmd.Flags().BoolVar(&ff.strict, "strict", false, "fail where a reader would drop data (a damaged packet, events outside the sensor) instead of warning")
	if withCompression {
		cmd.Flags().StringVar(&ff.compression, "compression", "", compressionHelp)
	}
}

// compressionHelp describes --compression: each format has its own codecs (formats.Format.Compressions),
// which `evtool formats` lists, so the flag's help names none.
const compressionHelp = "output compression: one of the output format's codecs (evtool formats lists them; default: the format's first)"

// checkCompression checks --compression against the output format's own codecs.
func checkCompression(f *formats.Format, name string) error {
	if f.Index != "" {
		return nil // a sharded dataset's writer checks the codec against its shards' format
	}
	if err := f.CheckCompression(name); err != nil {
		return cli.Usagef("--compression %s: %v", name, err)
	}
	return nil
}

func (ff *formatFlags) options() (formats.Options, error) {
	o := formats.Options{Compression: ff.compression, Params: map[string]string{}, Strict: ff.strict, Warn: notices.Add}
	if ff.sensor != "" {
		g, err := parseGeometry(ff.sensor)
		if err != nil {
			return o, cli.Usagef("--sensor %q: %v", ff.sensor, err)
		}
		o.Sensor = g
	}
	for _, kv := range ff.params {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			return o, cli.Usagef("-O %q: want key=value", kv)
		}
		o.Params[k] = v
	}
	return o, nil
}

func parseGeometry(s string) (events.Geometry, error) {
	w, h, ok := strings.Cut(strings.ToLower(s), "x")
	if !ok {
		return events.Geometry{}, fmt.Errorf("want WIDTHxHEIGHT")
	}
	wi, err1 := strconv.Atoi(w)
	hi, err2 := strconv.Atoi(h)
	if err1 != nil || err2 != nil || wi <= 0 || hi <= 0 || wi > 65535 || hi > 65535 {
		return events.Geometry{}, fmt.Errorf("want two positive integers up to 65535, like 346x260")
	}
	return events.Geometry{Width: wi, Height: hi}, nil
}

// parseDuration reads a duration flag (10ms, 500us, 2s) as microseconds; set is false when v is empty.
func parseDuration(name, v string) (us int64, set bool, err error) {
	if v == "" {
		return 0, false, nil
	}
	d, err := time.ParseDuration(strings.ReplaceAll(v, "us", "µs"))
	if err != nil || d < 0 {
		return 0, false, cli.Usagef("--%s %q: want a duration like 10ms, 500us or 2s", name, v)
	}
	return d.Microseconds(), true, nil
}

// checkParams refuses, before any work, a -O key that none of the formats that read or write with the
// options takes (formats.CheckParams): bad usage, told with the flag.
func checkParams(o formats.Options, fs ...*formats.Format) error {
	if err := formats.CheckParams(o, fs...); err != nil {
		return cli.Usage(optionFlagError{err})
	}
	return nil
}

// optionFlagError tells a format setting's error as the -O flag that gave it: "-O key=value: …".
type optionFlagError struct{ err error }

func (e optionFlagError) Error() string {
	var pe *formats.ParamError
	if errors.As(e.err, &pe) {
		return fmt.Sprintf("-O %s=%s: %s", pe.Key, pe.Value, pe.Msg)
	}
	return "-O: " + e.err.Error()
}

func (e optionFlagError) Unwrap() error { return e.err }

// planFormats returns the formats that read a plan's inputs: the sample files' formats, or the single
// input's (--from, else detected).
func planFormats(plan *sources.Plan, from string) ([]*formats.Format, error) {
	if !plan.Dataset {
		if from != "" {
			f, err := formats.Lookup(from)
			return []*formats.Format{f}, err
		}
		f, err := formats.Detect(plan.Recording)
		return []*formats.Format{f}, err
	}
	var fs []*formats.Format
	for _, it := range plan.Items {
		if !slices.Contains(fs, it.Format) {
			fs = append(fs, it.Format)
		}
	}
	return fs, nil
}

// checkReadParams is checkParams for the verbs that only read (info, render, view): the formats of every
// input path as the verb finds them, with their tensor readers when the verb reads tensor files too. An
// input whose format is not found is left to the verb, which tells why.
func checkReadParams(o formats.Options, paths []string, from string, tensors bool) error {
	if len(o.Params) == 0 {
		return nil
	}
	var fs []*formats.Format
	for _, path := range paths {
		plan, err := sources.Discover([]string{path}, from)
		if err != nil {
			continue
		}
		found, err := planFormats(plan, from)
		if err != nil {
			continue
		}
		for _, f := range found {
			fs = append(fs, f)
			if tensors && f.Tensors != nil {
				fs = append(fs, f.TensorFormat())
			}
		}
	}
	if len(fs) == 0 {
		return nil
	}
	return checkParams(o, fs...)
}
