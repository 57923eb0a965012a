package npy

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/internal/input"
	"github.com/evtool/evtool/internal/npyarray"
	"github.com/evtool/evtool/tensors"
)

// arrayHeader is a plain (not structured) array as its header describes it.
type arrayHeader struct {
	typ   scalar
	descr string
	shape []int64
	start int64 // offset of the data
}

// errStructured is arrayOf's answer for a structured array (records of fields: events).
var errStructured = errors.New("a structured array")

// arrayOf reads a parsed header as a plain C-order array: its type code and shape.
func arrayOf(hd *npyarray.Header) (descr string, shape []int64, err error) {
	descr, ok := hd.Descr.(string)
	if !ok {
		if _, fields := hd.Descr.([]any); fields {
			return "", nil, errStructured
		}
		return "", nil, fmt.Errorf("the header has no descr type code")
	}
	for _, n := range hd.Shape {
		if n > math.MaxInt32 {
			return "", nil, fmt.Errorf("shape %v: want sizes from 0 to %d", hd.Shape, math.MaxInt32)
		}
	}
	return descr, hd.Shape, nil
}

// parseArrayHeader reads a plain array's preamble. A structured array, or one of fewer than minDims
// dimensions, is events: the error then wraps tensors.ErrNotTensors.
func parseArrayHeader(in *input.Input, name string, minDims int) (*arrayHeader, error) {
	hd, err := ReadArrayHeader(in)
	if err != nil {
		return nil, err
	}
	descr, shape, err := arrayOf(hd)
	if errors.Is(err, errStructured) {
		return nil, fmt.Errorf("%s: %w (a structured array)", name, tensors.ErrNotTensors)
	}
	if err == nil && len(shape) < minDims {
		return nil, fmt.Errorf("%s: %w (a %d-D array; tensors have %d or more dimensions)", name, tensors.ErrNotTensors, len(shape), minDims)
	}
	h := &arrayHeader{descr: descr, shape: shape, start: hd.DataOffset}
	if err == nil {
		h.typ, err = parseScalar(descr)
	}
	if err != nil {
		return nil, &events.DecodeError{Path: name, Offset: hd.DictOffset, Msg: "bad .npy header", Err: err}
	}
	return h, nil
}

// dtype is the tensor element type the array's values are read as: unsigned integers of up to 16 bits
// (and bools) exactly as uint16, everything else as float32.
func (h *arrayHeader) dtype() tensors.DType {
	if h.typ.kind == 'b' || (h.typ.kind == 'u' && h.typ.size <= 2) {
		return tensors.Uint16
	}
	return tensors.Float32
}

// decodeValues converts raw array bytes into t's values (U16 or F32 as dtype says), reusing its buffers.
func decodeValues(raw []byte, typ scalar, dtype tensors.DType, t *tensors.Tensor) {
	n := len(raw) / typ.size
	var order binary.ByteOrder = binary.LittleEndian
	if typ.bigEndian {
		order = binary.BigEndian
	}
	if dtype == tensors.Uint16 {
		t.F32 = nil
		if t.U16 == nil {
			t.U16 = []uint16{}
		}
		t.U16 = t.U16[:0]
		if typ.size == 2 {
			for i := 0; i < n; i++ {
				t.U16 = append(t.U16, order.Uint16(raw[2*i:]))
			}
		} else {
			for _, b := range raw {
				t.U16 = append(t.U16, uint16(b))
			}
		}
		return
	}
	t.U16 = nil
	if t.F32 == nil {
		t.F32 = []float32{}
	}
	t.F32 = t.F32[:0]
	for i := 0; i < n; i++ {
		b := raw[i*typ.size : (i+1)*typ.size]
		var v float32
		switch {
		case typ.kind == 'f' && typ.size == 4:
			v = math.Float32frombits(order.Uint32(b))
		case typ.kind == 'f':
			v = float32(math.Float64frombits(order.Uint64(b)))
		case typ.kind == 'u':
			v = float32(uintValue(b, order))
		default: // signed
			u := uintValue(b, order)
			shift := 64 - 8*uint(typ.size)
			v = float32(int64(u<<shift) >> shift)
		}
		t.F32 = append(t.F32, v)
	}
}

