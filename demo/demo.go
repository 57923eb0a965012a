// Package demo runs evtool's guided tour on real data it ships (demo/data, described in
// demo/ATTRIBUTION.md): 1,000 MNIST digit images become event recordings by simulated saccades, as
// N-MNIST was recorded; a spiking network learns from those synthetic events only; then it is tested on
// 80 real N-MNIST recordings of the ATIS camera — the sim-to-real pipeline, measured. Each step prints
// its figures and the command a user would type to do it.
package demo

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all" // the shipped recordings are Parquet; the tour reads .bin too
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/formats/nmnist"
	"github.com/evtool/evtool/imagesrc"
	"github.com/evtool/evtool/inspect"
	"github.com/evtool/evtool/snn"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/synth"
	"github.com/evtool/evtool/viewer"
)

// The shipped data (ATTRIBUTION.md says where each file comes from and under which licence).
const (
	digitsImages   = "train1000-images-idx3-ubyte.gz" // MNIST training digits 1–1,106 (100 per class)
	digitsLabels   = "train1000-labels-idx1-ubyte.gz"
	realFile       = "nmnist-test-1-80.parquet" // N-MNIST test recordings 1–80, lossless
	realRecordings = 80
)

//go:embed data/train1000-images-idx3-ubyte.gz data/train1000-labels-idx1-ubyte.gz data/nmnist-test-1-80.parquet
var data embed.FS

// Options steer the tour.
type Options struct {
	// Dir is the folder the files go to; it must exist. The commands the tour prints run inside it.
	Dir string
	// Quick makes a smaller, faster tour (CI): 300 digits and 3 epochs instead of 1,000 and 12.
	Quick bool
	// Log receives the tour's text (nil: none).
	Log io.Writer
}

// Result holds the figures the tour measured (checked by the tests, quoted in the README).
type Result struct {
	Digits        int     // synthetic training samples
	SynthEvents   int64   // their events
	BytesPerEvent float64 // of the synthetic set as zstd Arrow
	RealSamples   int     // real N-MNIST recordings
	RealEvents    int64
	Epochs        int
	TrainAccuracy float64 // on the synthetic training samples, in the last epoch
	RealAccuracy  float64 // on the real recordings: the sim-to-real figure
	GIFCorrect    int     // of the gifSamples drawn
	Seconds       float64 // the whole tour
	// Files, relative to Dir.
	Synth, Real, Model, GIF string
}

