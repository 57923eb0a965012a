package main

import (
	"errors"
	"fmt"
	"image"
	"math"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/cli"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/tensors"
	"github.com/evtool/evtool/viewer"
)

func init() {
	var out, window, start, duration, decay, tau, scheme, from string
	var speed float64
	var sample, grid, scale, maxFrames int
	var ff formatFlags
	cmd := &cobra.Command{
		Use:   "render FILE -o out.gif|out.png|'frame_%04d.png'",
		Short: "Draw events as an animated GIF, a PNG grid of time windows, or a numbered PNG sequence",
		Long: `Render a recording, or one sample of a dataset file, without a display. The output kind comes
from its name: .gif is an animation (one frame per --window, played at --speed × real time), .png is a
grid of --grid windows, and a name with a printf verb (frame_%04d.png) is a sequence of PNG files.
Colours: okabe (default, colour-blind safe: ON orange, OFF sky blue on black), light, gray, redgreen.
A tensors file (convert -t '… | frames(…)') renders too: the --sample's frames as a grid, GIF or sequence.`,
		Example: `  evtool render Train/0/00002.bin -o digit.png --grid 9 --window 35ms
  evtool render recording.aedat4 -o clip.gif --window 20ms --duration 2s --decay exponential
  evtool render train.arrow --sample 3 -o sample3.gif`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return cli.Usagef("render needs an output: -o out.gif, out.png or 'frame_%%04d.png'")
			}
			fo, err := ff.options()
			if err != nil {
				return err
			}
			w, _, err := parseDuration("window", window)
			if err != nil {
				return err
			}
			st, hasStart, err := parseDuration("start", start)
			if err != nil {
				return err
			}
			dur, _, err := parseDuration("duration", duration)
			if err != nil {
				return err
			}
			tc, _, err := parseDuration("tau", tau)
			if err != nil {
				return err
			}
			if tr, _, err := formats.OpenTensors(args[0], from, fo); err == nil {
				defer tr.Close()
				return renderTensors(tr, sample, out, scheme, scale, speed)
			} else if !errors.Is(err, tensors.ErrNotTensors) {
				return err
			}
			src, inFmt, err := formats.Open(args[0], from, fo)
			if err != nil {
				return err
			}
			defer src.Close()
			r := src.Events
			label := ""
			meta := src.Meta()
			if s := src.Samples; s != nil {
				if s.NumSamples() == 0 {
					return fmt.Errorf("%s: the dataset holds no samples: nothing to draw", args[0])
				}
				if sample < 0 || sample >= s.NumSamples() {
					return cli.Usagef("--sample %d: the dataset holds samples 0..%d", sample, s.NumSamples()-1)
				}
				var smp events.Sample
				if err := s.ReadSample(sample, &smp); err != nil {
					return err
				}
				label = viewer.SampleLabel(sample, smp.Label, meta.Classes)
				r = &events.BatchReader{B: &smp.Events, M: meta}
			}
			g := meta.Geometry
			if fo.Sensor.Known() {
				g = fo.Sensor
			}
			switch {
			case g.Known():
			case src.Samples != nil:
				g, err = sources.SamplesSensor(args[0], inFmt, src.Samples, fo)
			default:
				g, err = sources.SensorOf(args[0], inFmt, fo)
			}
			if err != nil {
				return err
			}
			shrink := 0
			if scale <= 0 {
				scale = max(1, 256/max(g.Width, g.Height))
				// Sensors beyond any camera's (a header may claim 65535×65535) are drawn shrunk.
				shrink = (max(g.Width, g.Height) + renderSide - 1) / renderSide
			}
			clip := viewer.Clip{Render: viewer.Options{Width: g.Width, Height: g.Height, Scale: scale, Shrink: shrink, Scheme: scheme,
				Decay: decay, Window: w, Tau: tc}, Start: st, HasStart: hasStart, Duration: dur, Window: w,
				MaxFrames: maxFrames, Label: label}
			if _, err := viewer.New(clip.Render); err != nil {
				return cli.Usagef("%v", err)
			}
			switch {
			case strings.Contains(out, "%"):
				n, err := viewer.WriteSequence(out, r, clip)
				if err != nil {
					return err
				}
				cli.Infof("wrote %d frames as %s", n, out)
			case strings.HasSuffix(strings.ToLower(out), ".gif"):
				n, err := viewer.WriteGIF(out, r, clip, speed)
				if err != nil {
					return err
				}
				cli.Infof("wrote %s: %d frames", out, n)
			case strings.HasSuffix(strings.ToLower(out), ".png"):
				if err := viewer.WriteGrid(out, r, clip, grid); err != nil {
					return err
				}
				cli.Infof("wrote %s: a grid of %d windows", out, grid)
			default:
				return cli.Usagef("-o %s: want a .gif, a .png, or a PNG sequence pattern like frame_%%04d.png", out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "", "output: out.gif, out.png (grid) or frame_%04d.png (sequence)")
	f.StringVar(&window, "window", "10ms", "time per frame or grid tile")
	f.StringVar(&start, "start", "", "first time to draw (default: the first event)")
	f.StringVar(&duration, "duration", "", "how much to draw (default: everything, up to --max-frames)")
	f.StringVar(&decay, "decay", "window", "window, linear, exponential or cumulative")
	f.StringVar(&tau, "tau", "", "time constant of linear/exponential decay (default: the window)")
	f.StringVar(&scheme, "colors", "okabe", "colour scheme: okabe, light, gray, redgreen")
	f.Float64Var(&speed, "speed", 1, "GIF playback speed relative to real time")
	f.IntVar(&sample, "sample", 0, "dataset files: which sample to draw")
	f.IntVar(&grid, "grid", 9, "PNG: number of windows in the grid")
	f.IntVar(&scale, "scale", 0, "zoom factor (default: about 256 px on the long side)")
	f.IntVar(&maxFrames, "max-frames", 500, "stop after this many frames")
	f.StringVar(&from, "from", "", "force the input format (see: evtool formats)")
	ff.register(cmd, false)
	rootCmd.AddCommand(cmd)
}

// renderSide is the longest side render draws a sensor at by default: larger ones are shrunk to it.
const renderSide = 2048

// renderTensors draws one sample of a tensors file: each frame in the ON/OFF colours (ON − OFF where the
// frame has both channels), scaled to its own largest value.
func renderTensors(tr tensors.Reader, sample int, out, scheme string, scale int, speed float64) error {
	if tr.NumSamples() == 0 {
		return fmt.Errorf("%s: the file holds no tensors: nothing to draw", tr.Meta().Source)
	}
	if sample < 0 || sample >= tr.NumSamples() {
		return cli.Usagef("--sample %d: the file holds tensors 0..%d", sample, tr.NumSamples()-1)
	}
	var s tensors.Sample
	if err := tr.ReadSample(sample, &s); err != nil {
		return err
	}
	t := &s.Tensor
	meta := tr.Meta()
	// A 3-D image tensor is (P, H, W): one picture; other 3-D tensors are (K, H, W) frames.
	stages := strings.Split(meta.Transforms, "|")
	last := strings.TrimSpace(stages[len(stages)-1])
	channels := last == "image" || strings.HasPrefix(last, "image(")
	if scale <= 0 {
		side := max(t.Shape[len(t.Shape)-1], t.Shape[len(t.Shape)-2])
		scale = max(1, 256/max(side, 1))
	}
	var pics []*image.RGBA
	var err error
	if t.F32 != nil {
		pics, err = viewer.TensorFrames(t.F32, t.Shape, channels, scheme, scale)
	} else {
		pics, err = viewer.TensorFrames(t.U16, t.Shape, channels, scheme, scale)
	}
	if err != nil {
		return err
	}
	label := viewer.SampleLabel(sample, s.Label, meta.Classes)
	if err := viewer.WritePictures(out, pics, label, scheme, int(math.Round(10/max(speed, 0.01)))); err != nil {
		return err
	}
	cli.Infof("wrote %s: tensor %d (shape %v) as %d picture(s)", out, sample, t.Shape, len(pics))
	return nil
}
