package evarrow_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/evarrow"
)

// Write a labelled dataset file and read one sample back by index.
func Example() {
	dir, _ := os.MkdirTemp("", "evarrow-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "train.arrow")

	meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 34, Height: 34},
		Classes: []string{"zero", "one"}}
	w, err := evarrow.CreateDataset(path, meta, evarrow.Options{}) // zstd by default
	if err != nil {
		panic(err)
	}
	for i := 0; i < 3; i++ {
		s := events.Sample{Label: int32(i % 2), ID: fmt.Sprintf("sample-%d", i),
			Events: *events.FromEvents(events.Event{T: int64(10 * i), X: 1, Y: 2, P: 1})}
		if err := w.WriteSample(&s); err != nil {
			panic(err)
		}
	}
	if err := w.Close(); err != nil { // the file appears only now
		panic(err)
	}

	d, err := evarrow.OpenDataset(path)
	if err != nil {
		panic(err)
	}
	defer d.Close()
	var s events.Sample
	d.ReadSample(2, &s)
	fmt.Println(d.NumSamples(), "samples;", s.ID, "is", d.Meta().Classes[s.Label], "with", s.Events.Len(), "event at t =", s.Events.T[0])
	// Output: 3 samples; sample-2 is zero with 1 event at t = 20
}
