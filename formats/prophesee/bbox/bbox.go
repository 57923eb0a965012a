// Package bbox reads the bounding-box label files of the Prophesee Gen1 and 1 Megapixel automotive
// detection datasets (`*_bbox.npy`): 1-D structured NumPy arrays with one row per box and label time.
//
// The datasets' releases spell the fields differently, and all are read:
//
//	Gen1:                ts <u8, x y w h <f4, class_id u1,  confidence <f4,       track_id <u4 (packed)
//	1 Megapixel:         t  <u8, x y w h <f4, class_id u1,  class_confidence <f4, track_id <u4 (packed)
//	Prophesee toolbox:   t  <i8, x y w h <f4, class_id <u4, track_id <u4, class_confidence <f4 (40-byte records)
//
// Fields are found by name (t or ts; confidence or class_confidence), in any order and of any integer or
// float type; unknown fields are skipped. t, x, y, w, h and class_id are required; a file without a
// confidence gives 1 (labels are ground truth), one without a track id gives 0.
package bbox

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/internal/input"
	"github.com/evtool/evtool/formats/npy"
	"github.com/evtool/evtool/internal/npyarray"
)

// Box is one labelled box (events.Box): its label time in µs, its top-left corner and size in pixels, its
// class index, the id of the object track it belongs to, and the labeller's confidence.
type Box = events.Box

// The class names of the two datasets, by class_id (their label_map_dictionary.json).
var (
	Gen1Classes = []string{"car", "pedestrian"}
	MpxClasses  = []string{"pedestrian", "two wheeler", "car", "truck", "bus", "traffic sign", "traffic light"}
)

// The datasets' sensors: Gen1 is an ATIS of 304×240 pixels, 1 Megapixel a Prophesee Gen4 of 1280×720.
var (
	Gen1Sensor = events.Geometry{Width: 304, Height: 240}
	MpxSensor  = events.Geometry{Width: 1280, Height: 720}
)

// ClassesFor names the box classes of a recording by its sensor: Gen1's or 1 Megapixel's; nil for
// another sensor (the classes are then only numbers).
func ClassesFor(g events.Geometry) []string {
	switch g {
	case Gen1Sensor:
		return Gen1Classes
	case MpxSensor:
		return MpxClasses
	}
	return nil
}

// RecordingsOf lists the recordings a file named like a box label file (<name>_bbox.npy) labels:
// <name>_td.dat, <name>.dat and <name>.raw; none for another name.
func RecordingsOf(label string) []string {
	base, ok := strings.CutSuffix(label, "_bbox.npy")
	if !ok {
		return nil
	}
	return []string{base + "_td.dat", base + ".dat", base + ".raw"}
}

// LabelFile returns the box label file beside a recording, by the datasets' naming (<name>_bbox.npy beside
// <name>_td.dat, <name>.dat or <name>.raw), or "" when there is none.
func LabelFile(recording string) string {
	ext := filepath.Ext(recording)
	base := strings.TrimSuffix(recording, ext)
	switch strings.ToLower(ext) {
	case ".dat":
		base = strings.TrimSuffix(base, "_td")
	case ".raw":
	default:
		return ""
	}
	label := base + "_bbox.npy"
	if st, err := os.Stat(label); err == nil && st.Mode().IsRegular() {
		return label
	}
	return ""
}

// Read reads a whole label file (rows in file order).
func Read(path string) ([]Box, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return NewDecoder(f, path)
}

// Decode reads a label file held in memory.
func Decode(data []byte, name string) ([]Box, error) {
	return NewDecoder(bytes.NewReader(data), name)
}

// layout is where each field of a box lies in a record.
type layout struct {
	t, x, y, w, h, class npyarray.Field
	conf, track          npyarray.Field
	hasConf, hasTrack    bool
}