func uintValue(b []byte, order binary.ByteOrder) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(order.Uint16(b))
	case 4:
		return uint64(order.Uint32(b))
	}
	return order.Uint64(b)
}

// tensorReader reads the tensors of one array (a .npy file, or x.npy in a .npz) by sample index. With
// random access to the array it reads any sample directly; over a stream (a compressed .npz member, a
// pipe) it reads forward, and reopens the stream to go back.
type tensorReader struct {
	name   string
	closer io.Closer
	meta   events.Meta
	spec   tensors.Spec
	h      *arrayHeader
	sample []int // a tensor's shape
	bytes  int64 // a tensor's size in the file
	at     io.ReaderAt
	atBase int64 // offset of x's first byte in at
	length int64 // bytes of data available through at; -1 when unknown

	// Streamed access: reopen returns the array's data from its start; next is the sample the stream is at.
	reopen func() (*input.Input, error)
	stream *input.Input
	next   int
	// fileOffset maps an offset in the array onto an offset in the file, for errors.
	fileOffset func(off int64) int64

	labels []int32
	ids    []string
	boxes  [][]events.Box // per sample, from a .npz with boxes
	buf    []byte         // a tensor's bytes read by ReadAt
}

func (r *tensorReader) Meta() events.Meta { return r.meta }
func (r *tensorReader) Spec() tensors.Spec {
	s := r.spec
	s.Shape = append([]int(nil), s.Shape...)
	return s
}
func (r *tensorReader) NumSamples() int { return r.spec.Samples }