// Run performs the tour.
func Run(ctx context.Context, o Options) (*Result, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	start := time.Now()
	digits, epochs := 1000, 12
	if o.Quick {
		digits, epochs = 500, 5
	}
	st := &stepper{w: log}
	in := func(rel string) string { return filepath.Join(o.Dir, rel) }
	res := &Result{Digits: digits, Epochs: epochs, Synth: "synth-train.arrow", Real: "real-test.arrow",
		Model: "model.safetensors", GIF: "predictions.gif"}

	st.step("The data evtool ships: 1,000 MNIST digit images and %d real N-MNIST recordings", realRecordings)
	if err := unpack(o.Dir); err != nil {
		return nil, err
	}
	st.line("mnist/%s: 1,000 MNIST training digits (100 per class), 28x28 pixels", digitsImages)
	st.line("N-MNIST/Test: the first %d recordings of N-MNIST's test set, made by an ATIS camera moved in three", realRecordings)
	st.line("saccades in front of MNIST test digits (Orchard et al. 2015), as the official download lays them out")
	st.line("(unpacked from shipped/%s: every event as recorded)", realFile)
	st.line("yourself: evtool convert shipped/%s -o my-N-MNIST-Test --to nmnist", realFile)

	st.step("Turning %s digit images into events by simulated saccades (the nmnist preset, calibrated on N-MNIST)", count(int64(digits)))
	t0 := time.Now()
	n, ev, err := synthesise(ctx, in("mnist/"+digitsImages), digits, in(res.Synth))
	if err != nil {
		return nil, err
	}
	res.SynthEvents = ev
	fi, err := os.Stat(in(res.Synth))
	if err != nil {
		return nil, err
	}
	res.BytesPerEvent = float64(fi.Size()) / float64(max(ev, 1))
	st.line("%s: %s samples, %s events (%s per sample), %.2f bytes per event as zstd Arrow, %s",
		res.Synth, count(int64(n)), count(ev), count(ev/int64(max(n, 1))), res.BytesPerEvent, since(t0))
	limit := ""
	if o.Quick {
		limit = fmt.Sprintf(" --limit %d", digits)
	}
	st.line("yourself: evtool synth --images mnist/%s%s -o my-%s", digitsImages, limit, res.Synth)

	st.step("Reading the real recordings into one labelled dataset file")
	plan, err := sources.Discover([]string{in("N-MNIST/Test")}, "")
	if err != nil {
		return nil, err
	}
	if _, err := convert.Run(ctx, plan, in(res.Real), convert.Options{Source: "N-MNIST/Test"}); err != nil {
		return nil, err
	}
	rep, err := inspect.File(in(res.Real), "", formats.Options{})
	if err != nil {
		return nil, err
	}
	res.RealSamples, res.RealEvents = *rep.Samples, rep.Events
	st.line("%s: %d samples in %d classes, %s events (%s per sample; ON %.1f %%), sensor %dx%d",
		res.Real, res.RealSamples, len(rep.Classes), count(rep.Events), count(rep.Events/int64(max(res.RealSamples, 1))),
		100*float64(rep.On)/float64(max(rep.Events, 1)), rep.Width, rep.Height)
	st.line("(the real recordings show other digits than the synthetic set, and carry the sensor's noise)")
	st.line("yourself: evtool convert N-MNIST/Test -o my-%s && evtool info my-%s", res.Real, res.Real)

	st.step("Training a convolutional spiking network (LIF, surrogate-gradient BPTT) on the synthetic events only,")
	st.line("testing it after every epoch on the real recordings")
	t0 = time.Now()
	model, last, err := train(ctx, in(res.Synth), in(res.Real), epochs, func(r snn.EpochReport) {
		st.line("epoch %2d/%d: loss %.3f, synthetic training accuracy %5.1f %%, real test accuracy %5.1f %%, %s",
			r.Epoch, r.Epochs, r.Loss, 100*r.TrainAccuracy, 100*r.TestAccuracy, time.Duration(r.Seconds*float64(time.Second)).Round(100*time.Millisecond))
	})
	if err != nil {
		return nil, err
	}
	if err := model.Save(in(res.Model)); err != nil {
		return nil, err
	}
	res.TrainAccuracy, res.RealAccuracy = last.TrainAccuracy, last.TestAccuracy
	st.line("%s: %s, %s parameters, trained in %s", res.Model, model.Summary(), count(int64(model.NumParams())), since(t0))
	epochsFlag := ""
	if epochs != 12 {
		epochsFlag = fmt.Sprintf(" --epochs %d", epochs)
	}
	st.line("yourself: evtool train --data %s --test %s%s -o my-%s", res.Synth, res.Real, epochsFlag, res.Model)

	st.step("Sim to real: trained on %s synthetic samples, tested on %d real recordings", count(int64(digits)), res.RealSamples)
	st.line("%.1f %% of the real recordings classified right (chance: 10 %%); %.1f %% of the synthetic training samples",
		100*res.RealAccuracy, 100*res.TrainAccuracy)
	st.line("yourself: evtool eval --model %s --data %s", res.Model, res.Real)

	st.step("Drawing %d real recordings with the network's predictions", gifSamples)
	if res.GIFCorrect, err = predictionsGIF(in(res.Real), model, in(res.GIF)); err != nil {
		return nil, err
	}
	st.line("%s: %d of %d predicted right", res.GIF, res.GIFCorrect, gifSamples)
	st.line("yourself: evtool render N-MNIST/Test --sample 0 -o my-sample0.gif --window 20ms")
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// stepper prints numbered steps and their lines.
type stepper struct {
	w io.Writer
	n int
}

func (s *stepper) step(format string, a ...any) {
	s.n++
	fmt.Fprintf(s.w, "\n%d. %s\n", s.n, fmt.Sprintf(format, a...))
}

func (s *stepper) line(format string, a ...any) { fmt.Fprintf(s.w, "   "+format+"\n", a...) }

func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }

