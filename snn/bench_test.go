package snn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/nmnist"
	"github.com/evtool/evtool/internal/fixtures"
)

// nmnistFolder reads an N-MNIST folder in the Train|Test/<digit>/*.bin layout into memory.
func nmnistFolder(tb testing.TB, dir string) *memSet {
	tb.Helper()
	m := &memSet{meta: events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 34, Height: 34}}}
	for d := 0; d < 10; d++ {
		m.meta.Classes = append(m.meta.Classes, strconv.Itoa(d))
		files, _ := filepath.Glob(filepath.Join(dir, strconv.Itoa(d), "*.bin"))
		sort.Strings(files)
		for _, f := range files {
			r, err := nmnist.Open(f, formats.Options{})
			if err != nil {
				tb.Fatal(err)
			}
			b, err := events.ReadAll(r)
			r.Close()
			if err != nil {
				tb.Fatal(err)
			}
			m.samples = append(m.samples, events.Sample{Label: int32(d), ID: f, Events: *b})
		}
	}
	return m
}

// syntheticNMNIST makes n samples with N-MNIST-like input activity (34×34×2, about `pairs` active
// (bin, input) pairs per sample, counts 1–3) for throughput measurements without fixtures.
func syntheticNMNIST(n, bins, pairs int) *Dataset {
	rng := rand.New(rand.NewPCG(1, 2))
	enc := Encoding{Bins: bins, Width: 34, Height: 34}
	d := &Dataset{Encoding: enc, Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}
	dens := float64(pairs) / float64(bins*enc.Inputs())
	for i := 0; i < n; i++ {
		e := randomInput(rng, bins, enc.Inputs(), dens, false)
		e.Label = int32(i % 10)
		d.Samples = append(d.Samples, *e)
	}
	return d
}