func (r *tensorReader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// ReadSample reads tensor i into dst.
func (r *tensorReader) ReadSample(i int, dst *tensors.Sample) error {
	dst.Reset()
	if i < 0 || i >= r.spec.Samples {
		return fmt.Errorf("%s: tensor %d does not exist (the file holds %d)", r.name, i, r.spec.Samples)
	}
	dst.ID = strconv.Itoa(i)
	if i < len(r.ids) {
		dst.ID = r.ids[i]
	}
	if i < len(r.labels) {
		dst.Label = r.labels[i]
	}
	if i < len(r.boxes) {
		dst.Boxes = append(dst.Boxes, r.boxes[i]...)
	}
	off := int64(i) * r.bytes // in the data
	truncated := func(got int64) error {
		return &events.DecodeError{Path: r.name, Offset: r.fileOffset(r.h.start + off + got), Err: events.ErrTruncated,
			Msg: fmt.Sprintf("the data ends inside tensor %d of %d", i, r.spec.Samples)}
	}
	var raw []byte
	if r.at != nil {
		if r.length >= 0 && off+r.bytes > r.length {
			return truncated(max(r.length-off, 0))
		}
		if int64(cap(r.buf)) < r.bytes { // bounded: the tensor lies inside the file
			r.buf = make([]byte, r.bytes)
		}
		raw = r.buf[:r.bytes]
		n, err := r.at.ReadAt(raw, r.atBase+off)
		if int64(n) < r.bytes {
			if err == nil || errors.Is(err, io.EOF) {
				return truncated(int64(n))
			}
			return &events.DecodeError{Path: r.name, Offset: r.fileOffset(r.h.start + off + int64(n)), Msg: fmt.Sprintf("reading tensor %d", i), Err: err}
		}
	} else {
		if i < r.next || r.stream == nil {
			if r.reopen == nil {
				return fmt.Errorf("%s: tensor %d lies behind the stream (read tensors in order)", r.name, i)
			}
			s, err := r.reopen()
			if err != nil {
				return err
			}
			r.stream, r.next = s, 0
		}
		in := r.stream
		if skip := int64(i-r.next) * r.bytes; skip > 0 {
			if n := in.Skip(skip); n < skip {
				r.stream = nil
				return r.streamEnd(in, i, int64(r.next)*r.bytes+n)
			}
		}
		data, ok := in.Next(int(r.bytes)) // bounded by the tensor limit; the window grows as data arrives
		if !ok {
			r.stream = nil
			return r.streamEnd(in, i, off+int64(in.Buffered()))
		}
		raw = data
		r.next = i + 1
	}
	dst.Tensor.Shape = append(dst.Tensor.Shape, r.sample...)
	decodeValues(raw, r.h.typ, r.spec.DType, &dst.Tensor)
	return nil
}

// streamEnd is the error for a stream that ends, at array offset off, before tensor i: the read failure
// when there was one, else a truncation.
func (r *tensorReader) streamEnd(in *input.Input, i int, off int64) error {
	if err := in.Err(); err != nil {
		return &events.DecodeError{Path: r.name, Offset: r.fileOffset(r.h.start + off), Msg: fmt.Sprintf("reading tensor %d", i), Err: err}
	}
	return &events.DecodeError{Path: r.name, Offset: r.fileOffset(r.h.start + off), Err: events.ErrTruncated,
		Msg: fmt.Sprintf("the data ends inside tensor %d of %d", i, r.spec.Samples)}
}

// setShape derives the sample shape from the array's: samples along the first axis when stacked, else
// the whole array as one tensor. A tensor must fit in limit bytes, so that hostile headers allocate
// nothing big; data missing at the end is found when the samples are read.
func (r *tensorReader) setShape(stacked bool, limit int64) error {
	dims := r.h.shape
	n := int64(1)
	if stacked {
		n, dims = dims[0], dims[1:]
	}
	size := int64(r.h.typ.size)
	for _, d := range dims {
		if d != 0 && size > limit/d {
			// The header announces more than the file holds: a cut file (or a hostile header).
			return &events.DecodeError{Path: r.name, Offset: r.fileOffset(r.h.start), Err: events.ErrTruncated,
				Msg: fmt.Sprintf("shape %v: a tensor of more bytes than the file holds after its header (%d)", r.h.shape, limit)}
		}
		size *= d
		r.sample = append(r.sample, int(d))
	}
	r.bytes = size
	r.spec = tensors.Spec{DType: r.h.dtype(), Shape: append([]int(nil), r.sample...), Samples: int(n), Single: !stacked}
	if r.h.typ.kind == 'i' && r.h.typ.size == 2 {
		r.spec.Stored = tensors.Int16 // counts as evtool stores them by default, read as float32 values
	}
	r.meta = events.Meta{Format: "npy", Kind: events.KindTensors}
	if stacked {
		r.meta.SetExtra("array_shape", r.h.shape) // samples along its first axis
	}
	if r.h.descr != "<u2" && r.h.descr != "<f4" {
		r.meta.SetExtra("npy_dtype", r.h.descr)
	}
	return nil
}

// NewTensorReader reads the tensors of a .npy file from src (closed by Close when it is an io.Closer):
// samples along the array's first axis, or, with stacked=false, the whole array as one tensor (what
// evtool writes for a single recording). A structured array of events, or an array of fewer than three
// dimensions, gives an error wrapping tensors.ErrNotTensors.
func NewTensorReader(src io.Reader, name string, stacked bool) (tensors.Reader, error) {
	r := &tensorReader{name: name, fileOffset: func(off int64) int64 { return off }}
	if c, ok := src.(io.Closer); ok {
		r.closer = c
	}
	at, size, random := input.RandomAccess(src)
	in := input.New(src, name)
	if random {
		in = input.New(io.NewSectionReader(at, 0, size), name)
	}
	h, err := parseArrayHeader(in, name, 3)
	if err != nil {
		return nil, err
	}
	r.h = h
	limit := int64(math.MaxInt32) // a stream: bound a tensor, not the file
	if random {
		limit = max(size-h.start, 0)
		r.at, r.atBase, r.length = at, h.start, limit
	} else {
		r.stream = in
	}
	if err := r.setShape(stacked, limit); err != nil {
		return nil, err
	}
	if !stacked {
		r.ids = []string{strings.TrimSuffix(path.Base(name), path.Ext(name))}
	}
	return r, nil
}

// maxRatio bounds how much a deflated member can expand (deflate's limit is about 1032:1), so sizes that
// a hostile header or zip directory announce are checked against the bytes actually in the file.
const maxRatio = 1100

// NewNPZReader reads the tensors of a .npz archive (x, and y, ids and classes when present) from src,
// which must give random access (an *os.File, a *bytes.Reader, an *io.SectionReader).
func NewNPZReader(src io.Reader, name string) (tensors.Reader, error) {
	at, size, ok := input.RandomAccess(src)
	if !ok {
		return nil, fmt.Errorf("%s: reading a .npz needs random access (a file, not a stream)", name)
	}
	zr, err := zip.NewReader(at, size)
	if err != nil {
		if !errors.Is(err, zip.ErrFormat) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &events.DecodeError{Path: name, Offset: size, Msg: "reading the zip directory", Err: err}
		}
		return nil, &events.DecodeError{Path: name, Offset: size, Err: events.ErrTruncated,
			Msg: fmt.Sprintf("no readable zip directory at the end (%v): the archive is cut short or not a .npz", err)}
	}
	members := map[string]*zip.File{}
	for _, f := range zr.File {
		members[strings.TrimSuffix(f.Name, ".npy")] = f
	}
	x := members["x"]
	if x == nil {
		return nil, fmt.Errorf("%s: %w (a .npz without an array x: evtool's .npz files hold x, y, ids and classes)", name, tensors.ErrNotTensors)
	}
	offset, err := x.DataOffset()
	if err != nil {
		return nil, &events.DecodeError{Path: name, Offset: 0, Msg: "x.npy: bad local header", Err: err}
	}
	if offset+int64(x.CompressedSize64) > size || x.CompressedSize64 > uint64(size) {
		return nil, &events.DecodeError{Path: name, Offset: size, Err: events.ErrTruncated, Msg: "x.npy lies past the end of the archive"}
	}
	r := &tensorReader{name: name, fileOffset: func(int64) int64 { return offset }}
	if c, ok := src.(io.Closer); ok {
		r.closer = c
	}
	open := func() (*input.Input, error) {
		rc, err := x.Open()
		if err != nil {
			return nil, &events.DecodeError{Path: name, Offset: offset, Msg: "x.npy", Err: err}
		}
		return input.New(rc, name+": x.npy"), nil
	}
	s, err := open()
	if err != nil {
		return nil, err
	}
	if r.h, err = parseArrayHeader(s, name+": x.npy", 2); err != nil {
		return nil, err
	}
	limit := int64(x.CompressedSize64) * maxRatio
	if x.Method == zip.Store {
		limit = int64(x.CompressedSize64)
		r.at, r.atBase, r.length = at, offset+r.h.start, max(limit-r.h.start, 0)
		r.fileOffset = func(off int64) int64 { return offset + off }
	} else {
		r.stream, r.reopen = s, func() (*input.Input, error) {
			s, err := open()
			if err != nil {
				return nil, err
			}
			if _, err := parseArrayHeader(s, name+": x.npy", 2); err != nil {
				return nil, err
			}
			return s, nil
		}
	}
	if err := r.setShape(true, limit); err != nil {
		return nil, err
	}
	r.meta.Format = "npz"
	n := r.spec.Samples
	if f := members["y"]; f != nil {
		m, err := readMember(f, name, int64(n)*8, size)
		if err != nil {
			return nil, err
		}
		typ, err := parseScalar(m.descr)
		if err != nil || len(m.shape) != 1 || m.shape[0] != int64(n) || typ.kind == 'f' || typ.kind == 'b' {
			return nil, fmt.Errorf("%s: y.npy: want %d integer labels, got %q of shape %v", name, n, m.descr, m.shape)
		}
		var t tensors.Tensor
		decodeValues(m.data, typ, tensors.Float32, &t)
		r.labels = make([]int32, n)
		for i, v := range t.F32 {
			if v < -1 || v != float32(int32(v)) {
				return nil, fmt.Errorf("%s: y.npy: label %v of sample %d is not a class index or -1", name, v, i)
			}
			r.labels[i] = int32(v)
		}
	}
	if f := members["ids"]; f != nil {
		if r.ids, err = readStrings(f, name, n, size); err != nil {
			return nil, err
		}
	}
	if f := members["classes"]; f != nil {
		if r.meta.Classes, err = readStrings(f, name, -1, size); err != nil {
			return nil, err
		}
		if len(r.meta.Classes) == 0 {
			r.meta.Classes = nil
		}
		for i, l := range r.labels {
			if l >= 0 && len(r.meta.Classes) > 0 && int(l) >= len(r.meta.Classes) {
				return nil, fmt.Errorf("%s: y.npy: label %d of sample %d is outside the %d classes", name, l, i, len(r.meta.Classes))
			}
		}
	}
	if r.boxes, r.meta.BoxClasses, err = readBoxes(members, name, n, size); err != nil {
		return nil, err
	}
	r.meta.Boxes = r.boxes != nil
	if len(r.meta.BoxClasses) == 0 {
		r.meta.BoxClasses = nil
	}
	return r, nil
}

