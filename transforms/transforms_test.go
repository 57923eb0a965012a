package transforms

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/nmnist"
	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/tensors"
)

type ev = events.Event

var g34 = Shape{Geometry: events.Geometry{Width: 34, Height: 34}, Polarities: 2}

func apply(t *testing.T, spec string, in Shape, evs ...ev) (*events.Batch, Shape) {
	t.Helper()
	c, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	s := events.Sample{ID: "s", Events: *events.FromEvents(evs...)}
	out, err := c.ApplySample(&s, in, 1)
	if err != nil {
		t.Fatal(err)
	}
	return &s.Events, out
}

func want(t *testing.T, got *events.Batch, evs ...ev) {
	t.Helper()
	w := events.FromEvents(evs...)
	if d := got.FirstDifference(w); d >= 0 {
		var gs []ev
		for i := 0; i < got.Len(); i++ {
			gs = append(gs, got.At(i))
		}
		t.Fatalf("got %v\nwant %v", gs, evs)
	}
}

// Denoise: the first event is never supported (no phantom history, unlike tonic and dv); support is
// strict (t − last < dt), 8 neighbours by default, never the pixel itself; every event updates its pixel.
func TestDenoise(t *testing.T) {
	got, _ := apply(t, "denoise(dt=10us)", g34,
		ev{T: 0, X: 5, Y: 5},    // nothing before: dropped
		ev{T: 5, X: 6, Y: 6},    // diagonal neighbour at 0 (5 < 10): kept
		ev{T: 9, X: 5, Y: 5},    // neighbour (6,6) at 5: kept
		ev{T: 15, X: 5, Y: 5},   // own pixel only counts for others; (6,6) at 5: 15−5 = 10, not < 10 → dropped
		ev{T: 16, X: 33, Y: 33}, // corner, no neighbour fired: dropped
	)
	want(t, got, ev{T: 5, X: 6, Y: 6}, ev{T: 9, X: 5, Y: 5})
	got, _ = apply(t, "denoise(dt=10us, neighbours=4)", g34, ev{T: 0, X: 5, Y: 5}, ev{T: 1, X: 6, Y: 6}, ev{T: 2, X: 5, Y: 6})
	want(t, got, ev{T: 2, X: 5, Y: 6}) // diagonal no longer supports; (5,5) is an edge neighbour of (5,6)
	if got, _ := apply(t, "denoise", g34); got.Len() != 0 {
		t.Fatal("empty in, empty out")
	}
}

// Refractory: ≥ (not tonic's >), an event at t = 0 passes, and dropped events restart the period.
func TestRefractory(t *testing.T) {
	got, _ := apply(t, "refractory(period=10us)", g34,
		ev{T: 0, X: 1, Y: 1}, ev{T: 5, X: 1, Y: 1}, ev{T: 14, X: 1, Y: 1}, ev{T: 24, X: 1, Y: 1}, ev{T: 24, X: 2, Y: 1, P: 1})
	want(t, got, ev{T: 0, X: 1, Y: 1}, ev{T: 24, X: 1, Y: 1}, ev{T: 24, X: 2, Y: 1, P: 1})
	got, _ = apply(t, "refractory(period=10us, per-polarity=true)", g34, ev{T: 0, X: 1, Y: 1}, ev{T: 1, X: 1, Y: 1, P: 1})
	want(t, got, ev{T: 0, X: 1, Y: 1}, ev{T: 1, X: 1, Y: 1, P: 1})
}

func TestPolarity(t *testing.T) {
	in := []ev{{T: 1, P: 1}, {T: 2, P: 0}}
	got, _ := apply(t, "polarity(mode=keep-on)", g34, in...)
	want(t, got, ev{T: 1, P: 1})
	got, sh := apply(t, "polarity(mode=merge)", g34, in...)
	want(t, got, ev{T: 1}, ev{T: 2})
	if sh.Polarities != 1 {
		t.Fatal("merge must leave one polarity channel")
	}
	got, _ = apply(t, "polarity(mode=invert)", g34, in...)
	want(t, got, ev{T: 1, P: 0}, ev{T: 2, P: 1})
}

