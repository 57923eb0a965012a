package prophesee

import (
	"encoding/binary"
	"io"
	"os"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
)

// DAT event types (the byte after the header).
const (
	datEvent2D   = 0x00
	datEventCD   = 0x0C
	datTrigger   = 0x0E
	datEventSize = 8
)

// DATReader streams CD events from a Prophesee `.dat` file, versions 1 and 2.
type DATReader struct {
	in        *input.Input
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
	dataByte int64 // offset of the first record

	opts    formats.Options
	watch   formats.DecodeWatch
	badPolW formats.Watch
}

// OpenDAT opens a DAT file for streaming.
func OpenDAT(path string, o formats.Options) (*DATReader, error) {
	return input.Open(path, func(f *os.File) (*DATReader, error) { return NewDATReader(f, path, o) })
}

// NewDATReader reads a DAT stream from r (closed by Close when it is an io.Closer); name is used in errors.
func NewDATReader(r io.Reader, name string, o formats.Options) (*DATReader, error) {
	rd := &DATReader{in: input.New(r, name), opts: o, watch: formats.NewDecodeWatch(name),
		badPolW: formats.NewWatch(name, formats.Lost, "records with a polarity other than 0 or 1 dropped")}
	in := rd.in
	hdr, err := readHeader(in)
	if err != nil {
		return nil, err
	}
	rd.hdr = hdr
	rd.version = 2
	if v, ok := hdr.get("version"); ok {
		switch strings.TrimSpace(v) {
		case "1":
			rd.version = 1
		case "2":
		default:
			return nil, in.Errorf(0, nil, "DAT version %q is not supported (want 1 or 2)", v)
		}
	}
	if in.Fill(2) < 2 {
		if err := in.Err(); err != nil {
			return nil, err
		}
		return nil, in.Truncated(in.Offset(), "file ends before the 2-byte event type and size")
	}
	typ, size := in.Bytes()[0], in.Bytes()[1]
	if size != datEventSize {
		return nil, in.Errorf(in.Offset()+1, nil, "event size is %d bytes, want 8", size)
	}
	switch typ {
	case datEvent2D, datEventCD:
	case datTrigger:
		return nil, in.Errorf(in.Offset(), nil, "this DAT file holds external triggers (type 0x0E), not CD events; evtool reads CD DAT files only")
	default:
		return nil, in.Errorf(in.Offset(), nil, "unknown DAT event type 0x%02X (want 0x00 Event2D or 0x0C EventCD)", typ)
	}
	rd.eventType = typ
	in.Advance(2)
	rd.dataByte = in.Offset()
	rd.geom, rd.geomFrom = hdr.geometry(o.Sensor)
	if rd.geom = o.HeaderSensor(name, "the header's "+rd.geomFrom, rd.geom); !rd.geom.Known() {
		rd.geomFrom = ""
	}
	rd.maxX, rd.maxY = limit(rd.geom)
	return rd, nil
}

// Meta describes the stream; geometry comes from the header or --sensor (N-CARS files have neither: the
// caller infers it from the extent).
func (r *DATReader) Meta() events.Meta {
	m := events.Meta{Format: "dat", Kind: events.KindRecording, Geometry: r.geom, Source: r.in.Name()}
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
func (r *DATReader) Close() error { return r.in.Close() }

// Read fills dst with the next events.
func (r *DATReader) Read(dst *events.Batch) error {
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
		b := in.Bytes()
		avail := len(b) / datEventSize * datEventSize
		if avail == 0 {
			if in.Fill(datEventSize) < datEventSize {
				break
			}
			continue
		}
		var used int
		n, used = r.decode(b[:avail], T, X, Y, P, n)
		in.Advance(used)
	}
	dst.T, dst.X, dst.Y, dst.P = T[:n], X[:n], Y[:n], P[:n]
	err := r.watch.Check(r.opts, r.dropped, r.clamped, off)
	if err == nil {
		err = r.badPolW.Check(r.opts, r.badPol, off)
	}
	if err != nil {
		in.Fail(err)
	}
	if n > 0 {
		return nil
	}
	return in.End("an 8-byte DAT record")
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
