// Package es reads and writes Event Stream `.es` files (neuromorphic-paris event_stream specification,
// version 2; FORMATS.md §5). DVS streams are read and written, ATIS streams are read (exposure
// threshold-crossing events are counted, not mixed into the polarity stream). Generic, color and display
// streams are scanned by Scan for `info`, but opening them as a polarity stream fails with a clear error.
//
// Orientation: files made by the Paris tools have a bottom-left origin, so the reader and writer flip y
// (y = H−1−y, H = --sensor height when given, else the header height) unless -O es-origin=top.
package es

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/atomicfile"
)

// Magic opens every .es file.
const Magic = "Event Stream"

// Stream types (header byte 15).
const (
	TypeGeneric = 0
	TypeDVS     = 1
	TypeATIS    = 2
	TypeDisplay = 3
	TypeColor   = 4
)

var typeNames = map[byte]string{TypeGeneric: "generic", TypeDVS: "dvs", TypeATIS: "atis", TypeDisplay: "display", TypeColor: "color"}

func init() {
	formats.Register(&formats.Format{
		Name:        "es",
		Description: "Event Stream .es v2 (reads DVS and ATIS streams, writes DVS; y flipped to top-left by default)",
		Extensions:  []string{".es"},
		Detect:      func(head []byte) bool { return formats.HasPrefix(head, Magic) },
		Open:        func(path string, o formats.Options) (formats.Source, error) { return Open(path, o) },
		Create: func(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
			if meta.Kind == events.KindDataset {
				return nil, errors.New("es writes one recording per file, not a dataset")
			}
			return Create(path, meta, o)
		},
		Params: map[string]string{
			"es-origin": "y origin of the .es file: bottom (default, as the Paris tools write: y is flipped) or top (no flip)",
		},
	})
}

// Header is the fixed part of a .es file.
type Header struct {
	Major, Minor, Patch byte
	Type                byte
	Width, Height       int // 0 for generic and display streams
	Size                int // header bytes: 16 or 20
}

func parseHeader(b []byte, name string) (Header, error) {
	if len(b) < 16 || string(b[:12]) != Magic {
		if len(b) >= 12 && string(b[:12]) != Magic {
			return Header{}, &events.DecodeError{Path: name, Offset: 0, Msg: `not an Event Stream file: want the magic "Event Stream"`}
		}
		return Header{}, &events.DecodeError{Path: name, Offset: int64(len(b)), Msg: "file ends inside the 16-byte header", Err: events.ErrTruncated}
	}
	h := Header{Major: b[12], Minor: b[13], Patch: b[14], Type: b[15], Size: 16}
	if h.Major != 2 {
		return h, &events.DecodeError{Path: name, Offset: 12, Msg: fmt.Sprintf("Event Stream version %d.%d.%d is not supported (want 2.x)", h.Major, h.Minor, h.Patch)}
	}
	switch h.Type {
	case TypeGeneric, TypeDisplay:
	case TypeDVS, TypeATIS, TypeColor:
		if len(b) < 20 {
			return h, &events.DecodeError{Path: name, Offset: int64(len(b)), Msg: "file ends inside the width/height header fields", Err: events.ErrTruncated}
		}
		h.Width, h.Height, h.Size = int(binary.LittleEndian.Uint16(b[16:])), int(binary.LittleEndian.Uint16(b[18:])), 20
	default:
		return h, &events.DecodeError{Path: name, Offset: 15, Msg: fmt.Sprintf("unknown Event Stream type %d (want 0..4)", h.Type)}
	}
	return h, nil
}

// Reader streams the polarity events of a DVS or ATIS .es file.
type Reader struct {
	name string
	f    io.Reader
	buf  []byte
	r, w int
	base int64
	eof  bool
	err  error

	hdr    Header
	geom   events.Geometry
	flip   bool
	flipH  int   // y = flipH−1−y when flip
	t      int64 // running time
	tc     int64 // ATIS threshold-crossing events (not polarity events)
	ovf    int64 // overflow bytes
	resets int64
	drop   int64 // events outside the sensor or below the flip line
	done   bool
}

// Open opens a .es file.
func Open(path string, o formats.Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, path, o, 1<<20)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func flipOption(o formats.Options) (bool, error) {
	switch v := o.Param("es-origin", "bottom"); v {
	case "bottom":
		return true, nil
	case "top":
		return false, nil
	default:
		return false, fmt.Errorf("option es-origin=%q: want bottom or top", v)
	}
}