// Crop on a non-square sensor: half-open window, shifted to the origin; center-crop uses integer division.
func TestCrop(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 6, Height: 4}, Polarities: 2}
	evs := []ev{{T: 1, X: 1, Y: 1}, {T: 2, X: 4, Y: 2}, {T: 3, X: 5, Y: 3}, {T: 4, X: 2, Y: 0}}
	got, sh := apply(t, "crop(x0=1, y0=1, w=4, h=2)", in, evs...)
	want(t, got, ev{T: 1, X: 0, Y: 0}, ev{T: 2, X: 3, Y: 1})
	if sh.Geometry != (events.Geometry{Width: 4, Height: 2}) {
		t.Fatalf("shape %v", sh)
	}
	got, sh = apply(t, "crop(x0=1, y0=1, w=4, h=2, keep-offset=true)", in, evs...)
	want(t, got, ev{T: 1, X: 1, Y: 1}, ev{T: 2, X: 4, Y: 2})
	if sh.Geometry.Width != 6 {
		t.Fatal("keep-offset keeps the sensor size")
	}
	got, _ = apply(t, "center-crop(w=3, h=3)", in, evs...) // x0 = (6−3)/2 = 1, y0 = (4−3)/2 = 0: x ∈ [1, 4)
	want(t, got, ev{T: 1, X: 0, Y: 1}, ev{T: 4, X: 1, Y: 0})
	c, _ := Parse("center-crop(w=7, h=1)")
	if _, err := c.ApplySample(&events.Sample{}, in, 0); err == nil {
		t.Fatal("a window wider than the sensor must be refused")
	}
}

// The 7 actions of transpose on a non-square 4×3 sensor.
func TestTranspose(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 4, Height: 3}, Polarities: 2}
	e := ev{T: 1, X: 1, Y: 0}
	for _, c := range []struct {
		action string
		x, y   uint16
		w, h   int
	}{
		{"flip-lr", 2, 0, 4, 3}, {"flip-ud", 1, 2, 4, 3}, {"rot180", 2, 2, 4, 3},
		{"rot90cw", 2, 1, 3, 4}, {"rot90ccw", 0, 2, 3, 4}, {"transpose", 0, 1, 3, 4}, {"antitranspose", 2, 2, 3, 4},
	} {
		got, sh := apply(t, "transpose(action="+c.action+")", in, e)
		want(t, got, ev{T: 1, X: c.x, Y: c.y})
		if sh.Geometry != (events.Geometry{Width: c.w, Height: c.h}) {
			t.Fatalf("%s: shape %v", c.action, sh)
		}
	}
}

func TestDownsample(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 4, Height: 4}, Polarities: 2}
	evs := []ev{{T: 1, X: 0, Y: 0, P: 1}, {T: 1, X: 1, Y: 1, P: 1}, {T: 2, X: 3, Y: 3, P: 1}}
	got, sh := apply(t, "downsample(factor=2)", in, evs...)
	want(t, got, ev{T: 1, X: 0, Y: 0, P: 1}, ev{T: 1, X: 0, Y: 0, P: 1}, ev{T: 2, X: 1, Y: 1, P: 1})
	if sh.Geometry.Width != 2 {
		t.Fatal("shape")
	}
	got, _ = apply(t, "downsample(factor=2, mode=merge)", in, evs...)
	want(t, got, ev{T: 1, X: 0, Y: 0, P: 1}, ev{T: 2, X: 1, Y: 1, P: 1})
	got, _ = apply(t, "downsample(to=1x1, mode=iaf, threshold=2)", in,
		ev{T: 1, P: 1}, ev{T: 2, P: 1}, ev{T: 3, P: 0}, ev{T: 4, P: 0}, ev{T: 5, P: 0})
	want(t, got, ev{T: 2, P: 1}, ev{T: 4, P: 0}) // V: 1, 2 → ON (V = 0), −1, −2 → OFF (V = 0), −1
	if _, err := Parse("downsample(to=2x2, mode=iaf)"); err == nil {
		t.Fatal("iaf without a threshold must be refused")
	}
}

