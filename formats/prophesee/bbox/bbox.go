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
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/npy"
)

// Box is one labelled box: its label time in µs, its top-left corner and size in pixels, its class index,
// the id of the object track it belongs to, and the labeller's confidence.
type Box struct {
	T          int64
	X, Y, W, H float32
	Class      uint32
	Track      uint32
	Confidence float32
}

// Read reads a whole label file (rows in file order).
func Read(path string) ([]Box, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return decode(bufio.NewReader(f), st.Size(), path)
}

// Decode reads a label file held in memory.
func Decode(data []byte, name string) ([]Box, error) {
	return decode(bytes.NewReader(data), int64(len(data)), name)
}

// layout is where each field of a box lies in a record.
type layout struct {
	t, x, y, w, h, class npy.Field
	conf, track          npy.Field
	hasConf, hasTrack    bool
}

func fail(name string, off int64, msg string, err error) error {
	return &events.DecodeError{Path: name, Offset: off, Msg: msg, Err: err}
}

func decode(r io.Reader, size int64, name string) ([]Box, error) {
	h, err := npy.ReadHeader(r, name)
	if err != nil {
		return nil, err
	}
	if h.Fields == nil || len(h.Shape) != 1 {
		return nil, fail(name, 0, fmt.Sprintf("a box label file is a 1-D structured array; this one has shape %v and %d fields", h.Shape, len(h.Fields)), nil)
	}
	var l layout
	required := []struct {
		dst   *npy.Field
		names []string
	}{{&l.t, []string{"t", "ts"}}, {&l.x, []string{"x"}}, {&l.y, []string{"y"}}, {&l.w, []string{"w"}},
		{&l.h, []string{"h"}}, {&l.class, []string{"class_id"}}}
	for _, q := range required {
		f, ok := h.Field(q.names...)
		if !ok || f.Type.Kind == 0 {
			return nil, fail(name, 0, fmt.Sprintf("the records have no numeric %s field (fields: %s)", q.names[0], fieldNames(h)), nil)
		}
		*q.dst = f
	}
	if l.t.Type.Kind == 'f' || l.class.Type.Kind == 'f' {
		return nil, fail(name, 0, "t and class_id must be integers", nil)
	}
	l.conf, l.hasConf = h.Field("class_confidence", "confidence")
	l.track, l.hasTrack = h.Field("track_id")
	l.hasConf = l.hasConf && l.conf.Type.Kind != 0
	l.hasTrack = l.hasTrack && l.track.Type.Kind != 0 && l.track.Type.Kind != 'f'
	n := h.Count()
	// The shape is not trusted: the rows must be in the file before anything is allocated for them.
	if avail := size - h.DataOffset; n < 0 || h.ItemSize == 0 || n > avail/int64(h.ItemSize) {
		return nil, fail(name, h.DataOffset, fmt.Sprintf("the header announces %d rows of %d bytes; the file holds %d bytes after its header",
			n, h.ItemSize, size-h.DataOffset), events.ErrTruncated)
	}
	data := make([]byte, n*int64(h.ItemSize))
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fail(name, h.DataOffset, "cannot read the rows", err)
	}
	boxes := make([]Box, n)
	for i := range boxes {
		rec := data[i*h.ItemSize : (i+1)*h.ItemSize]
		if err := l.decode(rec, &boxes[i]); err != nil {
			return nil, fail(name, h.DataOffset+int64(i*h.ItemSize), fmt.Sprintf("row %d", i), err)
		}
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
	for i, f := range [4]npy.Field{l.x, l.y, l.w, l.h} {
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

func fieldNames(h *npy.Header) string {
	var b bytes.Buffer
	for i, f := range h.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Name)
	}
	return b.String()
}
