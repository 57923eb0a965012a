package events

import (
	"fmt"
	"io"
	"math"
	"sort"
)

// Box is one labelled bounding box at one time: the labels of detection datasets (Prophesee Gen1 and
// 1 Megapixel), which change over time beside the events. A box is in the events' coordinates: its
// top-left corner (X, Y) and size (W, H) in pixels, x to the right and y down, as a continuous region:
// the pixel (x, y) covers [x, x+1) × [y, y+1), so a box [X, X+W) × [Y, Y+H) holds the events whose pixels
// lie inside it.
type Box struct {
	T          int64   // label time, µs, on the events' clock
	X, Y, W, H float32 // top-left corner and size, pixels
	Class      uint32  // class index: Meta.BoxClasses[Class] names it
	Track      uint32  // the object track the box belongs to (the same object keeps its id over time)
	Confidence float32 // the labeller's confidence, 1 for ground truth
}

// Valid reports whether the box's geometry is finite and its size is not negative.
func (b Box) Valid() bool {
	for _, v := range [4]float32{b.X, b.Y, b.W, b.H} {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return b.W >= 0 && b.H >= 0
}

// Clip cuts the box to the region [x0, x1) × [y0, y1) and reports whether any area is left: a box that
// does not overlap the region, or touches it only along an edge, is gone.
func (b *Box) Clip(x0, y0, x1, y1 float32) bool {
	l, t := max(b.X, x0), max(b.Y, y0)
	r, d := min(b.X+b.W, x1), min(b.Y+b.H, y1)
	if !(r > l && d > t) {
		return false
	}
	b.X, b.Y, b.W, b.H = l, t, r-l, d-t
	return true
}

// SortBoxes orders boxes by time, keeping the order of boxes of one time (a label file's row order).
func SortBoxes(boxes []Box) {
	sort.SliceStable(boxes, func(i, j int) bool { return boxes[i].T < boxes[j].T })
}

// BoxesInTime returns the boxes of time-sorted boxes with start ≤ T < end, as a view.
func BoxesInTime(boxes []Box, start, end int64) []Box {
	i := sort.Search(len(boxes), func(k int) bool { return boxes[k].T >= start })
	j := i + sort.Search(len(boxes)-i, func(k int) bool { return boxes[i+k].T >= end })
	return boxes[i:j:j]
}

// CheckBoxes reports the first box that goes back in time or is not Valid, as an error naming it.
func CheckBoxes(boxes []Box) error {
	for i, b := range boxes {
		if !b.Valid() {
			return fmt.Errorf("box %d (t = %d µs) has the geometry x %g, y %g, w %g, h %g: want finite numbers and a size ≥ 0", i, b.T, b.X, b.Y, b.W, b.H)
		}
		if i > 0 && b.T < boxes[i-1].T {
			return fmt.Errorf("box %d goes back in time (%d µs after %d µs): boxes must be in time order", i, b.T, boxes[i-1].T)
		}
	}
	return nil
}

// BoxReader is implemented by readers of recordings that carry boxes beside their events (an Arrow
// recording with a boxes column, a Prophesee recording with its _bbox.npy labels). Boxes returns the
// boxes met during the most recent Read — including the one that returns io.EOF —, in time order; the
// slice is reused by the next Read. By the time a Read has returned an event of time t, every box with
// T ≤ t has been returned; boxes after the last event come at the latest with io.EOF.
type BoxReader interface {
	Reader
	Boxes() []Box
}

// BoxWriter is implemented by writers that store boxes beside a recording's events. WriteBoxes takes
// boxes in time order, interleaved with Write in stream order: give a Read's boxes after its events, as
// a BoxReader hands them out.
type BoxWriter interface {
	Writer
	WriteBoxes(boxes []Box) error
}

// WithBoxes serves the events of r with boxes beside them (labels from another file, in time order): each
// Read hands out the boxes up to its last event, the rest with io.EOF, as BoxReader says.
func WithBoxes(r Reader, boxes []Box) BoxReader {
	m := r.Meta()
	m.Boxes = true
	return &boxedReader{Reader: r, boxes: boxes, meta: m}
}

type boxedReader struct {
	Reader
	boxes []Box // not yet handed out
	met   []Box
	meta  Meta
}

func (r *boxedReader) Meta() Meta { return r.meta }

func (r *boxedReader) Read(dst *Batch) error {
	err := r.Reader.Read(dst)
	n := len(r.boxes)
	if err == nil && dst.Len() > 0 {
		last := dst.T[dst.Len()-1]
		n = sort.Search(len(r.boxes), func(k int) bool { return r.boxes[k].T > last })
	} else if err == nil {
		n = 0
	}
	if err != nil && err != io.EOF {
		n = 0 // a fault: the boxes after the good events are not handed out as if the recording ended
	}
	r.met, r.boxes = r.boxes[:n:n], r.boxes[n:]
	return err
}

func (r *boxedReader) Boxes() []Box { return r.met }
