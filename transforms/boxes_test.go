package transforms

import (
	"fmt"
	"testing"

	"github.com/evtool/evtool/events"
)

// mapSample runs spec over a sample of events and boxes (ApplySample) and returns its boxes and shape.
func mapSample(t *testing.T, spec string, g events.Geometry, evs []ev, boxes ...events.Box) ([]events.Box, Shape) {
	t.Helper()
	c, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	smp := events.Sample{ID: "s", Boxes: append([]events.Box(nil), boxes...)}
	for _, e := range evs {
		smp.Events.Append(e.T, e.X, e.Y, e.P)
	}
	sh, err := c.ApplySample(&smp, Shape{Geometry: g, Polarities: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return smp.Boxes, sh
}

func bx(x, y, w, h float32) events.Box {
	return events.Box{T: 5, X: x, Y: y, W: w, H: h, Class: 1, Track: 7, Confidence: 1}
}

func geom(b events.Box) string { return fmt.Sprintf("(%g,%g %gx%g)", b.X, b.Y, b.W, b.H) }

// Hand-worked cases on a 10×8 sensor: box A = [1,4)×[2,6) covers the pixels x 1…3, y 2…5; C is
// fractional; D sticks out of the sensor at the bottom-left.
func TestSpatialBoxes(t *testing.T) {
	g := events.Geometry{Width: 10, Height: 8}
	A, C, D := bx(1, 2, 3, 4), bx(0.5, 1.25, 2, 3.5), bx(-2, 6, 4, 5)
	outside, edge := bx(8, 0, 2, 1), bx(7, 1, 1, 1)
	for _, c := range []struct {
		spec  string
		boxes []events.Box
		want  string
		shape events.Geometry
	}{
		// crop [2,7)×[1,5): A is clipped to [2,4)×[2,5) and shifted by (−2, −1); a box outside the window
		// or touching it only along its right edge (x = 7) is dropped.
		{"crop(x0=2,y0=1,w=5,h=4)", []events.Box{A, outside, edge}, "[(0,1 2x3)]", events.Geometry{Width: 5, Height: 4}},
		{"crop(x0=2,y0=1,w=5,h=4,keep-offset=true)", []events.Box{A}, "[(2,2 2x3)]", g},
		// center-crop 4×4 at ((10−4)/2, (8−4)/2) = (3, 2): A keeps [3,4)×[2,6).
		{"center-crop(w=4,h=4)", []events.Box{A, D}, "[(0,0 1x4)]", events.Geometry{Width: 4, Height: 4}},
		// flips: an axis of size M takes [v, v+s) to [M−v−s, M−v); D is first clipped to [0,2)×[6,8).
		{"transpose(action=flip-lr)", []events.Box{A, C, D}, "[(6,2 3x4) (7.5,1.25 2x3.5) (8,6 2x2)]", g},
		{"transpose(action=flip-ud)", []events.Box{A, C, D}, "[(1,2 3x4) (0.5,3.25 2x3.5) (0,0 2x2)]", g},
		{"transpose(action=rot180)", []events.Box{C}, "[(7.5,3.25 2x3.5)]", g},
		{"random-flip-lr(prob=1)", []events.Box{C}, "[(7.5,1.25 2x3.5)]", g},
		{"random-flip-ud(prob=0)", []events.Box{C}, "[(0.5,1.25 2x3.5)]", g},
		// rot90cw (x', y') = (H−1−y, x): x' covers [8−2−4, 8−2) = [2,6), y' = [1,4); the sensor is 8×10.
		{"transpose(action=rot90cw)", []events.Box{A}, "[(2,1 4x3)]", events.Geometry{Width: 8, Height: 10}},
		// rot90ccw (y, W−1−x): x' = [2,6), y' = [10−1−3, 10−1) = [6,9).
		{"transpose(action=rot90ccw)", []events.Box{A}, "[(2,6 4x3)]", events.Geometry{Width: 8, Height: 10}},
		{"transpose(action=transpose)", []events.Box{A, C}, "[(2,1 4x3) (1.25,0.5 3.5x2)]", events.Geometry{Width: 8, Height: 10}},
		{"transpose(action=antitranspose)", []events.Box{A}, "[(2,6 4x3)]", events.Geometry{Width: 8, Height: 10}},
		// downsample by 2 halves every coordinate (exactly in float32); to=5x2 scales y by 1/4.
		{"downsample(factor=2)", []events.Box{A, C, D}, "[(0.5,1 1.5x2) (0.25,0.625 1x1.75) (0,3 1x1)]", events.Geometry{Width: 5, Height: 4}},
		{"downsample(to=5x2)", []events.Box{A}, "[(0.5,0.5 1.5x1)]", events.Geometry{Width: 5, Height: 2}},
		// Stages that do not move the picture leave boxes alone, even boxes outside the sensor.
		{"denoise(dt=5ms) | polarity(mode=merge)", []events.Box{A, D}, "[(1,2 3x4) (-2,6 4x5)]", g},
		// A chain maps through every stage in order: flip, then crop.
		{"transpose(action=flip-lr) | crop(x0=5,y0=0,w=5,h=8)", []events.Box{A}, "[(1,2 3x4)]", events.Geometry{Width: 5, Height: 8}},
	} {
		got, sh := mapSample(t, c.spec, g, nil, c.boxes...)
		var gs []string
		for _, b := range got {
			gs = append(gs, geom(b))
			if b.T != 5 || b.Class != 1 || b.Track != 7 || b.Confidence != 1 {
				t.Errorf("%s: box %+v lost its time or labels", c.spec, b)
			}
		}
		if s := fmt.Sprintf("[%s]", join(gs)); s != c.want || sh.Geometry != c.shape {
			t.Errorf("%s: boxes %s on %v, want %s on %v", c.spec, s, sh.Geometry, c.want, c.shape)
		}
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

// Boxes move with the events: a one-pixel box at an event's pixel ends where the event ends (on the
// event's new pixel: all of it, or a part of it and its neighbour after downsampling, which scales the
// region while events floor) and is dropped exactly when the event is, for every spatial stage,
// random crops and flips included (their draws are the sample's).
func TestBoxesFollowEvents(t *testing.T) {
	g := events.Geometry{Width: 12, Height: 9}
	for _, spec := range []string{"random-crop(w=5,h=4)", "random-crop(w=12,h=1)", "center-crop(w=7,h=3)", "crop(x0=3,y0=2,w=4,h=6)",
		"random-flip-lr", "random-flip-ud", "transpose(action=rot90cw)", "transpose(action=rot90ccw)", "transpose(action=antitranspose)",
		"downsample(factor=3)", "downsample(to=5x4)", "random-crop(w=6,h=6) | transpose(action=transpose) | downsample(factor=2)"} {
		for seed := 0; seed < 20; seed++ {
			c, err := Parse(spec)
			if err != nil {
				t.Fatal(err)
			}
			for x := 0; x < g.Width; x++ {
				for y := 0; y < g.Height; y++ {
					smp := events.Sample{ID: fmt.Sprint("sample", seed), Boxes: []events.Box{{X: float32(x), Y: float32(y), W: 1, H: 1}}}
					smp.Events.Append(0, uint16(x), uint16(y), 1)
					if _, err := c.ApplySample(&smp, Shape{Geometry: g, Polarities: 2}, uint64(seed)); err != nil {
						t.Fatal(err)
					}
					if smp.Events.Len() != len(smp.Boxes) {
						t.Fatalf("%s seed %d pixel (%d,%d): %d events but %d boxes", spec, seed, x, y, smp.Events.Len(), len(smp.Boxes))
					}
					if len(smp.Boxes) == 1 {
						b, ex, ey := smp.Boxes[0], float32(smp.Events.X[0]), float32(smp.Events.Y[0])
						if !(b.X < ex+1 && ex < b.X+b.W && b.Y < ey+1 && ey < b.Y+b.H) || b.W > 1 || b.H > 1 {
							t.Fatalf("%s seed %d pixel (%d,%d): event at (%g,%g), box %s", spec, seed, x, y, ex, ey, geom(b))
						}
					}
				}
			}
		}
	}
}

// Time operations give boxes the events' clock.
func TestTemporalBoxes(t *testing.T) {
	evs := []ev{{T: 100}, {T: 140}, {T: 200}}
	at := func(ts ...int64) []events.Box {
		var out []events.Box
		for i, x := range ts {
			out = append(out, events.Box{T: x, W: 1, H: 1, Track: uint32(i)})
		}
		return out
	}
	g := events.Geometry{Width: 4, Height: 4}
	for _, c := range []struct {
		spec string
		want string
	}{
		{"time-align", "[-10/0 0/1 50/2 150/3]"},
		{"time-offset(us=7us)", "[97/0 107/1 157/2 257/3]"},
		{"time-scale(factor=0.5,offset=1us)", "[46/0 51/1 76/2 126/3]"},
		{"time-crop(from=100us,to=150us)", "[100/1]"},
		{"time-crop(from=0us,to=51us,relative=true)", "[100/1 150/2]"},
		// reversal about the last event (200): t' = 200 − t, back in time order.
		{"time-reverse", "[-50/3 50/2 100/1 110/0]"},
		{"random-reverse(prob=0)", "[90/0 100/1 150/2 250/3]"},
		{"time-reverse | time-offset(us=1000us)", "[950/3 1050/2 1100/1 1110/0]"},
	} {
		got, _ := mapSample(t, c.spec, g, evs, at(90, 100, 150, 250)...)
		var gs []string
		for _, b := range got {
			gs = append(gs, fmt.Sprintf("%d/%d", b.T, b.Track))
		}
		if s := fmt.Sprintf("[%s]", join(gs)); s != c.want {
			t.Errorf("%s: boxes %s, want %s", c.spec, s, c.want)
		}
	}
	// Without events, neither a relative window nor an alignment is known: none kept, none moved.
	if got, _ := mapSample(t, "time-crop(from=0us,relative=true)", g, nil, at(5)...); len(got) != 0 {
		t.Errorf("relative time-crop of a sample without events kept %+v", got)
	}
	if got, _ := mapSample(t, "time-align", g, nil, at(5)...); len(got) != 1 || got[0].T != 5 {
		t.Errorf("time-align of a sample without events: %+v", got)
	}
}

// A stream maps boxes with what it learnt of the events: after Process for streaming stages, after Flush
// for whole-sample ones.
func TestStreamBoxes(t *testing.T) {
	c, err := Parse("time-align | transpose(action=flip-lr)")
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.NewStream(Shape{Geometry: events.Geometry{Width: 10, Height: 10}, Polarities: 2}, 0, "r")
	if err != nil {
		t.Fatal(err)
	}
	if st.HoldsSample() {
		t.Fatal("a streaming chain holds the sample")
	}
	var in, out events.Batch
	in.Append(1000, 1, 1, 1)
	if err := st.Process(&in, &out); err != nil {
		t.Fatal(err)
	}
	got := st.MapBoxes([]events.Box{{T: 1500, X: 2, Y: 3, W: 4, H: 5}})
	if len(got) != 1 || got[0].T != 500 || got[0].X != 4 {
		t.Fatalf("stream boxes %+v", got)
	}
	if c, _ := Parse("denoise(dt=5ms) | time-reverse"); c != nil {
		if st, _ := c.NewStream(Shape{Geometry: events.Geometry{Width: 10, Height: 10}, Polarities: 2}, 0, "r"); !st.HoldsSample() {
			t.Fatal("time-reverse does not hold the sample")
		}
	}
}
