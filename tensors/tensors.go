// Package tensors is the data model of representations: what a transform chain ending in frames, a voxel
// grid, a time surface… makes of each sample. A Tensor is a dense row-major array; a Sample is one with its
// dataset id and label; Reader and Writer are what the tensor file formats (the Arrow tensors layout, .npy,
// .npz) implement, registered in formats like the event formats (formats.Format.Tensors).
//
// It is to tensors what package events is to events, and imports nothing of evtool but events.
package tensors

import (
	"errors"
	"fmt"

	"github.com/evtool/evtool/events"
)

// DType is a tensor's element type.
type DType string

const (
	Uint16  DType = "uint16"  // counts: frames, images
	Float32 DType = "float32" // values: voxel grids, time surfaces, accumulated frames
	// Int16 is a stored type only: counts written as int16 (what torch.from_numpy takes on every torch;
	// uint16 only from torch 2.3 on), read back as Float32 values.
	Int16 DType = "int16"
)

// MaxInt16Count is the largest count an int16 element holds.
const MaxInt16Count = 1<<15 - 1

// Tensor is a dense row-major array: counts (U16) or values (F32), at most one of them set. A tensor with
// no elements may have neither.
type Tensor struct {
	Shape []int
	U16   []uint16
	F32   []float32
}

// Len is the number of elements the shape describes.
func (t *Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// DType is Float32 when F32 is set, else Uint16.
func (t *Tensor) DType() DType {
	if t.F32 != nil {
		return Float32
	}
	return Uint16
}

// Values is the number of values the tensor holds (len of U16 or F32).
func (t *Tensor) Values() int { return max(len(t.U16), len(t.F32)) }

// Sample is one row of a tensors file: a sample's tensor with its id and label, as events.Sample is a
// sample's events.
type Sample struct {
	Label  int32  // class index, or events.NoLabel
	ID     string // unique within its file
	Tensor Tensor
	// Boxes are the sample's labelled boxes (detection targets), as its events.Sample had them, so that a
	// detection loader gets inputs and targets from one file; nil for samples without them.
	Boxes []events.Box
}

// Reset empties the sample and keeps its buffers.
func (s *Sample) Reset() {
	s.Label, s.ID = events.NoLabel, ""
	s.Tensor.Shape, s.Tensor.U16, s.Tensor.F32 = s.Tensor.Shape[:0], s.Tensor.U16[:0], s.Tensor.F32[:0]
	s.Boxes = s.Boxes[:0]
}

// Spec says what a tensors file holds.
type Spec struct {
	DType DType
	// Shape of every tensor; a negative size varies per sample (frames by window: the number of frames).
	Shape []int
	// Samples is how many tensors the file holds or will hold; 0 when a writer is not told in advance.
	// Formats that state the count before the data (.npy, .npz) need it.
	Samples int
	// Single marks one tensor made of a whole recording rather than samples of a dataset: .npy stores it
	// as it is, without a leading sample axis.
	Single bool
	// Stored is, from a reader, the element type the file holds when it is not DType (counts stored as
	// int16, read as float32 values); writers take theirs from formats.StoredDType.
	Stored DType
}

// Fixed reports whether every tensor has the same shape.
func (s Spec) Fixed() bool {
	for _, d := range s.Shape {
		if d < 0 {
			return false
		}
	}
	return true
}

// Size is the number of elements of a tensor of the spec's shape (meaningful when Fixed).
func (s Spec) Size() int {
	n := 1
	for _, d := range s.Shape {
		n *= d
	}
	return n
}

// Check reports whether t fits the spec: element type, dimensions, sizes, and values for its shape.
func (s Spec) Check(t *Tensor) error {
	if len(t.Shape) != len(s.Shape) {
		return fmt.Errorf("tensor of %d dimensions %v, the file holds %d %s", len(t.Shape), t.Shape, len(s.Shape), ShapeString(s.Shape))
	}
	for i, d := range t.Shape {
		if want := s.Shape[i]; d < 0 || (want >= 0 && d != want) {
			return fmt.Errorf("tensor shape %v, the file holds %s", t.Shape, ShapeString(s.Shape))
		}
	}
	n := t.Len()
	if (s.DType == Uint16 && (len(t.U16) != n || (t.F32 != nil && n > 0))) ||
		(s.DType == Float32 && (len(t.F32) != n || (t.U16 != nil && n > 0))) {
		return fmt.Errorf("%d values (%s) for a tensor of shape %v, the file holds %s", t.Values(), t.DType(), t.Shape, s.DType)
	}
	return nil
}

// ShapeString renders a shape with "?" where a size varies: (?, 2, 34, 34).
func ShapeString(shape []int) string {
	b := []byte{'('}
	for i, d := range shape {
		if i > 0 {
			b = append(b, ", "...)
		}
		if d < 0 {
			b = append(b, '?')
		} else {
			b = fmt.Append(b, d)
		}
	}
	return string(append(b, ')'))
}

// Writer streams tensors into a file. Close finishes it and moves it into place; Abort (also after a
// failed Write or Close) leaves nothing behind.
type Writer interface {
	Write(s *Sample) error
	Close() error
	Abort()
}

// Reader gives random access to the tensors of a file.
type Reader interface {
	// Meta describes the file: Kind is events.KindTensors; Geometry, Classes, Source and Transforms as
	// far as the format records them.
	Meta() events.Meta
	Spec() Spec
	NumSamples() int
	// ReadSample reads tensor i into dst, reusing its buffers.
	ReadSample(i int, dst *Sample) error
	Close() error
}

// ErrNotTensors is wrapped by tensor readers given a file that holds events (an Arrow recording, a .npy
// structured array of events), so callers can fall back to the event readers.
var ErrNotTensors = errors.New("the file holds events, not tensors")