// benchData uses the real N-MNIST fixtures when present, else synthetic data of the same activity.
func benchData(b *testing.B, bins int) *Dataset {
	dir := filepath.Join(fixtures.Root(), "nmnist-small", "Train")
	if _, err := os.Stat(dir); err == nil {
		d, err := LoadDataset(context.Background(), nmnistFolder(b, dir), Encoding{Bins: bins})
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	return syntheticNMNIST(1000, bins, 3500)
}

// benchTrain trains one epoch per iteration and reports the throughput, both per second of wall time and
// per second of CPU time (the latter is what a loaded, shared machine still measures fairly).
func benchTrain(b *testing.B, arch func(Shape) Arch, bins, batch int) {
	d := benchData(b, bins)
	pairs, dens := d.Stats()
	b.ResetTimer()
	var sps, skipped, cpu float64
	var samples int
	for i := 0; i < b.N; i++ {
		c0 := cpuSeconds()
		_, rep, err := Train(context.Background(), Config{Arch: arch(d.Encoding.Shape()), Epochs: 1, BatchSize: batch, Seed: 1}, d, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuSeconds() - c0
		samples += d.Len()
		sps += rep.Epochs[0].SamplesPerSec
		skipped += rep.Epochs[0].SkippedWork
	}
	b.ReportMetric(sps/float64(b.N), "samples/s")
	b.ReportMetric(float64(samples)/cpu, "samples/cpu-s")
	b.ReportMetric(skipped/float64(b.N), "skipped-work")
	b.ReportMetric(pairs, "input-pairs/sample")
	b.ReportMetric(dens, "input-density")
}

// BenchmarkTrainMLP: 2312-256-10, T = 10, batch 128, all cores (target ≥ 6,000 samples/s on 2 cores).
func BenchmarkTrainMLP(b *testing.B) {
	benchTrain(b, func(s Shape) Arch { return MLP(s, 256, 10, LossCECount) }, 10, 128)
}

// BenchmarkTrainMLP1024: 2312-1024-10 (the width of docs/train.md's best MLP recipe), T = 10, batch 128.
func BenchmarkTrainMLP1024(b *testing.B) {
	benchTrain(b, func(s Shape) Arch { return MLP(s, 1024, 10, LossCECount) }, 10, 128)
}

// BenchmarkTrainCSNN: 12C5-MP2-32C5-MP2-800FC10, T = 10, batch 64, all cores (target ≥ 1,000 samples/s on
// 2 cores).
func BenchmarkTrainCSNN(b *testing.B) {
	benchTrain(b, func(s Shape) Arch { return CSNN(s, 10, LossCECount) }, 10, 64)
}

// TestRealNMNIST trains on the 1,000 real N-MNIST training recordings of the fixtures and reports the
// accuracy on the 100 test recordings. It takes minutes, so it runs only with EVTOOL_SNN_REAL=1.
func TestRealNMNIST(t *testing.T) {
	if os.Getenv("EVTOOL_SNN_REAL") != "1" {
		t.Skip("set EVTOOL_SNN_REAL=1 to train on the real N-MNIST fixtures")
	}
	root := fixtures.Path(t, "nmnist-small")
	ctx := context.Background()
	train, err := LoadDataset(ctx, nmnistFolder(t, filepath.Join(root, "Train")), Encoding{Bins: 10})
	if err != nil {
		t.Fatal(err)
	}
	test, err := LoadDataset(ctx, nmnistFolder(t, filepath.Join(root, "Test")), Encoding{Bins: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mlp", "csnn"} {
		a := MLP(train.Encoding.Shape(), 256, 10, LossCECount)
		if name == "csnn" {
			a = CSNN(train.Encoding.Shape(), 10, LossCECount)
		}
		epochs := 30
		_, rep, err := Train(ctx, Config{Arch: a, Epochs: epochs, BatchSize: 32, Seed: 1}, train, test, func(e EpochReport) {
			t.Logf("%s epoch %d: loss %.3f train %.3f test %.3f  %.0f samples/s  rates %v", name, e.Epoch, e.Loss, e.TrainAccuracy, e.TestAccuracy, e.SamplesPerSec, e.SpikeRates)
		})
		if err != nil {
			t.Fatal(err)
		}
		last := rep.Epochs[len(rep.Epochs)-1]
		t.Logf("%s: test accuracy %.3f after %d epochs, %.1f s", name, last.TestAccuracy, len(rep.Epochs), rep.Seconds)
	}
}

// BenchmarkShardSum: the per-batch sum of the 16 gradient shards (read, add, zero) on one core, for the
// parameter counts the CSNN and the 2312-256-10 MLP sum in shards (the MLP: its biases and output layer,
// 2,826 values; "mlp-all": all its 594,698, as before its first layer was summed by rows); ns/op is per
// batch.
func BenchmarkShardSum(b *testing.B) {
	for _, p := range []struct {
		name string
		n    int
	}{{"csnn", 18254}, {"mlp", 2826}, {"mlp-all", 594698}} {
		b.Run(p.name, func(b *testing.B) {
			stride := (p.n + 15) &^ 15
			arena := alignedFloats(GradShards * stride)
			used := make([]int, GradShards)
			ones := make([]float32, GradShards)
			for i := range used {
				used[i], ones[i] = i, 1
			}
			offs := make([]int32, GradShards)
			b.SetBytes(int64(GradShards * p.n * 4))
			sumShards(arena, stride, used, 0, p.n, offs, ones, func(int, int) {}) // first touch
			b.ResetTimer()
			c0 := cpuSeconds()
			for i := 0; i < b.N; i++ {
				sumShards(arena, stride, used, 0, p.n, offs, ones, func(int, int) {})
			}
			b.ReportMetric((cpuSeconds()-c0)*1e9/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkRowGrad: one batch's weight gradient of the MLP's first layer (2312 inputs, N-MNIST-like
// input of 1,883 active (bin, input) pairs per sample over T = 10, batch 128) on one core; ns/op is per
// batch. "scatter" adds every sample's gradient into one buffer (one worker before the gradient shards);
// "rows" is what training does now, the same products and sums: every sample records its inputs and ε
// (rowGrad.record, reported as record-cpu-ns/op), then every chunk of rows is summed (rowGrad.reduce).
func BenchmarkRowGrad(b *testing.B) {
	const T, batch = 10, 128
	d := syntheticNMNIST(batch, T, 1883)
	for _, H := range []int{256, 1024} {
		net, err := Build(MLP(d.Encoding.Shape(), H, 10, LossCECount))
		if err != nil {
			b.Fatal(err)
		}
		rows, _ := newRowGrads(net, T, batch)
		r := rows[1]
		in := make([]Act, batch)
		w := newWorker(net, false, 0, true)
		for k := range in {
			w.load(&d.Samples[k], T, d.Encoding.Inputs())
			in[k] = w.acts[0]
			w.acts[0] = Act{}
		}
		rng := rand.New(rand.NewPCG(3, 4))
		eps := make([]float32, T*H)
		for i := range eps {
			eps[i] = float32(rng.NormFloat64())
		}
		b.Run(fmt.Sprintf("scatter/%d", H), func(b *testing.B) {
			dW := make([]float32, 2312*H)
			c0 := cpuSeconds()
			for i := 0; i < b.N; i++ {
				clear(dW)
				for k := range in {
					for t := 0; t < T; t++ {
						for e := in[k].Off[t]; e < in[k].Off[t+1]; e++ {
							a, j := in[k].entry(e)
							axpy(H, a, eps[t*H:(t+1)*H], dW[j*H:(j+1)*H])
						}
					}
				}
			}
			b.ReportMetric((cpuSeconds()-c0)*1e9/float64(b.N), "cpu-ns/op")
		})
		b.Run(fmt.Sprintf("rows/%d", H), func(b *testing.B) {
			var rec float64
			c0 := cpuSeconds()
			for i := 0; i < b.N; i++ {
				c1 := cpuSeconds()
				for k := range in {
					r.record(k, &in[k], eps)
				}
				rec += cpuSeconds() - c1
				for c := 0; c < r.chunks; c++ {
					r.reduce(c, batch)
				}
			}
			b.ReportMetric((cpuSeconds()-c0)*1e9/float64(b.N), "cpu-ns/op")
			b.ReportMetric(rec*1e9/float64(b.N), "record-cpu-ns/op")
		})
	}
}

// BenchmarkAdam: one optimiser step over every parameter of the 2312-256-10 and 2312-1024-10 MLPs on one
// core (Adam reads and writes the weights and both moments, and reads the gradient, of every value at
// every step); ns/op is per batch.
func BenchmarkAdam(b *testing.B) {
	for _, H := range []int{256, 1024} {
		b.Run(strconv.Itoa(H), func(b *testing.B) {
			net, err := Build(MLP(Shape{C: 2, H: 34, W: 34}, H, 10, LossCECount))
			if err != nil {
				b.Fatal(err)
			}
			net.Init(1)
			opt := newAdam(net.params)
			grads, _ := newGrads(net)
			for _, g := range grads {
				for i := range g {
					g[i] = float32(i%13) * 1e-3
				}
			}
			c0 := cpuSeconds()
			for i := 0; i < b.N; i++ {
				opt.step++
				for pi, p := range net.params {
					opt.updateRange(net.params, grads, 1e-3, 0, pi, 0, len(p.Data))
				}
			}
			b.ReportMetric((cpuSeconds()-c0)*1e9/float64(b.N), "cpu-ns/op")
		})
	}
}
