package snn

import (
	"math"
	"testing"
)

// The row sum of a large dense layer's weight gradient is bit for bit the one-worker scatter (sample after
// sample, step after step, into one buffer), whichever workers record the samples and in whatever order
// the chunks are summed: the order docs/snn-model.md states.
func TestRowGradMatchesScatter(t *testing.T) {
	const T, n = 5, 11
	d := syntheticNMNIST(n, T, 900)
	// Input counts 1–3 into the first dense layer, binary spikes into the second; both ≥ rowGradMin.
	a := Arch{Input: d.Encoding.Shape(), Loss: LossCECount, Layers: []LayerSpec{
		{Type: "flatten"}, {Type: "dense", Units: 40}, {Type: "lif"},
		{Type: "dense", Units: 1640}, {Type: "lif"},
		{Type: "dense", Units: 10}, {Type: "lif"},
	}}
	net := buildActive(t, a, 5)
	rows, any := newRowGrads(net, T, n)
	if !any || rows[1] == nil || rows[3] == nil || rows[5] != nil {
		t.Fatalf("row-summed layers: %v", rows)
	}
	if rows[1].chunks < 2 || rows[3].chunks < 2 {
		t.Fatalf("chunks %d, %d: want several", rows[1].chunks, rows[3].chunks)
	}
	step := func(w *worker, k int) {
		s := &d.Samples[k]
		w.load(s, T, d.Encoding.Inputs())
		w.forward()
		out := w.output()
		last := len(w.acts) - 1
		w.gact[last] = growF(w.gact[last], out.T*out.N)
		C := out.N
		lossGrad(a.Loss, out, int(s.Label), w.gact[last], 1/float64(n), make([]float64, C), make([]float64, C), make([]float64, C))
		w.slot = k
		w.backward()
	}
	ref := newWorker(net, false, 0, true)
	for k := 0; k < n; k++ {
		step(ref, k)
	}
	// Three recording workers take the samples in a scrambled order.
	rec := []*worker{newWorker(net, false, 0, true), newWorker(net, false, 0, true), newWorker(net, false, 0, true)}
	for _, w := range rec {
		w.rows = rows
	}
	for j := 0; j < n; j++ {
		k := (j * 7) % n
		step(rec[j%3], k)
	}
	for l, r := range rows {
		if r == nil {
			continue
		}
		for _, w := range rec {
			if !allZero(w.grads[r.pi]) {
				t.Fatalf("layer %d: a recording worker scattered into its own ∂W", l)
			}
		}
		for c := r.chunks - 1; c >= 0; c-- {
			r.reduce(c, n)
		}
		want := ref.grads[r.pi]
		nz := 0
		for i, v := range r.g {
			if math.Float32bits(v) != math.Float32bits(want[i]) {
				t.Fatalf("layer %d: ∂W[%d] = %g, the one-worker scatter gives %g", l, i, v, want[i])
			}
			if v != 0 {
				nz++
			}
		}
		if nz < len(want)/10 {
			t.Fatalf("layer %d: only %d of %d gradient values are non-zero: the test checks too little", l, nz, len(want))
		}
		// Reusing the slots for a smaller batch sums only its samples.
		r.reduce(0, 0)
		if !allZero(r.g[:rowChunkRows*r.d.out]) {
			t.Fatalf("layer %d: an empty batch left gradient in chunk 0", l)
		}
	}
}
