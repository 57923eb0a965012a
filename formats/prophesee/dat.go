package prophesee

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// DAT event types (the byte after the header).
const (
	datEvent2D   = 0x00
	datEventCD   = 0x0C
	datTrigger   = 0x0E
	datEventSize = 8
)

// DATReader streams CD events from a Prophesee `.dat` file, versions 1 and 2 (FORMATS.md §4.4).
type DATReader struct {
	in        input
	hdr       header
	version   int
	eventType byte
	geom      events.Geometry
	geomFrom  string
	maxX      uint32
	maxY      uint32

	lastRaw  uint32
	base     int64
	last     int64
	records  int64
	dropped  int64
	clamped  int64
	wraps    int64
	badPol   int64
	done     bool
	dataByte int64 // offset of the first record
}

// OpenDAT opens a DAT file for streaming.
func OpenDAT(path string, o formats.Options) (*DATReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewDATReader(f, path, o, defaultBuffer)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// NewDATReader reads a DAT stream from rc with a bufSize-byte buffer; name is used in errors.
func NewDATReader(rc io.ReadCloser, name string, o formats.Options, bufSize int) (*DATReader, error) {
	r := &DATReader{in: input{name: name, f: rc, buf: make([]byte, max(bufSize, 16))}}
	hdr, err := readHeader(&r.in)
	if err != nil {
		return nil, err
	}
	r.hdr = hdr
	r.version = 2
	if v, ok := hdr.get("version"); ok {
		switch strings.TrimSpace(v) {
		case "1":
			r.version = 1
		case "2":
		default:
			return nil, &events.DecodeError{Path: name, Offset: 0, Msg: fmt.Sprintf("DAT version %q is not supported (want 1 or 2)", v)}
		}
	}
	for r.in.w-r.in.r < 2 && !r.in.eof {
		r.in.fill()
	}
	if r.in.w-r.in.r < 2 {
		return nil, &events.DecodeError{Path: name, Offset: r.in.offset(), Msg: "file ends before the 2-byte event type and size", Err: events.ErrTruncated}
	}
	typ, size := r.in.buf[r.in.r], r.in.buf[r.in.r+1]
	if size != datEventSize {
		return nil, &events.DecodeError{Path: name, Offset: r.in.offset() + 1, Msg: fmt.Sprintf("event size is %d bytes, want 8", size)}
	}
	switch typ {
	case datEvent2D, datEventCD:
	case datTrigger:
		return nil, &events.DecodeError{Path: name, Offset: r.in.offset(), Msg: "this DAT file holds external triggers (type 0x0E), not CD events; evtool reads CD DAT files only"}
	default:
		return nil, &events.DecodeError{Path: name, Offset: r.in.offset(), Msg: fmt.Sprintf("unknown DAT event type 0x%02X (want 0x00 Event2D or 0x0C EventCD)", typ)}
	}
	r.eventType = typ
	r.in.r += 2
	r.dataByte = r.in.offset()
	r.geom, r.geomFrom = hdr.geometry(o.Sensor)
	r.maxX, r.maxY = limit(r.geom)
	return r, nil
}

// Meta describes the stream; geometry comes from the header or --sensor (N-CARS files have neither: the
// caller infers it from the extent).
func (r *DATReader) Meta() events.Meta {
	m := events.Meta{Format: "dat", Kind: events.KindRecording, Geometry: r.geom, Source: r.in.name}
	m.SetExtra("header_bytes", r.hdr.bytes)
	m.SetExtra("version", r.version)
	m.SetExtra("event_type", int(r.eventType))
	m.SetExtra("event_size", datEventSize)
	if r.geomFrom != "" {
		m.SetExtra("geometry_from", r.geomFrom)
	}
	if v, ok := r.hdr.get("date"); ok {
		m.SetExtra("date", v)
	}
	m.SetExtra("records", r.records)
	m.SetExtra("out_of_range", r.dropped)
	m.SetExtra("time_clamped", r.clamped)
	m.SetExtra("time_wraps", r.wraps)
	m.SetExtra("bad_polarity", r.badPol)
	return m
}

// Close closes the file.
func (r *DATReader) Close() error {
	if c, ok := r.in.f.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Read fills dst with the next events.
func (r *DATReader) Read(dst *events.Batch) error {
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
		avail := (r.in.w - r.in.r) / datEventSize * datEventSize
		if avail == 0 {
			if r.in.eof {
				break
			}
			r.in.fill()
			continue
		}
		var used int
		n, used = r.decode(r.in.buf[r.in.r:r.in.r+avail], T, X, Y, P, n)
		r.in.r += used
	}
	dst.T, dst.X, dst.Y, dst.P = T[:n], X[:n], Y[:n], P[:n]
	if n > 0 {
		return nil
	}
	r.done = true
	if r.in.err != nil {
		return r.in.err
	}
	if rem := r.in.w - r.in.r; rem > 0 {
		return &events.DecodeError{Path: r.in.name, Offset: r.in.offset(),
			Msg: fmt.Sprintf("file ends inside an 8-byte DAT record (%d trailing bytes)", rem), Err: events.ErrTruncated}
	}
	return io.EOF
}

// decode is the hot loop over whole 8-byte records.
func (r *DATReader) decode(src []byte, T []int64, X, Y []uint16, P []uint8, n int) (int, int) {
	xm, ys, ym, ps := uint32(0x3FFF), uint32(14), uint32(0x3FFF), uint32(28)
	if r.version == 1 {
		xm, ys, ym, ps = 0x1FF, 9, 0xFF, 17
	}
	maxX, maxY := r.maxX, r.maxY
	last, base, lastRaw := r.last, r.base, r.lastRaw
	// Counters and bounds live in locals and equal-length slices so the loop body has no pointer writes
	// and no bounds checks.
	var wraps, clamped, badPol, dropped int64
	m := len(T)
	X, Y, P = X[:m], Y[:m], P[:m]
	i := 0
	for ; i+datEventSize <= len(src) && n < m; i += datEventSize {
		rec := src[i : i+datEventSize : i+datEventSize]
		raw := binary.LittleEndian.Uint32(rec[0:4])
		d := binary.LittleEndian.Uint32(rec[4:8])
		if raw < lastRaw && lastRaw-raw > 1<<31 {
			base += 1 << 32
			wraps++
		}
		lastRaw = raw
		t := base + int64(raw)
		if t < last {
			t = last
			clamped++
		}
		last = t
		x, y, p := d&xm, d>>ys&ym, d>>ps&0xF
		if p > 1 {
			badPol++
			continue
		}
		if x >= maxX || y >= maxY {
			dropped++
			continue
		}
		T[n], X[n], Y[n], P[n] = t, uint16(x), uint16(y), uint8(p)
		n++
	}
	r.wraps += wraps
	r.clamped += clamped
	r.badPol += badPol
	r.dropped += dropped
	r.last, r.base, r.lastRaw = last, base, lastRaw
	r.records += int64(i / datEventSize)
	return n, i
}
