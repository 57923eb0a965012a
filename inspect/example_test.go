package inspect_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/inspect"
)

// What `evtool info` reports, for any file evtool reads.
func ExampleFile() {
	dir, _ := os.MkdirTemp("", "inspect-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "rec.aedat4")
	f, _ := formats.OutputFormat(path, "")
	sink, _ := f.Create(path, events.Meta{Geometry: events.Geometry{Width: 346, Height: 260}}, formats.Options{})
	sink.Events.Write(events.FromEvents(events.Event{T: 100, X: 1, Y: 2, P: 1}, events.Event{T: 250, X: 300, Y: 200, P: 0}))
	if err := sink.Close(); err != nil {
		panic(err)
	}
	rep, err := inspect.File(path, "", formats.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(rep.Format, rep.Kind, rep.Width, rep.Height, rep.Events, rep.On, rep.Off, *rep.TFirst, *rep.TLast)
	// Output:
	// aedat4 recording 346 260 2 1 1 100 250
}
