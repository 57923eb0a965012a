package transforms

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evtool/evtool/events"
)

// Bin edges and bins worked out by hand, including spans shorter than the bin count and spans where
// k·D overflows int64.
func TestTimeBinsEdges(t *testing.T) {
	edges := func(tb TimeBins) []int64 {
		var e []int64
		for k := 0; k <= tb.Bins; k++ {
			e = append(e, tb.Edge(k))
		}
		return e
	}
	// [100, 110), D = 10, B = 3: ⌊k·10/3⌋ = 0, 3, 6, 10.
	tb := TimeBins{Start: 100, End: 110, Bins: 3}
	if e := edges(tb); !slices.Equal(e, []int64{100, 103, 106, 110}) {
		t.Fatalf("edges %v", e)
	}
	for tt, want := range map[int64]int{99: -1, 100: 0, 102: 0, 103: 1, 105: 1, 106: 2, 109: 2, 110: -1} {
		if got := tb.Bin(tt); got != want {
			t.Errorf("bin of %d: %d, want %d", tt, got, want)
		}
	}
	// D = 1 < B = 4: bins 0–2 are empty ([5, 5)), the one instant is in bin 3.
	tb = TimeBins{Start: 5, End: 6, Bins: 4}
	if e := edges(tb); !slices.Equal(e, []int64{5, 5, 5, 5, 6}) || tb.Bin(5) != 3 {
		t.Fatalf("short span: edges %v, bin %d", e, tb.Bin(5))
	}
	// D = 2^62 and B = 65536: k·D needs 78 bits; edges are k·2^46 exactly.
	tb = TimeBins{Start: -1 << 61, End: 1 << 61, Bins: 65536}
	if got, want := tb.Edge(65535), int64(-1<<61)+65535<<46; got != want {
		t.Fatalf("edge 65535 of a 2^62 span: %d, want %d", got, want)
	}
	if k := tb.Bin(int64(-1<<61) + 65535<<46 - 1); k != 65534 {
		t.Fatalf("bin just below edge 65535: %d", k)
	}
	if k := tb.Bin(1<<61 - 1); k != 65535 {
		t.Fatalf("last µs of the span: bin %d", k)
	}
	// A span wider than int64 itself, and empty spans.
	tb = TimeBins{Start: math.MinInt64, End: math.MaxInt64, Bins: 2}
	if tb.Edge(1) != -1 || tb.Bin(-2) != 0 || tb.Bin(-1) != 1 {
		t.Fatalf("full span: middle edge %d, bins of −2, −1: %d %d", tb.Edge(1), tb.Bin(-2), tb.Bin(-1))
	}
	if (TimeBins{Start: 7, End: 7, Bins: 2}).Bin(7) != -1 || (TimeBins{Start: 0, End: 9, Bins: 0}).Bin(3) != -1 {
		t.Fatal("an empty span or no bins gave a bin")
	}
	// Property: each time lies in the bin whose [edge k, edge k+1) holds it.
	rng := rand.New(rand.NewPCG(4, 4))
	for range 2000 {
		tb := TimeBins{Start: rng.Int64N(1 << 40), Bins: 1 + rng.IntN(300)}
		tb.End = tb.Start + 1 + rng.Int64N(1<<uint(rng.IntN(40)))
		tt := tb.Start + rng.Int64N(tb.End-tb.Start)
		k := tb.Bin(tt)
		if k < 0 || k >= tb.Bins || tt < tb.Edge(k) || tt >= tb.Edge(k+1) {
			t.Fatalf("%+v: t = %d in bin %d [%d, %d)", tb, tt, k, tb.Edge(k), tb.Edge(k+1))
		}
	}
}

func TestBinCounter(t *testing.T) {
	// 3×2 sensor, 2 channels, bins [100,103) [103,106) [106,110) (as above).
	b := events.FromEvents(
		ev{T: 100, X: 0, Y: 0, P: 1},
		ev{T: 102, X: 0, Y: 0, P: 1},
		ev{T: 103, X: 1, Y: 0, P: 0},
		ev{T: 105, X: 2, Y: 1, P: 1},
		ev{T: 101, X: 2, Y: 1, P: 0}, // out of time order: still bin 0
		ev{T: 106, X: 2, Y: 1, P: 3}, // polarity 3: skipped, or counted as ON with ClampPolarity
		ev{T: 107, X: 5, Y: 0, P: 1}, // outside the sensor: skipped
		ev{T: 109, X: 2, Y: 1, P: 1},
		ev{T: 110, X: 0, Y: 0, P: 1}, // at End: outside the span
		ev{T: 99, X: 0, Y: 0, P: 1},  // before Start: outside the span
	)
	c := BinCounter{TimeBins: TimeBins{Start: 100, End: 110, Bins: 3}, Width: 3, Height: 2, Polarities: 2}
	idx := func(k, p, y, x int) int { return k*12 + (p*2+y)*3 + x }
	counts := make([]uint16, 36)
	c.Count(b, counts)
	want := make([]uint16, 36)
	want[idx(0, 1, 0, 0)] = 2
	want[idx(0, 0, 1, 2)] = 1
	want[idx(1, 0, 0, 1)] = 1
	want[idx(1, 1, 1, 2)] = 1
	want[idx(2, 1, 1, 2)] = 1
	if !slices.Equal(counts, want) {
		t.Fatalf("counts\n%v\nwant\n%v", counts, want)
	}
	clear(counts)
	c.ClampPolarity = true
	c.Count(b, counts)
	want[idx(2, 1, 1, 2)] = 2
	if !slices.Equal(counts, want) {
		t.Fatalf("clamped polarity: counts\n%v\nwant\n%v", counts, want)
	}
	clear(counts)
	c.Binary = true
	c.Count(b, counts)
	for i, n := range want {
		want[i] = min(n, 1)
	}
	if !slices.Equal(counts, want) {
		t.Fatalf("binary: counts\n%v\nwant\n%v", counts, want)
	}
	// Counts saturate at 65535; a second call adds to the grid.
	many := events.NewBatch(70000)
	for i := range 70000 {
		many.Append(int64(i/10), 0, 0, 0)
	}
	one := BinCounter{TimeBins: TimeBins{Start: 0, End: 7000, Bins: 1}, Width: 1, Height: 1, Polarities: 1}
	grid := []uint16{0}
	one.Count(events.FromEvents(ev{T: 0}), grid)
	if one.Count(many, grid); grid[0] != math.MaxUint16 {
		t.Fatalf("saturation: %d", grid[0])
	}
}

// frames(bins=B) is the counter over [first event, last event + 1) with the polarity clamped.
func TestFramesBinsUseTheTimeBins(t *testing.T) {
	b := randomSample(8, 5000)
	for _, spec := range []string{"frames(bins=10)", "frames(bins=7, binary=true)", "frames(bins=3000)"} {
		ts := frames(t, spec, g34, batchEvents(b)...)
		f := rep(t, spec).(*Frames)
		c := BinCounter{TimeBins: TimeBins{Start: b.T[0], End: b.T[b.Len()-1] + 1, Bins: f.Bins}, Width: 34, Height: 34,
			Polarities: 2, Binary: f.Binary, ClampPolarity: true}
		counts := make([]uint16, ts.Len())
		c.Count(b, counts)
		if !slices.Equal(ts.U16, counts) {
			t.Fatalf("%s differs from the bin counter", spec)
		}
	}
}