// NewDecoder reads a whole label file from r; name is used in errors, which are *events.DecodeError.
func NewDecoder(r io.Reader, name string) ([]Box, error) {
	length := input.Length(r)
	in := input.New(r, name)
	h, err := npy.ReadArrayHeader(in)
	if err != nil {
		return nil, err
	}
	if _, ok := h.Descr.([]any); !ok || len(h.Shape) != 1 {
		return nil, in.Errorf(h.DictOffset, nil, "a box label file is a 1-D structured array; this one has shape %v and dtype %v", h.Shape, h.Descr)
	}
	rec, err := h.Record()
	if err != nil {
		return nil, in.Errorf(h.DictOffset, err, "bad .npy header")
	}
	var l layout
	required := []struct {
		dst   *npyarray.Field
		names []string
	}{{&l.t, []string{"t", "ts"}}, {&l.x, []string{"x"}}, {&l.y, []string{"y"}}, {&l.w, []string{"w"}},
		{&l.h, []string{"h"}}, {&l.class, []string{"class_id"}}}
	for _, q := range required {
		f, ok := rec.Field(q.names...)
		if !ok || f.Type.Kind == 0 {
			return nil, in.Errorf(h.DictOffset, nil, "the records have no numeric %s field (fields: %s)", q.names[0], rec.Names())
		}
		*q.dst = f
	}
	if l.t.Type.Kind == 'f' || l.class.Type.Kind == 'f' {
		return nil, in.Errorf(h.DictOffset, nil, "t and class_id must be integers")
	}
	l.conf, l.hasConf = rec.Field("class_confidence", "confidence")
	l.track, l.hasTrack = rec.Field("track_id")
	l.hasConf = l.hasConf && l.conf.Type.Kind != 0
	l.hasTrack = l.hasTrack && l.track.Type.Kind != 0 && l.track.Type.Kind != 'f'
	n, size := h.Count(), int64(rec.Size)
	// The shape is not trusted: rows are kept as they arrive, and a file that says its length is checked
	// before anything is allocated for them.
	avail := length - h.DataOffset
	if n < 0 || size == 0 || (length >= 0 && n > avail/size) {
		return nil, in.Truncated(h.DataOffset, "the header announces %d rows of %d bytes; the file holds %d bytes after its header", n, size, avail)
	}
	var boxes []Box
	if length >= 0 {
		boxes = make([]Box, 0, n)
	}
	for i := int64(0); i < n; i++ {
		off := in.Offset()
		row, ok := in.Next(rec.Size)
		if !ok {
			if err := in.Err(); err != nil {
				return nil, err
			}
			return nil, in.Truncated(off, "the header announces %d rows of %d bytes; the file ends inside row %d", n, size, i)
		}
		var b Box
		if err := l.decode(row, &b); err != nil {
			return nil, in.Errorf(off, err, "row %d", i)
		}
		boxes = append(boxes, b)
	}
	return boxes, nil
}

func (l *layout) decode(rec []byte, b *Box) error {
	t, ok := l.t.Type.Int(rec[l.t.Offset:])
	if !ok {
		return fmt.Errorf("t does not fit an int64")
	}
	class, ok := l.class.Type.Int(rec[l.class.Offset:])
	if !ok || class < 0 || class > math.MaxUint32 {
		return fmt.Errorf("class_id %d is not a class index", class)
	}
	b.T, b.Class, b.Confidence = t, uint32(class), 1
	var dims [4]float32
	for i, f := range [4]npyarray.Field{l.x, l.y, l.w, l.h} {
		v, _ := f.Type.Float(rec[f.Offset:])
		dims[i] = float32(v)
	}
	b.X, b.Y, b.W, b.H = dims[0], dims[1], dims[2], dims[3]
	if l.hasConf {
		v, _ := l.conf.Type.Float(rec[l.conf.Offset:])
		b.Confidence = float32(v)
	}
	if l.hasTrack {
		track, ok := l.track.Type.Int(rec[l.track.Offset:])
		if !ok || track < 0 || track > math.MaxUint32 {
			return fmt.Errorf("track_id %d is not a track id", track)
		}
		b.Track = uint32(track)
	}
	return nil
}
