package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/shards"
	"github.com/evtool/evtool/inspect"
	"github.com/evtool/evtool/sources"
)

func init() {
	var asJSON, verify bool
	var from string
	var ff formatFlags
	cmd := &cobra.Command{
		Use:   "info [--json] FILE|FOLDER...",
		Short: "Describe event files (format, layout, sensor size, event counts, time range, ON/OFF) and tensor files",
		Long: `Describe event files: format, layout, sensor size, event counts, time range, ON/OFF balance, and each
format's own details. Tensor files that a chain ending in a representation wrote (.arrow, .npz, .npy) are
described too: samples, classes, tensor shape and element type. A folder of sample files is described
as the dataset convert would make of it: samples, classes and their counts, events.`,
		Example: `  evtool info recording.aedat4
  evtool info --json Train/0/*.bin
  evtool info N-MNIST/Train
  evtool info frames.npz`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := ff.options()
			if err != nil {
				return err
			}
			if err := checkReadParams(o, args, from, true); err != nil {
				return err
			}
			if verify {
				o.Params["verify"] = "true" // sharded datasets check every shard's sha256 when opened
			}
			// Reports go through one buffer, in the order of the arguments; files are described on all
			// cores, a folder of sample files as one dataset.
			failed := 0
			err = writeReports(func(w *bufio.Writer) error {
				emit := func(path string, rep *inspect.Report, err error) error {
					if err != nil && len(args) == 1 {
						return err
					}
					// Notes and errors go to stderr in line with the reports around them.
					if err != nil || verify {
						if err := w.Flush(); err != nil {
							return err
						}
					}
					if err != nil {
						fmt.Fprintln(os.Stderr, "evtool:", err)
						failed++
						return nil
					}
					if verify {
						verifyNote(path)
					}
					return report(w, rep, asJSON)
				}
				if !slices.ContainsFunc(args, sources.IsSampleFolder) {
					return inspect.Files(cmd.Context(), args, from, o, func(i int, rep *inspect.Report, err error) error {
						return emit(args[i], rep, err)
					})
				}
				for _, path := range args {
					rep, err := describe(path, from, o)
					if err := emit(path, rep, err); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d files could not be read", failed, len(args))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per file, one per line")
	formatVar(cmd, &from, "from", "force the input format (see: evtool formats)", false)
	cmd.Flags().BoolVar(&verify, "verify", false, "sharded datasets: check every shard's size and sha256 against the manifest")
	ff.register(cmd, false)
	rootCmd.AddCommand(cmd)
}

// writeReports runs write on a buffer in front of stdout (one write call per 64 KiB, not one per line)
// and flushes it.
func writeReports(write func(w *bufio.Writer) error) error {
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	err := write(w)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

func report(w *bufio.Writer, rep *inspect.Report, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(rep)
	}
	printReport(w, rep)
	return nil
}

// describe reports on a file, or on a folder of sample files as one dataset.
func describe(path, from string, o formats.Options) (*inspect.Report, error) {
	if !sources.IsSampleFolder(path) {
		// A file, or a folder that is one dataset (a sharded dataset and its manifest).
		return inspect.File(path, from, o)
	}
	plan, err := sources.Discover([]string{path}, from)
	if err != nil {
		return nil, err
	}
	if len(plan.Items) == 0 {
		return nil, fmt.Errorf("%s: no event files found", path)
	}
	n := len(plan.Items)
	rep := &inspect.Report{Path: path, Kind: events.KindDataset, Samples: &n, Classes: plan.Classes,
		Labels: make([]int, len(plan.Classes)), Inferred: !o.Sensor.Known()}
	var names []string
	var fmts []*formats.Format
	extent := events.Geometry{}
	for _, it := range plan.Items {
		r, err := inspect.File(it.Path, it.Format.Name, o)
		if err != nil {
			return nil, err
		}
		if r.Kind != events.KindRecording {
			if m := manifestsUnder(path); len(m) > 0 {
				return nil, fmt.Errorf("%s holds sharded datasets, not samples: describe them with evtool info %s", path, strings.Join(m, " "))
			}
			return nil, fmt.Errorf("%s: a %s file inside the folder %s: describe it on its own", it.Path, r.Kind, path)
		}
		if !slices.Contains(names, it.Format.Name) {
			names, fmts = append(names, it.Format.Name), append(fmts, it.Format)
		}
		if it.Label >= 0 && int(it.Label) < len(rep.Labels) {
			rep.Labels[it.Label]++
		}
		rep.Events += r.Events
		rep.On += r.On
		rep.Off += r.Off
		rep.NonMonotonic += r.NonMonotonic
		if r.TFirst != nil {
			if rep.TFirst == nil {
				rep.TFirst, rep.TLast = r.TFirst, r.TLast
				rep.XMin, rep.XMax, rep.YMin, rep.YMax = r.XMin, r.XMax, r.YMin, r.YMax
			}
			*rep.TFirst, *rep.TLast = min(*rep.TFirst, *r.TFirst), max(*rep.TLast, *r.TLast)
			*rep.XMin, *rep.XMax = min(*rep.XMin, *r.XMin), max(*rep.XMax, *r.XMax)
			*rep.YMin, *rep.YMax = min(*rep.YMin, *r.YMin), max(*rep.YMax, *r.YMax)
		}
		if !r.Inferred {
			extent = events.Geometry{Width: max(extent.Width, r.Width), Height: max(extent.Height, r.Height)}
		}
	}
	rep.Format = strings.Join(names, "+")
	switch {
	case o.Sensor.Known():
		rep.Width, rep.Height = o.Sensor.Width, o.Sensor.Height
	case extent.Known():
		rep.Width, rep.Height, rep.Inferred = extent.Width, extent.Height, false
	case rep.XMax != nil:
		g := events.Geometry{Width: int(*rep.XMax) + 1, Height: int(*rep.YMax) + 1}
		if len(fmts) == 1 {
			g = sources.Infer(fmts[0], g)
		}
		rep.Width, rep.Height = g.Width, g.Height
	}
	return rep, nil
}

func printReport(w io.Writer, r *inspect.Report) {
	fmt.Fprintf(w, "%s\n", r.Path)
	fmt.Fprintf(w, "  format    %s (%s)\n", r.Format, r.Kind)
	geom := fmt.Sprintf("%dx%d", r.Width, r.Height)
	if r.Inferred {
		geom += " (inferred from the events: the input does not say)"
	}
	if r.Kind != events.KindTensors || r.Width > 0 {
		fmt.Fprintf(w, "  sensor    %s\n", geom)
	}
	if r.Samples != nil {
		fmt.Fprintf(w, "  samples   %d\n", *r.Samples)
	}
	if len(r.Classes) > 0 {
		parts := make([]string, len(r.Classes))
		for i, c := range r.Classes {
			parts[i] = fmt.Sprintf("%s:%d", c, r.Labels[i])
		}
		fmt.Fprintf(w, "  classes   %d (%s)\n", len(r.Classes), strings.Join(parts, " "))
	}
	if r.Kind != events.KindTensors {
		fmt.Fprintf(w, "  events    %d (ON %d, OFF %d)\n", r.Events, r.On, r.Off)
	}
	if r.TFirst != nil {
		fmt.Fprintf(w, "  time      %d .. %d µs (%.3f s)\n", *r.TFirst, *r.TLast, float64(*r.TLast-*r.TFirst)/1e6)
		fmt.Fprintf(w, "  x, y      %d..%d, %d..%d\n", *r.XMin, *r.XMax, *r.YMin, *r.YMax)
	}
	if r.NonMonotonic > 0 {
		fmt.Fprintf(w, "  warning   %d events go back in time\n", r.NonMonotonic)
	}
	if r.Source != "" {
		fmt.Fprintf(w, "  source    %s\n", r.Source)
	}
	if r.Transforms != "" {
		fmt.Fprintf(w, "  transforms %s\n", r.Transforms)
	}
	keys := make([]string, 0, len(r.Details))
	for k := range r.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b, _ := json.Marshal(r.Details[k])
		fmt.Fprintf(w, "  %-9s %s\n", k, b)
	}
}

// manifestsUnder lists the sharded datasets inside a folder (a hive root's split=train, split=test):
// the folders that hold a manifest.
func manifestsUnder(root string) []string {
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == shards.ManifestName {
			out = append(out, filepath.Dir(p))
			return filepath.SkipDir
		}
		return nil
	})
	return out
}
