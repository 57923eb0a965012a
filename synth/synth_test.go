package synth

import (
	"context"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/nmnist"
	"github.com/evtool/evtool/imagesrc"
	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/saccade"
)

// quiet is the nmnist preset with every random element off: no mismatch, no noise.
func quiet() Params {
	p := NMNIST()
	p.SigmaC = 0
	return p
}

func gray(w, h int, f func(x, y int) uint8) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			g.Pix[y*w+x] = f(x, y)
		}
	}
	return g
}

// run simulates img along traj with p.
func run(t *testing.T, p Params, img *image.Gray, traj saccade.Trajectory) *events.Batch {
	t.Helper()
	s, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetScene(img, traj); err != nil {
		t.Fatal(err)
	}
	var b events.Batch
	if err := s.Simulate(traj, rand.New(rand.NewPCG(1, 2)), &b); err != nil {
		t.Fatal(err)
	}
	if err := b.Validate(s.Geometry()); err != nil {
		t.Fatal(err)
	}
	if i := b.CheckMonotonic(); i >= 0 {
		t.Fatalf("event %d is out of time order", i)
	}
	return &b
}

func orchard(t *testing.T) saccade.Trajectory {
	tr, err := saccade.Orchard(saccade.DefaultOrchard(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func mnist(t *testing.T) *imagesrc.IDX {
	src, err := imagesrc.OpenIDX(fixtures.Path(t, "mnist/original/t10k-images-idx3-ubyte.gz"), "")
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// count synthesises the first n MNIST test digits with p and returns the total number of events.
func count(t *testing.T, p Params, n int) int {
	total := 0
	err := Generate(context.Background(), mnist(t), p, GenerateOptions{Limit: n}, func(s *events.Sample) error {
		total += s.Events.Len()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

func TestStaticSceneMakesNoEvents(t *testing.T) {
	digit := gray(28, 28, func(x, y int) uint8 { return uint8((x * y * 7) % 256) })
	still := saccade.Static{Pose: saccade.Pose{DX: 2.3, DY: 1.7}, Duration: 300000}
	p := NMNIST()
	p.Motion, p.StaticUs = "static", 300000
	p.Negative = false // the noise formula below is for a dark scene
	if b := run(t, p, digit, still); b.Len() != 0 {
		t.Errorf("a still image made %d events without noise", b.Len())
	}
	// With shot noise on, only noise appears: about ShotHz·duration per pixel, scaled by the pixel's
	// brightness factor (1 at black … 0.25 at white).
	p.ShotHz = 20
	black := gray(28, 28, func(x, y int) uint8 { return 0 })
	b := run(t, p, black, still)
	inten := (255*p.BlackLevel + 20) / 275
	want := p.ShotHz * 0.3 * float64(34*34) * ((0.25-1)*inten + 1)
	if got := float64(b.Len()); math.Abs(got-want) > 0.15*want {
		t.Errorf("shot noise made %v events in a still dark scene; want about %.0f", got, want)
	}
}

func TestUniformImageMakesNoEvents(t *testing.T) {
	// An all-black image is indistinguishable from the black surround.
	if b := run(t, quiet(), gray(28, 28, func(x, y int) uint8 { return 0 }), orchard(t)); b.Len() != 0 {
		t.Errorf("a black image made %d events", b.Len())
	}
	// A uniform gray image larger than the sensor plus the motion: every pixel sees the same value.
	p := quiet()
	p.OriginX, p.OriginY = -10, -10
	if b := run(t, p, gray(60, 60, func(x, y int) uint8 { return 150 }), orchard(t)); b.Len() != 0 {
		t.Errorf("a uniform image covering the sensor made %d events", b.Len())
	}
}

func TestDoublingThresholdHalvesCount(t *testing.T) {
	p := quiet()
	p.Cpos, p.Cneg = 0.2, 0.2
	n1 := count(t, p, 100)
	p.Cpos, p.Cneg = 0.4, 0.4
	n2 := count(t, p, 100)
	ratio := float64(n2) / float64(n1)
	t.Logf("C=0.2: %d events, C=0.4: %d events, ratio %.3f", n1, n2, ratio)
	if ratio < 0.4 || ratio > 0.6 {
		t.Errorf("doubling the threshold scaled the count by %.3f; want about one half", ratio)
	}
}

func TestSameSeedSameEventsForAnyWorkerCount(t *testing.T) {
	p := NMNIST()
	p.ShotHz, p.LeakHz, p.Seed = 2, 0.5, 42 // exercise every random draw
	src := mnist(t)
	collect := func(p Params, workers int) []events.Sample {
		var out []events.Sample
		err := Generate(context.Background(), src, p, GenerateOptions{Limit: 40, Workers: workers}, func(s *events.Sample) error {
			out = append(out, events.Sample{Label: s.Label, ID: s.ID, Events: *s.Events.Clone()})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := collect(p, 1), collect(p, 3)
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Label != b[i].Label || !a[i].Events.Equal(&b[i].Events) {
			t.Fatalf("sample %d differs between 1 and 3 workers (first difference at event %d)", i, a[i].Events.FirstDifference(&b[i].Events))
		}
	}
	p.Seed = 43
	c := collect(p, 2)
	same := 0
	for i := range a {
		if a[i].Events.Equal(&c[i].Events) {
			same++
		}
	}
	if same == len(a) {
		t.Error("a different seed gave the same events")
	}
}

// TestStepEdge moves a vertical step edge across a row of pixels at constant speed. Every pixel the
// edge fully crosses must fire exactly floor(ΔL/C) ON events, all while its intensity is changing.
func TestStepEdge(t *testing.T) {
	p := quiet()
	p.Width, p.Height, p.BlurSigmaPx, p.Cpos, p.Cneg = 20, 3, 0, 0.3, 0.3
	p.Negative = false // the image is shown as drawn: the bright side brightens the pixels it reaches
	p.OriginX, p.OriginY = -25, 0
	// Columns < 30 bright, the rest dark; the content moves right by 10 px in 100 ms, so sensor pixel x
	// sees image column x+25−DX and brightens while DX goes from x−5 to x−4.
	img := gray(60, 3, func(x, y int) uint8 {
		if x < 30 {
			return 255
		}
		return 0
	})
	tr, err := saccade.NewPolyline([]saccade.Pose{{}, {DX: 10}}, []float64{100000}, saccade.Linear)
	if err != nil {
		t.Fatal(err)
	}
	b := run(t, p, img, tr)
	dL := math.Log(1+p.LogEps) - math.Log(p.BlackLevel+p.LogEps)
	want := int(math.Floor(dL / p.Cpos))
	per := map[[2]int]int{}
	for i := 0; i < b.Len(); i++ {
		e := b.At(i)
		if e.P != 1 {
			t.Fatalf("event %v is OFF; the edge only brightens pixels", e)
		}
		x := int(e.X)
		lo, hi := int64((x-5)*10000), int64((x-4)*10000)
		if e.T < lo || e.T > hi {
			t.Errorf("event %v at t=%d µs; pixel %d changes only during [%d, %d] µs", e, e.T, x, lo, hi)
		}
		per[[2]int{x, int(e.Y)}]++
	}
	for y := 0; y < 3; y++ {
		for x := 0; x < 20; x++ {
			n := per[[2]int{x, y}]
			crossed := x >= 5 && x <= 14
			if crossed && n != want || !crossed && n != 0 {
				t.Errorf("pixel (%d,%d): %d events; want %d", x, y, n, map[bool]int{true: want}[crossed])
			}
		}
	}
}

// TestClosedPathBalancesPolarity: Orchard's path returns every pixel to its start brightness. With equal
// ON and OFF thresholds each pixel's memorised level moves on one lattice and must end where it started,
// so ON = OFF exactly per pixel (the spec allows one threshold residue; ties are decided consistently
// here). With mismatch (Cp ≠ Cm) each excursion can leave one unmatched event, so a pixel crossed several
// times may end two apart; the sample as a whole stays balanced within a few per cent.
func TestClosedPathBalancesPolarity(t *testing.T) {
	src := mnist(t)
	for _, sigma := range []float64{0, 0.03} {
		p := NMNIST()
		p.SigmaC, p.Cpos, p.Cneg = sigma, 0.45, 0.45
		p.Negative = false // the balance tolerance below was set for bright ink on a dark screen
		s, err := New(p)
		if err != nil {
			t.Fatal(err)
		}
		var img imagesrc.Image
		var b events.Batch
		unbalanced, worst := 0, 0
		for i := 0; i < 50; i++ {
			if err := src.Load(i, &img); err != nil {
				t.Fatal(err)
			}
			if err := s.Sample(img.Gray, uint64(i), &b); err != nil {
				t.Fatal(err)
			}
			var net [34 * 34]int
			total := 0
			for k := 0; k < b.Len(); k++ {
				net[int(b.Y[k])*34+int(b.X[k])] += 2*int(b.P[k]) - 1
				total += 2*int(b.P[k]) - 1
			}
			for px, d := range net {
				if d != 0 {
					unbalanced++
				}
				worst = max(worst, d, -d)
				if sigma == 0 && d != 0 {
					t.Fatalf("image %d pixel (%d,%d): ON−OFF = %d after the closed path; want 0", i, px%34, px/34, d)
				}
			}
			if abs := max(total, -total); abs > b.Len()/20 {
				t.Errorf("σ_C=%g image %d: ON−OFF = %d of %d events", sigma, i, total, b.Len())
			}
		}
		t.Logf("σ_C=%g: %d pixel-samples end unbalanced, by at most %d", sigma, unbalanced, worst)
	}
}

func TestStepSizeStability(t *testing.T) {
	p := NMNIST()
	p.StepPx = 0.5
	n5 := count(t, p, 100)
	p.StepPx = 0.25
	n25 := count(t, p, 100)
	d := math.Abs(float64(n25-n5)) / float64(n5)
	t.Logf("0.5 px steps: %d events, 0.25 px: %d (%.2f %% apart)", n5, n25, 100*d)
	if d > 0.03 {
		t.Errorf("0.25 and 0.5 px steps differ by %.1f %%; want ≤ 3 %%", 100*d)
	}
}

func TestBinRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 34, Height: 34}}
	w, err := nmnist.CreateFolder(dir, meta, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want []events.Sample
	err = Generate(context.Background(), mnist(t), NMNIST(), GenerateOptions{Limit: 20}, func(s *events.Sample) error {
		want = append(want, events.Sample{ID: s.ID, Events: *s.Events.Clone()})
		return w.WriteSample(s)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range want {
		path := filepath.Join(dir, filepath.FromSlash(s.ID)+".bin")
		r, err := nmnist.Open(path, formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := events.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(&s.Events) {
			t.Fatalf("%s: read back differs at event %d", path, got.FirstDifference(&s.Events))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "Test", "7", "00001.bin")); err != nil {
		t.Errorf("t10k image 0 (a 7) should be Test/7/00001.bin as in N-MNIST: %v", err)
	}
}

func TestRefractoryPeriod(t *testing.T) {
	p := quiet()
	p.RefractoryUs = 1e6 // longer than the sample: at most one event per pixel
	src := mnist(t)
	var img imagesrc.Image
	if err := src.Load(0, &img); err != nil {
		t.Fatal(err)
	}
	b := run(t, p, img.Gray, orchard(t))
	seen := map[[2]uint16]bool{}
	for i := 0; i < b.Len(); i++ {
		k := [2]uint16{b.X[i], b.Y[i]}
		if seen[k] {
			t.Fatalf("pixel %v fired twice within the refractory period", k)
		}
		seen[k] = true
	}
	if b.Len() == 0 {
		t.Fatal("no events at all")
	}
}

func TestLeakMakesONEvents(t *testing.T) {
	p := NMNIST()
	p.Motion, p.StaticUs, p.LeakHz, p.NoiseCov, p.LeakJitter = "static", 1e6, 20, 0, 0
	b := run(t, p, gray(28, 28, func(x, y int) uint8 { return 100 }), saccade.Static{Duration: 1e6})
	var on int
	for _, pol := range b.P {
		on += int(pol)
	}
	// ref drops by LeakHz·Cp per second, so each pixel fires about LeakHz ON events per second.
	perPixel := float64(on) / (34 * 34)
	if on != b.Len() || perPixel < 0.8*p.LeakHz || perPixel > 1.2*p.LeakHz {
		t.Errorf("leak: %d events (%d ON), %.1f per pixel per second; want only ON, about %g", b.Len(), on, perPixel, p.LeakHz)
	}
}

func TestLowPassDelaysEvents(t *testing.T) {
	src := mnist(t)
	var img imagesrc.Image
	if err := src.Load(3, &img); err != nil {
		t.Fatal(err)
	}
	meanT := func(b *events.Batch) float64 {
		var s float64
		for _, v := range b.T {
			s += float64(v)
		}
		return s / float64(b.Len())
	}
	p := quiet()
	p.Easing = "linear"
	fast := run(t, p, img.Gray, orchard(t))
	p.CutoffHz = 20
	slow := run(t, p, img.Gray, orchard(t))
	if slow.Len() == 0 || meanT(slow) <= meanT(fast) {
		t.Errorf("a 20 Hz photoreceptor should delay events: mean t %.0f µs vs %.0f µs without", meanT(slow), meanT(fast))
	}
}

func TestRotationAndOtherModes(t *testing.T) {
	src := mnist(t)
	var img imagesrc.Image
	if err := src.Load(0, &img); err != nil {
		t.Fatal(err)
	}
	tr, err := saccade.NewPolyline([]saccade.Pose{{DX: 3, DY: 3}, {DX: 3, DY: 3, Theta: 0.5, Scale: 1.1}},
		[]float64{100000}, saccade.Cosine)
	if err != nil {
		t.Fatal(err)
	}
	if b := run(t, quiet(), img.Gray, tr); b.Len() == 0 {
		t.Error("rotating a digit made no events")
	}
	for _, set := range [][2]string{{"log", "linlog"}, {"mismatch", "per-step"}, {"motion", "random"}, {"microsaccades", "true"}} {
		p := NMNIST()
		if err := p.Set(set[0], set[1]); err != nil {
			t.Fatal(err)
		}
		s, err := New(p)
		if err != nil {
			t.Fatal(err)
		}
		var b events.Batch
		if err := s.Sample(img.Gray, 0, &b); err != nil {
			t.Fatal(err)
		}
		if b.Len() < 500 || b.Validate(s.Geometry()) != nil || b.CheckMonotonic() >= 0 {
			t.Errorf("%s=%s: %d events, or out of range or order", set[0], set[1], b.Len())
		}
	}
	for _, name := range PresetNames() {
		p, _ := Preset(name)
		s, err := New(p)
		if err != nil {
			t.Fatalf("preset %s: %v", name, err)
		}
		var b events.Batch
		if err := s.Sample(img.Gray, 0, &b); err != nil || b.Len() == 0 {
			t.Errorf("preset %s: %d events, %v", name, b.Len(), err)
		}
		if err := b.Validate(s.Geometry()); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
}

func TestRunawayParametersFail(t *testing.T) {
	p := NMNIST()
	p.Motion, p.StaticUs, p.MaxStepUs = "static", 1e9, 1
	s, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	var b events.Batch
	if err := s.Sample(gray(4, 4, func(x, y int) uint8 { return 9 }), 0, &b); err == nil {
		t.Error("a billion steps were accepted")
	}
}

func TestParams(t *testing.T) {
	p := NMNIST()
	for _, kv := range [][2]string{{"c", "0.3"}, {"black-level", "0.2"}, {"seed", "9"}, {"microsaccades", "true"}, {"width", "40"}} {
		if err := p.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if p.Cpos != 0.3 || p.Cneg != 0.3 || p.BlackLevel != 0.2 || p.Seed != 9 || !p.Microsaccades || p.Width != 40 {
		t.Errorf("Set did not apply: %+v", p)
	}
	if err := p.Set("nope", "1"); err == nil {
		t.Error("unknown parameter accepted")
	}
	if err := p.Set("cpos", "x"); err == nil {
		t.Error("bad number accepted")
	}
	for _, bad := range [][2]string{{"black-level", "1"}, {"cpos", "0"}, {"step", "0"}, {"motion", "wiggle"}, {"easing", "bouncy"}, {"log", "ln"}} {
		q := NMNIST()
		q.Set(bad[0], bad[1])
		if err := q.Validate(); err == nil {
			t.Errorf("%s=%s passed validation", bad[0], bad[1])
		}
	}
	docs := ParamDocs(NMNIST())
	for _, d := range docs {
		if d.Help == "" || d.Default == "" && d.Name != "seed" {
			t.Errorf("parameter %s is not documented: %+v", d.Name, d)
		}
	}
	if _, err := Preset("nmnist2"); err == nil {
		t.Error("unknown preset accepted")
	}
}

func TestSortEvents(t *testing.T) {
	b := events.FromEvents(events.Event{T: 5, X: 3, Y: 1, P: 1}, events.Event{T: 6, X: 0, Y: 0, P: 1},
		events.Event{T: 6, X: 2, Y: 0, P: 0}, events.Event{T: 6, X: 1, Y: 0, P: 1}, events.Event{T: 5, X: 0, Y: 2, P: 0})
	SortEvents(b)
	want := events.FromEvents(events.Event{T: 5, X: 3, Y: 1, P: 1}, events.Event{T: 5, X: 0, Y: 2, P: 0},
		events.Event{T: 6, X: 0, Y: 0, P: 1}, events.Event{T: 6, X: 1, Y: 0, P: 1}, events.Event{T: 6, X: 2, Y: 0, P: 0})
	if !b.Equal(want) {
		t.Errorf("SortEvents gave %v", b)
	}
}
