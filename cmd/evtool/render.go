package main

import (
	"context"
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

// renderJob is what render's flags ask for.
type renderJob struct {
	out, kind, from, scheme, decay string
	window, start, duration, tau   int64
	hasStart, force, boxes         bool
	speed                          float64
	sample, grid, scale, maxFrames int
	fo                             formats.Options
}

func init() {
	var window, start, duration, tau string
	var j renderJob
	var ff formatFlags
	cmd := &cobra.Command{
		Use:   "render FILE|FOLDER -o out.gif|out.png|'frame_%04d.png'",
		Short: "Draw events as an animated GIF, a PNG grid of time windows, or a numbered PNG sequence",
		Long: `Render a recording, one sample of a dataset file, or one file of a folder of samples (as convert and
view read it), without a display. The output kind comes from its name: .gif is an animation (one frame
per --window, played at --speed × real time), .png is a grid of --grid windows, and a name with a printf
verb (frame_%04d.png) is a sequence of PNG files, moved into place together when all are written.
Colours: okabe (default, colour-blind safe: ON orange, OFF sky blue on black), light, gray, redgreen.
A tensors file (convert -t '… | frames(…)') renders too: the --sample's frames as a grid, GIF or sequence.
Boxes (detection labels: a Gen1 / 1 Megapixel dataset, a recording with its _bbox.npy) are drawn on top
in class colours with their class name and track id; --boxes=false leaves them out.`,
		Example: `  evtool render Train/0/00002.bin -o digit.png --grid 9 --window 35ms
  evtool render recording.aedat4 -o clip.gif --window 20ms --duration 2s --decay exponential
  evtool render train.arrow --sample 3 -o sample3.gif
  evtool render N-MNIST/Test --sample 5 -o test5.png
  evtool render gen1-train.arrow --sample 2 -o boxes.png --grid 4 --window 12500us`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if j.out == "" {
				return cli.Usagef("render needs an output: -o out.gif, out.png or 'frame_%%04d.png'")
			}
			if j.kind = renderKind(j.out); j.kind == "" {
				return cli.Usagef("-o %s: want a .gif, a .png, or a PNG sequence pattern like frame_%%04d.png", j.out)
			}
			var err error
			if j.fo, err = ff.options(); err != nil {
				return err
			}
			if err := checkReadParams(j.fo, args, j.from, true); err != nil {
				return err
			}
			for _, d := range []struct {
				name, v string
				dst     *int64
				set     *bool
			}{{"window", window, &j.window, nil}, {"start", start, &j.start, &j.hasStart},
				{"duration", duration, &j.duration, nil}, {"tau", tau, &j.tau, nil}} {
				us, set, err := parseDuration(d.name, d.v)
				if err != nil {
					return err
				}
				*d.dst = us
				if d.set != nil {
					*d.set = set
				}
			}
			if j.sample < 0 {
				return cli.Usagef("--sample %d: want 0 or more", j.sample)
			}
			if j.kind == "sequence" {
				err = checkSequence(j.out, j.force)
			} else {
				err = checkOutput(j.out, j.force)
			}
			if err != nil {
				return err
			}
			return j.run(cmd.Context(), args[0])
		},
	}
	f := cmd.Flags()
	f.StringVarP(&j.out, "output", "o", "", "output: out.gif, out.png (grid) or frame_%04d.png (sequence)")
	f.StringVar(&window, "window", "10ms", "time per frame or grid tile")
	f.StringVar(&start, "start", "", "first time to draw (default: the first event)")
	f.StringVar(&duration, "duration", "", "how much to draw (default: everything, up to --max-frames)")
	enumVar(cmd, &j.decay, "decay", viewer.DecayWindow, "window, linear, exponential or cumulative", decayNames)
	f.StringVar(&tau, "tau", "", "time constant of linear/exponential decay (default: the window)")
	enumVar(cmd, &j.scheme, "colors", "okabe", "colour scheme: okabe, light, gray, redgreen", viewer.SchemeNames())
	f.Float64Var(&j.speed, "speed", 1, "GIF playback speed relative to real time")
	f.IntVar(&j.sample, "sample", 0, "dataset files and folders: which sample to draw")
	f.IntVar(&j.grid, "grid", 9, "PNG: number of windows in the grid")
	f.IntVar(&j.scale, "scale", 0, "zoom factor (default: about 256 px on the long side)")
	f.IntVar(&j.maxFrames, "max-frames", 500, "stop after this many frames")
	formatVar(cmd, &j.from, "from", "force the input format (see: evtool formats)", false)
	forceFlag(cmd, &j.force)
	f.BoolVar(&j.boxes, "boxes", true, "draw the boxes of inputs that carry them (detection labels)")
	ff.register(cmd, false)
	rootCmd.AddCommand(cmd)
}

