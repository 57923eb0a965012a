package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/npyarray"
)

// readHeader parses the preamble and header dict. It returns the layout and the size of the preamble,
// i.e. the file offset of the first record.
func readHeader(r io.Reader, path string, ro readOptions) (*layout, int64, error) {
	hd, err := readArrayHeader(r, path)
	if err != nil {
		return nil, 0, err
	}
	l, err := layoutOf(hd, ro.columns)
	if err != nil {
		return nil, 0, &events.DecodeError{Path: path, Offset: hd.DictOffset, Msg: "bad .npy header", Err: err}
	}
	return l, hd.DataOffset, nil
}

// readArrayHeader reads the preamble and the header dict of any array, its faults as DecodeErrors of path.
func readArrayHeader(r io.Reader, path string) (*npyarray.Header, error) {
	hd, err := npyarray.ReadHeader(r)
	var he *npyarray.HeaderError
	if errors.As(err, &he) {
		de := &events.DecodeError{Path: path, Offset: he.Offset, Msg: he.Msg, Err: he.Err}
		if he.Truncated {
			de.Err = events.ErrTruncated
		}
		return nil, de
	}
	return hd, err
}

// decoder turns whole records into events.
type decoder struct {
	l       *layout
	timeExp int
	vals    [4][]int64 // per-role scratch of the generic path
}

// decode appends the events of the n records in recs to dst. It stops at the first record with a value
// that is not an event and returns its index and what is wrong (bad == n when all are good).
func (d *decoder) decode(recs []byte, n int, dst *events.Batch) (bad int, msg string) {
	start := dst.Len()
	dst.Grow(n)
	T, X, Y, P := dst.T[start:start+n], dst.X[start:start+n], dst.Y[start:start+n], dst.P[start:start+n]
	bad = n
	if d.l.canonical() && d.timeExp == 0 {
		for i := 0; i < n; i++ {
			rec := recs[i*recordSize : i*recordSize+recordSize : i*recordSize+recordSize]
			if rec[12] > 1 {
				bad, msg = i, fmt.Sprintf("p = %d is not a polarity (0 or 1)", rec[12])
				break
			}
			T[i] = int64(binary.LittleEndian.Uint64(rec))
			X[i] = binary.LittleEndian.Uint16(rec[8:])
			Y[i] = binary.LittleEndian.Uint16(rec[10:])
			P[i] = rec[12]
		}
	} else {
		bad, msg = d.generic(recs, n, T, X, Y, P)
	}
	dst.T, dst.X, dst.Y, dst.P = dst.T[:start+bad], dst.X[:start+bad], dst.Y[:start+bad], dst.P[:start+bad]
	return bad, msg
}

// generic decodes any layout column by column: one type switch per column per chunk, not per event.
func (d *decoder) generic(recs []byte, n int, T []int64, X, Y []uint16, P []uint8) (int, string) {
	bad, msg := n, ""
	for r := range d.vals {
		if cap(d.vals[r]) < n {
			d.vals[r] = make([]int64, n)
		}
		v := d.vals[r][:n]
		exp := 0
		if r == colT {
			exp = d.timeExp
		}
		if b, m := column(recs, n, d.l.itemSize, d.l.fields[r], exp, v); b < bad {
			bad, msg = b, m
		}
		switch r {
		case colT:
			copy(T, v)
		case colX, colY:
			dstc := X
			if r == colY {
				dstc = Y
			}
			for i := 0; i < bad; i++ {
				if uint64(v[i]) > math.MaxUint16 {
					bad, msg = i, fmt.Sprintf("%s = %d does not fit 0..65535", roleNames[r], v[i])
					break
				}
				dstc[i] = uint16(v[i])
			}
		case colP:
			for i := 0; i < bad; i++ {
				switch v[i] {
				case 1:
					P[i] = 1
				case 0, -1:
					P[i] = 0
				default:
					bad, msg = i, fmt.Sprintf("p = %d is not a polarity (0/1, -1/+1 or a bool)", v[i])
				}
			}
		}
	}
	return bad, msg
}

// column reads one field of n records as int64 (times scaled to µs by 10^exp and rounded). It returns
// the index of the first value that cannot be represented, or n.
func column(recs []byte, n, stride int, f field, exp int, out []int64) (int, string) {
	name := roleNames[f.role]
	for i := 0; i < n; i++ {
		b := recs[i*stride+f.offset : i*stride+f.offset+f.typ.size]
		var raw uint64
		switch f.typ.size {
		case 1:
			raw = uint64(b[0])
		case 2:
			if f.typ.bigEndian {
				raw = uint64(binary.BigEndian.Uint16(b))
			} else {
				raw = uint64(binary.LittleEndian.Uint16(b))
			}
		case 4:
			if f.typ.bigEndian {
				raw = uint64(binary.BigEndian.Uint32(b))
			} else {
				raw = uint64(binary.LittleEndian.Uint32(b))
			}
		case 8:
			if f.typ.bigEndian {
				raw = binary.BigEndian.Uint64(b)
			} else {
				raw = binary.LittleEndian.Uint64(b)
			}
		}
		var v int64
		switch f.typ.kind {
		case 'b':
			v = 0
			if raw != 0 {
				v = 1
			}
		case 'u':
			if raw > math.MaxInt64 {
				return i, fmt.Sprintf("%s = %d does not fit an int64", name, raw)
			}
			v = int64(raw)
		case 'i':
			shift := 64 - 8*f.typ.size
			v = int64(raw<<shift) >> shift // sign-extend
		case 'f':
			fv := float64(math.Float32frombits(uint32(raw)))
			if f.typ.size == 8 {
				fv = math.Float64frombits(raw)
			}
			if f.role == colT {
				fv = math.Round(fv * math.Pow10(exp))
			} else if fv != math.Trunc(fv) {
				return i, fmt.Sprintf("%s = %g is not a whole number", name, fv)
			}
			if !(fv >= -(1<<63) && fv < 1<<63) {
				return i, fmt.Sprintf("%s = %g is not a time in range", name, fv)
			}
			out[i] = int64(fv)
			continue
		}
		if f.role == colT && exp != 0 {
			var ok bool
			if v, ok = scaleTime(v, exp); !ok {
				return i, fmt.Sprintf("t = %d overflows int64 µs", v)
			}
		}
		out[i] = v
	}
	return n, ""
}

