package formats_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/formats/nmnist"
)

// Open any file evtool reads (the format is detected) and stream its events in reusable batches.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "formats-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "00001.bin")
	w, _ := nmnist.Create(path, events.Meta{}, formats.Options{})
	w.Write(events.FromEvents(events.Event{T: 5, X: 1, Y: 2, P: 1}, events.Event{T: 9, X: 3, Y: 4, P: 0}))
	w.Close()

	src, f, err := formats.Open(path, "", formats.Options{})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	r := src.Events // a dataset file gives src.Samples instead
	buf := events.NewBatch(1 << 16)
	for {
		err := r.Read(buf)
		for i := 0; i < buf.Len(); i++ {
			fmt.Println(f.Name, buf.At(i))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err) // a *events.DecodeError names the file and byte offset
		}
	}
	// Output:
	// nmnist {5 1 2 1}
	// nmnist {9 3 4 0}
}
