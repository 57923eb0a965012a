// Package demo runs evtool's guided tour on data it makes itself (no download): built-in digit images
// are turned into event recordings by simulated saccades (as N-MNIST was recorded), written as compressed
// Arrow datasets and read back. Each step prints its figures and the command a user would type.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/imagesrc"
	"github.com/evtool/evtool/inspect"
	"github.com/evtool/evtool/snn"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/synth"
	"github.com/evtool/evtool/transforms"
	"github.com/evtool/evtool/viewer"
)

// Options steer the tour.
type Options struct {
	OutDir string // where the files go (created)
	Quick  bool   // fewer samples (CI)
	Seed   uint64
	Log    io.Writer
}

// Result holds the figures the tour measured (checked by tests and CI).
type Result struct {
	TrainSamples, TestSamples int
	Events                    int64
	BytesPerEvent             float64
	Train, Test               string  // dataset files
	Model                     string  // trained network (safetensors)
	GIF                       string  // test samples with predicted labels
	Accuracy                  float64 // on the held-out test set
	Classes                   int
}

// step prints a numbered step header.
type stepper struct {
	w io.Writer
	n int
}

func (s *stepper) step(format string, a ...any) {
	s.n++
	fmt.Fprintf(s.w, "\n%d. %s\n", s.n, fmt.Sprintf(format, a...))
}

func (s *stepper) line(format string, a ...any) { fmt.Fprintf(s.w, "   "+format+"\n", a...) }

// Run performs the tour.
func Run(ctx context.Context, o Options) (*Result, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	nTrain, nTest, epochs := 6000, 1000, 15
	if o.Quick {
		nTrain, nTest, epochs = 2000, 400, 8
	}
	st := &stepper{w: log}
	res := &Result{Train: filepath.Join(o.OutDir, "digits-train.arrow"), Test: filepath.Join(o.OutDir, "digits-test.arrow")}

	st.step("Synthesising events from %d + %d built-in digit images by simulated saccades (N-MNIST preset)", nTrain, nTest)
	for _, part := range []struct {
		split string
		n     int
		path  string
		count *int
	}{{"train", nTrain, res.Train, &res.TrainSamples}, {"test", nTest, res.Test, &res.TestSamples}} {
		start := time.Now()
		n, ev, err := synthesise(ctx, part.split, part.n, o.Seed, part.path)
		if err != nil {
			return nil, err
		}
		*part.count = n
		res.Events += ev
		fi, err := os.Stat(part.path)
		if err != nil {
			return nil, err
		}
		bpe := float64(fi.Size()) / float64(max(ev, 1))
		if part.split == "train" {
			res.BytesPerEvent = bpe
		}
		st.line("%s: %d samples, %d events (%.0f per sample), %.2f bytes/event as zstd Arrow, %s",
			part.path, n, ev, float64(ev)/float64(max(n, 1)), bpe, time.Since(start).Round(time.Millisecond))
	}
	st.line("yourself: evtool synth --images builtin:digits:%d --split train --preset nmnist -o %s", nTrain, res.Train)

	st.step("Reading the training set back and describing it")
	rep, err := inspect.File(res.Train, "", formats.Options{})
	if err != nil {
		return nil, err
	}
	st.line("%s dataset, %d samples in %d classes, %d events (ON %d, OFF %d), sensor %dx%d",
		rep.Format, *rep.Samples, len(rep.Classes), rep.Events, rep.On, rep.Off, rep.Width, rep.Height)
	st.line("yourself: evtool info %s", res.Train)

	st.step("Denoising both sets with the background-activity filter (%s)", denoiseSpec)
	chain, err := transforms.Parse(denoiseSpec)
	if err != nil {
		return nil, err
	}
	for _, p := range []*string{&res.Train, &res.Test} {
		in := *p
		out := strings.TrimSuffix(in, ".arrow") + "-denoised.arrow"
		plan, err := sources.Discover([]string{in}, "")
		if err != nil {
			return nil, err
		}
		r, err := convert.Run(ctx, plan, out, convert.Options{Chain: chain})
		if err != nil {
			return nil, err
		}
		st.line("%s: %d events kept (%.1f %%)", out, r.Events, 100*float64(r.Events)/float64(max(countEvents(in), 1)))
		*p = out
	}
	st.line("yourself: evtool convert %s -o %s -t '%s'", strings.Replace(res.Train, "-denoised", "", 1), res.Train, denoiseSpec)

	st.step("Training a spiking network (2312-256-10 LIF MLP, surrogate-gradient BPTT, %d time bins) on the training set", bins)
	start := time.Now()
	model, acc, err := trainAndEvaluate(ctx, res.Train, res.Test, epochs, o.Seed, func(r snn.EpochReport) {
		st.line("epoch %d/%d: loss %.3f, train accuracy %.1f %%, %.0f samples/s", r.Epoch, r.Epochs, r.Loss,
			100*r.TrainAccuracy, r.SamplesPerSec)
	})
	if err != nil {
		return nil, err
	}
	res.Model = filepath.Join(o.OutDir, "digits-mlp.safetensors")
	if err := model.Save(res.Model); err != nil {
		return nil, err
	}
	res.Accuracy, res.Classes = acc.Accuracy, len(acc.PerClass)
	st.line("test accuracy %.1f %% on %d held-out samples (chance: %.0f %%), trained in %s; model: %s",
		100*acc.Accuracy, acc.Samples, 100/float64(max(res.Classes, 1)), time.Since(start).Round(time.Second), res.Model)
	st.line("yourself: evtool train --data %s --test %s --epochs %d -o %s", res.Train, res.Test, epochs, res.Model)
	st.line("          evtool eval --model %s --data %s", res.Model, res.Test)

	st.step("Drawing %d test samples with the network's predictions", gifSamples)
	res.GIF = filepath.Join(o.OutDir, "predictions.gif")
	correct, err := predictionsGIF(res.Test, model, res.GIF)
	if err != nil {
		return nil, err
	}
	st.line("%s: %d of %d predicted right", res.GIF, correct, gifSamples)
	st.line("yourself: evtool render %s --sample 0 -o sample0.gif --window 20ms", res.Test)

	fmt.Fprintf(log, "\nFiles are in %s. Open the datasets in Python with pyarrow or polars (docs/FORMAT.md); "+
		"the model loads in PyTorch with safetensors (docs/train.md).\n", o.OutDir)
	return res, nil
}

