package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
	"github.com/evtool/evtool/internal/npyarray"
)

// readHeader parses the preamble and header dict and returns the layout; in is left at the first record.
func readHeader(in *input.Input, ro readOptions) (*layout, error) {
	hd, err := ReadArrayHeader(in)
	if err != nil {
		return nil, err
	}
	l, err := layoutOf(hd, ro.columns)
	if err != nil {
		return nil, in.Errorf(hd.DictOffset, err, "bad .npy header")
	}
	return l, nil
}

// ReadArrayHeader reads the preamble and the header dict of any array through npyarray, its faults as
// decode errors of in; in is left at the data. Readers of arrays that are not events (box label files)
// share it.
func ReadArrayHeader(in *input.Input) (*npyarray.Header, error) {
	hd, err := npyarray.ReadHeaderFrom(in.Next)
	var he *npyarray.HeaderError
	switch {
	case errors.As(err, &he) && he.Truncated:
		return nil, headerEnd(in, he.Offset, he.Msg)
	case errors.As(err, &he):
		return nil, in.Errorf(he.Offset, he.Err, "%s", he.Msg)
	}
	return hd, err
}

// headerEnd is the error for input that ends inside the header: the read failure, else a truncation.
func headerEnd(in *input.Input, off int64, msg string) error {
	if err := in.Err(); err != nil {
		return err
	}
	return in.Truncated(off, "%s", msg)
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
	in   *input.Input
	dec  decoder
	next int64 // index of the next record
	meta events.Meta
}

// Open opens a .npy file for streaming; o.Params may hold columns and time-unit.
func Open(path string, o formats.Options) (*Reader, error) {
	return input.Open(path, func(f *os.File) (*Reader, error) { return NewReader(f, path, o) })
}

// NewReader reads the header from r (closed by Close when it is an io.Closer) and prepares to stream
// its records; name is used in errors.
func NewReader(r io.Reader, name string, o formats.Options) (*Reader, error) {
	ro, err := parseReadOptions(o)
	if err != nil {
		return nil, err
	}
	in := input.New(r, name)
	l, err := readHeader(in, ro)
	if err != nil {
		return nil, err
	}
	m := events.Meta{Format: "npy", Kind: events.KindRecording, Geometry: o.Sensor, Source: name}
	m.SetExtra("records", l.count)
	return &Reader{in: in, dec: decoder{l: l, timeExp: ro.timeExp}, meta: m}, nil
}

// Meta describes the stream. A .npy file carries no sensor size: it is the one given with --sensor, else
// unknown (callers use the extent of the events).
func (r *Reader) Meta() events.Meta { return r.meta }

// Close closes the file.
func (r *Reader) Close() error { return r.in.Close() }

// Read fills dst with the next events (up to cap(dst.T), or 65536 when dst has no capacity).
func (r *Reader) Read(dst *events.Batch) error {
	dst.Reset()
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	in := r.in
	size := r.dec.l.itemSize
	for dst.Len() < want && r.next < r.dec.l.count {
		b := in.Bytes()
		if len(b) < size {
			if in.Fill(size) < size {
				if !in.Failed() {
					in.Stop(in.Truncated(in.Offset(), "the header declares %d records; the file ends inside record %d", r.dec.l.count, r.next))
				}
				break
			}
			continue
		}
		n := int(min(int64(len(b)/size), int64(want-dst.Len()), r.dec.l.count-r.next))
		bad, msg := r.dec.decode(b, n, dst)
		in.Advance(bad * size)
		r.next += int64(bad)
		if bad < n {
			in.Stop(in.Errorf(in.Offset(), nil, "record %d: %s", r.next, msg))
			break
		}
	}
	if dst.Len() > 0 {
		return nil
	}
	if r.next == r.dec.l.count {
		return io.EOF // bytes after the last declared record are not events (numpy ignores them too)
	}
	return in.End("a record")
}

// Decode decodes a whole in-memory .npy file into dst (appending), with the -O options in o. It returns
// the events before any fault and a *DecodeError naming its byte offset.
func Decode(data []byte, name string, o formats.Options, dst *events.Batch) error {
	r, err := NewReader(bytes.NewReader(data), name, o)
	if err != nil {
		return err
	}
	b, err := events.ReadAll(r)
	dst.AppendBatch(b)
	return err
}
