package snn

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/snn/safetensors"
)

func TestEncodeBinsFollowTransformsSpec(t *testing.T) {
	// t0 = 100, t1 = 110 (last + 1), D = 10, B = 3: bins [100,103) [103,106) [106,110).
	b := events.FromEvents(
		events.Event{T: 100, X: 0, Y: 0, P: 1},
		events.Event{T: 102, X: 0, Y: 0, P: 1},
		events.Event{T: 103, X: 1, Y: 0, P: 0},
		events.Event{T: 105, X: 2, Y: 1, P: 1},
		events.Event{T: 106, X: 2, Y: 1, P: 1},
		events.Event{T: 107, X: 5, Y: 0, P: 1}, // outside the 3x2 sensor: ignored
		events.Event{T: 109, X: 2, Y: 1, P: 1},
	)
	en, err := NewEncoder(Encoding{Bins: 3, Width: 3, Height: 2})
	if err != nil {
		t.Fatal(err)
	}
	var e Encoded
	en.Encode(b, &e)
	on := 3 * 2 // channel 1 (ON) starts after the 6 OFF inputs
	want := [][][2]int{
		{{on + 0, 2}},
		{{1, 1}, {on + 1*3 + 2, 1}},
		{{on + 1*3 + 2, 2}},
	}
	for k, bin := range want {
		got := e.Idx[e.Off[k]:e.Off[k+1]]
		if len(got) != len(bin) {
			t.Fatalf("bin %d: indices %v, want %v", k, got, bin)
		}
		for i, p := range bin {
			if int(got[i]) != p[0] || int(e.Cnt[int(e.Off[k])+i]) != p[1] {
				t.Fatalf("bin %d: %v × %v, want %v", k, got, e.Cnt[e.Off[k]:e.Off[k+1]], bin)
			}
		}
	}
	// A single instant with B = 1 lands in bin 0 (tonic#313); with D = 1 < B = 4 the formula puts it in
	// the only non-empty bin, bin 3 ([t0 + ⌊3/4⌋, t0 + 1)). The binary option drops the counts.
	two := events.FromEvents(events.Event{T: 5, X: 1, Y: 1, P: 0}, events.Event{T: 5, X: 1, Y: 1, P: 0})
	en1, _ := NewEncoder(Encoding{Bins: 1, Width: 3, Height: 2})
	en1.Encode(two, &e)
	if e.Off[1] != 1 || e.Idx[0] != 4 || e.Cnt[0] != 2 {
		t.Fatalf("single instant, one bin: off %v idx %v cnt %v", e.Off, e.Idx, e.Cnt)
	}
	en2, _ := NewEncoder(Encoding{Bins: 4, Binary: true, Width: 3, Height: 2})
	en2.Encode(two, &e)
	if e.Off[3] != 0 || e.Off[4] != 1 || e.Idx[0] != 4 || e.Cnt != nil {
		t.Fatalf("single instant, four bins: off %v idx %v cnt %v", e.Off, e.Idx, e.Cnt)
	}
	// Every event is in exactly one bin for random spans (the bins tile [t0, t1)).
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 200; trial++ {
		bins := 1 + rng.IntN(20)
		n := 1 + rng.IntN(50)
		bb := events.NewBatch(n)
		t0 := int64(rng.IntN(1000))
		for i := 0; i < n; i++ {
			t0 += int64(rng.IntN(40))
			bb.Append(t0, 0, 0, 1)
		}
		en3, _ := NewEncoder(Encoding{Bins: bins, Width: 1, Height: 1})
		en3.Encode(bb, &e)
		var total int
		for k := 0; k < bins; k++ {
			lo := bb.T[0] + int64(k)*(bb.T[n-1]+1-bb.T[0])/int64(bins)
			hi := bb.T[0] + int64(k+1)*(bb.T[n-1]+1-bb.T[0])/int64(bins)
			var want int
			for _, tt := range bb.T {
				if tt >= lo && tt < hi {
					want++
				}
			}
			var got int
			for i := e.Off[k]; i < e.Off[k+1]; i++ {
				got += int(e.Cnt[i])
			}
			if got != want {
				t.Fatalf("trial %d bin %d of %d: %d events, want %d", trial, k, bins, got, want)
			}
			total += got
		}
		if total != n {
			t.Fatalf("trial %d: %d of %d events binned", trial, total, n)
		}
	}
}

