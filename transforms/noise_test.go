package transforms

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
)

func TestFastDecay(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 8, Height: 5}, Polarities: 2} // cells (5/4+1)×(8/4+1)
	got, _ := apply(t, "denoise(mode=fastdecay, half-life=10us, subdivision=4, threshold=1.5)", in,
		ev{T: 0, X: 1, Y: 1, P: 1},  // v = 1: dropped (the event counts itself first, v ≤ threshold)
		ev{T: 0, X: 2, Y: 3, P: 0},  // same cell: v = 1·2^0 + 1 = 2: kept
		ev{T: 10, X: 7, Y: 4, P: 1}, // cell (1, 1): starts at the stream's first time, v = 1: dropped
		ev{T: 10, X: 3, Y: 0, P: 1}, // cell (0, 0) again: v = 2·2^(−1) + 1 = 2: kept
		ev{T: 40, X: 0, Y: 0, P: 1}, // v = 2·2^(−3) + 1 = 1.25: dropped
	)
	want(t, got, ev{T: 0, X: 2, Y: 3, P: 0}, ev{T: 10, X: 3, Y: 0, P: 1})
	if _, err := Parse("denoise(mode=fastdecay, dt=1ms)"); err == nil {
		t.Fatal("a ba parameter accepted in fastdecay mode")
	}
}

func TestHotPixelRelative(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 3, Height: 2}, Polarities: 2}
	var evs []ev
	// Window [0, 10): pixel (1,0) fires 3 times (1+3 = 4), its neighbours (0,0) once (2), (2,0) never (1),
	// (1,1) never (1); with r = 2: 4 ≥ 2·2, hot. (0,0): 2 vs r·max(4, 1) = 8: kept.
	// Corner (2,1) fires twice in window [10, 20): 3 vs r·max(off-sensor 1, 1, 1) = 2: hot.
	evs = append(evs, ev{T: 0, X: 1, Y: 0, P: 1}, ev{T: 2, X: 0, Y: 0, P: 1}, ev{T: 3, X: 1, Y: 0, P: 0},
		ev{T: 9, X: 1, Y: 0, P: 1}, ev{T: 10, X: 2, Y: 1, P: 1}, ev{T: 15, X: 2, Y: 1, P: 0}, ev{T: 30, X: 1, Y: 0, P: 1})
	got, _ := apply(t, "hotpixel(relative=2, window=10us)", in, evs...)
	// Window [30, 40): (1,0) alone, once: 2 vs 2·1: hot as well (≥ is hot).
	want(t, got, ev{T: 2, X: 0, Y: 0, P: 1})
	// r = 2.5: (1,0) keeps 4 < 5 in the first window and 2 < 2.5 in the last; the corner stays hot (3 ≥ 2.5).
	got, _ = apply(t, "hotpixel(relative=2.5, window=10us)", in, evs...)
	want(t, got, evs[0], evs[1], evs[2], evs[3], evs[6])
}

func writeMask(t *testing.T, w, h int, set ...[2]int) string {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for _, p := range set {
		img.SetGray(p[0], p[1], color.Gray{Y: 255})
	}
	path := filepath.Join(t.TempDir(), "m.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	png.Encode(f, img)
	f.Close()
	return path
}

func TestMaskAndHotPixelList(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 4, Height: 2}, Polarities: 2}
	evs := []ev{{T: 0, X: 0, Y: 0, P: 1}, {T: 1, X: 3, Y: 1, P: 0}, {T: 2, X: 1, Y: 0, P: 1}, {T: 3, X: 3, Y: 1, P: 1}}
	m := writeMask(t, 4, 2, [2]int{3, 1}, [2]int{1, 0})
	got, _ := apply(t, "mask(file="+m+")", in, evs...)
	want(t, got, evs[1], evs[2], evs[3])
	got, _ = apply(t, "hotpixel(pixels="+m+")", in, evs...)
	want(t, got, evs[0])
	got, _ = apply(t, "hotpixel(pixels=3:1;9:9)", in, evs...) // a listed pixel outside the sensor is ignored
	want(t, got, evs[0], evs[2])
	// A mask of another size is refused with both sizes named.
	c, err := Parse("mask(file=" + writeMask(t, 5, 2) + ")")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewStream(in, 0, ""); err == nil || !strings.Contains(err.Error(), "5x2") {
		t.Fatalf("mask of another size: %v", err)
	}
	if _, err := Parse("hotpixel(rate=5, pixels=1:1)"); err == nil {
		t.Fatal("two hot-pixel modes accepted")
	}
}

