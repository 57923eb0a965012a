package viewer_test

import (
	"fmt"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/viewer"
)

// Draw three events with exponential decay: the newest pixel is at full colour, the older ones fade.
func Example() {
	r, err := viewer.New(viewer.Options{Width: 4, Height: 2, Decay: viewer.DecayExponential, Tau: 1000})
	if err != nil {
		panic(err)
	}
	r.Add(events.FromEvents(
		events.Event{T: 0, X: 0, Y: 0, P: 1},    // ON: orange
		events.Event{T: 1000, X: 1, Y: 0, P: 0}, // OFF: sky blue
		events.Event{T: 2000, X: 2, Y: 1, P: 1},
	))
	img := r.Render(2000)
	for _, p := range [][2]int{{0, 0}, {1, 0}, {2, 1}, {3, 1}} {
		fmt.Println(p, img.RGBAAt(p[0], p[1]))
	}
	// Output:
	// [0 0] {32 22 0 255}
	// [1 0] {32 66 86 255}
	// [2 1] {230 159 0 255}
	// [3 1] {0 0 0 255}
}
