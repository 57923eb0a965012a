package synth_test

import (
	"context"
	"fmt"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/imagesrc"
	"github.com/evtool/evtool/synth"
)

// Synthesise 20 built-in digits with the N-MNIST preset.
func ExampleGenerate() {
	src := imagesrc.NewDigits(20, "train", 1)
	p := synth.NMNIST()
	var samples, bad int
	var first string
	err := synth.Generate(context.Background(), src, p, synth.GenerateOptions{}, func(s *events.Sample) error {
		if samples == 0 {
			first = fmt.Sprintf("%s (label %d)", s.ID, s.Label)
		}
		samples++
		if s.Events.Len() == 0 || s.Events.Validate(events.Geometry{Width: p.Width, Height: p.Height}) != nil ||
			s.Events.CheckMonotonic() >= 0 {
			bad++
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	fmt.Printf("%d samples, %d empty, out of range or out of order; first: %s\n", samples, bad, first)
	// Output: 20 samples, 0 empty, out of range or out of order; first: Train/0/00001 (label 0)
}
