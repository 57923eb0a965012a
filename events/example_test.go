package events_test

import (
	"fmt"

	"github.com/evtool/evtool/events"
)

// A Batch holds events as columns; slices are views that share them.
func ExampleBatch() {
	b := events.NewBatch(0)
	for i := 0; i < 5; i++ {
		b.Append(int64(i*100), uint16(i), 7, uint8(i%2))
	}
	win := b.TimeSlice(100, 300) // [100, 300): half-open
	fmt.Println(win.Len(), win.T, win.X)
	fmt.Println(b.At(4), b.Validate(events.Geometry{Width: 4, Height: 8}))
	// Output:
	// 2 [100 200] [1 2]
	// {400 4 7 0} event 4 at (4,7) lies outside the 4x8 sensor
}
