package hdf5

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"unsafe"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/columns"
	h5 "github.com/evtool/evtool/internal/hdf5"
)

// vcol is one role of a sample dataset: a variable-length dataset (one sequence per sample) or a constant.
type vcol struct {
	spec   colSpec
	d      *h5.Dataset
	base   *h5.Datatype
	float  bool
	ints   []int64
	floats []float64
}

// SampleReader serves the elements of variable-length datasets as samples (SHD, SSC).
type SampleReader struct {
	f      *h5.File
	path   string
	meta   events.Meta
	cols   [4]*vcol
	spec   columns.Spec
	n      int
	labels []int64
	half   *halfTimes // float16 times (SHD, SSC): decoded by table
	closer io.Closer  // what the file was read from
}

// halfTimes maps every float16 bit pattern to its time in µs, rounded, so that decoding SHD's spike
// times is one lookup per event; patterns that are no time (NaN, ±Inf, out of range) map to noTime.
type halfTimes struct {
	us [65536]int64 // noTime where the pattern is no time
}

// noTime marks the float16 patterns that are no time: no time converts to it (columns.Append refuses
// times that far from zero), and one table instead of two halves the lookups' cache misses.
const noTime = math.MinInt64

// lastHalf keeps the table last built: a dataset conversion opens the file once per worker and chunk,
// always with the same spec, and each table costs 65,536 conversions (20 % of the CPU of preparing SHD
// when it was built at every open). The table is read-only once built.
var lastHalf struct {
	sync.Mutex
	spec columns.Spec
	h    *halfTimes
}

func halfTimesFor(spec columns.Spec) *halfTimes {
	lastHalf.Lock()
	defer lastHalf.Unlock()
	if lastHalf.h == nil || lastHalf.spec != spec {
		lastHalf.spec, lastHalf.h = spec, newHalfTimes(spec)
	}
	return lastHalf.h
}

func newHalfTimes(spec columns.Spec) *halfTimes {
	h := &halfTimes{}
	var b events.Batch
	for i := range h.us {
		v := columns.Values{Floats: []float64{h5.HalfToFloat64(uint16(i))}}
		b.Reset()
		h.us[i] = noTime
		if _, err := columns.Append(&b, v, columns.Constant(0), columns.Constant(0), columns.Constant(0), 1, spec); err == nil {
			h.us[i] = b.T[0]
		}
	}
	return h
}

func openSamples(f *h5.File, path string, l layout, spec columns.Spec, meta events.Meta) (*SampleReader, error) {
	r := &SampleReader{f: f, path: path, meta: meta, spec: spec, n: -1}
	r.meta.Kind = events.KindDataset
	var from string
	for i, c := range l.cols {
		vc := &vcol{spec: c}
		r.cols[i] = vc
		if c.isConst {
			continue
		}
		if c.member != "" || c.index != 0 {
			return nil, fmt.Errorf("%s: %s: columns of variable-length samples are whole datasets (no :member or [k])", path, c)
		}
		d, err := f.Dataset(c.path)
		if err != nil {
			return nil, err
		}
		if d.Type.Class != h5.ClassVLen || d.Type.VLenString || !d.Type.Base.Numeric() {
			return nil, fmt.Errorf("%s: %s holds %s; the columns of a sample dataset must all be variable-length numbers", path, c.path, d.Type)
		}
		if err := d.CheckFilters(); err != nil {
			return nil, err
		}
		d.FillMissing = false
		vc.d, vc.base = d, d.Type.Base
		vc.float = vc.base.Class == h5.ClassFloat
		if i == 0 && l.timeAuto && vc.float {
			r.spec.TimeExp = 6 // seconds
		}
		if n := int(d.Len()); r.n < 0 {
			r.n, from = n, c.path
		} else if n != r.n {
			return nil, fmt.Errorf("%s: %s holds %d samples but %s holds %d", path, c.path, n, from, r.n)
		}
	}
	if l.label != "" {
		d, err := f.Dataset(l.label)
		if err != nil {
			return nil, err
		}
		if r.labels, err = d.Int64s(); err != nil {
			return nil, err
		}
		if len(r.labels) != r.n {
			return nil, fmt.Errorf("%s: %s holds %d labels for %d samples", path, l.label, len(r.labels), r.n)
		}
	}
	if l.classes != "" {
		d, err := f.Dataset(l.classes)
		if err != nil {
			return nil, err
		}
		if r.meta.Classes, err = d.Strings(); err != nil {
			return nil, err
		}
	}
	for i, lab := range r.labels {
		if lab < 0 || (r.meta.Classes != nil && lab >= int64(len(r.meta.Classes))) || lab > 1<<31-1 {
			return nil, fmt.Errorf("%s: sample %d has label %d outside its %d classes", path, i, lab, len(r.meta.Classes))
		}
	}
	r.meta.SetExtra("samples", r.n)
	if t, x := r.cols[0], r.cols[1]; !t.spec.isConst && t.base.Class == h5.ClassFloat && t.base.Size == 2 &&
		!x.spec.isConst && x.base.Class == h5.ClassInteger && x.base.Size == 2 && !x.base.Signed &&
		x.base.BigEndian == t.base.BigEndian && r.cols[2].spec.isConst && r.cols[3].spec.isConst && r.spec.FlipY == 0 {
		r.half = halfTimesFor(r.spec)
	}
	return r, nil
}

