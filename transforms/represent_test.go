package transforms

import (
	"math"
	"slices"
	"testing"

	"github.com/evtool/evtool/events"
)

// evs makes a batch from (t, x, y, p) rows.
func evs(list ...[4]int64) *events.Batch {
	b := events.NewBatch(0)
	for _, e := range list {
		b.Append(e[0], uint16(e[1]), uint16(e[2]), uint8(e[3]))
	}
	return b
}

func rep(t testing.TB, spec string) Representation {
	t.Helper()
	c, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Representation()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func near(a []float32, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i])-b[i]) > 1e-6 {
			return false
		}
	}
	return true
}

func TestImage(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 4, Height: 3}, Polarities: 2}
	b := evs([4]int64{0, 0, 0, 1}, [4]int64{1, 3, 2, 0}, [4]int64{2, 0, 0, 1}, [4]int64{3, 5, 0, 1}) // the last is off-sensor
	out, err := rep(t, "image").Compute(b, in)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]uint16, 24)
	want[(1*3+0)*4+0] = 2
	want[(0*3+2)*4+3] = 1
	if !slices.Equal(out.Shape, []int{2, 3, 4}) || !slices.Equal(out.U16, want) {
		t.Fatalf("image %v %v", out.Shape, out.U16)
	}
	merged, _ := rep(t, "image(binary=true)").Compute(b, Shape{Geometry: in.Geometry, Polarities: 1})
	if !slices.Equal(merged.Shape, []int{1, 3, 4}) || merged.U16[0] != 1 || merged.U16[2*4+3] != 1 {
		t.Fatalf("merged binary image %v %v", merged.Shape, merged.U16)
	}
	empty, _ := rep(t, "image").Compute(evs(), in)
	if !slices.Equal(empty.Shape, []int{2, 3, 4}) || slices.Max(empty.U16) != 0 {
		t.Fatal("empty image")
	}
}

func TestTimeSurfaceGlobal(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 2, Height: 1}, Polarities: 2}
	b := evs([4]int64{0, 0, 0, 1}, [4]int64{10, 1, 0, 0}, [4]int64{25, 0, 0, 1})
	// t0 = 0, D = 26, every 10: K = ⌈16/10⌉ + 1 = 3 surfaces at 10, 20, 30; the event at exactly 10 is not
	// in the first (events with t < s_k).
	out, err := rep(t, "timesurface(every=10us, tau=10us)").Compute(b, in)
	if err != nil {
		t.Fatal(err)
	}
	e := math.Exp
	// layout (k, p, y, x): [p0 x0, p0 x1, p1 x0, p1 x1]
	want := []float64{
		0, 0, e(-1), 0,
		0, e(-1), e(-2), 0,
		0, e(-2), e(-0.5), 0,
	}
	if !slices.Equal(out.Shape, []int{3, 2, 1, 2}) || !near(out.F32, want) {
		t.Fatalf("exp surfaces %v %v", out.Shape, out.F32)
	}
	lin, _ := rep(t, "timesurface(every=10us, tau=10us, decay=lin)").Compute(b, in)
	if !near(lin.F32, []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 0}) {
		t.Fatalf("lin surfaces %v", lin.F32)
	}
	win, _ := rep(t, "timesurface(every=10us, tau=10us, decay=window)").Compute(b, in)
	if !near(win.F32, []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}) {
		t.Fatalf("window surfaces %v", win.F32)
	}
	single, _ := rep(t, "timesurface(every=10us)").Compute(evs([4]int64{7, 1, 0, 1}), in)
	if !slices.Equal(single.Shape, []int{1, 2, 1, 2}) || !near(single.F32, []float64{0, 0, 0, math.Exp(-10.0 / 5000)}) {
		t.Fatalf("single event %v %v", single.Shape, single.F32)
	}
	empty, _ := rep(t, "timesurface(every=10us)").Compute(evs(), in)
	if !slices.Equal(empty.Shape, []int{0, 2, 1, 2}) || len(empty.F32) != 0 {
		t.Fatalf("empty %v", empty.Shape)
	}
}

func TestTimeSurfaceLocal(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 3, Height: 3}, Polarities: 2}
	b := evs([4]int64{0, 1, 1, 1}, [4]int64{4, 2, 1, 1}, [4]int64{5, 0, 0, 0})
	out, err := rep(t, "timesurface(radius=1, tau=4us)").Compute(b, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{
		0, 0, 0, 0, 1, 0, 0, 0, 0, // first event: only itself
		0, 0, 0, math.Exp(-1), 1, 0, 0, 0, 0, // (1,1) fired 4 µs before; x = 3 is off the sensor
		0, 0, 0, 0, 1, 0, 0, 0, 0, // OFF event: the ON pixel (1,1) is another polarity's
	}
	if !slices.Equal(out.Shape, []int{3, 3, 3}) || !near(out.F32, want) {
		t.Fatalf("local %v %v", out.Shape, out.F32)
	}
	strided, _ := rep(t, "timesurface(radius=1, tau=4us, stride=2)").Compute(b, in)
	if !slices.Equal(strided.Shape, []int{2, 3, 3}) || !near(strided.F32, append(append([]float64{}, want[:9]...), want[18:]...)) {
		t.Fatalf("stride 2 %v %v", strided.Shape, strided.F32)
	}
	empty, _ := rep(t, "timesurface(radius=2)").Compute(evs(), in)
	if !slices.Equal(empty.Shape, []int{0, 5, 5}) {
		t.Fatalf("empty local %v", empty.Shape)
	}
	if _, err := Parse("timesurface(every=10ms, radius=2)"); err == nil {
		t.Fatal("both modes accepted")
	}
}

