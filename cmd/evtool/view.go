package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/internal/cli"
	"github.com/evtool/evtool/viewer"
	"github.com/evtool/evtool/viewer/player"
)

func init() {
	var window, decay, scheme, from string
	var speed float64
	var sample, scale, budget, frames int
	var paused, next, boxes bool
	var ff formatFlags
	cmd := &cobra.Command{
		Use:         "view FILE|FOLDER",
		Annotations: map[string]string{mainThread: "the window"},
		Short:       "Play a recording, or the samples of a dataset, in a window",
		Long: `Open a window that plays events: any recording evtool reads, the samples of a dataset file (Arrow,
Parquet, NumPy), or a folder of sample files (e.g. N-MNIST Train/). Large recordings are streamed from disk,
not loaded whole. Press h in the window for the keys: space play/pause, left/right step one window,
up/down seek 1 s, [ ] window length, d decay, c colours, - = speed, n/p next/previous sample, a go on to
the next sample at the end, b boxes (detection labels, drawn in class colours with class and track id),
s save a PNG;
click or drag the timeline to seek. Needs a display; without one, use evtool render.`,
		Example: `  evtool view recording.aedat4
  evtool view train.arrow --sample 12 --window 5ms
  evtool view N-MNIST/Test --decay exponential --speed 0.25`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := windowMissing(); err != nil {
				return err
			}
			fo, err := ff.options()
			if err != nil {
				return err
			}
			if err := checkReadParams(fo, args, from, false); err != nil {
				return err
			}
			w, _, err := parseDuration("window", window)
			if err != nil {
				return err
			}
			if speed <= 0 {
				return cli.Usagef("--speed %g: want a positive factor", speed)
			}
			cfg := player.Config{Scale: scale, Scheme: scheme, Decay: decay, Window: w, Speed: speed,
				Sample: sample, Paused: paused, AutoNext: next, Boxes: boxes}
			if _, err := viewer.New(viewer.Options{Width: 1, Height: 1, Scheme: scheme, Decay: decay}); err != nil {
				return cli.Usagef("%v", err)
			}
			pl, err := player.Open(args[0], from, fo, budget)
			if err != nil {
				return inputError(args[0], err)
			}
			if sample < 0 || sample >= pl.Len() {
				pl.Close()
				return cli.Usagef("--sample %d: %s holds samples 0..%d", sample, args[0], pl.Len()-1)
			}
			p, err := player.New(pl, cfg)
			if err != nil {
				pl.Close()
				return inputError(args[0], err)
			}
			defer p.Close()
			return runWindow(p, fmt.Sprintf("evtool view %s", filepath.Base(args[0])), frames)
		},
	}
	f := cmd.Flags()
	f.StringVar(&window, "window", "10ms", "time shown per picture (change with [ and ])")
	enumVar(cmd, &decay, "decay", viewer.DecayWindow, "window, linear, exponential or cumulative (cycle with d)", decayNames)
	enumVar(cmd, &scheme, "colors", "okabe", "colour scheme: okabe, light, gray, redgreen (cycle with c)", viewer.SchemeNames())
	f.Float64Var(&speed, "speed", 1, "playback speed relative to real time (change with - and =)")
	f.IntVar(&sample, "sample", 0, "dataset files and folders: the sample to start with")
	f.IntVar(&scale, "scale", 0, "zoom factor (default: about 720×540 px)")
	f.BoolVar(&paused, "paused", false, "start paused")
	f.BoolVar(&next, "next", false, "datasets: at the end of a sample, play the next one (toggle with a)")
	f.BoolVar(&boxes, "boxes", true, "draw the boxes of inputs that carry them (detection labels; toggle with b)")
	f.IntVar(&budget, "memory-events", player.DefaultMemoryBudget, "recordings with more events are streamed from disk instead of held in memory")
	formatVar(cmd, &from, "from", "force the input format (see: evtool formats)", false)
	f.IntVar(&frames, "frames", 0, "quit after drawing this many frames (scripted checks that a file plays)")
	f.MarkHidden("frames")
	ff.register(cmd, false)
	rootCmd.AddCommand(cmd)
}