var pow10 = [...]int64{1, 10, 100, 1000, 10000, 100000, 1000000}

// scaleTime converts v units of 10^exp µs to µs, rounding half away from zero.
func scaleTime(v int64, exp int) (int64, bool) {
	if exp > 0 {
		m := pow10[exp]
		if v > math.MaxInt64/m || v < math.MinInt64/m {
			return v, false
		}
		return v * m, true
	}
	d := pow10[-exp]
	q, r := v/d, v%d
	if 2*r >= d {
		q++
	} else if 2*r <= -d {
		q--
	}
	return q, true
}

// Reader streams events from a .npy file.
type Reader struct {
	path    string
	f       io.ReadCloser
	dec     decoder
	buf     []byte
	next    int64 // index of the next record
	offset  int64 // file offset of the next record
	pending error
	done    bool
	meta    events.Meta
}

// Open opens a .npy file for streaming; o.Params may hold columns and time-unit.
func Open(path string, o formats.Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, path, o)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// NewReader reads the header from f and prepares to stream its records; name is used in errors.
func NewReader(f io.ReadCloser, name string, o formats.Options) (*Reader, error) {
	ro, err := parseReadOptions(o)
	if err != nil {
		return nil, err
	}
	l, start, err := readHeader(f, name, ro)
	if err != nil {
		return nil, err
	}
	chunk := max(1, (1<<20)/l.itemSize) * l.itemSize
	m := events.Meta{Format: "npy", Kind: events.KindRecording, Geometry: o.Sensor, Source: name}
	m.SetExtra("records", l.count)
	return &Reader{path: name, f: f, dec: decoder{l: l, timeExp: ro.timeExp}, buf: make([]byte, chunk),
		offset: start, meta: m}, nil
}

// Meta describes the stream. A .npy file carries no sensor size: it is the one given with --sensor, else
// unknown (callers use the extent of the events).
func (r *Reader) Meta() events.Meta { return r.meta }

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }

// Read fills dst with the next events (up to cap(dst.T), or 65536 when dst has no capacity).
func (r *Reader) Read(dst *events.Batch) error {
	dst.Reset()
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	size := r.dec.l.itemSize
	for dst.Len() < want && !r.done {
		left := r.dec.l.count - r.next
		if left == 0 {
			r.done = true
			break
		}
		n := int(min(int64(len(r.buf)/size), int64(want-dst.Len()), left))
		got, err := io.ReadFull(r.f, r.buf[:n*size])
		whole := got / size
		if bad, msg := r.dec.decode(r.buf, whole, dst); bad < whole {
			r.fail(r.offset+int64(bad*size), fmt.Sprintf("record %d: %s", r.next+int64(bad), msg), nil)
			break
		}
		r.next += int64(whole)
		r.offset += int64(whole * size)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				r.fail(r.offset, fmt.Sprintf("the header declares %d records; the file ends inside record %d", r.dec.l.count, r.next), events.ErrTruncated)
			} else {
				r.fail(r.offset, "read failed", err)
			}
		}
	}
	if dst.Len() > 0 {
		return nil
	}
	if r.pending != nil {
		err := r.pending
		r.pending = nil
		return err
	}
	return io.EOF
}

func (r *Reader) fail(off int64, msg string, cause error) {
	r.pending = &events.DecodeError{Path: r.path, Offset: off, Msg: msg, Err: cause}
	r.done = true
}

// Decode decodes a whole in-memory .npy file into dst (appending), with the -O options in o. It returns
// the events before any fault and a *DecodeError naming its byte offset.
func Decode(data []byte, name string, o formats.Options, dst *events.Batch) error {
	ro, err := parseReadOptions(o)
	if err != nil {
		return err
	}
	l, start, err := readHeader(&byteReader{data: data}, name, ro)
	if err != nil {
		return err
	}
	body := data[start:]
	whole := int64(len(body) / l.itemSize)
	n := int(min(whole, l.count))
	d := decoder{l: l, timeExp: ro.timeExp}
	if bad, msg := d.decode(body, n, dst); bad < n {
		return &events.DecodeError{Path: name, Offset: start + int64(bad*l.itemSize), Msg: fmt.Sprintf("record %d: %s", bad, msg)}
	}
	if int64(n) < l.count {
		return &events.DecodeError{Path: name, Offset: start + int64(n*l.itemSize), Err: events.ErrTruncated,
			Msg: fmt.Sprintf("the header declares %d records; the file ends inside record %d", l.count, n)}
	}
	return nil
}

type byteReader struct {
	data []byte
	pos  int
}

func (b *byteReader) Read(p []byte) (int, error) {
	if b.pos >= len(b.data) {
		return 0, io.EOF
	}
	n := copy(p, b.data[b.pos:])
	b.pos += n
	return n, nil
}
