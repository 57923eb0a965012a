package transforms

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evtool/evtool/events"
)

func randomSample(seed uint64, n int) *events.Batch {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := events.NewBatch(n)
	var tt int64
	for range n {
		tt += rng.Int64N(40)
		b.Append(tt, uint16(rng.IntN(34)), uint16(rng.IntN(34)), uint8(rng.IntN(2)))
	}
	return b
}

// Seeded transforms: the same (seed, sample id) gives the same output, whatever the batch split; another
// seed or another sample id gives another draw.
func TestSeededTransformsAreDeterministic(t *testing.T) {
	b := randomSample(5, 4000)
	run := func(spec string, seed uint64, id string, split int) *events.Batch {
		c, err := Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		st, err := c.NewStream(g34, seed, id)
		if err != nil {
			t.Fatal(err)
		}
		var out events.Batch
		for off := 0; off < b.Len(); off += split {
			part := b.Slice(off, min(b.Len(), off+split))
			if err := st.Process(&part, &out); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Flush(&out); err != nil {
			t.Fatal(err)
		}
		return &out
	}
	for _, spec := range []string{"drop-event(prob=0.4)", "random-crop(w=9, h=13)", "random-flip-lr", "random-flip-ud",
		"polarity(mode=random-flip)", "jitter-xy(sigma-x=1.5, sigma-y=0.7, rho=0.3)", "jitter-xy(sigma-x=1, sigma-y=2)", "jitter-t(sigma=300us)",
		"jitter-xy(sigma-x=2, sigma-y=2, clip=true) | jitter-t(sigma=1ms, clip-negative=true) | drop-event(prob=0.1)"} {
		ref := run(spec, 7, "sample-1", b.Len())
		for _, split := range []int{1, 17, 999} {
			if d := run(spec, 7, "sample-1", split).FirstDifference(ref); d >= 0 {
				t.Fatalf("%s: batch split %d changes the output at event %d", spec, split, d)
			}
		}
		// A per-sample draw (flip, crop origin) can coincide for two seeds; over several seeds it must not always.
		differs := false
		for seed := uint64(8); seed < 16 && !differs; seed++ {
			differs = run(spec, seed, "sample-1", b.Len()).FirstDifference(ref) >= 0 ||
				run(spec, 7, "sample-"+string(rune('a'+seed)), b.Len()).FirstDifference(ref) >= 0
		}
		if !differs {
			t.Errorf("%s: every seed and sample id gives the same output", spec)
		}
	}
}

func TestJitterXY(t *testing.T) {
	b := randomSample(6, 20000)
	in := *b
	// sigma 0: identity.
	got, _ := apply(t, "jitter-xy(sigma-x=0, sigma-y=0)", g34, batchEvents(&in)...)
	if d := got.FirstDifference(b); d >= 0 {
		t.Fatalf("sigma 0 changed event %d", d)
	}
	// Dropping mode keeps coordinates inside the sensor and times unchanged; clip keeps every event.
	got, _ = apply(t, "jitter-xy(sigma-x=3, sigma-y=3)", g34, batchEvents(b)...)
	if got.Len() >= b.Len() || got.Len() == 0 {
		t.Fatalf("kept %d of %d events", got.Len(), b.Len())
	}
	if err := got.Validate(g34.Geometry); err != nil {
		t.Fatal(err)
	}
	got, _ = apply(t, "jitter-xy(sigma-x=3, sigma-y=3, clip=true)", g34, batchEvents(b)...)
	if got.Len() != b.Len() {
		t.Fatalf("clip kept %d of %d events", got.Len(), b.Len())
	}
	// Displacements are rounded to nearest, not truncated: the mean |dx| of N(0, 1) rounded is ≈ 0.764
	// (truncation toward zero would give ≈ 0.365). ρ = 1 makes dy = dx·sy/sx.
	big := Shape{Geometry: events.Geometry{Width: 1000, Height: 1000}, Polarities: 2}
	var evs []ev
	for i := range 20000 {
		evs = append(evs, ev{T: int64(i), X: 500, Y: 500})
	}
	got, _ = apply(t, "jitter-xy(sigma-x=1, sigma-y=2, rho=1)", big, evs...)
	var sum float64
	for i := range got.Len() {
		dx, dy := int(got.X[i])-500, int(got.Y[i])-500
		if dx < 0 {
			dx = -dx
		}
		sum += float64(dx)
		if dy := dy - 2*(int(got.X[i])-500); dy < -1 || dy > 1 {
			t.Fatalf("rho=1: dy %d is not 2·dx (%d) ± rounding", dy, int(got.X[i])-500)
		}
	}
	if m := sum / float64(got.Len()); m < 0.73 || m > 0.80 {
		t.Fatalf("mean |dx| = %.3f, want ≈ 0.764 (round to nearest)", m)
	}
	// Independent axes (ρ = 0, drawn already rounded): E|round(z)| = 2·Σ k·P(round(z) = k) = 0.7636,
	// E|round(2z)| = 1.5790; the axes do not correlate; with clip every event stays on the sensor.
	for _, spec := range []string{"jitter-xy(sigma-x=1, sigma-y=2)", "jitter-xy(sigma-x=1, sigma-y=2, clip=true)"} {
		got, _ = apply(t, spec, big, evs...)
		var ax, ay, xy float64
		for i := range got.Len() {
			dx, dy := float64(got.X[i])-500, float64(got.Y[i])-500
			ax, ay, xy = ax+math.Abs(dx), ay+math.Abs(dy), xy+dx*dy
		}
		n := float64(got.Len())
		if got.Len() != len(evs) || math.Abs(ax/n-0.7636) > 0.02 || math.Abs(ay/n-1.5790) > 0.045 || math.Abs(xy/n) > 0.07 {
			t.Fatalf("%s: %d events, mean |dx| %.4f (want 0.7636), |dy| %.4f (want 1.5790), E[dx·dy] %.4f (want 0)",
				spec, got.Len(), ax/n, ay/n, xy/n)
		}
	}
}

func TestJitterT(t *testing.T) {
	b := randomSample(7, 5000)
	got, _ := apply(t, "jitter-t(sigma=0us)", g34, batchEvents(b)...)
	if d := got.FirstDifference(b); d >= 0 {
		t.Fatalf("sigma 0 changed event %d", d)
	}
	got, _ = apply(t, "jitter-t(sigma=2ms)", g34, batchEvents(b)...)
	if got.CheckMonotonic() >= 0 {
		t.Fatal("output is not re-sorted")
	}
	if got.Len() >= b.Len() { // events near t = 0 fall below zero and are dropped
		t.Fatalf("kept all %d events: negative times not dropped", got.Len())
	}
	for _, tt := range got.T {
		if tt < 0 {
			t.Fatalf("negative time %d", tt)
		}
	}
	got, _ = apply(t, "jitter-t(sigma=2ms, clip-negative=true)", g34, batchEvents(b)...)
	if got.Len() != b.Len() || got.T[0] != 0 {
		t.Fatalf("clip-negative: %d of %d events, first at %d", got.Len(), b.Len(), got.T[0])
	}
	// Ties keep input order (stable sort): equal jittered times never swap two events.
	evs := []ev{{T: 5, X: 1}, {T: 5, X: 2}, {T: 5, X: 3}}
	got, _ = apply(t, "jitter-t(sigma=0us)", g34, evs...)
	want(t, got, evs...)
}

// sortTimeIndex equals a stable sort by time on nearly sorted keys (insertion sort), on keys spread wide
// (the radix sort it switches to), and on times across the whole int64 range, ties included.
func TestSortTimeIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var scratch []timeIndex
	for trial, spread := range []int64{0, 3, 50, 1 << 20, 1 << 62} {
		for _, n := range []int{0, 1, 2, 100, 5000} {
			o := make([]timeIndex, n)
			for i := range o {
				o[i] = timeIndex{int64(i)*10 + rng.Int64N(spread+1) - spread/2, int32(i)}
				if trial == 4 && i%3 == 0 {
					o[i].t = [...]int64{math.MinInt64, math.MaxInt64, 0}[i%9/3]
				}
				if i%7 == 0 && i > 0 {
					o[i].t = o[i-1].t // ties keep arrival order
				}
			}
			want := slices.Clone(o)
			slices.SortStableFunc(want, func(a, b timeIndex) int { return cmp.Compare(a.t, b.t) })
			sortTimeIndex(o, &scratch)
			if !slices.Equal(o, want) {
				t.Fatalf("spread %d, %d keys: not a stable sort by time", spread, n)
			}
		}
	}
}