// Golden single-neuron traces, worked out by hand from docs/snn-model.md#lif-neurons (β = 0.9, θ = 1, input 0.5 each step).
func TestGoldenSingleNeuron(t *testing.T) {
	input := []float32{0.5, 0.5, 0.5, 0.5, 0.5, 0.5}
	cases := []struct {
		reset string
		u     []float64
		s     []float32
	}{
		// subtract: 0.5, 0.95, 1.355 (spike), 0.9·1.355 + 0.5 − 1 = 0.7195, 1.14755 (spike), 0.532795
		{"subtract", []float64{0.5, 0.95, 1.355, 0.7195, 1.14755, 0.532795}, []float32{0, 0, 1, 0, 1, 0}},
		// zero: after the spike at step 3 the membrane restarts from the input alone.
		{"zero", []float64{0.5, 0.95, 1.355, 0.5, 0.95, 1.355}, []float32{0, 0, 1, 0, 0, 1}},
	}
	for _, c := range cases {
		n, err := Build(Arch{Input: Shape{1, 1, 1}, Loss: LossCECount, Layers: []LayerSpec{{Type: "lif", Reset: c.reset}}})
		if err != nil {
			t.Fatal(err)
		}
		w := newWorker(n, false, 0, false)
		in := &w.acts[0]
		in.reset(len(input), 1)
		copy(in.zeroDense(), input)
		w.forward()
		out := w.output()
		for i := range input {
			if math.Abs(float64(out.Aux[i])-c.u[i]) > 1e-6 || out.V[i] != c.s[i] {
				t.Fatalf("%s: step %d: U = %v S = %v, want %v %v", c.reset, i+1, out.Aux[i], out.V[i], c.u[i], c.s[i])
			}
		}
	}
}

// The sparse gather/scatter paths and the dense reference paths compute the same outputs and gradients,
// with either direction of the convolution's weight gradient.
func TestSparseEqualsDense(t *testing.T) {
	for _, f := range []int{0, 1, 2} {
		forceWeightGrad = f
		testSparseEqualsDense(t)
	}
	forceWeightGrad = 0
}

func testSparseEqualsDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	in := Shape{2, 12, 12}
	archs := map[string]Arch{
		"mlp":     MLP(in, 64, 4, LossCECount),
		"mlp-mem": MLP(in, 64, 4, LossCEMembrane),
		"csnn": {Input: in, Loss: LossCECount, Layers: []LayerSpec{
			{Type: "conv2d", Channels: 6, Kernel: 3, Stride: 1, Padding: 1}, {Type: "lif"}, {Type: "maxpool", Kernel: 2},
			{Type: "conv2d", Channels: 8, Kernel: 3, Stride: 2}, {Type: "lif"},
			{Type: "flatten"}, {Type: "dense", Units: 4}, {Type: "lif"},
		}},
		"csnn-pool-before-lif": {Input: in, Loss: LossCECount, Layers: []LayerSpec{
			{Type: "conv2d", Channels: 5, Kernel: 5}, {Type: "maxpool", Kernel: 2}, {Type: "lif"},
			{Type: "conv2d", Channels: 7, Kernel: 3, Padding: 2}, {Type: "maxpool", Kernel: 2}, {Type: "lif"},
			{Type: "flatten"}, {Type: "dense", Units: 4}, {Type: "lif"},
		}},
	}
	for name, a := range archs {
		net := buildActive(t, a, 11)
		for trial := 0; trial < 3; trial++ {
			s := randomInput(rng, 8, in.Size(), 0.05, trial == 2)
			s.Label = int32(trial)
			ws := newWorker(net, false, 0, false)
			wd := newWorker(net, true, 0, false)
			for _, w := range []*worker{ws, wd} {
				w.load(s, 8, in.Size())
				w.forward()
			}
			for l := range net.layers {
				a, b := ws.acts[l+1], wd.acts[l+1]
				if d := maxRelDiff(a.V, b.V); d > 1e-5 {
					t.Fatalf("%s: layer %d output differs by %g", name, l, d)
				}
			}
			_, gs := run(net, false, 0, s, 8)
			_, gd := run(net, true, 0, s, 8)
			for pi := range gs {
				if d := maxRelDiff(gs[pi], gd[pi]); d > 1e-4 {
					t.Fatalf("%s: gradient of %s differs by %g", name, net.names[pi], d)
				}
			}
			if ws.macDone >= wd.macDone {
				t.Errorf("%s: the sparse path did %d multiply-adds, the dense one %d", name, ws.macDone, wd.macDone)
			}
		}
	}
}