// decayNames are render's --decay values.
var decayNames = []string{viewer.DecayWindow, viewer.DecayLinear, viewer.DecayExponential, viewer.DecayCumulative}

// renderSide is the longest side render draws a sensor at by default: larger ones are shrunk to it.
const renderSide = 2048

// renderKind tells the output kind from its name: "sequence" (a printf verb), "gif", "grid" (.png), or
// "" for anything else.
func renderKind(out string) string {
	switch {
	case strings.Contains(out, "%"):
		return "sequence"
	case strings.HasSuffix(strings.ToLower(out), ".gif"):
		return "gif"
	case strings.HasSuffix(strings.ToLower(out), ".png"):
		return "grid"
	}
	return ""
}

// run draws the input: a folder's --sample'th file, a tensors file's tensor, or a recording or a
// dataset file's sample.
func (j *renderJob) run(ctx context.Context, in string) error {
	if sources.IsSampleFolder(in) {
		plan, err := sources.Discover([]string{in}, j.from)
		if err != nil {
			return err
		}
		if len(plan.Items) == 0 {
			return fmt.Errorf("%s: no event files found", in)
		}
		if j.sample >= len(plan.Items) {
			return cli.Usagef("--sample %d: %s holds samples 0..%d", j.sample, in, len(plan.Items)-1)
		}
		fo := j.fo
		if !fo.Sensor.Known() {
			first := plan.Items[0]
			if fo.Sensor, err = sources.SensorOf(first.Path, first.Format, fo); err != nil {
				return err
			}
		}
		it := plan.Items[j.sample]
		label := viewer.SampleLabel(j.sample, it.Label, plan.Classes) + " " + it.ID
		src, _, err := sources.Open(it.Path, it.Format.Name, fo)
		if err != nil {
			return err
		}
		defer src.Close()
		if src.Events == nil {
			return fmt.Errorf("%s: a dataset file inside the folder %s; render the file itself", it.Path, in)
		}
		return j.draw(ctx, it.Path, src.Events, fo.Sensor, label)
	}
	if tr, _, err := formats.OpenTensors(in, j.from, j.fo); err == nil {
		defer tr.Close()
		return renderTensors(tr, in, j.sample, j.out, j.scheme, j.scale, j.speed, j.boxes)
	} else if !errors.Is(err, tensors.ErrNotTensors) {
		return err
	}
	src, inFmt, err := sources.Open(in, j.from, j.fo)
	if err != nil {
		return err
	}
	defer src.Close()
	var r events.Reader = src.Events
	meta := src.Meta()
	label := ""
	if s := src.Samples; s != nil {
		if s.NumSamples() == 0 {
			return fmt.Errorf("%s: the dataset holds no samples: nothing to draw", in)
		}
		if j.sample >= s.NumSamples() {
			return cli.Usagef("--sample %d: %s holds samples 0..%d", j.sample, in, s.NumSamples()-1)
		}
		var smp events.Sample
		if err := s.ReadSample(j.sample, &smp); err != nil {
			return err
		}
		label = viewer.SampleLabel(j.sample, smp.Label, meta.Classes)
		r = &events.BatchReader{B: &smp.Events, M: meta}
		if meta.Boxes {
			r = events.WithBoxes(r, smp.Boxes)
		}
	}
	g := meta.Geometry
	if j.fo.Sensor.Known() {
		g = j.fo.Sensor
	}
	switch {
	case g.Known():
	case src.Samples != nil: // a dataset without a sensor size (pyarrow, polars): the extent of its samples
		g, err = sources.SamplesSensor(in, inFmt, src.Samples, j.fo)
	default:
		g, err = sources.SensorOf(in, inFmt, j.fo)
	}
	if errors.Is(err, events.ErrSensor) {
		return fmt.Errorf("nothing to draw: %w", err) // no events, no sensor size
	} else if err != nil {
		return err
	}
	return j.draw(ctx, in, r, g, label)
}

