package saccade

import (
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestOrchardNMNISTNumbers(t *testing.T) {
	tr, err := Orchard(DefaultOrchard(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr.DurationUs() != 315000 {
		t.Errorf("duration %g µs; want 315000", tr.DurationUs())
	}
	for _, c := range []struct {
		t      float64
		dx, dy float64
	}{{0, 0, 0}, {52500, 1.75, 3.5}, {105000, 3.5, 7}, {210000, 7, 0}, {262500, 3.5, 0}, {315000, 0, 0}, {400000, 0, 0}, {-5, 0, 0}} {
		p := tr.At(c.t)
		if !near(p.DX, c.dx) || !near(p.DY, c.dy) || !p.IsTranslation() {
			t.Errorf("At(%g) = %+v; want (%g, %g)", c.t, p, c.dx, c.dy)
		}
	}
	// Leg 1 is the fastest: 7.83 px in 105 ms = 74.5 px/s.
	if v := tr.MaxSpeedPxPerUs() * 1e6; math.Abs(v-74.54) > 0.01 {
		t.Errorf("max speed %.2f px/s; want 74.54", v)
	}
}

func TestEasing(t *testing.T) {
	for _, e := range []Easing{Linear, MinimumJerk, Cosine} {
		if e.Apply(0) != 0 || !near(e.Apply(1), 1) || !near(e.Apply(0.5), 0.5) {
			t.Errorf("%s: endpoints or midpoint wrong", e)
		}
		// PeakRate bounds the numerical slope.
		var peak float64
		for k := 0; k < 1000; k++ {
			u := float64(k) / 1000
			peak = max(peak, (e.Apply(u+0.001)-e.Apply(u))/0.001)
		}
		if peak > e.PeakRate()+1e-3 || peak < e.PeakRate()-0.01 {
			t.Errorf("%s: numerical peak rate %.4f, declared %.4f", e, peak, e.PeakRate())
		}
		back, err := ParseEasing(e.String())
		if err != nil || back != e {
			t.Errorf("ParseEasing(%q) = %v, %v", e.String(), back, err)
		}
	}
	if _, err := ParseEasing("bouncy"); err == nil {
		t.Error("unknown easing accepted")
	}
	tr, _ := Orchard(OrchardOptions{LegUs: 100, BasePx: 7, HeightPx: 7, Easing: MinimumJerk}, nil)
	if v := tr.MaxSpeedPxPerUs(); !near(v, math.Hypot(3.5, 7)/100*15/8) {
		t.Errorf("minimum-jerk max speed %g", v)
	}
}

func TestOrchardJitter(t *testing.T) {
	o := DefaultOrchard()
	o.LegSpeedJitter = 0.05
	if _, err := Orchard(o, nil); err == nil {
		t.Error("jitter without a random source accepted")
	}
	a, _ := Orchard(o, rand.New(rand.NewPCG(1, 1)))
	b, _ := Orchard(o, rand.New(rand.NewPCG(1, 1)))
	c, _ := Orchard(o, rand.New(rand.NewPCG(2, 1)))
	for i, d := range a.LegsUs {
		if d < OrchardLegUs/1.05 || d > OrchardLegUs/0.95 {
			t.Errorf("leg %d lasts %g µs; want within ±5 %% speed of 105 ms", i, d)
		}
		if d != b.LegsUs[i] {
			t.Error("same seed, different legs")
		}
	}
	if a.DurationUs() == c.DurationUs() {
		t.Error("different seeds, same legs")
	}
	o.LegSpeedJitter = 1
	if _, err := Orchard(o, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("jitter of 1 accepted")
	}
}

func TestPolyline(t *testing.T) {
	if _, err := NewPolyline([]Pose{{}, {DX: 1}}, []float64{0}, Linear); err == nil {
		t.Error("zero-length leg accepted")
	}
	if _, err := NewPolyline([]Pose{{}, {DX: 1}}, nil, Linear); err == nil {
		t.Error("missing leg accepted")
	}
	p, err := NewPolyline([]Pose{{}, {DX: 2, Theta: 1, Scale: 2}, {DX: 2, Theta: 1, Scale: 2}}, []float64{10, 30}, Linear)
	if err != nil {
		t.Fatal(err)
	}
	q := p.At(5)
	if !near(q.DX, 1) || !near(q.Theta, 0.5) || !near(q.Scale, 1.5) {
		t.Errorf("At(5) = %+v", q)
	}
	if q := p.At(25); !near(q.DX, 2) || q.IsTranslation() {
		t.Errorf("fixation At(25) = %+v", q)
	}
	if !near(p.MaxSpeedPxPerUs(), 0.2) || p.DurationUs() != 40 {
		t.Errorf("speed %g duration %g", p.MaxSpeedPxPerUs(), p.DurationUs())
	}
	if (Pose{}).ScaleOrOne() != 1 || !(Pose{Scale: 1}).IsTranslation() {
		t.Error("the zero pose must be the identity")
	}
}

func TestRandomSaccades(t *testing.T) {
	r := DefaultRandomSaccades()
	for seed := uint64(0); seed < 20; seed++ {
		p, err := r.Build(rand.New(rand.NewPCG(seed, 0)))
		if err != nil {
			t.Fatal(err)
		}
		if end := p.At(p.DurationUs()); !near(end.DX, 0) || !near(end.DY, 0) {
			t.Errorf("seed %d: closed loop ends at %+v", seed, end)
		}
		if want := float64(r.N) * (r.SaccadeUs + r.FixationUs); !near(p.DurationUs(), want) {
			t.Errorf("duration %g; want %g", p.DurationUs(), want)
		}
		for k := 0; k <= 100; k++ {
			q := p.At(p.DurationUs() * float64(k) / 100)
			if math.Hypot(q.DX, q.DY) > r.MaxOffsetPx+1e-9 {
				t.Fatalf("seed %d: pose %+v leaves the %g px disc", seed, q, r.MaxOffsetPx)
			}
		}
	}
	a, _ := r.Build(rand.New(rand.NewPCG(5, 0)))
	b, _ := r.Build(rand.New(rand.NewPCG(5, 0)))
	if a.At(50000) != b.At(50000) {
		t.Error("same seed, different path")
	}
	if _, err := (RandomSaccades{}).Build(rand.New(rand.NewPCG(1, 0))); err == nil {
		t.Error("zero saccades accepted")
	}
}

func TestMicrosaccadesCompose(t *testing.T) {
	m := DefaultMicrosaccades()
	base, _ := Orchard(DefaultOrchard(), nil)
	jit, err := m.Build(base.DurationUs(), rand.New(rand.NewPCG(3, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if p := jit.At(0); p.DX != 0 || p.DY != 0 {
		t.Errorf("jitter starts at %+v; want the zero pose", p)
	}
	var far float64
	for k := 0; k <= 315; k++ {
		p := jit.At(float64(k) * 1000)
		far = max(far, math.Hypot(p.DX, p.DY))
	}
	if far == 0 || far > 5 {
		t.Errorf("jitter reaches %.2f px; want a small, non-zero wobble", far)
	}
	sum := Sum{base, jit}
	if sum.DurationUs() != base.DurationUs() || sum.MaxSpeedPxPerUs() <= base.MaxSpeedPxPerUs() {
		t.Error("Sum: wrong duration or speed bound")
	}
	got, want := sum.At(100000), base.At(100000).Add(jit.At(100000))
	if got != want {
		t.Errorf("Sum.At = %+v; want %+v", got, want)
	}
	if _, err := m.Build(0, rand.New(rand.NewPCG(1, 0))); err == nil {
		t.Error("zero duration accepted")
	}
}
