package convert_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/datasets"
	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/formats/nmnist"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/transforms"
)

// nmnistTree writes a miniature N-MNIST download: Train/<digit>/<id>.bin and Test/<digit>/<id>.bin.
func nmnistTree(root string) {
	for i, rel := range []string{"Train/0/00001.bin", "Train/1/00002.bin", "Train/1/00003.bin", "Test/7/00001.bin"} {
		path := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(path), 0o755)
		w, _ := nmnist.Create(path, events.Meta{}, formats.Options{})
		w.Write(events.FromEvents(events.Event{T: 10, X: uint16(i), Y: 3, P: 1}, events.Event{T: 900, X: 33, Y: 33, P: 0}))
		w.Close()
	}
}

// A folder of sample files becomes one labelled dataset file: the labels are the class folders, the
// rows are in sorted path order, a transform chain applies to every sample.
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "convert-example")
	defer os.RemoveAll(dir)
	nmnistTree(dir)

	plan, err := sources.Discover([]string{filepath.Join(dir, "Train")}, "")
	if err != nil {
		panic(err)
	}
	chain, err := transforms.Parse("crop(x0=0, y0=0, w=32, h=32)")
	if err != nil {
		panic(err)
	}
	out := filepath.Join(dir, "train.arrow")
	res, err := convert.Run(context.Background(), plan, out, convert.Options{Chain: chain})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Kind, res.Samples, "samples", res.Events, "events", res.Geometry)

	d, _ := evarrow.OpenDataset(out)
	defer d.Close()
	var s events.Sample
	d.ReadSample(2, &s)
	fmt.Println(s.ID, d.Meta().Classes[s.Label], s.Events.Len())
	// Output:
	// dataset 3 samples 3 events 32x32
	// 1/00003.bin 1 1
}

// A public dataset's split, from its extracted download, as one dataset file: datasets.Inputs lists the
// samples the definition says the split holds, and convert.Run writes them.
func ExampleRun_dataset() {
	dir, _ := os.MkdirTemp("", "dataset-example")
	defer os.RemoveAll(dir)
	nmnistTree(dir) // as `evtool datasets fetch nmnist --to DIR` leaves it

	def, err := datasets.Lookup("nmnist")
	if err != nil {
		panic(err)
	}
	plan, err := datasets.Inputs(def, dir, datasets.Selection{Split: "test"})
	if err != nil {
		panic(err)
	}
	res, err := convert.Run(context.Background(), plan, filepath.Join(dir, "test.arrow"), convert.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Samples, "samples,", res.Events, "events, sensor", res.Geometry)
	// Output:
	// 1 samples, 2 events, sensor 34x34
}
