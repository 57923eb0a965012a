package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/inspect"
)

func init() {
	var asJSON, verify bool
	var from string
	var ff formatFlags
	cmd := &cobra.Command{
		Use:   "info [--json] FILE...",
		Short: "Describe event files (format, layout, sensor size, event counts, time range, ON/OFF) and tensor files",
		Long: `Describe event files: format, layout, sensor size, event counts, time range, ON/OFF balance, and each
format's own details. Tensor files that a chain ending in a representation wrote (.arrow, .npz, .npy) are
described too: samples, classes, tensor shape and element type.`,
		Example: `  evtool info recording.aedat4
  evtool info --json Train/0/*.bin
  evtool info frames.npz`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := ff.options()
			if err != nil {
				return err
			}
			if verify {
				o.Params["verify"] = "true" // sharded datasets check every shard's sha256 when opened
			}
			failed := 0
			enc := json.NewEncoder(os.Stdout)
			for _, path := range args {
				rep, err := inspect.File(path, from, o)
				if err != nil && len(args) == 1 {
					return err
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, "evtool:", err)
					failed++
					continue
				}
				if verify {
					verifyNote(path)
				}
				if asJSON {
					if err := enc.Encode(rep); err != nil {
						return err
					}
					continue
				}
				printReport(rep)
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d files could not be read", failed, len(args))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per file, one per line")
	cmd.Flags().BoolVar(&verify, "verify", false, "sharded datasets: check every shard's size and sha256 against the manifest")
	cmd.Flags().StringVar(&from, "from", "", "force the input format (see: evtool formats)")
	ff.register(cmd, false)
	rootCmd.AddCommand(cmd)
}

func printReport(r *inspect.Report) {
	w := os.Stdout
	fmt.Fprintf(w, "%s\n", r.Path)
	fmt.Fprintf(w, "  format    %s (%s)\n", r.Format, r.Kind)
	geom := fmt.Sprintf("%dx%d", r.Width, r.Height)
	if r.Inferred {
		geom += " (inferred from the events; the file does not say)"
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