// member is a small array of a .npz, read whole.
type member struct {
	descr string
	shape []int64
	width int // bytes per element
	data  []byte
}

// maxStringWidth bounds the '<U' width of ids and class names.
const maxStringWidth = 1 << 12

// readMember reads a small array member whole: its data is bounded by limit bytes and by what the
// member's compressed bytes can expand to, so a hostile header allocates nothing big.
func readMember(f *zip.File, name string, limit, archive int64) (*member, error) {
	full := name + ": " + f.Name
	if f.CompressedSize64 > uint64(archive) {
		return nil, &events.DecodeError{Path: name, Offset: archive, Err: events.ErrTruncated, Msg: f.Name + " lies past the end of the archive"}
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", full, err)
	}
	defer rc.Close()
	in := input.New(rc, full)
	hd, err := ReadArrayHeader(in)
	if err != nil {
		return nil, err
	}
	m := &member{}
	if m.descr, m.shape, err = arrayOf(hd); err != nil {
		return nil, fmt.Errorf("%s: bad .npy header: %w", full, err)
	}
	if w, ok := strings.CutPrefix(m.descr, "<U"); ok {
		k, err := strconv.Atoi(w)
		if err != nil || k < 1 || k > maxStringWidth {
			return nil, fmt.Errorf("%s: string type %q: want a width of 1..%d", full, m.descr, maxStringWidth)
		}
		m.width = 4 * k
	} else {
		typ, err := parseScalar(m.descr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", full, err)
		}
		m.width = typ.size
	}
	n := int64(m.width)
	for _, d := range m.shape {
		if d != 0 && n > limit/d {
			return nil, fmt.Errorf("%s: shape %v is larger than expected", full, m.shape)
		}
		n *= d
	}
	if n > int64(f.CompressedSize64)*maxRatio+1<<16 {
		return nil, fmt.Errorf("%s: shape %v announces more data than the archive holds", full, m.shape)
	}
	data, ok := in.Next(int(n)) // the window grows only as data arrives
	if !ok {
		if err := in.Err(); err != nil {
			return nil, err
		}
		return nil, &events.DecodeError{Path: name, Offset: archive, Err: events.ErrTruncated, Msg: f.Name + " ends before its data"}
	}
	m.data = data
	return m, nil
}