func countEvents(path string) int64 {
	rep, err := inspect.File(path, "", formats.Options{})
	if err != nil {
		return 0
	}
	return rep.Events
}

// denoiseSpec is the demo's filter: synthetic digits carry no sensor noise, so this mostly shows the
// pipeline (and removes isolated edge events).
const denoiseSpec = "denoise(dt=10ms)"

// gifSamples is how many test samples the predictions GIF shows.
const gifSamples = 6

// predictionsGIF animates the first test samples, each labelled with the true and the predicted class.
func predictionsGIF(test string, model *snn.Model, out string) (int, error) {
	d, err := evarrow.OpenDataset(test)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	meta := d.Meta()
	var anim viewer.Animation
	correct := 0
	var s events.Sample
	for i := 0; i < gifSamples && i < d.NumSamples(); i++ {
		if err := d.ReadSample(i, &s); err != nil {
			return 0, err
		}
		pred, _, err := model.Predict(&s)
		if err != nil {
			return 0, err
		}
		if int32(pred) == s.Label {
			correct++
		}
		label := fmt.Sprintf("true %s, predicted %s", meta.Classes[s.Label], meta.Classes[pred])
		clip := viewer.Clip{Render: viewer.Options{Width: meta.Geometry.Width, Height: meta.Geometry.Height, Scale: 6},
			Window: 15000, Label: label}
		if _, err := anim.AddClip(&events.BatchReader{B: &s.Events}, clip, 0.5); err != nil {
			return 0, err
		}
	}
	return correct, anim.Save(out)
}

// bins is the number of time bins the network sees per sample.
const bins = 10

func trainAndEvaluate(ctx context.Context, train, test string, epochs int, seed uint64,
	progress func(snn.EpochReport)) (*snn.Model, *snn.Evaluation, error) {
	enc := snn.Encoding{Bins: bins}
	tr, err := snn.OpenDataset(ctx, train, enc)
	if err != nil {
		return nil, nil, err
	}
	te, err := snn.OpenDataset(ctx, test, enc)
	if err != nil {
		return nil, nil, err
	}
	arch := snn.MLP(tr.Encoding.Shape(), 256, len(tr.Classes), "")
	model, _, err := snn.Train(ctx, snn.Config{Arch: arch, Epochs: epochs, Seed: seed + 1}, tr, nil, progress)
	if err != nil {
		return nil, nil, err
	}
	ev, err := model.Evaluate(ctx, te, 0)
	if err != nil {
		return nil, nil, err
	}
	return model, ev, nil
}

// synthesise writes n digits of a split as a dataset file and returns samples and events written.
func synthesise(ctx context.Context, split string, n int, seed uint64, path string) (int, int64, error) {
	src := imagesrc.NewDigits(n, split, seed)
	p := synth.NMNIST()
	p.Seed = seed
	w, err := evarrow.CreateDataset(path, events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 34, Height: 34},
		Classes: src.Classes(), Source: "evtool demo: " + src.Describe() + ", synth preset nmnist"}, evarrow.Options{})
	if err != nil {
		return 0, 0, err
	}
	var samples int
	var total int64
	err = synth.Generate(ctx, src, p, synth.GenerateOptions{}, func(s *events.Sample) error {
		samples++
		total += int64(s.Events.Len())
		return w.WriteSample(s)
	})
	if err != nil {
		w.Abort()
		return 0, 0, err
	}
	return samples, total, w.Close()
}
