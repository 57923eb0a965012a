package snn

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/transforms"
)

// sortedBars is movingBars sorted by label, as a dataset of class folders is stored: a stream that did not
// shuffle well would feed whole batches of one class.
func sortedBars(seed uint64, n int) *memSet {
	m := movingBars(seed, n, 16)
	sort.SliceStable(m.samples, func(i, j int) bool { return m.samples[i].Label < m.samples[j].Label })
	return m
}

// shardedSet is a memSet stored as shards (formats/shards' Blocks): shard k holds every k-th run of 10.
type shardedSet struct {
	*memSet
	shards int
}

func (s shardedSet) Blocks() [][][2]int64 {
	out := make([][][2]int64, s.shards)
	for first, k := 0, 0; first < len(s.samples); first, k = first+10, k+1 {
		out[k%s.shards] = append(out[k%s.shards], [2]int64{int64(first), int64(min(10, len(s.samples)-first))})
	}
	return out
}

func streamed(t *testing.T, r events.SampleReader, enc Encoding, memory int64, keep bool) *Dataset {
	t.Helper()
	d, err := LoadDatasetWith(context.Background(), r, enc, LoadOptions{Memory: memory, KeepEvents: keep})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Streamed() {
		t.Fatalf("%d samples of %d bytes stayed in memory under a bound of %d", d.Len(), d.Bytes, memory)
	}
	return d
}

// A pass visits every sample once: in order without shuffling; shuffled, in an order that the seed and the
// epoch fix, across blocks, and that differs between epochs.
func TestStreamVisitsEverySampleOnce(t *testing.T) {
	raw := shardedSet{sortedBars(1, 300), 4}
	d := streamed(t, raw, Encoding{Bins: 4}, 40_000, false)
	order := func(shuffle bool, seed uint64, epoch int) []int {
		fd := d.stream.pass(context.Background(), shuffle, seed, epoch)
		var got []int
		for it := range fd.C {
			got = append(got, it.i)
		}
		if err := fd.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	in := order(false, 0, 0)
	if len(in) != 300 || !sort.IntsAreSorted(in) {
		t.Fatalf("an unshuffled pass gave %d samples, sorted %v", len(in), sort.IntsAreSorted(in))
	}
	a, b, c := order(true, 7, 0), order(true, 7, 0), order(true, 7, 1)
	if !slices.Equal(a, b) || slices.Equal(a, c) || slices.Equal(a, order(true, 8, 0)) {
		t.Fatal("the shuffled order is not fixed by (seed, epoch)")
	}
	s := slices.Clone(a)
	slices.Sort(s)
	if !slices.Equal(s, in) {
		t.Fatal("a shuffled pass does not visit every sample exactly once")
	}
	// Well mixed: the first 60 samples drawn already span every class (the data is sorted by class).
	seen := map[int32]bool{}
	for _, i := range a[:60] {
		seen[raw.samples[i].Label] = true
	}
	if len(seen) != 4 {
		t.Fatalf("the first 60 samples of a shuffled pass hold %d classes of 4", len(seen))
	}
}

// Training from a stream learns as well as training in memory on class-sorted data, the seed fixes the
// model (byte for byte, for any number of workers), and a streamed test set scores exactly as in memory.
func TestStreamedTraining(t *testing.T) {
	raw, testRaw := shardedSet{sortedBars(3, 800), 5}, sortedBars(4, 200)
	enc := Encoding{Bins: 8}
	mem, err := LoadDataset(context.Background(), raw, enc)
	if err != nil {
		t.Fatal(err)
	}
	test, err := LoadDataset(context.Background(), testRaw, enc)
	if err != nil {
		t.Fatal(err)
	}
	bound := mem.Bytes / 8
	str := streamed(t, raw, enc, bound, false)
	if str.Bytes < mem.Bytes*9/10 || str.Bytes > mem.Bytes*11/10 {
		t.Errorf("streamed size estimate %d, in memory %d", str.Bytes, mem.Bytes)
	}
	if a, _ := str.Stats(); a <= 0 {
		t.Error("no activity statistics for the streamed set")
	}
	cfg := Config{Arch: MLP(mem.Encoding.Shape(), 32, 4, LossCECount), Epochs: 4, BatchSize: 32, LR: 5e-3, Seed: 5}
	_, repMem, err := Train(context.Background(), cfg, mem, test, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var first []byte
	for _, workers := range []int{1, 3} {
		cfg.Workers = workers
		m, rep, err := Train(context.Background(), cfg, str, test, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, b := repMem.Epochs[len(repMem.Epochs)-1].TestAccuracy, rep.Epochs[len(rep.Epochs)-1].TestAccuracy
		if b < a-0.01 || b < 0.97 {
			t.Fatalf("streamed training reached %.3f, in memory %.3f", b, a)
		}
		path := filepath.Join(dir, "m.safetensors")
		if err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(path)
		if first == nil {
			first = data
		} else if !bytes.Equal(first, data) {
			t.Fatalf("streamed training with %d workers differs from 1 worker", workers)
		}
		// The streamed test set scores exactly as in memory.
		testStr := streamed(t, testRaw, enc, 10_000, false)
		e1, err := m.EvaluateWith(context.Background(), test, EvalOptions{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		e2, err := m.EvaluateWith(context.Background(), testStr, EvalOptions{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		e1.Seconds, e2.Seconds = 0, 0
		if e1.Accuracy != e2.Accuracy || e1.Loss != e2.Loss || !slices.EqualFunc(e1.Confusion, e2.Confusion, slices.Equal) {
			t.Fatalf("streamed evaluation %+v, in memory %+v", e2, e1)
		}
	}
	cfg.Seed = 6
	m, _, _ := Train(context.Background(), cfg, str, nil, nil)
	m.Save(filepath.Join(dir, "other.safetensors"))
	if data, _ := os.ReadFile(filepath.Join(dir, "other.safetensors")); bytes.Equal(data, first) {
		t.Fatal("another seed gave the same streamed model")
	}
}

// Augmentation and Shift work on a stream: the events travel with each sample.
func TestStreamedAugmentation(t *testing.T) {
	raw := sortedBars(5, 200)
	d := streamed(t, raw, Encoding{Bins: 6}, 30_000, true)
	aug, err := transforms.Parse("drop-event(prob=0.3)")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Arch: MLP(d.Encoding.Shape(), 64, 4, LossCECount), Epochs: 12, BatchSize: 32, Seed: 3, Workers: 2, Augment: aug, Shift: 1}
	m, rep, err := Train(context.Background(), cfg, d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Evaluate(context.Background(), d, 1)
	if err != nil || ev.Accuracy < 0.8 {
		t.Fatalf("augmented streamed training learned %.2f (%v)", ev.Accuracy, err)
	}
	again, _, _ := Train(context.Background(), cfg, d, nil, nil)
	if !weightsEqual(m, again) || len(rep.Epochs) != 12 {
		t.Fatal("augmented streamed training is not reproducible")
	}
}