func TestHATS(t *testing.T) {
	// 4×2 sensor, 3-px cells: 2 cells; S = 3 (ρ = 1); window 5 µs; lin decay with τ = 2 (k(Δ) = 1 − Δ/6).
	in := Shape{Geometry: events.Geometry{Width: 4, Height: 2}, Polarities: 2}
	b := evs([4]int64{0, 0, 0, 1}, [4]int64{3, 1, 0, 1}, [4]int64{6, 0, 1, 1}, [4]int64{6, 3, 0, 1})
	out, err := rep(t, "hats(cell=3, surface=3, window=5us, tau=2us)").Compute(b, in)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 2*2*9)
	c0 := want[(0*2+1)*9 : (0*2+2)*9] // cell 0, ON
	// e1 sees e0 (Δ 3: 0.5) at dx −1; e2 sees e1 (Δ 3) at dx +1, dy −1 (e0 left the window); 3 events.
	c0[1*3+1], c0[1*3+0], c0[0*3+2] = 1, 0.5/3, 0.5/3
	want[(1*2+1)*9+4] = 1 // cell 1, ON: one event alone
	if !slices.Equal(out.Shape, []int{2, 2, 3, 3}) || !near(out.F32, want) {
		t.Fatalf("hats %v\n%v\nwant %v", out.Shape, out.F32, want)
	}
	// Older than 3τ but inside the window: 0, not negative (tonic's unclamped kernel goes below 0).
	old, _ := rep(t, "hats(cell=3, surface=3, window=100us, tau=1us)").Compute(evs([4]int64{0, 0, 0, 0}, [4]int64{10, 1, 0, 0}), in)
	if slices.Min(old.F32) < 0 || old.F32[3] != 0 {
		t.Fatalf("old neighbour: %v", old.F32[:9])
	}
	empty, _ := rep(t, "hats(cell=3, surface=3)").Compute(evs(), in)
	if !slices.Equal(empty.Shape, []int{2, 2, 3, 3}) || slices.Max(empty.F32) != 0 {
		t.Fatal("empty hats")
	}
	if _, err := Parse("hats(cell=3, surface=4)"); err == nil {
		t.Fatal("even surface accepted")
	}
}

// BenchmarkRepresentations computes each representation of N-MNIST-sized samples (4,100 events, 0.3 s).
func BenchmarkRepresentations(b *testing.B) {
	in := nmnistLike()
	sample := in.Slice(0, 4100)
	for _, spec := range []string{"image", "timesurface(every=30ms)", "timesurface(radius=2, stride=10)", "accumulate(window=10ms)",
		"hats(cell=10, surface=7)", "voxel(bins=5)", "frames(window=10ms)"} {
		b.Run(spec, func(b *testing.B) {
			r := rep(b, spec)
			m := startRates()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := r.Compute(&sample, g34); err != nil {
					b.Fatal(err)
				}
			}
			m.report(b, sample.Len())
		})
	}
}

func TestAccumulate(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 2, Height: 1}, Polarities: 2}
	// Frames of 10 µs: [0,10) ON,ON at x0; [10,20) OFF at x1; [20,25) ON at x0. D = 25: K = ⌈15/10⌉ + 1 = 3.
	b := evs([4]int64{0, 0, 0, 1}, [4]int64{5, 0, 0, 1}, [4]int64{12, 1, 0, 0}, [4]int64{24, 0, 0, 1})
	for _, c := range []struct {
		spec string
		want []float64
	}{
		{"accumulate(window=10us, decay=none, contribution=0.3)", []float64{0.6, 0, 0.6, -0.3, 0.9, -0.3}},
		{"accumulate(window=10us, decay=step, contribution=0.3)", []float64{0.6, 0, 0, -0.3, 0.3, 0}},
		{"accumulate(window=10us, decay=exponential, contribution=0.3)", []float64{0.6, 0, 0.6 * math.Exp(-1), -0.3,
			0.6*math.Exp(-2) + 0.3, -0.3 * math.Exp(-1)}},
		// linear: 20,000 per second × 10 µs = 0.2 per frame
		{"accumulate(window=10us, decay=linear, slope=20000, contribution=0.3)", []float64{0.6, 0, 0.4, -0.3, 0.5, -0.1}},
		// clamped at max 0.5 after every event; rectified OFF adds
		{"accumulate(window=10us, decay=none, contribution=0.3, max=0.5, rectify=true)", []float64{0.5, 0, 0.5, 0.3, 0.5, 0.3}},
	} {
		out, err := rep(t, c.spec).Compute(b, in)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out.Shape, []int{3, 1, 2}) || !near(out.F32, c.want) {
			t.Fatalf("%s: %v %v, want %v", c.spec, out.Shape, out.F32, c.want)
		}
	}
	empty, _ := rep(t, "accumulate(window=10us)").Compute(evs(), in)
	if !slices.Equal(empty.Shape, []int{0, 1, 2}) {
		t.Fatalf("empty: %v", empty.Shape)
	}
}
