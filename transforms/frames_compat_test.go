package transforms

import (
	"fmt"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
)

// framesOf returns, per frame, the x of every counted event (one event per x in these samples).
func framesOf(t *testing.T, spec string, b *events.Batch, w int) string {
	t.Helper()
	in := Shape{Geometry: events.Geometry{Width: w, Height: 1}, Polarities: 2}
	out, err := rep(t, spec).Compute(b, in)
	if err != nil {
		t.Fatal(err)
	}
	var frames []string
	plane := 2 * w
	for k := 0; k < out.Shape[0]; k++ {
		var xs []string
		for x := 0; x < w; x++ {
			for c := 0; c < int(out.U16[k*plane+w+x]); c++ {
				xs = append(xs, fmt.Sprint(x))
			}
		}
		frames = append(frames, "["+strings.Join(xs, " ")+"]")
	}
	return strings.Join(frames, "")
}

// compat=tonic reproduces tonic's ToFrame slicing, worked out by hand from tonic/slicers.py; the default
// shows ours on the same input.
func TestFramesTonicCompat(t *testing.T) {
	b := events.NewBatch(0)
	for i := 0; i <= 10; i++ { // events at t = 0..10 µs, x = t
		b.Append(int64(i), uint16(i), 0, 1)
	}
	b5 := events.NewBatch(0)
	for i := 0; i <= 4; i++ { // t = 0, 5, …, 20
		b5.Append(int64(5*i), uint16(i), 0, 1)
	}
	for _, c := range []struct {
		spec, in, want string
	}{
		// time window 10 over t = 0..20: tonic ends the span at the last event, so the event at 20 is left
		// out even with include-incomplete; ours keeps it in a third, partial window.
		{"frames(window=10us, compat=tonic)", "b5", "[0 1][2 3]"},
		{"frames(window=10us, include-incomplete=true, compat=tonic)", "b5", "[0 1][2 3]"},
		{"frames(window=10us, include-incomplete=true)", "b5", "[0 1][2 3][4]"},
		// 3 time bins over 0..10: tonic's window is 10 // 3 = 3 µs, so t = 9 and 10 fall outside; ours tile.
		{"frames(bins=3, compat=tonic)", "b", "[0 1 2][3 4 5][6 7 8]"},
		{"frames(bins=3)", "b", "[0 1 2][3 4 5 6][7 8 9 10]"},
		// overlap 0.5: window (10 // 3)·1.5 = 4.5 µs, stride 2.25: [0, 4.5), [2.25, 6.75), [4.5, 9)
		{"frames(bins=3, overlap=0.5, compat=tonic)", "b", "[0 1 2 3 4][3 4 5 6][5 6 7 8]"},
		// 3 event bins of 11 events: 11 // 3 = 3 each, the remainder dropped.
		{"frames(event-bins=3, compat=tonic)", "b", "[0 1 2][3 4 5][6 7 8]"},
		{"frames(event-bins=3)", "b", "[0 1 2][3 4 5 6][7 8 9 10]"},
		// event count 4: two whole frames, a third with include-incomplete.
		{"frames(count=4, compat=tonic)", "b", "[0 1 2 3][4 5 6 7]"},
		{"frames(count=4, include-incomplete=true, compat=tonic)", "b", "[0 1 2 3][4 5 6 7][8 9 10]"},
		// a count above N silently becomes N: one frame of everything.
		{"frames(count=20, compat=tonic)", "b", "[0 1 2 3 4 5 6 7 8 9 10]"},
		{"frames(count=20)", "b", ""},
		// empty input: one zero frame (window, count), B zero frames (bins).
		{"frames(window=10us, compat=tonic)", "empty", "[]"},
		{"frames(bins=2, compat=tonic)", "empty", "[][]"},
	} {
		in := map[string]*events.Batch{"b": b, "b5": b5, "empty": events.NewBatch(0)}[c.in]
		if got := framesOf(t, c.spec, in, 11); got != c.want {
			t.Errorf("%s on %s: %s, want %s", c.spec, c.in, got, c.want)
		}
	}
}

// compat=spikingjelly follows spikingjelly's frame integration, worked out from its datasets/utils.py.
func TestFramesSpikingJellyCompat(t *testing.T) {
	b := events.NewBatch(0)
	for i := 0; i <= 10; i++ { // t = 0..10 µs, x = t
		b.Append(int64(i), uint16(i), 0, 1)
	}
	for _, c := range []struct{ spec, want string }{
		// number: 11 // 3 = 3 per frame, the last extended to N
		{"frames(event-bins=3, compat=spikingjelly)", "[0 1 2][3 4 5][6 7 8 9 10]"},
		// time: dt = 10 // 3 = 3: [0,3), [3,6), then [6, end]
		{"frames(bins=3, compat=spikingjelly)", "[0 1 2][3 4 5][6 7 8 9 10]"},
		// duration 4: K = ⌈10/4⌉ = 3 frames, (t − t0) // 4 = 0, 1, then the rest
		{"frames(window=4us, compat=spikingjelly)", "[0 1 2 3][4 5 6 7][8 9 10]"},
		// duration 5 with t_last = 10: K = 2, the event at 10 joins the last frame
		{"frames(window=5us, compat=spikingjelly)", "[0 1 2 3 4][5 6 7 8 9 10]"},
		// 12 bins of a 10 µs span: dt = 0, spikingjelly raises IndexError; here the bins are empty but the
		// last, which takes everything
		{"frames(bins=12, compat=spikingjelly)", "[][][][][][][][][][][][0 1 2 3 4 5 6 7 8 9 10]"},
	} {
		if got := framesOf(t, c.spec, b, 11); got != c.want {
			t.Errorf("%s: %s, want %s", c.spec, got, c.want)
		}
	}
	single := events.FromEvents(events.Event{T: 7, X: 3, P: 1})
	if got := framesOf(t, "frames(window=5us, compat=spikingjelly)", single, 11); got != "" {
		t.Errorf("single event, duration mode: %q, want no frames (spikingjelly crashes)", got)
	}
	if _, err := Parse("frames(count=5, compat=spikingjelly)"); err == nil {
		t.Error("event-count accepted in spikingjelly compat")
	}
}
