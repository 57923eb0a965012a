package main

import (
	"github.com/spf13/cobra"

	"github.com/evtool/evtool/internal/cli"
	"github.com/evtool/evtool/slicer"
)

// sliceFlags cut a recording into the samples of a dataset (convert).
type sliceFlags struct {
	window, overlap, start, end, at, labels string
	count, countOverlap                     int
	incomplete, rebase                      bool
}

func (f *sliceFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.window, "slice-window", "", "cut the recording into samples of this duration (e.g. 500ms)")
	fl.StringVar(&f.overlap, "slice-overlap", "", "with --slice-window: overlap of consecutive windows (duration)")
	fl.IntVar(&f.count, "slice-count", 0, "cut the recording into samples of this many events")
	fl.IntVar(&f.countOverlap, "slice-count-overlap", 0, "with --slice-count: events shared by consecutive samples")
	fl.StringVar(&f.at, "slice-at", "", "cut at the intervals of a CSV file: start_us,end_us per row")
	fl.StringVar(&f.labels, "slice-labels", "", "cut at labelled intervals of a CSV file: label,start_us,end_us per row (DVSGesture's *_labels.csv)")
	fl.BoolVar(&f.incomplete, "slice-incomplete", false, "keep a last window or count cut short by the end of the recording")
	fl.StringVar(&f.start, "slice-start", "", "with --slice-window: first window start (default: the first event)")
	fl.StringVar(&f.end, "slice-end", "", "with --slice-window: end of the sliced span, exclusive (default: the last event + 1)")
	fl.BoolVar(&f.rebase, "rebase", false, "make each sample's times start at its slice's start")
}

// spec turns the flags into a slicer spec, or nil when no slicing was asked for.
func (f *sliceFlags) spec(cmd *cobra.Command) (*slicer.Spec, error) {
	if f.window == "" && f.count == 0 && f.at == "" && f.labels == "" {
		for _, n := range []string{"slice-overlap", "slice-count-overlap", "slice-incomplete", "slice-start", "slice-end", "rebase"} {
			if cmd.Flags().Changed(n) {
				return nil, cli.Usagef("--%s needs --slice-window, --slice-count, --slice-at or --slice-labels", n)
			}
		}
		return nil, nil
	}
	s := &slicer.Spec{Count: f.count, CountOverlap: f.countOverlap, IncludeIncomplete: f.incomplete, Rebase: f.rebase}
	var err error
	if s.Window, _, err = parseDuration("slice-window", f.window); err != nil {
		return nil, err
	}
	if s.Overlap, _, err = parseDuration("slice-overlap", f.overlap); err != nil {
		return nil, err
	}
	if s.Start, s.HasStart, err = parseDuration("slice-start", f.start); err != nil {
		return nil, err
	}
	if s.End, s.HasEnd, err = parseDuration("slice-end", f.end); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		path     string
		labelled bool
	}{{f.at, false}, {f.labels, true}} {
		if l.path == "" {
			continue
		}
		if s.Intervals != nil {
			return nil, cli.Usagef("give one of --slice-at and --slice-labels")
		}
		if s.Intervals, err = slicer.ReadIntervals(l.path, l.labelled); err != nil {
			return nil, err
		}
	}
	if _, err := slicer.New(*s); err != nil {
		return nil, cli.Usagef("%v", err)
	}
	return s, nil
}