func maxRelDiff(a, b []float32) float64 {
	var scale, d float64
	for i := range a {
		scale = math.Max(scale, math.Abs(float64(b[i])))
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d / math.Max(scale, 1e-12)
}

// The sparse-gradient band zeroes ε far from threshold, and with a band wide enough to cover every
// membrane value it changes nothing.
func TestSparseGradientBand(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	in := Shape{2, 8, 8}
	net, _ := Build(MLP(in, 32, 3, LossCECount))
	net.Init(1)
	s := randomInput(rng, 6, in.Size(), 0.1, false)
	_, g0 := run(net, false, 0, s, 6)
	_, gWide := run(net, false, 1e9, s, 6)
	for pi := range g0 {
		if d := maxRelDiff(gWide[pi], g0[pi]); d != 0 {
			t.Fatalf("a band covering everything changed %s by %g", net.names[pi], d)
		}
	}
	_, gNarrow := run(net, false, 0.05, s, 6)
	if maxRelDiff(gNarrow[0], g0[0]) == 0 {
		t.Fatal("a narrow band changed nothing")
	}
}

// memSet is an in-memory events.SampleReader.
type memSet struct {
	meta    events.Meta
	samples []events.Sample
}

func (m *memSet) NumSamples() int   { return len(m.samples) }
func (m *memSet) Meta() events.Meta { return m.meta }
func (m *memSet) Close() error      { return nil }
func (m *memSet) ReadSample(i int, dst *events.Sample) error {
	s := &m.samples[i]
	dst.Reset()
	dst.Label, dst.ID = s.Label, s.ID
	dst.Events.AppendBatch(&s.Events)
	return nil
}

// movingBars makes n samples of a bar sweeping across a size×size sensor in one of 4 orientations
// (horizontal bar moving down, vertical moving right, and the two diagonals), with ON events on the leading
// edge, OFF on the trailing edge and 5 % noise events.
func movingBars(seed uint64, n, size int) *memSet {
	rng := rand.New(rand.NewPCG(seed, 42))
	m := &memSet{meta: events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: size, Height: size},
		Classes: []string{"horizontal", "vertical", "diagonal", "antidiagonal"}}}
	for i := 0; i < n; i++ {
		label := int32(i % 4)
		s := events.Sample{Label: label}
		steps := 2 * size
		dt := int64(500 + rng.IntN(500))
		var t int64 = int64(rng.IntN(1000))
		for k := 0; k < steps; k++ {
			pos := k * size / steps
			for y := 0; y < size; y++ {
				for x := 0; x < size; x++ {
					var d int
					switch label {
					case 0:
						d = y
					case 1:
						d = x
					case 2:
						d = (x + y) / 2
					case 3:
						d = (x + size - 1 - y) / 2
					}
					if d == pos && rng.Float64() < 0.5 {
						s.Events.Append(t+int64(rng.IntN(int(dt))), uint16(x), uint16(y), 1)
					}
					if d == pos-1 && rng.Float64() < 0.3 {
						s.Events.Append(t+int64(rng.IntN(int(dt))), uint16(x), uint16(y), 0)
					}
					if rng.Float64() < 0.003 {
						s.Events.Append(t+int64(rng.IntN(int(dt))), uint16(x), uint16(y), uint8(rng.IntN(2)))
					}
				}
			}
			t += dt
		}
		sortBatch(&s.Events)
		m.samples = append(m.samples, s)
	}
	return m
}

