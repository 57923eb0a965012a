package snn

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// subset returns the samples of d whose class is in keep, relabelled against the class list keep.
func subset(d *Dataset, keep []string) *Dataset {
	out := &Dataset{Encoding: d.Encoding, Classes: keep, Source: "subset"}
	for _, s := range d.Samples {
		if k := slices.Index(keep, d.Classes[s.Label]); k >= 0 {
			s.Label = int32(k)
			out.Samples = append(out.Samples, s)
		}
	}
	return out
}

// A test set that lacks some of the model's classes, or lists them in another order, is scored by class
// name: the same samples give the same predictions, accuracy and confusion counts.
func TestEvaluateMatchesClassesByName(t *testing.T) {
	train, test := barsData(t, 21, 240, 6), barsData(t, 22, 80, 6)
	m, _, err := Train(context.Background(), Config{Arch: MLP(train.Encoding.Shape(), 32, 4, LossCECount), Epochs: 3, BatchSize: 16, LR: 5e-3, Seed: 1}, train, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	full, err := m.Evaluate(context.Background(), test, 0)
	if err != nil {
		t.Fatal(err)
	}
	if full.Correct < full.Samples/2 {
		t.Fatalf("the model learnt too little for the test to mean anything: %d of %d", full.Correct, full.Samples)
	}
	// Only "vertical" and "antidiagonal" (model classes 1 and 3), as classes 0 and 1 of the test file.
	part := subset(test, []string{"vertical", "antidiagonal"})
	ev, err := m.Evaluate(context.Background(), part, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := full.PerClass[1].Correct + full.PerClass[3].Correct
	if ev.Samples != full.PerClass[1].Samples+full.PerClass[3].Samples || ev.Correct != want {
		t.Fatalf("two-class test set: %d of %d correct, want %d of %d", ev.Correct, ev.Samples, want, full.PerClass[1].Samples+full.PerClass[3].Samples)
	}
	if ev.PerClass[0].Samples != 0 || ev.PerClass[2].Samples != 0 || !slices.Equal(ev.Confusion[3], full.Confusion[3]) {
		t.Fatalf("two-class test set: per class %+v, confusion %v", ev.PerClass, ev.Confusion)
	}
	// The same four classes listed backwards.
	rev := subset(test, []string{"antidiagonal", "diagonal", "vertical", "horizontal"})
	ev, err = m.Evaluate(context.Background(), rev, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Correct != full.Correct || !slices.EqualFunc(ev.Confusion, full.Confusion, slices.Equal[[]int]) {
		t.Fatalf("reordered classes: %d correct, confusion %v; want %d, %v", ev.Correct, ev.Confusion, full.Correct, full.Confusion)
	}
	// train --test shares the code: its last test accuracy is the by-name score.
	_, rep, err := Train(context.Background(), Config{Arch: MLP(train.Encoding.Shape(), 32, 4, LossCECount), Epochs: 1, BatchSize: 16, LR: 5e-3, Seed: 1}, train, rev, nil)
	if err != nil {
		t.Fatal(err)
	}
	m1, _, _ := Train(context.Background(), Config{Arch: MLP(train.Encoding.Shape(), 32, 4, LossCECount), Epochs: 1, BatchSize: 16, LR: 5e-3, Seed: 1}, train, nil, nil)
	ev1, _ := m1.Evaluate(context.Background(), test, 0)
	if rep.Epochs[0].TestAccuracy != ev1.Accuracy {
		t.Fatalf("train --test with reordered classes: %v, by name %v", rep.Epochs[0].TestAccuracy, ev1.Accuracy)
	}
	// A class the model does not know is an error, unless an alias maps it.
	odd := subset(test, []string{"vertical", "horizontal"})
	odd.Classes = []string{"vertical", "flat"}
	_, err = m.Evaluate(context.Background(), odd, 0)
	var unknown *UnknownClassError
	if !errors.As(err, &unknown) || unknown.Class != "flat" {
		t.Fatalf("unknown class: %v", err)
	}
	ev, err = m.EvaluateWith(context.Background(), odd, EvalOptions{Aliases: map[string]string{"flat": "horizontal"}})
	if err != nil || ev.Correct != full.PerClass[0].Correct+full.PerClass[1].Correct {
		t.Fatalf("aliased class: %v, %d correct, want %d", err, ev.Correct, full.PerClass[0].Correct+full.PerClass[1].Correct)
	}
	if _, err := m.EvaluateWith(context.Background(), odd, EvalOptions{Aliases: map[string]string{"flat": "round"}}); !errors.As(err, &unknown) {
		t.Fatalf("alias to an unknown class: %v", err)
	}
}

// The same seed and data give byte-identical model files with 1, 2 and 3 workers: the batch is cut into
// a fixed number of gradient shards, summed in a fixed order, and large dense weights are summed by rows
// in batch order.
func TestModelBytesIndependentOfWorkers(t *testing.T) {
	train := barsData(t, 23, 150, 6)
	archs := map[string]Arch{
		"mlp": MLP(train.Encoding.Shape(), 24, 4, LossCECount),
		// 512 × 128 inputs: the first layer's weights are summed by rows (rowGrad)
		"mlp-rows": MLP(train.Encoding.Shape(), 128, 4, LossCECount),
		"csnn": {Input: train.Encoding.Shape(), Loss: LossCECount, Layers: []LayerSpec{
			{Type: "conv2d", Channels: 4, Kernel: 5}, {Type: "maxpool", Kernel: 2}, {Type: "lif"},
			{Type: "conv2d", Channels: 6, Kernel: 3}, {Type: "maxpool", Kernel: 2}, {Type: "lif"},
			{Type: "flatten"}, {Type: "dense", Units: 4}, {Type: "lif"},
		}},
	}
	dir := t.TempDir()
	for name, a := range archs {
		net, err := Build(a)
		if err != nil {
			t.Fatal(err)
		}
		if _, rows := newRowGrads(net, 6, 37); rows != (name == "mlp-rows") {
			t.Fatalf("%s: row-summed weights %v", name, rows)
		}
		var first []byte
		for _, workers := range []int{1, 2, 3} {
			// batch 37 leaves some shards one sample larger than others, and a short last batch
			cfg := Config{Arch: a, Epochs: 2, BatchSize: 37, LR: 5e-3, Seed: 4, Shift: 1, Workers: workers}
			m, _, err := Train(context.Background(), cfg, train, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, name+".safetensors")
			if err := m.Save(path); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = b
				continue
			}
			if !bytes.Equal(b, first) {
				t.Fatalf("%s: the model trained with %d workers differs from the one trained with 1", name, workers)
			}
		}
	}
}
