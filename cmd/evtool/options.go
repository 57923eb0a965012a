package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/cli"
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