func sortBatch(b *events.Batch) {
	// insertion sort by time is enough for these small, nearly sorted samples
	for i := 1; i < b.Len(); i++ {
		for j := i; j > 0 && b.T[j] < b.T[j-1]; j-- {
			b.T[j], b.T[j-1] = b.T[j-1], b.T[j]
			b.X[j], b.X[j-1] = b.X[j-1], b.X[j]
			b.Y[j], b.Y[j-1] = b.Y[j-1], b.Y[j]
			b.P[j], b.P[j-1] = b.P[j-1], b.P[j]
		}
	}
}

func barsData(t testing.TB, seed uint64, n int, bins int) *Dataset {
	d, err := LoadDataset(context.Background(), movingBars(seed, n, 16), Encoding{Bins: bins})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLearnsMovingBars(t *testing.T) {
	train, test := barsData(t, 1, 800, 8), barsData(t, 2, 200, 8)
	for _, loss := range []string{LossCECount, LossCEMembrane} {
		cfg := Config{Arch: MLP(train.Encoding.Shape(), 64, 4, loss), Epochs: 4, BatchSize: 32, LR: 5e-3, Seed: 1}
		m, rep, err := Train(context.Background(), cfg, train, test, nil)
		if err != nil {
			t.Fatal(err)
		}
		last := rep.Epochs[len(rep.Epochs)-1]
		t.Logf("%s: %+v", loss, last)
		if last.TestAccuracy < 0.99 {
			t.Fatalf("%s: test accuracy %.3f after %d epochs, want ≥ 0.99", loss, last.TestAccuracy, len(rep.Epochs))
		}
		ev, err := m.Evaluate(context.Background(), test, 0)
		if err != nil || ev.Accuracy != last.TestAccuracy {
			t.Fatalf("Evaluate: %v, accuracy %v vs %v", err, ev.Accuracy, last.TestAccuracy)
		}
		for _, r := range last.SpikeRates {
			if r.Rate <= 0 || r.Rate >= 1 {
				t.Errorf("%s: layer %d firing rate %v", loss, r.Layer, r.Rate)
			}
		}
	}
}

func TestCSNNLearnsMovingBars(t *testing.T) {
	train, test := barsData(t, 3, 400, 8), barsData(t, 4, 100, 8)
	a := Arch{Input: train.Encoding.Shape(), Loss: LossCECount, Layers: []LayerSpec{
		{Type: "conv2d", Channels: 4, Kernel: 5, Stride: 1, Padding: 2}, {Type: "maxpool", Kernel: 2}, {Type: "lif"},
		{Type: "conv2d", Channels: 8, Kernel: 3}, {Type: "maxpool", Kernel: 2}, {Type: "lif"},
		{Type: "flatten"}, {Type: "dense", Units: 4}, {Type: "lif"},
	}}
	_, rep, err := Train(context.Background(), Config{Arch: a, Epochs: 8, BatchSize: 16, LR: 5e-3, Seed: 2}, train, test, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := rep.Epochs[len(rep.Epochs)-1]
	t.Logf("csnn: %+v", last)
	if last.TestAccuracy < 0.99 {
		t.Fatalf("test accuracy %.3f, want ≥ 0.99", last.TestAccuracy)
	}
}

// weightsEqual compares parameters exactly, except learnable leaks, which are saved as β = sigmoid(w)
// and so come back within float32 rounding.
func weightsEqual(a, b *Model) bool {
	for i, p := range a.net.params {
		for j, v := range p.Data {
			u := b.net.params[i].Data[j]
			if p.export != nil {
				if math.Abs(float64(u-v)) > 1e-5*math.Max(1, math.Abs(float64(v))) {
					return false
				}
			} else if u != v {
				return false
			}
		}
	}
	return true
}

func TestDeterministicAndResume(t *testing.T) {
	train := barsData(t, 5, 160, 6)
	dir := t.TempDir()
	cfg := Config{Arch: MLP(train.Encoding.Shape(), 32, 4, LossCECount), Epochs: 2, BatchSize: 16, Seed: 9, Workers: 2}
	m1, _, err := Train(context.Background(), cfg, train, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m2, _, _ := Train(context.Background(), cfg, train, nil, nil)
	if !weightsEqual(m1, m2) {
		t.Fatal("two runs with the same seed and workers differ")
	}
	cfg.Seed = 10
	if m3, _, _ := Train(context.Background(), cfg, train, nil, nil); weightsEqual(m1, m3) {
		t.Fatal("a different seed gave the same weights")
	}
	// One epoch, checkpoint, resume for the second: identical to two epochs straight.
	cfg.Seed = 9
	ckpt := filepath.Join(dir, "ckpt.safetensors")
	half := cfg
	half.Checkpoint = ckpt
	stop, cancel := context.WithCancel(context.Background())
	var epochs int
	_, _, err = Train(stop, half, train, nil, func(EpochReport) {
		epochs++
		cancel()
	})
	if err != nil || epochs != 1 {
		t.Fatalf("first half: %v after %d epochs", err, epochs)
	}
	res := cfg
	res.Resume = ckpt
	m4, rep, err := Train(context.Background(), res, train, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !weightsEqual(m1, m4) || len(rep.Epochs) != 2 {
		t.Fatalf("resumed run differs from a straight run (%d epochs reported)", len(rep.Epochs))
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	train := barsData(t, 6, 64, 5)
	a := Arch{Input: train.Encoding.Shape(), Loss: LossCECount, Layers: []LayerSpec{
		{Type: "conv2d", Channels: 3, Kernel: 3, Stride: 2, Padding: 1}, {Type: "lif", LearnBeta: true, Beta: f64(0.8)},
		{Type: "flatten"}, {Type: "dense", Units: 4}, {Type: "lif", Reset: "zero"},
	}}
	m, _, err := Train(context.Background(), Config{Arch: a, Epochs: 1, BatchSize: 8, Seed: 3}, train, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	m2, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if !weightsEqual(m, m2) {
		t.Fatal("weights changed in the round trip")
	}
	ms := movingBars(6, 8, 16)
	for i := range ms.samples {
		p1, z1, _ := m.Predict(&ms.samples[i])
		p2, z2, _ := m2.Predict(&ms.samples[i])
		if p1 != p2 || z1[0] != z2[0] {
			t.Fatalf("sample %d: prediction %d vs %d", i, p1, p2)
		}
	}
	// The file is PyTorch-shaped: nn.Linear weight [out, in], conv [out, in, k, k], β as its value.
	raw, _ := os.ReadFile(path)
	if len(raw) < 8 {
		t.Fatal("short file")
	}
	f, err := readST(path)
	if err != nil {
		t.Fatal(err)
	}
	if sh := f.Tensors["layers.3.weight"].Shape; len(sh) != 2 || sh[0] != 4 || sh[1] != 3*8*8 {
		t.Fatalf("dense weight shape %v", sh)
	}
	if sh := f.Tensors["layers.0.weight"].Shape; len(sh) != 4 || sh[0] != 3 || sh[1] != 2 {
		t.Fatalf("conv weight shape %v", sh)
	}
	if b := f.Tensors["layers.1.beta"].Data[0]; b <= 0 || b >= 1 {
		t.Fatalf("saved beta %v", b)
	}
	if f.Metadata[MetaTransforms] != "frames(bins=5)" {
		t.Fatalf("transforms metadata %q", f.Metadata[MetaTransforms])
	}
}

func readST(path string) (*safetensors.File, error) { return safetensors.ReadFile(path) }

// A PyTorch-style re-implementation (nn.Linear: y = x·Wᵀ + b with W [out, in]; snnTorch Leaky with
// subtract reset) fed with the saved tensors reproduces the model's output spike counts.
func TestSavedMLPMatchesPyTorchLayout(t *testing.T) {
	train := barsData(t, 8, 64, 6)
	m, _, err := Train(context.Background(), Config{Arch: MLP(train.Encoding.Shape(), 16, 4, LossCECount), Epochs: 1, BatchSize: 8, Seed: 4}, train, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	f, err := readST(path)
	if err != nil {
		t.Fatal(err)
	}
	W1, b1 := f.Tensors["layers.1.weight"], f.Tensors["layers.1.bias"]
	W2, b2 := f.Tensors["layers.3.weight"], f.Tensors["layers.3.bias"]
	H, In, C := W1.Shape[0], W1.Shape[1], W2.Shape[0]
	for si := 0; si < 8; si++ {
		s := &train.Samples[si]
		T := train.Encoding.Bins
		u1, s1 := make([]float32, H), make([]float32, H)
		u2, s2 := make([]float32, C), make([]float32, C)
		counts := make([]float64, C)
		for st := 0; st < T; st++ {
			x := make([]float32, In)
			for e := s.Off[st]; e < s.Off[st+1]; e++ {
				x[s.Idx[e]] = float32(s.Cnt[e])
			}
			for j := 0; j < H; j++ {
				cur := b1.Data[j]
				for i := 0; i < In; i++ {
					cur += W1.Data[j*In+i] * x[i]
				}
				u1[j] = 0.9*u1[j] + cur - s1[j]
				s1[j] = 0
				if u1[j] >= 1 {
					s1[j] = 1
				}
			}
			for c := 0; c < C; c++ {
				cur := b2.Data[c]
				for j := 0; j < H; j++ {
					cur += W2.Data[c*H+j] * s1[j]
				}
				u2[c] = 0.9*u2[c] + cur - s2[c]
				s2[c] = 0
				if u2[c] >= 1 {
					s2[c] = 1
					counts[c]++
				}
			}
		}
		w := newWorker(m.net, false, 0, false)
		w.load(s, T, In)
		w.forward()
		z, tie := make([]float64, C), make([]float64, C)
		logits(w.output(), false, z, tie)
		for c := range z {
			if z[c] != counts[c] {
				t.Fatalf("sample %d: Go counts %v, re-implementation %v", si, z, counts)
			}
		}
	}
}

func TestShiftAugmentation(t *testing.T) {
	// 3x2 sensor, one bin: OFF (2,0) count 2, ON (0,1) count 1, ON (1,1) count 3.
	s := &Encoded{Off: []int32{0, 3}, Idx: []int32{2, 6 + 3, 6 + 4}, Cnt: []uint16{2, 1, 3}}
	n, _ := Build(Arch{Input: Shape{2, 2, 3}, Loss: LossCECount, Layers: []LayerSpec{{Type: "flatten"}, {Type: "dense", Units: 1}, {Type: "lif"}}})
	w := newWorker(n, false, 0, false)
	w.loadShifted(s, 1, 12, 3, 2, 1, 0) // one pixel right: (2,0) falls off
	a := &w.acts[0]
	if len(a.Idx) != 2 || a.Idx[0] != 6+4 || a.Idx[1] != 6+5 || a.Val[0] != 1 || a.Val[1] != 3 || a.Off[1] != 2 {
		t.Fatalf("shifted: idx %v val %v off %v", a.Idx, a.Val, a.Off)
	}
	w.loadShifted(s, 1, 12, 3, 2, 0, -1) // one up: row 1 moves to row 0, row 0 falls off
	if len(a.Idx) != 2 || a.Idx[0] != 6+0 || a.Idx[1] != 6+1 {
		t.Fatalf("shifted up: idx %v", a.Idx)
	}
}

func TestEarlyStop(t *testing.T) {
	train, test := barsData(t, 9, 64, 5), barsData(t, 10, 32, 5)
	// A learning rate this small leaves the test accuracy unchanged, so the second epoch is no
	// improvement and a patience of 1 stops there.
	cfg := Config{Arch: MLP(train.Encoding.Shape(), 16, 4, LossCECount), Epochs: 5, BatchSize: 16, LR: 1e-12, Seed: 1, EarlyStop: 1}
	_, rep, err := Train(context.Background(), cfg, train, test, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stopped != "early stop" || len(rep.Epochs) != 2 || !rep.Epochs[0].Improved || rep.Epochs[1].Improved {
		t.Fatalf("stopped %q after %d epochs", rep.Stopped, len(rep.Epochs))
	}
}

// buildActive builds a, initialised from seed with every parameter ×4: enough activity that every layer
// spikes and gets gradient.
func buildActive(t testing.TB, a Arch, seed uint64) *Net {
	t.Helper()
	net, err := Build(a)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(seed)
	for _, p := range net.params {
		for i := range p.Data {
			p.Data[i] *= 4
		}
	}
	return net
}