// NumSamples is the number of samples.
func (r *SampleReader) NumSamples() int { return r.n }

// Meta describes the dataset.
func (r *SampleReader) Meta() events.Meta { return r.meta }

// Close closes the file.
func (r *SampleReader) Close() error { return closeAll(r.f, r.closer) }

// ReadSample decodes sample i: element i of every column; its id is i, its label labels[i].
func (r *SampleReader) ReadSample(i int, dst *events.Sample) error {
	dst.Reset()
	if i < 0 || i >= r.n {
		return fmt.Errorf("%s: sample %d does not exist (%d samples)", r.path, i, r.n)
	}
	dst.ID = strconv.Itoa(i)
	if r.labels != nil {
		dst.Label = int32(r.labels[i])
	}
	if r.half != nil {
		return r.readHalf(i, dst)
	}
	n := -1
	var vals [4]columns.Values
	for k, c := range r.cols {
		if c.spec.isConst {
			vals[k] = columns.Constant(c.spec.value)
			continue
		}
		raw, cnt, err := c.d.VLen(uint64(i))
		if err != nil {
			return err
		}
		if n >= 0 && cnt != n {
			return &events.DecodeError{Path: r.path, Offset: c.d.Offset(),
				Msg: fmt.Sprintf("sample %d: %s holds %d values but %s holds %d", i, c.spec, cnt, r.cols[0].spec, n)}
		}
		n = cnt
		if c.float {
			c.floats = grow(c.floats, cnt)
			if _, err := c.base.Float64s(raw, c.base.Size, cnt, c.floats); err != nil {
				return err
			}
			vals[k] = columns.Values{Floats: c.floats}
		} else {
			c.ints = grow(c.ints, cnt)
			if _, err := c.base.Int64s(raw, c.base.Size, cnt, c.ints); err != nil {
				return err
			}
			vals[k] = columns.Values{Ints: c.ints}
		}
	}
	if _, err := columns.Append(&dst.Events, vals[0], vals[1], vals[2], vals[3], max(n, 0), r.spec); err != nil {
		return &events.DecodeError{Path: r.path, Offset: r.cols[0].d.Offset(), Msg: fmt.Sprintf("sample %d: %v", i, err)}
	}
	return nil
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// readHalf is ReadSample for float16 times and uint16 x with constant y and p (SHD's layout): a table
// lookup per time and a byte swap per x. The times are decoded before x is read, because the next heap
// read may reuse their bytes.
func (r *SampleReader) readHalf(i int, dst *events.Sample) error {
	tc, xc := r.cols[0], r.cols[1]
	y, p := r.cols[2].spec.value, r.cols[3].spec.value
	if y < 0 || y > 65535 || (p != 0 && p != 1 && p != -1) {
		return fmt.Errorf("%s: constant y = %d or p = %d is not an event's", r.path, y, p)
	}
	traw, n, err := tc.d.VLen(uint64(i))
	if err != nil {
		return err
	}
	T, X, Y, P := dst.Events.Extend(n)
	traw = traw[:2*n]
	us := &r.half.us
	le := !tc.base.BigEndian
	for k := range T {
		h := uint16(traw[2*k+1])<<8 | uint16(traw[2*k])
		if !le {
			h = h>>8 | h<<8
		}
		v := us[h]
		if v == noTime {
			dst.Events.Truncate(k)
			return &events.DecodeError{Path: r.path, Offset: tc.d.Offset(),
				Msg: fmt.Sprintf("sample %d: event %d: t = %v is not a time", i, k, h5.HalfToFloat64(h))}
		}
		T[k] = v
	}
	xraw, xn, err := xc.d.VLen(uint64(i))
	if err != nil {
		dst.Events.Truncate(0)
		return err
	}
	if xn != n {
		dst.Events.Truncate(0)
		return &events.DecodeError{Path: r.path, Offset: xc.d.Offset(),
			Msg: fmt.Sprintf("sample %d: %s holds %d values but %s holds %d", i, xc.spec, xn, tc.spec, n)}
	}
	xraw = xraw[:2*n]
	switch {
	case le && hostLittleEndian && n > 0:
		// The file's bytes are X's in memory: a copy, 5× faster than decoding them one by one.
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&X[0])), 2*n), xraw)
	case le:
		for k := range X {
			X[k] = uint16(xraw[2*k+1])<<8 | uint16(xraw[2*k])
		}
	default:
		for k := range X {
			X[k] = uint16(xraw[2*k])<<8 | uint16(xraw[2*k+1])
		}
	}
	pol := uint8(0)
	if p == 1 {
		pol = 1
	}
	// Filled as memory (cleared, or doubled by copies), not event by event: 15× faster.
	fill(Y, uint16(y))
	fill(P, pol)
	return nil
}

// hostLittleEndian tells whether this machine stores a uint16's low byte first.
var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// fill sets every element of s to v.
func fill[T uint8 | uint16](s []T, v T) {
	if v == 0 || len(s) == 0 {
		clear(s)
		return
	}
	s[0] = v
	for i := 1; i < len(s); i *= 2 {
		copy(s[i:], s[:i])
	}
}
