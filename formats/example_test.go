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
	"github.com/evtool/evtool/tensors"
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

// Write tensors with any format that holds them (chosen here by the extension) and read them back.
func ExampleOpenTensors() {
	dir, _ := os.MkdirTemp("", "tensors-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "frames.npz")
	f, err := formats.TensorOutputFormat(path, "") // .arrow, .npy and .npz hold tensors
	if err != nil {
		panic(err)
	}
	meta := events.Meta{Kind: events.KindTensors, Classes: []string{"zero", "one"}}
	spec := tensors.Spec{DType: tensors.Uint16, Shape: []int{2, 1, 2}, Samples: 2}
	w, err := f.Tensors.Create(path, meta, spec, formats.Options{})
	if err != nil {
		panic(err)
	}
	for i := range 2 {
		s := tensors.Sample{ID: fmt.Sprintf("Train/%d/a.bin", i), Label: int32(i),
			Tensor: tensors.Tensor{Shape: []int{2, 1, 2}, U16: []uint16{1, 2, 3, uint16(i)}}}
		if err := w.Write(&s); err != nil {
			w.Abort() // nothing is left behind
			panic(err)
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}

	r, g, err := formats.OpenTensors(path, "", formats.Options{})
	if err != nil {
		panic(err) // a file of events gives an error wrapping tensors.ErrNotTensors
	}
	defer r.Close()
	var s tensors.Sample
	for i := range r.NumSamples() {
		r.ReadSample(i, &s)
		// Counts are stored as int16 (torch.from_numpy takes it on every torch; -O dtype= chooses another
		// type) and read back as float32 values.
		fmt.Println(g.Name, s.ID, r.Meta().Classes[s.Label], s.Tensor.Shape, r.Spec().Stored, s.Tensor.F32)
	}
	// Output:
	// npz Train/0/a.bin zero [2 1 2] int16 [1 2 3 0]
	// npz Train/1/a.bin one [2 1 2] int16 [1 2 3 1]
}