func TestTimeOps(t *testing.T) {
	evs := []ev{{T: 100}, {T: 150}, {T: 200}}
	got, _ := apply(t, "time-crop(from=150us, to=200us)", g34, evs...)
	want(t, got, ev{T: 150})
	got, _ = apply(t, "time-crop(from=50us, relative=true)", g34, evs...)
	want(t, got, ev{T: 150}, ev{T: 200})
	got, _ = apply(t, "time-align", g34, evs...)
	want(t, got, ev{T: 0}, ev{T: 50}, ev{T: 100})
	got, _ = apply(t, "time-scale(factor=0.5, offset=1us)", g34, ev{T: 3}, ev{T: 5})
	want(t, got, ev{T: 3}, ev{T: 4}) // round(2.5) = 3, round(3.5) = 4 (half away from zero)
	c, _ := Parse("time-offset(us=-200us)")
	s := events.Sample{Events: *events.FromEvents(evs...)}
	if _, err := c.ApplySample(&s, g34, 0); err == nil {
		t.Fatal("negative times must be an error")
	}
}

func TestDecimateAndHotPixel(t *testing.T) {
	got, _ := apply(t, "decimate(n=2)", g34, ev{T: 1}, ev{T: 2, X: 1}, ev{T: 3}, ev{T: 4}, ev{T: 5, X: 1})
	want(t, got, ev{T: 3}, ev{T: 5, X: 1})
	// Whole sample of 1,000 µs: a pixel is hot above rate·L·1e−6 = 2000·0.001 = 2 events.
	got, _ = apply(t, "hotpixel(rate=2000)", g34, ev{T: 0, X: 1}, ev{T: 1}, ev{T: 2}, ev{T: 3}, ev{T: 1000, X: 1})
	want(t, got, ev{T: 0, X: 1}, ev{T: 1000, X: 1})
}

// Streaming equals whole-sample for every filter: random batch splits give identical output.
func TestStreamingEqualsWholeSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	b := events.NewBatch(0)
	var tt int64
	for i := 0; i < 3000; i++ {
		tt += rng.Int64N(40)
		b.Append(tt, uint16(rng.IntN(34)), uint16(rng.IntN(34)), uint8(rng.IntN(2)))
	}
	specs := []string{"denoise(dt=300us)", "denoise(neighbours=4)", "refractory(period=500us)", "polarity(mode=keep-off)",
		"crop(x0=3, y0=4, w=20, h=11)", "random-crop(w=10, h=10)", "transpose(action=rot90cw)", "random-flip-lr",
		"downsample(factor=2, mode=merge, merge-us=100us)", "downsample(to=5x7, mode=iaf, threshold=2, tau=1ms)",
		"time-crop(from=10ms, to=40ms)", "time-align", "time-scale(factor=1.5)", "decimate(n=3)", "drop-event(prob=0.3)",
		"hotpixel(rate=50, learn=20ms)", "hotpixel(rate=50)", "denoise | refractory | decimate(n=2)",
		"arbiter(ratio=0.05)", "arbiter(ratio=0.1, orientation=column)", "time-reverse", "random-reverse", "drop-time(ratio=0.3)",
		"drop-area(ratio=0.4)", "drop-pixel(prob=0.2)", "denoise(mode=fastdecay, half-life=1ms, threshold=2)",
		"hotpixel(relative=1.5, window=5ms)", "hotpixel(pixels=3:4;10:0)", "drop-event(prob=0.4, exact=true)", "event-drop",
		"denoise(compat=tonic, dt=1ms)", "refractory(compat=tonic, period=300us)", "jitter-t(sigma=200us)",
		"jitter-t(sigma=3ms, clip-negative=true)"}
	for _, spec := range specs {
		c, err := Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		s := events.Sample{ID: "x", Events: *b.Clone()}
		if _, err := c.ApplySample(&s, g34, 9); err != nil {
			t.Fatal(err)
		}
		for trial := 0; trial < 5; trial++ {
			st, _ := c.NewStream(g34, 9, "x")
			var out events.Batch
			for off := 0; off < b.Len(); {
				n := rng.IntN(400)
				part := b.Slice(off, min(b.Len(), off+n))
				if err := st.Process(&part, &out); err != nil {
					t.Fatal(err)
				}
				off += n
			}
			st.Flush(&out)
			if d := out.FirstDifference(&s.Events); d >= 0 {
				t.Fatalf("%s: split stream differs from the whole sample at event %d", spec, d)
			}
		}
	}
}

