package events

import (
	"io"
	"math"
	"reflect"
	"testing"
)

func TestBoxClip(t *testing.T) {
	for _, c := range []struct {
		b    Box
		keep bool
		want Box
	}{
		{Box{X: 1, Y: 2, W: 3, H: 4}, true, Box{X: 2, Y: 2, W: 2, H: 3}},     // cut on the left and at the bottom
		{Box{X: -1, Y: -1, W: 10, H: 10}, true, Box{X: 2, Y: 1, W: 5, H: 4}}, // covers the region
		{Box{X: 7, Y: 2, W: 1, H: 1}, false, Box{}},                          // touches the right edge only
		{Box{X: 3, Y: 0, W: 1, H: 1}, false, Box{}},                          // touches the top edge only
		{Box{X: 3, Y: 3, W: 0, H: 1}, false, Box{}},                          // no area
	} {
		b := c.b
		if keep := b.Clip(2, 1, 7, 5); keep != c.keep || (keep && b != c.want) {
			t.Errorf("%+v: %v %+v, want %v %+v", c.b, keep, b, c.keep, c.want)
		}
	}
}

func TestBoxesInTime(t *testing.T) {
	boxes := []Box{{T: 1}, {T: 3}, {T: 3}, {T: 5}, {T: 9}}
	for _, c := range []struct {
		lo, hi int64
		want   []Box
	}{{3, 5, boxes[1:3]}, {0, 100, boxes}, {4, 9, boxes[3:4]}, {10, 20, nil}, {6, 2, nil}} {
		if got := BoxesInTime(boxes, c.lo, c.hi); len(got) != len(c.want) || (len(got) > 0 && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("[%d,%d): %+v, want %+v", c.lo, c.hi, got, c.want)
		}
	}
	if err := CheckBoxes([]Box{{T: 2}, {T: 1}}); err == nil {
		t.Error("boxes going back in time passed")
	}
	if err := CheckBoxes([]Box{{T: 2, X: float32(math.Inf(1))}}); err == nil {
		t.Error("an infinite box passed")
	}
}

// WithBoxes hands out, with each Read, the boxes up to its last event, and the rest with io.EOF.
func TestWithBoxes(t *testing.T) {
	var b Batch
	for _, ts := range []int64{10, 20, 30, 40} {
		b.Append(ts, 0, 0, 0)
	}
	boxes := []Box{{T: 5}, {T: 20}, {T: 21}, {T: 40}, {T: 99}}
	r := WithBoxes(&BatchReader{B: &b, Chunk: 2}, boxes)
	if !r.Meta().Boxes {
		t.Fatal("meta says no boxes")
	}
	var per [][]int64
	buf := NewBatch(0)
	for {
		err := r.Read(buf)
		var ts []int64
		for _, x := range r.Boxes() {
			ts = append(ts, x.T)
		}
		per = append(per, ts)
		if err == io.EOF {
			break
		}
	}
	if want := [][]int64{{5, 20}, {21, 40}, {99}}; !reflect.DeepEqual(per, want) {
		t.Fatalf("boxes per Read %v, want %v", per, want)
	}
}