// count writes n with thousands separators: 1,271,595.
func count(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// unpack writes the shipped files under dir: shipped/ as they are, mnist/ the digits, and N-MNIST/Test
// the real recordings as .bin files, decoded from the shipped Parquet file.
func unpack(dir string) error {
	for _, sub := range []string{"shipped", "mnist"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	for _, name := range []string{digitsImages, digitsLabels, realFile} {
		b, err := data.ReadFile("data/" + name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "shipped", name), b, 0o644); err != nil {
			return err
		}
		if name != realFile {
			if err := os.WriteFile(filepath.Join(dir, "mnist", name), b, 0o644); err != nil {
				return err
			}
		}
	}
	b, _ := data.ReadFile("data/" + realFile)
	pq, err := formats.Lookup("parquet")
	if err != nil {
		return err
	}
	src, err := pq.NewReader(bytes.NewReader(b), realFile, formats.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	r := src.Samples
	w, err := nmnist.CreateFolder(filepath.Join(dir, "N-MNIST", "Test"), r.Meta(), formats.Options{})
	if err != nil {
		return err
	}
	var s events.Sample
	for i := 0; i < r.NumSamples(); i++ {
		err := r.ReadSample(i, &s)
		if err == nil {
			err = w.WriteSample(&s)
		}
		if err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

// synthesise writes the first n digits of the IDX file as a dataset of synthetic event recordings, as
// `evtool synth` does, and returns the samples and events written.
func synthesise(ctx context.Context, images string, n int, out string) (int, int64, error) {
	src, err := imagesrc.Open(images, imagesrc.Options{})
	if err != nil {
		return 0, 0, err
	}
	p := synth.NMNIST()
	meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: p.Width, Height: p.Height},
		Classes: src.Classes(), Source: "evtool synth --preset nmnist from " + src.Describe()}
	meta.SetExtra("synth.preset", "nmnist")
	meta.SetExtra("synth.params", p.String())
	w, err := evarrow.CreateDataset(out, meta, evarrow.Options{})
	if err != nil {
		return 0, 0, err
	}
	var samples int
	var total int64
	err = synth.Generate(ctx, src, p, synth.GenerateOptions{Limit: n}, func(s *events.Sample) error {
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

// train fits `evtool train`'s default network with its default settings (only the epochs differ in the
// quick tour) and returns the model and its last epoch's report.
func train(ctx context.Context, trainPath, testPath string, epochs int, progress func(snn.EpochReport)) (*snn.Model, snn.EpochReport, error) {
	enc := snn.Encoding{Bins: 10}
	tr, err := snn.OpenDataset(ctx, trainPath, enc)
	if err != nil {
		return nil, snn.EpochReport{}, err
	}
	te, err := snn.OpenDataset(ctx, testPath, tr.Encoding)
	if err != nil {
		return nil, snn.EpochReport{}, err
	}
	arch := snn.CSNN(tr.Encoding.Shape(), len(tr.Classes), snn.LossCECount)
	arch.Surrogate = snn.Surrogate{Name: snn.ATan}
	cfg := snn.Config{Arch: arch, Epochs: epochs, BatchSize: 64, LR: 2e-3, Seed: 1, Shift: 1}
	model, rep, err := snn.Train(ctx, cfg, tr, te, progress)
	if err != nil {
		return nil, snn.EpochReport{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, snn.EpochReport{}, err
	}
	return model, rep.Epochs[len(rep.Epochs)-1], nil
}

// gifSamples is how many real recordings the predictions GIF shows.
const gifSamples = 6

// predictionsGIF animates the first real recordings, each labelled with the true and the predicted class.
func predictionsGIF(path string, model *snn.Model, out string) (int, error) {
	d, err := evarrow.OpenDataset(path)
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
		label := fmt.Sprintf("real %s, predicted %s", meta.Classes[s.Label], model.Classes[pred])
		clip := viewer.Clip{Render: viewer.Options{Width: meta.Geometry.Width, Height: meta.Geometry.Height, Scale: 6},
			Window: 15000, Label: label}
		if _, err := anim.AddClip(&events.BatchReader{B: &s.Events}, clip, 0.5); err != nil {
			return 0, err
		}
	}
	return correct, anim.Save(out)
}