func TestRejectsBackwardsBatch(t *testing.T) {
	c, _ := Parse("denoise")
	st, _ := c.NewStream(g34, 0, "")
	var out events.Batch
	st.Process(events.FromEvents(ev{T: 10}), &out)
	if err := st.Process(events.FromEvents(ev{T: 5}), &out); err == nil || !strings.Contains(err.Error(), "time order") {
		t.Fatalf("%v", err)
	}
}

func TestParser(t *testing.T) {
	c, err := Parse("denoise(dt=10ms)", "refractory | frames(bins=10)")
	if err != nil {
		t.Fatal(err)
	}
	if s := c.String(); s != "denoise(dt=10ms) | refractory | frames(bins=10)" {
		t.Fatalf("canonical %q", s)
	}
	again, err := Parse(c.String())
	if err != nil || again.String() != c.String() {
		t.Fatalf("round trip: %v %q", err, again)
	}
	if v := c.Stages[0].Values.Int("dt"); v != 10000 {
		t.Fatalf("10ms = %d µs", v)
	}
	for spec, wantPos := range map[string]int{
		"denoise(dt=10parsecs)": 9, "denoyse": 1, "denoise(dt=1ms, bogus=2)": 17, "refractory(period)": 12,
		"frames(bins=10) | denoise": -1, "crop(w=3)": -1,
	} {
		_, err := Parse(spec)
		if err == nil {
			t.Fatalf("%q accepted", spec)
		}
		if se, ok := err.(*SyntaxError); ok && se.Pos+1 != wantPos {
			t.Errorf("%q: error at character %d, want %d: %v", spec, se.Pos+1, wantPos, err)
		}
	}
}

func frames(t *testing.T, spec string, in Shape, evs ...ev) *tensors.Tensor {
	t.Helper()
	c, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := c.Representation()
	ts, err := r.Compute(events.FromEvents(evs...), in)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func frameTotals(ts *tensors.Tensor) []int {
	plane := ts.Len() / max(ts.Shape[0], 1)
	out := make([]int, ts.Shape[0])
	for k := range out {
		for _, c := range ts.U16[k*plane : (k+1)*plane] {
			out[k] += int(c)
		}
	}
	return out
}

func eqInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Frames: exact tiling, window edges, the last event kept, empty and single-event inputs, shape order.
func TestFrames(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 3, Height: 2}, Polarities: 2}
	evs := []ev{{T: 0}, {T: 9, X: 2, Y: 1, P: 1}, {T: 10}, {T: 19}, {T: 20}}
	// D = 21; window 10: K = floor((21−10)/10)+1 = 2 frames [0,10) [10,20); the event at 20 is outside.
	ts := frames(t, "frames(window=10us)", in, evs...)
	if !eqInts(ts.Shape, []int{2, 2, 2, 3}) || !eqInts(frameTotals(ts), []int{2, 2}) {
		t.Fatalf("shape %v totals %v", ts.Shape, frameTotals(ts))
	}
	if ts.U16[((0*2+1)*2+1)*3+2] != 1 { // frame 0, ON channel, y=1, x=2
		t.Fatal("event (9, 2, 1, ON) not at [0, 1, 1, 2]")
	}
	ts = frames(t, "frames(window=10us, include-incomplete=true)", in, evs...)
	if !eqInts(frameTotals(ts), []int{2, 2, 1}) {
		t.Fatalf("include-incomplete: %v", frameTotals(ts))
	}
	ts = frames(t, "frames(window=10us, overlap=5, include-incomplete=true)", in, evs...)
	// stride 5: frames [0,10) [5,15) [10,20) [15,25): K = ceil(11/5)+1 = 4
	if !eqInts(frameTotals(ts), []int{2, 2, 2, 2}) {
		t.Fatalf("overlap: %v", frameTotals(ts))
	}
	ts = frames(t, "frames(count=2)", in, evs...)
	if !eqInts(frameTotals(ts), []int{2, 2}) {
		t.Fatalf("count: %v", frameTotals(ts))
	}
	ts = frames(t, "frames(bins=3)", in, evs...) // D = 21: bins [0,7) [7,14) [14,21)
	if !eqInts(frameTotals(ts), []int{1, 2, 2}) {
		t.Fatalf("bins: %v", frameTotals(ts))
	}
	ts = frames(t, "frames(event-bins=2)", in, evs...) // N = 5: [0,2) [2,5)
	if !eqInts(frameTotals(ts), []int{2, 3}) {
		t.Fatalf("event-bins: %v", frameTotals(ts))
	}
	// Empty input: bins give B zero frames of the right shape (H before W even on a non-square sensor).
	ts = frames(t, "frames(bins=4)", in)
	if !eqInts(ts.Shape, []int{4, 2, 2, 3}) || ts.Len() != len(ts.U16) {
		t.Fatalf("empty bins: %v", ts.Shape)
	}
	if ts := frames(t, "frames(window=5us)", in); ts.Shape[0] != 0 {
		t.Fatal("empty window frames: K = 0")
	}
	if ts := frames(t, "frames(window=5us, start=0us, end=20us)", in); !eqInts(ts.Shape, []int{4, 2, 2, 3}) {
		t.Fatalf("empty with start and end: %v", ts.Shape)
	}
	// A single event is in exactly one frame (tonic#313 gives an empty frame).
	if tot := frameTotals(frames(t, "frames(bins=1)", in, ev{T: 7})); !eqInts(tot, []int{1}) {
		t.Fatalf("single event: %v", tot)
	}
}

