package viewer

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
)

func rgba(img *image.RGBA, x, y int) color.RGBA {
	return img.RGBAAt(x, y)
}

// Exact colours of each decay mode for one ON and one OFF pixel, seen at chosen times.
func TestDecayModes(t *testing.T) {
	s := Schemes["okabe"]
	b := events.FromEvents(events.Event{T: 100, X: 0, Y: 0, P: 1}, events.Event{T: 150, X: 2, Y: 1, P: 0})
	for _, c := range []struct {
		decay string
		at    int64
		on    color.RGBA // pixel (0,0)
		off   color.RGBA // pixel (2,1)
	}{
		{DecayWindow, 150, s.On, s.Off},         // both within the 100 µs window
		{DecayWindow, 200, s.Background, s.Off}, // ON's age 100 = window: gone (strict <)
		{DecayLinear, 150, mix(s.Background, s.On, 0.5), s.Off},
		{DecayLinear, 250, s.Background, s.Background},
		{DecayExponential, 200, mix(s.Background, s.On, 94.0/255), mix(s.Background, s.Off, 155.0/255)}, // round(255·e^−1) = 94, round(255·e^−0.5) = 155
		{DecayCumulative, 1e9, s.On, s.Off},
		{DecayWindow, 120, s.On, s.Background}, // events after the render time are not shown
	} {
		r, err := New(Options{Width: 3, Height: 2, Decay: c.decay, Window: 100})
		if err != nil {
			t.Fatal(err)
		}
		r.Add(b)
		img := r.Render(c.at)
		if got := rgba(img, 0, 0); got != c.on {
			t.Errorf("%s at %d: ON pixel %v, want %v", c.decay, c.at, got, c.on)
		}
		if got := rgba(img, 2, 1); got != c.off {
			t.Errorf("%s at %d: OFF pixel %v, want %v", c.decay, c.at, got, c.off)
		}
		if got := rgba(img, 1, 0); got != s.Background {
			t.Errorf("%s: untouched pixel %v", c.decay, got)
		}
	}
}

// Scale repeats each pixel; overlays sit in the asked corner, on a band, and leave the rest alone.
func TestScaleAndOverlay(t *testing.T) {
	r, _ := New(Options{Width: 40, Height: 30, Scale: 4, Window: 10})
	r.Add(events.FromEvents(events.Event{T: 5, X: 39, Y: 29, P: 1}))
	img := r.Render(5)
	if img.Rect.Dx() != 160 || img.Rect.Dy() != 120 {
		t.Fatalf("size %v", img.Rect)
	}
	for _, p := range [][2]int{{156, 116}, {159, 119}} {
		if rgba(img, p[0], p[1]) != Schemes["okabe"].On {
			t.Fatalf("scaled pixel at %v not ON", p)
		}
	}
	Overlay(img, "7 seven", TopLeft)
	band := func(x0, y0, x1, y1 int) bool {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				if rgba(img, x, y) != (color.RGBA{0, 0, 0, 255}) {
					return true
				}
			}
		}
		return false
	}
	if !band(0, 0, 60, 17) {
		t.Fatal("no text drawn in the top-left corner")
	}
	if band(0, 40, 150, 110) {
		t.Fatal("overlay drew outside its corner")
	}
}

func stream(n int) *events.BatchReader {
	b := events.NewBatch(n)
	for i := 0; i < n; i++ {
		b.Append(int64(i*100), uint16(i%34), uint16((i/34)%34), uint8(i%2))
	}
	return &events.BatchReader{B: b, Chunk: 777}
}

// GIF: one frame per window, tiling the stream (the last partial window included), readable back.
func TestWriteGIF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.gif")
	// events at 0..99,900 µs, windows of 10 ms: 10 frames
	n, err := WriteGIF(path, stream(1000), Clip{Render: Options{Width: 34, Height: 34, Scale: 2}, Window: 10000}, 2)
	if err != nil || n != 10 {
		t.Fatalf("%d frames, %v", n, err)
	}
	data, _ := os.ReadFile(path)
	g, err := gif.DecodeAll(bytes.NewReader(data))
	if err != nil || len(g.Image) != 10 || g.Image[0].Rect.Dx() != 68 || g.Delay[0] != 2 {
		t.Fatalf("decoded: %v frames, err %v", len(g.Image), err)
	}
	// --duration and --max-frames bound it
	n, _ = WriteGIF(path, stream(1000), Clip{Render: Options{Width: 34, Height: 34}, Window: 10000, Duration: 30000}, 1)
	if n != 3 {
		t.Fatalf("duration 30 ms: %d frames", n)
	}
}

func TestWriteGridAndSequence(t *testing.T) {
	dir := t.TempDir()
	if err := WriteGrid(filepath.Join(dir, "g.png"), stream(1000), Clip{Render: Options{Width: 34, Height: 34}, Window: 12000}, 9); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(filepath.Join(dir, "g.png"))
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() != 3*34+2*2 || img.Bounds().Dy() != 3*34+2*2 {
		t.Fatalf("grid %v %v", img.Bounds(), err)
	}
	n, err := WriteSequence(filepath.Join(dir, "seq", "f_%03d.png"), stream(1000), Clip{Render: Options{Width: 34, Height: 34}, Window: 50000})
	if err != nil || n != 2 {
		t.Fatalf("sequence: %d, %v", n, err)
	}
	for _, name := range []string{"f_000.png", "f_001.png"} {
		if _, err := os.Stat(filepath.Join(dir, "seq", name)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := WriteSequence(filepath.Join(dir, "nopattern.png"), stream(10), Clip{Render: Options{Width: 34, Height: 34}}); err == nil {
		t.Fatal("a sequence name without a frame verb must be refused")
	}
	empty := &events.BatchReader{B: events.NewBatch(0)}
	if err := WriteGrid(filepath.Join(dir, "e.png"), empty, Clip{Render: Options{Width: 34, Height: 34}}, 4); err == nil {
		t.Fatal("no events: error")
	}
	if _, err := os.Stat(filepath.Join(dir, "e.png")); err == nil {
		t.Fatal("no partial output")
	}
}

// BenchmarkRender640x480 draws 10 ms windows of a 640×480 stream at 20 M events/s.
func BenchmarkRender640x480(b *testing.B) {
	r, _ := New(Options{Width: 640, Height: 480, Window: 10000, Decay: DecayExponential})
	ev := events.NewBatch(200000)
	for i := 0; i < 200000; i++ {
		ev.Append(int64(i/20), uint16((i*7919)%640), uint16((i*104729)%480), uint8(i%2))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Add(ev)
		r.Render(10000)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// The tabulated fade must give exactly the formula's intensity at every age.
func TestFadeTableMatchesFormula(t *testing.T) {
	for _, decay := range []string{DecayWindow, DecayLinear, DecayExponential} {
		for _, tau := range []int64{1, 7, 1000, 33333} {
			r, err := New(Options{Width: 1, Height: 1, Decay: decay, Window: tau, Tau: tau})
			if err != nil {
				t.Fatal(err)
			}
			for age := int64(0); age <= 9*tau+3; age++ {
				if got, want := r.intensity(1000, 1000+age), r.fade(age); got != want {
					t.Fatalf("%s tau %d age %d: table %d, formula %d", decay, tau, age, got, want)
				}
			}
		}
	}
}
