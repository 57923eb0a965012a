package transforms_test

import (
	"fmt"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/transforms"
)

// Parse a chain, run it over a sample, and bin what is left into frames.
func Example() {
	chain, err := transforms.Parse("refractory(period=1ms) | crop(x0=1, y0=1, w=2, h=2)", "frames(bins=2)")
	if err != nil {
		panic(err)
	}
	s := events.Sample{ID: "demo", Events: *events.FromEvents(
		events.Event{T: 0, X: 1, Y: 1, P: 1},
		events.Event{T: 500, X: 1, Y: 1, P: 1}, // within 1 ms of the previous event at this pixel: dropped
		events.Event{T: 1500, X: 2, Y: 2, P: 0},
		events.Event{T: 2000, X: 0, Y: 0, P: 1}, // outside the crop: dropped
	)}
	shape, err := chain.ApplySample(&s, transforms.Shape{Geometry: events.Geometry{Width: 4, Height: 4}, Polarities: 2}, 0)
	if err != nil {
		panic(err)
	}
	rep, _ := chain.Representation()
	frames, _ := rep.Compute(&s.Events, shape)
	fmt.Println(chain)
	fmt.Println(s.Events.Len(), "events on", shape.Geometry, "→ frames", frames.Shape)
	// Output:
	// refractory(period=1ms) | crop(x0=1, y0=1, w=2, h=2) | frames(bins=2)
	// 2 events on 2x2 → frames [2 2 2 2]
}