// A peer-equivalent case on a real N-MNIST sample (first event 937 µs, last 305,341 µs, 5,028 events).
// tonic's ToFrame(time_window=100 ms) slices windows [937 + k·10^5, 937 + (k+1)·10^5) for k = 0, 1, 2 (its
// span ends at the last event, so n = ⌊(304,404 − 10^5)/10^5⌋ + 1 = 3); ours tile [937, 305,342) and keep
// the same 3 complete frames. The expected counts were tallied outside evtool, from the raw 40-bit records
// (x, y, p and a 23-bit time per event) with a few lines of Python: 1,804, 1,600 and 1,621 events, 3 after
// the last window; 905, 792 and 809 of them ON; pixel (x 10, y 26) OFF fires 8 times in frame 0.
func TestFramesOnNMNIST(t *testing.T) {
	r, err := nmnist.Open(fixtures.Path(t, "nmnist/Train/0/00002.bin"), formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := events.ReadAll(r)
	r.Close()
	ts := frames(t, "frames(window=100ms)", g34, batchEvents(b)...)
	if got := frameTotals(ts); !eqInts(ts.Shape, []int{3, 2, 34, 34}) || !eqInts(got, []int{1804, 1600, 1621}) {
		t.Fatalf("frames %v with %v events, want [3 2 34 34] with [1804 1600 1621]", ts.Shape, got)
	}
	plane := 34 * 34
	for k, want := range []int{905, 792, 809} {
		on := 0
		for _, c := range ts.U16[(2*k+1)*plane : (2*k+2)*plane] {
			on += int(c)
		}
		if on != want {
			t.Errorf("frame %d: %d ON events, want %d", k, on, want)
		}
	}
	if c := ts.U16[(0*2+0)*plane+26*34+10]; c != 8 {
		t.Errorf("frame 0, OFF (10, 26): %d events, want 8", c)
	}
	// 10 time bins over D = 304,405 µs, edges 937 + ⌊k·D/10⌋ = 937, 31,377, 61,818, …, 274,901, 305,342:
	// every event in exactly one bin.
	bins := frameTotals(frames(t, "frames(bins=10)", g34, batchEvents(b)...))
	if want := []int{309, 1035, 450, 141, 730, 670, 114, 370, 939, 270}; !eqInts(bins, want) {
		t.Fatalf("10 time bins hold %v events, want %v", bins, want)
	}
}

func batchEvents(b *events.Batch) []ev {
	out := make([]ev, b.Len())
	for i := range out {
		out[i] = b.At(i)
	}
	return out
}

func TestVoxel(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 2, Height: 1}, Polarities: 2}
	c, _ := Parse("voxel(bins=3)")
	r, _ := c.Representation()
	ts, _ := r.Compute(events.FromEvents(ev{T: 0, P: 1}, ev{T: 5, X: 1, P: 0}, ev{T: 10, P: 1}), in)
	// τ = 0, 1, 2: each event falls on one bin exactly; the last event is kept (tonic drops it).
	wantV := []float32{1, 0, 0, -1, 1, 0}
	for i := range wantV {
		if ts.F32[i] != wantV[i] {
			t.Fatalf("voxel %v, want %v", ts.F32, wantV)
		}
	}
	ts, _ = r.Compute(events.FromEvents(ev{T: 0, P: 1}, ev{T: 4, P: 1}), in) // τ = 0, 2
	if ts.F32[0] != 1 || ts.F32[4] != 1 {
		t.Fatalf("%v", ts.F32)
	}
	one, _ := Parse("voxel(bins=1)")
	r1, _ := one.Representation()
	ts, _ = r1.Compute(events.FromEvents(ev{T: 3, P: 1}, ev{T: 3, P: 0}, ev{T: 3, P: 1}), in)
	if ts.F32[0] != 1 { // B = 1: the total equals Σ s_i
		t.Fatalf("%v", ts.F32)
	}
}