// NewReader reads from rc with a bufSize-byte buffer; name is used in errors.
func NewReader(rc io.ReadCloser, name string, o formats.Options, bufSize int) (*Reader, error) {
	flip, err := flipOption(o)
	if err != nil {
		return nil, err
	}
	r := &Reader{name: name, f: rc, buf: make([]byte, max(bufSize, 32)), flip: flip}
	for r.w < 20 && !r.eof {
		r.fill()
	}
	h, err := parseHeader(r.buf[:r.w], name)
	if err != nil {
		return nil, err
	}
	if h.Type != TypeDVS && h.Type != TypeATIS {
		return nil, fmt.Errorf("%s: this Event Stream file holds %s events, which are not polarity events; evtool converts DVS and ATIS streams only",
			name, typeNames[h.Type])
	}
	r.hdr, r.r = h, h.Size
	r.geom = events.Geometry{Width: h.Width, Height: h.Height}
	if o.Sensor.Known() {
		r.geom = o.Sensor
	}
	r.flipH = r.geom.Height
	return r, nil
}

func (r *Reader) fill() {
	n := copy(r.buf, r.buf[r.r:r.w])
	r.base += int64(r.r)
	r.r, r.w = 0, n
	for r.w < len(r.buf) && !r.eof {
		m, err := r.f.Read(r.buf[r.w:])
		r.w += m
		if err == io.EOF {
			r.eof = true
		} else if err != nil {
			r.eof = true
			r.err = &events.DecodeError{Path: r.name, Offset: r.base + int64(r.w), Msg: "read failed", Err: err}
		}
	}
}

// Header returns the file header.
func (r *Reader) Header() Header { return r.hdr }

// Meta describes the stream.
func (r *Reader) Meta() events.Meta {
	m := events.Meta{Format: "es", Kind: events.KindRecording, Geometry: r.geom, Source: r.name}
	m.SetExtra("version", fmt.Sprintf("%d.%d.%d", r.hdr.Major, r.hdr.Minor, r.hdr.Patch))
	m.SetExtra("es_type", typeNames[r.hdr.Type])
	m.SetExtra("header_bytes", r.hdr.Size)
	m.SetExtra("header_geometry", fmt.Sprintf("%dx%d", r.hdr.Width, r.hdr.Height))
	m.SetExtra("y_flipped", r.flip)
	m.SetExtra("overflow_bytes", r.ovf)
	m.SetExtra("reset_bytes", r.resets)
	m.SetExtra("out_of_range", r.drop)
	if r.hdr.Type == TypeATIS {
		m.SetExtra("tc_events", r.tc)
	}
	return m
}

