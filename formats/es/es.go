// Package es reads and writes Event Stream `.es` files (neuromorphic-paris event_stream specification,
// version 2; docs/formats-prophesee-es.md#event-stream-records). DVS streams are read and written, ATIS streams are read (exposure
// threshold-crossing events are counted, not mixed into the polarity stream). Generic, color and display
// streams are scanned by Scan for `info`, but opening them as a polarity stream fails with a clear error.
//
// Orientation: files made by the Paris tools have a bottom-left origin, so the reader and writer flip y
// (y = H−1−y, H = --sensor height when given, else the header height) unless -O es-origin=top.
package es

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
	"github.com/evtool/evtool/formats/internal/output"
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
		NewReader: func(r io.Reader, name string, o formats.Options) (formats.Source, error) {
			return formats.EventSource(NewReader(r, name, o))
		},
		Create: func(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
			return formats.EventSink(Create(path, meta, o))
		},
		Params: map[string]string{
			"es-origin": "y origin of the .es file: bottom (default, as the Paris tools write: y is flipped) or top (no flip)",
		},
		Conformance: formats.Conformance{
			Geometry: events.Geometry{Width: 65535, Height: 65535},
			// The first event 100 s in: 787,402 overflow bytes, within the filler bound.
			Extremes: []events.Event{{T: 0, X: 65534, Y: 0, P: 1}, {T: 126, X: 0, Y: 65534}, {T: 127, X: 1, Y: 1, P: 1},
				{T: 100_000_000, X: 65534, Y: 65534, P: 1}},
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
	in     *input.Input
	hdr    Header
	geom   events.Geometry
	flip   bool
	flipH  int   // y = flipH−1−y when flip
	t      int64 // running time
	tc     int64 // ATIS threshold-crossing events (not polarity events)
	ovf    int64 // overflow bytes
	resets int64
	drop   int64 // events outside the sensor or below the flip line
	opts   formats.Options
	watch  formats.DecodeWatch
}

// Open opens a .es file.
func Open(path string, o formats.Options) (*Reader, error) {
	return input.Open(path, func(f *os.File) (*Reader, error) { return NewReader(f, path, o) })
}

func flipOption(o formats.Options) (bool, error) {
	switch v := o.Param("es-origin", "bottom"); v {
	case "bottom":
		return true, nil
	case "top":
		return false, nil
	default:
		return false, o.BadParam("es-origin", "want bottom or top")
	}
}

// NewReader reads a .es stream from r (closed by Close when it is an io.Closer); name is used in errors.
func NewReader(r io.Reader, name string, o formats.Options) (*Reader, error) {
	flip, err := flipOption(o)
	if err != nil {
		return nil, err
	}
	rd := &Reader{in: input.New(r, name), flip: flip, opts: o, watch: formats.NewDecodeWatch(name)}
	rd.in.Fill(20)
	h, err := parseHeader(rd.in.Bytes(), name)
	if err != nil {
		return nil, err
	}
	if h.Type != TypeDVS && h.Type != TypeATIS {
		return nil, fmt.Errorf("%s: this Event Stream file holds %s events, which are not polarity events; evtool converts DVS and ATIS streams only",
			name, typeNames[h.Type])
	}
	rd.in.Advance(h.Size)
	rd.hdr = h
	rd.geom = events.Geometry{Width: h.Width, Height: h.Height}
	if o.Sensor.Known() {
		rd.geom = o.Sensor
	}
	rd.flipH = rd.geom.Height
	return rd, nil
}

// Header returns the file header.
func (r *Reader) Header() Header { return r.hdr }

