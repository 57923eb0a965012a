package npy

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/tensors"
)

// Boxes in a .npz (docs/FORMAT.md, "Boxes"): the detection targets of every sample beside its tensor, as
// plain arrays a PyTorch loader slices without parsing:
//
//	boxes           (M, 4) float32   x, y, w, h of every box, samples one after the other
//	box_offsets     (N+1,) int64     sample i's boxes are rows box_offsets[i] … box_offsets[i+1] − 1
//	box_t           (M,)   int64     label time, µs
//	box_class       (M,)   int64     index into box_classes
//	box_track       (M,)   int64     track id
//	box_confidence  (M,)   float32
//	box_classes     (C,)   <U        class names
//
// They are written only for a file created with events.Meta.Boxes.

// boxArrays collects the boxes of the samples written.
type boxArrays struct {
	offsets []int64
	boxes   []events.Box
	classes []string
}

// add appends one sample's boxes.
func (a *boxArrays) add(s *tensors.Sample) error {
	if err := events.CheckBoxes(s.Boxes); err != nil {
		return fmt.Errorf("sample %q: %w", s.ID, err)
	}
	for i, b := range s.Boxes {
		if len(a.classes) > 0 && int64(b.Class) >= int64(len(a.classes)) {
			return fmt.Errorf("sample %q: box %d has class %d, outside the %d box classes", s.ID, i, b.Class, len(a.classes))
		}
	}
	if len(a.offsets) == 0 {
		a.offsets = append(a.offsets, 0)
	}
	a.boxes = append(a.boxes, s.Boxes...)
	a.offsets = append(a.offsets, int64(len(a.boxes)))
	return nil
}

// entries renders the arrays as .npz members.
func (a *boxArrays) entries() []npzEntry {
	if len(a.offsets) == 0 {
		a.offsets = append(a.offsets, 0)
	}
	m := len(a.boxes)
	xywh := ArrayHeader("<f4", []int{m, 4})
	t, class, track := ArrayHeader("<i8", []int{m}), ArrayHeader("<i8", []int{m}), ArrayHeader("<i8", []int{m})
	conf := ArrayHeader("<f4", []int{m})
	for _, b := range a.boxes {
		for _, v := range [4]float32{b.X, b.Y, b.W, b.H} {
			xywh = binary.LittleEndian.AppendUint32(xywh, math.Float32bits(v))
		}
		t = binary.LittleEndian.AppendUint64(t, uint64(b.T))
		class = binary.LittleEndian.AppendUint64(class, uint64(b.Class))
		track = binary.LittleEndian.AppendUint64(track, uint64(b.Track))
		conf = binary.LittleEndian.AppendUint32(conf, math.Float32bits(b.Confidence))
	}
	off := ArrayHeader("<i8", []int{len(a.offsets)})
	for _, o := range a.offsets {
		off = binary.LittleEndian.AppendUint64(off, uint64(o))
	}
	return []npzEntry{{"boxes.npy", xywh}, {"box_offsets.npy", off}, {"box_t.npy", t}, {"box_class.npy", class},
		{"box_track.npy", track}, {"box_confidence.npy", conf}, {"box_classes.npy", stringArray(a.classes)}}
}

// npzEntry is one member of a .npz.
type npzEntry struct {
	name string
	data []byte
}

// readBoxes reads the box arrays of a .npz with n samples: every array is checked against the others
// (M rows each, N+1 offsets from 0 to M, never going back) before a box is made.
func readBoxes(members map[string]*zip.File, name string, n int, archive int64) ([][]events.Box, []string, error) {
	f := members["boxes"]
	if f == nil {
		return nil, nil, nil
	}
	const limit = math.MaxInt64 / 2 // readMember bounds each array by the bytes its member holds
	arrays := map[string]*member{}
	for _, k := range []string{"boxes", "box_offsets", "box_t", "box_class", "box_track", "box_confidence"} {
		mf := members[k]
		if mf == nil {
			return nil, nil, fmt.Errorf("%s: the archive has boxes but no %s.npy", name, k)
		}
		m, err := readMember(mf, name, limit, archive)
		if err != nil {
			return nil, nil, err
		}
		arrays[k] = m
	}
	bad := func(k, want string) error {
		return fmt.Errorf("%s: %s.npy: want %s, got %q of shape %v", name, k, want, arrays[k].descr, arrays[k].shape)
	}
	xywh := arrays["boxes"]
	if xywh.descr != "<f4" || len(xywh.shape) != 2 || xywh.shape[1] != 4 {
		return nil, nil, bad("boxes", "(M, 4) float32 x, y, w, h")
	}
	m := xywh.shape[0]
	for _, c := range []struct{ k, descr string }{{"box_t", "<i8"}, {"box_class", "<i8"}, {"box_track", "<i8"}, {"box_confidence", "<f4"}} {
		if a := arrays[c.k]; a.descr != c.descr || len(a.shape) != 1 || a.shape[0] != m {
			return nil, nil, bad(c.k, fmt.Sprintf("(%d,) %s", m, c.descr))
		}
	}
	offs := arrays["box_offsets"]
	if offs.descr != "<i8" || len(offs.shape) != 1 || offs.shape[0] != int64(n)+1 {
		return nil, nil, bad("box_offsets", fmt.Sprintf("(%d,) int64", n+1))
	}
	i64 := func(a *member, i int64) int64 { return int64(binary.LittleEndian.Uint64(a.data[8*i:])) }
	f32 := func(a *member, i int64) float32 {
		return math.Float32frombits(binary.LittleEndian.Uint32(a.data[4*i:]))
	}
	out := make([][]events.Box, n)
	all := make([]events.Box, m) // bounded: m rows of 16 bytes are in the archive
	prev := int64(0)
	for s := 0; s <= n; s++ {
		o := i64(offs, int64(s))
		if (s == 0 && o != 0) || o < prev || o > m || (s == n && o != m) {
			return nil, nil, fmt.Errorf("%s: box_offsets.npy: offset %d of sample %d does not run from 0 to %d without going back", name, o, s, m)
		}
		if s > 0 {
			out[s-1] = all[prev:o:o]
		}
		prev = o
	}
	for i := int64(0); i < m; i++ {
		class, track := i64(arrays["box_class"], i), i64(arrays["box_track"], i)
		if class < 0 || class > math.MaxUint32 || track < 0 || track > math.MaxUint32 {
			return nil, nil, fmt.Errorf("%s: box %d has class %d, track %d: want 0 … 2³²−1", name, i, class, track)
		}
		all[i] = events.Box{T: i64(arrays["box_t"], i), X: f32(xywh, 4*i), Y: f32(xywh, 4*i+1), W: f32(xywh, 4*i+2),
			H: f32(xywh, 4*i+3), Class: uint32(class), Track: uint32(track), Confidence: f32(arrays["box_confidence"], i)}
	}
	var classes []string
	if cf := members["box_classes"]; cf != nil {
		var err error
		if classes, err = readStrings(cf, name, -1, archive); err != nil {
			return nil, nil, err
		}
	}
	return out, classes, nil
}