// Close closes the file.
func (r *Reader) Close() error {
	if c, ok := r.f.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Read fills dst with the next polarity events.
func (r *Reader) Read(dst *events.Batch) error {
	dst.Reset()
	if r.done {
		return io.EOF
	}
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	dst.Grow(want)
	T, X, Y, P := dst.T[:want], dst.X[:want], dst.Y[:want], dst.P[:want]
	n := 0
	for n < want {
		var used int
		if r.hdr.Type == TypeDVS {
			n, used = r.decodeDVS(r.buf[r.r:r.w], T, X, Y, P, n)
		} else {
			n, used = r.decodeATIS(r.buf[r.r:r.w], T, X, Y, P, n)
		}
		r.r += used
		if n < want {
			// what is left is shorter than a record
			if r.eof {
				break
			}
			r.fill()
		}
	}
	dst.T, dst.X, dst.Y, dst.P = T[:n], X[:n], Y[:n], P[:n]
	if n > 0 {
		return nil
	}
	r.done = true
	if r.err != nil {
		return r.err
	}
	if rem := r.w - r.r; rem > 0 {
		return &events.DecodeError{Path: r.name, Offset: r.base + int64(r.r),
			Msg: fmt.Sprintf("file ends inside a 5-byte event (%d trailing bytes)", rem), Err: events.ErrTruncated}
	}
	return io.EOF
}

// emit stores one event, flipping y and dropping events outside the sensor.
func (r *Reader) emit(T []int64, X, Y []uint16, P []uint8, n int, x, y uint16, p uint8) int {
	if r.geom.Known() && (int(x) >= r.geom.Width || int(y) >= r.geom.Height) {
		r.drop++
		return n
	}
	if r.flip {
		if int(y) >= r.flipH {
			r.drop++
			return n
		}
		y = uint16(r.flipH - 1 - int(y))
	}
	T[n], X[n], Y[n], P[n] = r.t, x, y, p
	return n + 1
}

// decodeDVS decodes whole records of src (FORMATS.md §5, DVS): 0xFF adds 127 µs, 0xFE is a reset byte,
// any other byte is Δt<<1|p followed by x and y. A record cut by the buffer end is left for the refill.
func (r *Reader) decodeDVS(src []byte, T []int64, X, Y []uint16, P []uint8, n int) (int, int) {
	i := 0
	for i < len(src) && n < len(T) {
		b := src[i]
		switch b {
		case 0xFF:
			r.t += 127
			r.ovf++
			i++
			continue
		case 0xFE:
			r.resets++
			i++
			continue
		}
		if i+5 > len(src) {
			break
		}
		r.t += int64(b >> 1)
		n = r.emit(T, X, Y, P, n, binary.LittleEndian.Uint16(src[i+1:]), binary.LittleEndian.Uint16(src[i+3:]), b&1)
		i += 5
	}
	return n, i
}

// decodeATIS decodes ATIS records: bytes 0xFD..0xFF add 63·(b&3) µs, 0xFC is a reset, otherwise
// Δt = b>>2, bit 0 marks a threshold crossing (counted, not emitted), bit 1 the polarity.
func (r *Reader) decodeATIS(src []byte, T []int64, X, Y []uint16, P []uint8, n int) (int, int) {
	i := 0
	for i < len(src) && n < len(T) {
		b := src[i]
		if b&0xFC == 0xFC {
			if k := b & 3; k > 0 {
				r.t += 63 * int64(k)
				r.ovf++
			} else {
				r.resets++
			}
			i++
			continue
		}
		if i+5 > len(src) {
			break
		}
		r.t += int64(b >> 2)
		if b&1 == 1 {
			r.tc++
		} else {
			n = r.emit(T, X, Y, P, n, binary.LittleEndian.Uint16(src[i+1:]), binary.LittleEndian.Uint16(src[i+3:]), b>>1&1)
		}
		i += 5
	}
	return n, i
}

// Decode decodes a whole in-memory DVS or ATIS file into dst (appending); the fuzz entry point.
func Decode(data []byte, name string, o formats.Options, dst *events.Batch) error {
	r, err := NewReader(io.NopCloser(bytes.NewReader(data)), name, o, min(max(len(data)+1, 64), 1<<16))
	if err != nil {
		return err
	}
	b, err := events.ReadAll(r)
	dst.AppendBatch(b)
	return err
}

// Writer writes DVS .es files (version 2.0.0).
type Writer struct {
	name  string
	bw    *bufio.Writer
	file  *atomicfile.File
	geom  events.Geometry
	flip  bool
	last  int64
	n     int64
	rec   [5]byte
	wrote bool
}

// Create writes a DVS .es file at path, atomically. The sensor size (--sensor or the input's geometry)
// is required: it goes into the header and defines the y flip.
func Create(path string, meta events.Meta, o formats.Options) (*Writer, error) {
	flip, err := flipOption(o)
	if err != nil {
		return nil, err
	}
	g := meta.Geometry
	if o.Sensor.Known() {
		g = o.Sensor
	}
	if !g.Known() || g.Width > 65535 || g.Height > 65535 {
		return nil, fmt.Errorf("%s: an Event Stream file needs the sensor size in its header; pass --sensor WxH (at most 65535x65535)", path)
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w := NewWriter(f, path, g, flip)
	w.file = f
	return w, nil
}

// NewWriter writes a DVS stream of geometry g to out (not atomically); flip stores y bottom-up.
func NewWriter(out io.Writer, name string, g events.Geometry, flip bool) *Writer {
	w := &Writer{name: name, bw: bufio.NewWriterSize(out, 1<<16), geom: g, flip: flip}
	var h [20]byte
	copy(h[:], Magic)
	h[12], h[13], h[14], h[15] = 2, 0, 0, TypeDVS
	binary.LittleEndian.PutUint16(h[16:], uint16(g.Width))
	binary.LittleEndian.PutUint16(h[18:], uint16(g.Height))
	w.bw.Write(h[:])
	return w
}

// Write encodes a batch; events must be in time order (t ≥ 0) and inside the sensor.
func (w *Writer) Write(b *events.Batch) error {
	for i := range b.T {
		t, x, y, p := b.T[i], b.X[i], b.Y[i], b.P[i]
		if t < w.last || t < 0 {
			return fmt.Errorf("%s: event %d: timestamp %d µs is negative or earlier than the previous one (%d); .es needs events in time order", w.name, w.n, t, w.last)
		}
		if int(x) >= w.geom.Width || int(y) >= w.geom.Height || p > 1 {
			return fmt.Errorf("%s: event %d (%d,%d,p=%d) lies outside the %s sensor or has a polarity other than 0/1", w.name, w.n, x, y, p, w.geom)
		}
		if w.flip {
			y = uint16(w.geom.Height - 1 - int(y))
		}
		dt := t - w.last
		for ; dt > 126; dt -= 127 {
			w.bw.WriteByte(0xFF)
		}
		w.rec[0] = byte(dt)<<1 | p
		binary.LittleEndian.PutUint16(w.rec[1:], x)
		binary.LittleEndian.PutUint16(w.rec[3:], y)
		w.bw.Write(w.rec[:])
		w.last = t
		w.n++
	}
	return nil
}

// Close flushes and moves the file into place.
func (w *Writer) Close() error {
	if err := w.bw.Flush(); err != nil {
		w.Abort()
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	if w.file != nil {
		return w.file.Commit()
	}
	return nil
}

// Abort discards the output.
func (w *Writer) Abort() {
	if w.file != nil {
		w.file.Abort()
	}
}