// Meta describes the stream.
func (r *Reader) Meta() events.Meta {
	m := events.Meta{Format: "es", Kind: events.KindRecording, Geometry: r.geom, Source: r.in.Name()}
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
func (r *Reader) Close() error { return r.in.Close() }

// Read fills dst with the next polarity events.
func (r *Reader) Read(dst *events.Batch) error {
	dst.Reset()
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	dst.Grow(want)
	T, X, Y, P := dst.T[:want], dst.X[:want], dst.Y[:want], dst.P[:want]
	in := r.in
	off := in.Offset()
	n := 0
	for n < want {
		var used int
		if r.hdr.Type == TypeDVS {
			n, used = r.decodeDVS(in.Bytes(), T, X, Y, P, n)
		} else {
			n, used = r.decodeATIS(in.Bytes(), T, X, Y, P, n)
		}
		in.Advance(used)
		// What is left is shorter than a record: a whole one needs at most 5 bytes.
		if n < want && in.Fill(5) < 5 && used == 0 {
			break
		}
	}
	dst.T, dst.X, dst.Y, dst.P = T[:n], X[:n], Y[:n], P[:n]
	if err := r.watch.Check(r.opts, r.drop, 0, off); err != nil {
		in.Fail(err)
	}
	if n > 0 {
		return nil
	}
	return in.End("a 5-byte event")
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

// decodeDVS decodes whole records of src (DVS in docs/formats-prophesee-es.md#event-stream-records): 0xFF adds 127 µs, 0xFE is a reset byte,
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
	r, err := NewReader(bytes.NewReader(data), name, o)
	if err != nil {
		return err
	}
	b, err := events.ReadAll(r)
	dst.AppendBatch(b)
	return err
}

// Writer writes DVS .es files (version 2.0.0).
type Writer struct {
	out    *output.File
	geom   events.Geometry
	flip   bool
	last   int64
	n      int64
	filler output.FillerBudget
}

// Create writes a DVS .es file at path, atomically. The sensor size (o.Sensor, else meta.Geometry) is
// required: it goes into the header and defines the y flip.
func Create(path string, meta events.Meta, o formats.Options) (*Writer, error) {
	return output.Start(path, func(out *output.File) (*Writer, error) { return newWriter(out, meta, o) })
}

// NewWriter writes a DVS stream to w (not atomically); name is used in errors.
func NewWriter(w io.Writer, name string, meta events.Meta, o formats.Options) (*Writer, error) {
	return newWriter(output.New(w, name), meta, o)
}

func newWriter(out *output.File, meta events.Meta, o formats.Options) (*Writer, error) {
	flip, err := flipOption(o)
	if err != nil {
		return nil, err
	}
	g := meta.Geometry
	if o.Sensor.Known() {
		g = o.Sensor
	}
	if !g.Known() || g.Width > 65535 || g.Height > 65535 {
		return nil, fmt.Errorf("%s: an Event Stream file needs the sensor size in its header (at most 65535x65535)", out.Name())
	}
	w := &Writer{out: out, geom: g, flip: flip}
	var h [20]byte
	copy(h[:], Magic)
	h[12], h[13], h[14], h[15] = 2, 0, 0, TypeDVS
	binary.LittleEndian.PutUint16(h[16:], uint16(g.Width))
	binary.LittleEndian.PutUint16(h[18:], uint16(g.Height))
	out.Write(h[:])
	return w, out.Err()
}

// overflowTick is the time one 0xFF byte of a DVS stream adds.
const overflowTick = 127

// Write encodes a batch; events must be in time order (t ≥ 0) and inside the sensor. A gap is stored
// as one 0xFF byte per 127 µs, so the time a file may cover is bounded (output.FillerBudget): a first
// timestamp near 10^15 µs (an absolute camera clock) is refused, with a hint to shift the times first.
func (w *Writer) Write(b *events.Batch) error {
	name := w.out.Name()
	for i := range b.T {
		t, x, y, p := b.T[i], b.X[i], b.Y[i], b.P[i]
		if t < w.last || t < 0 {
			return fmt.Errorf("%s: event %d: timestamp %d µs is negative or earlier than the previous one (%d); .es needs events in time order", name, w.n, t, w.last)
		}
		if int(x) >= w.geom.Width || int(y) >= w.geom.Height || p > 1 {
			return fmt.Errorf("%s: event %d (%d,%d,p=%d) lies outside the %s sensor or has a polarity other than 0/1", name, w.n, x, y, p, w.geom)
		}
		if w.flip {
			y = uint16(w.geom.Height - 1 - int(y))
		}
		dt := t - w.last
		if dt >= overflowTick {
			ticks := dt / overflowTick
			if !w.filler.Take(ticks, w.n) {
				return fmt.Errorf("%s: event %d at %d µs: .es counts time from 0 with one overflow byte per 127 µs, and the %d µs since %s would take %d bytes: %w; shift the times to start at 0 first (time-align)",
					name, w.n, t, dt, map[bool]string{true: "0", false: "the previous event"}[w.n == 0], ticks, formats.ErrTimeRange)
			}
			for ; ticks > 0; ticks-- {
				w.out.Buf = append(w.out.Buf, 0xFF)
				w.out.Spill()
			}
			dt %= overflowTick
		}
		w.out.Buf = append(w.out.Buf, byte(dt)<<1|p, byte(x), byte(x>>8), byte(y), byte(y>>8))
		w.out.Spill()
		w.last = t
		w.n++
	}
	return w.out.Err()
}

// Close flushes and moves the file into place.
func (w *Writer) Close() error { return w.out.Close(nil) }

// Abort discards the output.
func (w *Writer) Abort() { w.out.Abort() }