// draw writes the picture(s) of r, which was read from in, as the job's kind.
func (j *renderJob) draw(ctx context.Context, in string, r events.Reader, g events.Geometry, label string) error {
	if !g.Known() {
		return fmt.Errorf("%s: nothing to draw: the input holds no events and does not say its sensor size", in)
	}
	scale := j.scale
	if scale > 0 && (g.Width*scale > viewer.MaxPicture || g.Height*scale > viewer.MaxPicture) {
		return cli.Usagef("--scale %d: the picture of %s (%dx%d) would be %dx%d px, more than %d on a side",
			scale, in, g.Width, g.Height, g.Width*scale, g.Height*scale, viewer.MaxPicture)
	}
	shrink := 0
	if scale <= 0 {
		scale = max(1, 256/max(g.Width, g.Height))
		// Sensors beyond any camera's (a header may claim 65535×65535) are drawn shrunk.
		shrink = (max(g.Width, g.Height) + renderSide - 1) / renderSide
	}
	clip := viewer.Clip{Render: viewer.Options{Width: g.Width, Height: g.Height, Scale: scale, Shrink: shrink, Scheme: j.scheme,
		Decay: j.decay, Window: j.window, Tau: j.tau}, Start: j.start, HasStart: j.hasStart, Duration: j.duration,
		Window: j.window, MaxFrames: j.maxFrames, Label: label, Boxes: j.boxes, BoxClasses: r.Meta().BoxClasses}
	r = ctxReader{Reader: r, ctx: ctx}
	switch j.kind {
	case "sequence":
		n, err := viewer.WriteSequence(j.out, r, clip)
		if err != nil {
			return inputError(in, err)
		}
		cli.Infof("wrote %d frames as %s", n, j.out)
	case "gif":
		n, err := viewer.WriteGIF(j.out, r, clip, j.speed)
		if err != nil {
			return inputError(in, err)
		}
		cli.Infof("wrote %s: %d frames", j.out, n)
	default:
		if err := viewer.WriteGrid(j.out, r, clip, j.grid); err != nil {
			return inputError(in, err)
		}
		cli.Infof("wrote %s: a grid of %d windows", j.out, j.grid)
	}
	return nil
}

// inputError names the input in an error that does not name it already ("nothing to draw: the input
// holds no events").
func inputError(in string, err error) error {
	if err == nil || strings.Contains(err.Error(), in) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%s: %w", in, err)
}

// renderTensors draws one sample of a tensors file: each frame in the ON/OFF colours (ON − OFF where the
// frame has both channels), scaled to its own largest value.
func renderTensors(tr tensors.Reader, in string, sample int, out, scheme string, scale int, speed float64, boxes bool) error {
	if tr.NumSamples() == 0 {
		return fmt.Errorf("%s: the file holds no tensors: nothing to draw", in)
	}
	if sample >= tr.NumSamples() {
		return cli.Usagef("--sample %d: %s holds tensors 0..%d", sample, in, tr.NumSamples()-1)
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
		return inputError(in, err)
	}
	if boxes && len(s.Boxes) > 0 {
		// A tensor's frames hold no time: every frame shows all of the sample's boxes, which the chain
		// mapped onto the frames' pixels as it mapped the events.
		for _, p := range pics {
			viewer.DrawBoxes(p, p.Rect, image.Point{}, float64(scale), s.Boxes, meta.BoxClasses)
		}
	}
	label := viewer.SampleLabel(sample, s.Label, meta.Classes)
	if err := viewer.WritePictures(out, pics, label, scheme, int(math.Round(10/max(speed, 0.01)))); err != nil {
		return inputError(in, err)
	}
	cli.Infof("wrote %s: tensor %d (shape %v) as %d picture(s)", out, sample, t.Shape, len(pics))
	return nil
}