// Arbiter: a run longer than round(ratio·W) on one row is dropped, shorter runs and the final run follow
// the same rule at Flush (faery never yields the last run).
func TestArbiter(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 10, Height: 4}, Polarities: 2}
	var evs []ev
	for x := 0; x < 4; x++ { // run of 4 on row 1: limit round(0.3·10) = 3 → dropped
		evs = append(evs, ev{T: int64(x), X: uint16(x), Y: 1})
	}
	evs = append(evs, ev{T: 10, X: 0, Y: 2}, ev{T: 11, X: 1, Y: 2}) // run of 2 on row 2: kept
	evs = append(evs, ev{T: 12, X: 0, Y: 3}, ev{T: 13, X: 1, Y: 3}, ev{T: 14, X: 2, Y: 3}, ev{T: 15, X: 3, Y: 3})
	got, _ := apply(t, "arbiter(ratio=0.3)", in, evs...)
	want(t, got, ev{T: 10, X: 0, Y: 2}, ev{T: 11, X: 1, Y: 2}) // the last run (4 on row 3) is dropped at Flush
	got, _ = apply(t, "arbiter(ratio=0.3, max-span=2us)", in, evs...)
	if got.Len() != 10 { // every run spans 3 µs > 2: nothing is dropped
		t.Fatalf("max-span: %d events", got.Len())
	}
}

func TestTimeReverseAndDrops(t *testing.T) {
	got, _ := apply(t, "time-reverse", g34, ev{T: 10, X: 1, P: 1}, ev{T: 15, X: 2, P: 0}, ev{T: 30, X: 3, P: 1})
	want(t, got, ev{T: 0, X: 3, P: 0}, ev{T: 15, X: 2, P: 1}, ev{T: 20, X: 1, P: 0})
	got, _ = apply(t, "time-reverse(keep-polarity=true)", g34, ev{T: 10, P: 1}, ev{T: 30, P: 0})
	want(t, got, ev{T: 0, P: 0}, ev{T: 20, P: 1})
	// drop-time with ratio 1 drops [t_first, t_last): only the last event survives
	got, _ = apply(t, "drop-time(ratio=1)", g34, ev{T: 5}, ev{T: 6}, ev{T: 9})
	want(t, got, ev{T: 9})
	got, _ = apply(t, "drop-time(ratio=0)", g34, ev{T: 5}, ev{T: 6})
	want(t, got, ev{T: 5}, ev{T: 6})
	// drop-area with ratio 1 drops the whole sensor; 0 drops nothing
	if got, _ := apply(t, "drop-area(ratio=1)", g34, ev{T: 1, X: 33, Y: 33}); got.Len() != 0 {
		t.Fatal("drop-area ratio 1 kept an event")
	}
	if got, _ := apply(t, "drop-pixel(prob=1)", g34, ev{T: 1}); got.Len() != 0 {
		t.Fatal("drop-pixel prob 1 kept an event")
	}
}

