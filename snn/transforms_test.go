package snn

import (
	"context"
	"slices"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/transforms"
)

// An encoding with input transforms equals filtering every sample first and encoding the result plainly;
// the model keeps the chain, and Predict applies it to raw samples.
func TestEncodingWithTransforms(t *testing.T) {
	raw := movingBars(3, 40, 16)
	const spec = "refractory(period=300us) | crop(x0=2, y0=1, w=12, h=14)"
	d, err := LoadDataset(context.Background(), raw, Encoding{Bins: 6, Transforms: spec})
	if err != nil {
		t.Fatal(err)
	}
	e := d.Encoding
	if e.Width != 12 || e.Height != 14 || e.SensorWidth != 16 || e.SensorHeight != 16 || e.Transforms != spec {
		t.Fatalf("encoding %+v", e)
	}
	chain, err := transforms.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	filtered := &memSet{meta: raw.meta}
	filtered.meta.Geometry = events.Geometry{Width: 12, Height: 14}
	for _, s := range raw.samples {
		c := events.Sample{Label: s.Label, ID: s.ID}
		c.Events.AppendBatch(&s.Events)
		if _, err := chain.ApplySample(&c, transforms.Shape{Geometry: raw.meta.Geometry, Polarities: 2}, 0); err != nil {
			t.Fatal(err)
		}
		filtered.samples = append(filtered.samples, c)
	}
	plain, err := LoadDataset(context.Background(), filtered, Encoding{Bins: 6})
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Samples {
		a, b := d.Samples[i], plain.Samples[i]
		if !slices.Equal(a.Off, b.Off) || !slices.Equal(a.Idx, b.Idx) || !slices.Equal(a.Cnt, b.Cnt) {
			t.Fatalf("sample %d: encoded with the chain differs from encoded after filtering", i)
		}
	}
	// A model trained on it predicts raw samples through the same chain, and refuses other sensors.
	m, _, err := Train(context.Background(), Config{Arch: MLP(e.Shape(), 32, 4, LossCECount), Epochs: 2, Seed: 1}, d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Evaluate(context.Background(), d, 1)
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i := range raw.samples {
		s := raw.samples[i]
		n := s.Events.Len()
		k, _, err := m.Predict(&s)
		if err != nil {
			t.Fatal(err)
		}
		if s.Events.Len() != n {
			t.Fatal("Predict changed the caller's sample")
		}
		if k == int(s.Label) {
			correct++
		}
	}
	if want := int(ev.Accuracy*float64(len(raw.samples)) + 0.5); correct != want {
		t.Fatalf("Predict on raw samples: %d correct, Evaluate on the encoded set: %d", correct, want)
	}
	other := movingBars(4, 4, 20)
	if _, err := LoadDataset(context.Background(), other, m.Encoding); err == nil {
		t.Fatal("a 20x20 dataset loaded for a model whose transforms expect 16x16")
	}
}

// Augment redraws every training sample's input from its events each epoch: training is reproducible
// for a seed, differs from training without it, still learns, and refuses data loaded without events.
func TestAugmentEachEpoch(t *testing.T) {
	raw := movingBars(5, 200, 16)
	d, err := LoadDatasetWith(context.Background(), raw, Encoding{Bins: 6}, LoadOptions{KeepEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	aug, err := transforms.Parse("drop-event(prob=0.3) | jitter-xy(sigma-x=0.5, sigma-y=0.5)")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Arch: MLP(d.Encoding.Shape(), 64, 4, LossCECount), Epochs: 12, BatchSize: 32, Seed: 3, Workers: 2, Augment: aug}
	run := func(c Config) []float64 {
		_, rep, err := Train(context.Background(), c, d, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var losses []float64
		for _, e := range rep.Epochs {
			losses = append(losses, e.Loss)
		}
		return losses
	}
	a, b := run(cfg), run(cfg)
	plain := cfg
	plain.Augment = nil
	c := run(plain)
	if !slices.Equal(a, b) {
		t.Fatalf("augmented training is not reproducible: %v vs %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatal("augmentation changed nothing")
	}
	m, _, err := Train(context.Background(), cfg, d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Evaluate(context.Background(), d, 1)
	if err != nil || ev.Accuracy < 0.8 {
		t.Fatalf("augmented training learned %.2f (%v)", ev.Accuracy, err)
	}
	noEvents, _ := LoadDataset(context.Background(), raw, Encoding{Bins: 6})
	if _, _, err := Train(context.Background(), cfg, noEvents, nil, nil); err == nil {
		t.Fatal("augmentation ran without the events")
	}
	crop, _ := transforms.Parse("crop(x0=0, y0=0, w=8, h=8)")
	cfg.Augment = crop
	if _, _, err := Train(context.Background(), cfg, d, nil, nil); err == nil {
		t.Fatal("an augmentation changing the sensor size was accepted")
	}
}