func TestDropEventExact(t *testing.T) {
	var evs []ev
	for i := 0; i < 101; i++ {
		evs = append(evs, ev{T: int64(i), X: uint16(i % 30), Y: 1, P: 1})
	}
	for _, c := range []struct {
		q    string
		kept int
	}{{"0.3", 101 - 30}, {"0.5", 101 - 51}, {"0", 101}, {"1", 0}} { // ⌊0.5·101 + 0.5⌋ = 51
		got, _ := apply(t, "drop-event(prob="+c.q+", exact=true)", g34, evs...)
		if got.Len() != c.kept || got.CheckMonotonic() >= 0 {
			t.Fatalf("prob %s: %d kept, want %d in order", c.q, got.Len(), c.kept)
		}
	}
	// event-drop keeps a subset, in order, whatever it draws.
	for seed := 0; seed < 20; seed++ {
		got, _ := apply(t, "event-drop", g34, evs...)
		if got.Len() > len(evs) || got.CheckMonotonic() >= 0 {
			t.Fatalf("event-drop: %d events", got.Len())
		}
	}
}

// compat=tonic reproduces tonic's Denoise and RefractoryPeriod, quirks included.
func TestTonicCompat(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 5, Height: 5}, Polarities: 2}
	evs := []ev{{T: 0, X: 2, Y: 2, P: 1}, {T: 500, X: 4, Y: 4, P: 1}, {T: 1500, X: 3, Y: 3, P: 0}, {T: 2500, X: 3, Y: 2, P: 1}}
	// tonic: every event before filter_time passes (its memory starts at filter_time), then 4 neighbours:
	// (3,2) at 2500 has its edge neighbour (3,3), fired at 1500.
	got, _ := apply(t, "denoise(dt=2ms, compat=tonic)", in, evs...)
	want(t, got, evs[0], evs[1], evs[2], evs[3])
	// Ours: no support before a neighbour fired; (3,3) at 1500 has its diagonal neighbour (2,2).
	got, _ = apply(t, "denoise(dt=2ms)", in, evs...)
	want(t, got, evs[2], evs[3])
	got, _ = apply(t, "denoise(dt=2ms, neighbours=4)", in, evs...)
	want(t, got, evs[3])
	// tonic's refractory drops an event at exactly t = 0 and one exactly a period after the last.
	r := []ev{{T: 0, X: 1, Y: 1, P: 1}, {T: 100, X: 2, Y: 1, P: 1}, {T: 350, X: 2, Y: 1, P: 1}, {T: 400, X: 2, Y: 1, P: 0}}
	got, _ = apply(t, "refractory(period=250us, compat=tonic)", in, r...)
	want(t, got, r[1])
	got, _ = apply(t, "refractory(period=250us)", in, r...)
	want(t, got, r[0], r[1], r[2])
}

// Hot-pixel stages report how many pixels they found hot.
func TestHotPixelCounts(t *testing.T) {
	in := Shape{Geometry: events.Geometry{Width: 4, Height: 2}, Polarities: 2}
	var list []ev
	for i := 0; i < 50; i++ {
		list = append(list, ev{T: int64(i), X: 2, Y: 1, P: 1}) // a pixel firing at 1 MHz
	}
	list = append(list, ev{T: 60, X: 0, Y: 0, P: 1})
	c, err := Parse("hotpixel(rate=20000) | hotpixel(pixels=0:0;3:1;9:9)") // limit 20 kHz × 60 µs = 1.2 events
	if err != nil {
		t.Fatal(err)
	}
	tally := c.NewTally()
	s := events.Sample{ID: "s", Events: *events.FromEvents(list...)}
	if _, err := c.ApplySample(&s, in, 0); err != nil {
		t.Fatal(err)
	}
	st := tally.Stats()
	if st[0].Hot != 1 || st[1].Hot != 2 || s.Events.Len() != 0 {
		t.Fatalf("hot counts %+v, %d events left", st, s.Events.Len())
	}
	if l := tally.Lines()[0]; !strings.HasSuffix(l, "; 1 hot pixels)") {
		t.Fatalf("line %q", l)
	}
}