// drop-area draws its box once per sample from (seed, sample id): the same sample gives the same events;
// other samples get other boxes; each removes exactly one ⌊W/2⌋ × ⌊H/2⌋ box of pixels.
func TestDropAreaIsSeededPerSample(t *testing.T) {
	c, _ := Parse("drop-area(ratio=0.5)")
	b := events.NewBatch(0)
	for i := 0; i < 34*34; i++ { // one event on every pixel
		b.Append(int64(i), uint16(i%34), uint16(i/34), 0)
	}
	run := func(id string) *events.Batch {
		s := events.Sample{ID: id, Events: *b.Clone()}
		if _, err := c.ApplySample(&s, g34, 5); err != nil {
			t.Fatal(err)
		}
		return &s.Events
	}
	boxes := map[[2]int]bool{}
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		got := run(id)
		if d := run(id).FirstDifference(got); d >= 0 {
			t.Fatalf("sample %q: a second run differs at event %d", id, d)
		}
		// The dropped pixels are one 17×17 box.
		kept := map[int]bool{}
		for i := range got.Len() {
			kept[int(got.Y[i])*34+int(got.X[i])] = true
		}
		x0, y0, x1, y1 := 34, 34, -1, -1
		for p := range 34 * 34 {
			if !kept[p] {
				x, y := p%34, p/34
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
		if got.Len() != 34*34-17*17 || x1-x0 != 16 || y1-y0 != 16 {
			t.Fatalf("sample %q: %d events kept, dropped box [%d,%d]×[%d,%d]; want %d kept and a 17×17 box",
				id, got.Len(), x0, x1, y0, y1, 34*34-17*17)
		}
		boxes[[2]int{x0, y0}] = true
	}
	// 18 × 18 possible origins: six samples all drawing one origin would mean the id is not used.
	if len(boxes) < 2 {
		t.Fatalf("six sample ids all dropped the box at %v", boxes)
	}
}

func TestUniformNoise(t *testing.T) {
	got, _ := apply(t, "uniform-noise(n=50)", g34, ev{T: 10, X: 1}, ev{T: 20, X: 2})
	if got.Len() != 52 || got.T[0] != 10 || got.T[51] != 20 || got.CheckMonotonic() >= 0 {
		t.Fatalf("uniform-noise: %d events in [%d, %d]", got.Len(), got.T[0], got.T[got.Len()-1])
	}
	if got.At(0) != (ev{T: 10, X: 1}) {
		t.Fatal("the sample's own events come first on ties")
	}
	if got, _ := apply(t, "uniform-noise(n=5)", g34); got.Len() != 0 {
		t.Fatal("an empty sample stays empty")
	}
}

// A chain's tally sums every stage's in/out counts over samples, concurrent ones included.
func TestTally(t *testing.T) {
	c, err := Parse("refractory(period=10us) | crop(x0=0, y0=0, w=2, h=2)")
	if err != nil {
		t.Fatal(err)
	}
	tally := c.NewTally()
	done := make(chan struct{})
	for k := 0; k < 4; k++ {
		go func() {
			defer func() { done <- struct{}{} }()
			// 3 events: the second is refractory, the third outside the crop.
			s := events.Sample{ID: "s", Events: *events.FromEvents(ev{T: 0, X: 1, Y: 1, P: 1}, ev{T: 5, X: 1, Y: 1, P: 1}, ev{T: 20, X: 3, Y: 0, P: 0})}
			if _, err := c.ApplySample(&s, g34, 0); err != nil {
				t.Error(err)
			}
		}()
	}
	for k := 0; k < 4; k++ {
		<-done
	}
	st := tally.Stats()
	if st[0] != (Stats{In: 12, Out: 8}) || st[1] != (Stats{In: 8, Out: 4}) {
		t.Fatalf("tally %+v", st)
	}
	if l := tally.Lines(); l[0] != "refractory(period=10us): 12 → 8 events (33.3 % removed)" {
		t.Fatalf("line %q", l[0])
	}
}