// readStrings reads a 1-D '<U' array (UTF-32 code points, zero-padded), of n entries when n ≥ 0.
func readStrings(f *zip.File, name string, n int, archive int64) ([]string, error) {
	limit := int64(4*maxStringWidth) << 20
	if n >= 0 {
		limit = int64(4*maxStringWidth) * int64(max(n, 1))
	}
	m, err := readMember(f, name, limit, archive)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(m.descr, "<U") || len(m.shape) != 1 || (n >= 0 && m.shape[0] != int64(n)) {
		want := "strings"
		if n >= 0 {
			want = fmt.Sprintf("%d strings", n)
		}
		return nil, fmt.Errorf("%s: %s: want %s ('<U'), got %q of shape %v", name, f.Name, want, m.descr, m.shape)
	}
	out := make([]string, m.shape[0])
	var b strings.Builder
	for i := range out {
		b.Reset()
		rec := m.data[i*m.width : (i+1)*m.width]
		for k := 0; k < len(rec); k += 4 {
			c := binary.LittleEndian.Uint32(rec[k:])
			if c == 0 {
				break
			}
			b.WriteRune(rune(c))
		}
		out[i] = b.String()
	}
	return out, nil
}

// IsNPZ reports whether head starts a zip archive whose first member is a .npy array (numpy.savez and
// evtool write x.npy first).
func IsNPZ(head []byte) bool {
	const local = 30 // size of a zip local file header before the name
	if len(head) < local || !bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return false
	}
	n := int(binary.LittleEndian.Uint16(head[26:28]))
	return len(head) >= local+n && strings.HasSuffix(string(head[local:local+n]), ".npy")
}
