// Package columns turns numeric columns read from container files (HDF5 datasets, MATLAB variables) into
// events, with one set of rules for every such format: times scaled from their unit to µs (integers
// exactly, with an overflow check; floats rounded to the nearest µs), an optional offset, x and y checked
// to fit 0…65535 (optionally y flipped within the sensor's height), polarity accepted as 0/1, -1/+1 or
// bool. A value that breaks a rule stops the conversion at that event with an error naming it; nothing
// is clamped or dropped silently.
package columns

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
)

// Values is one decoded column: integers or floats, or a constant for every event.
type Values struct {
	Ints    []int64
	Floats  []float64
	Const   int64
	IsConst bool
}

// Constant returns a column holding v for every event.
func Constant(v int64) Values { return Values{Const: v, IsConst: true} }

// Spec says how columns become events.
type Spec struct {
	TimeExp    int   // t is in units of 10^TimeExp µs (s: 6, ms: 3, us: 0, ns: -3)
	TimeOffset int64 // µs added to every time after scaling
	FlipY      int   // when > 0, y becomes FlipY-1-y (a bottom-left origin turned top-left)
}

// TimeUnits maps the -O time-unit names onto powers of ten relative to a microsecond.
var TimeUnits = map[string]int{"us": 0, "µs": 0, "ms": 3, "s": 6, "ns": -3}

// ParseUnit parses a time-unit option.
func ParseUnit(s string) (int, error) {
	e, ok := TimeUnits[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		return 0, fmt.Errorf("time-unit %q: want us, ms, s or ns", s)
	}
	return e, nil
}

// ParseConst reports whether an option value is a number (a constant column) rather than a path.
func ParseConst(s string) (int64, bool) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return v, err == nil
}

var pow10 = [...]float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// Append converts the first n values of each column into events appended to dst. It returns how many
// were appended: n, or the index of the first bad value together with an error naming it.
func Append(dst *events.Batch, t, x, y, p Values, n int, s Spec) (int, error) {
	start := dst.Len()
	T, X, Y, P := dst.Extend(n)
	done, err := fill(T, X, Y, P, t, x, y, p, n, s)
	dst.Truncate(start + done)
	return done, err
}

func fill(T []int64, X, Y []uint16, P []uint8, t, x, y, p Values, n int, s Spec) (int, error) {
	bad := n
	var err error
	setBad := func(i int, format string, a ...any) {
		if i < bad {
			bad, err = i, fmt.Errorf("event %d: "+format, append([]any{i}, a...)...)
		}
	}
	// time
	switch {
	case t.IsConst:
		for i := range T[:n] {
			T[i] = t.Const
		}
	case t.Floats != nil:
		scale := math.Pow(10, float64(s.TimeExp))
		for i, v := range t.Floats[:n] {
			f := math.Round(v * scale)
			if !(f >= -(1<<62) && f < 1<<62) {
				setBad(i, "t = %g is not a time in range", v)
				break
			}
			T[i] = int64(f)
		}
	default:
		ints := t.Ints[:n]
		switch e := s.TimeExp; {
		case e == 0:
			copy(T, ints)
		case e > 0:
			m := int64(pow10[e])
			for i, v := range ints {
				if v > math.MaxInt64/m || v < math.MinInt64/m {
					setBad(i, "t = %d overflows int64 µs", v)
					break
				}
				T[i] = v * m
			}
		default:
			d := int64(pow10[-e])
			for i, v := range ints {
				q, r := v/d, v%d
				if 2*r >= d {
					q++
				} else if 2*r <= -d {
					q--
				}
				T[i] = q
			}
		}
	}
	if s.TimeOffset != 0 {
		for i := range T[:min(n, bad)] {
			v := T[i] + s.TimeOffset
			if (s.TimeOffset > 0) != (v > T[i]) {
				setBad(i, "t + offset %d overflows int64 µs", s.TimeOffset)
				break
			}
			T[i] = v
		}
	}
	coord := func(name string, c Values, out []uint16, flip int) {
		limit := int64(math.MaxUint16)
		if flip > 0 {
			limit = int64(flip - 1)
		}
		conv := func(i int, v int64) bool {
			if v < 0 || v > limit {
				if flip > 0 {
					setBad(i, "%s = %d lies outside the sensor's %d rows", name, v, flip)
				} else {
					setBad(i, "%s = %d does not fit 0..65535", name, v)
				}
				return false
			}
			if flip > 0 {
				v = int64(flip-1) - v
			}
			out[i] = uint16(v)
			return true
		}
		switch {
		case c.IsConst:
			for i := range out[:n] {
				if !conv(i, c.Const) {
					return
				}
			}
		case c.Floats != nil:
			for i, v := range c.Floats[:n] {
				if v != math.Trunc(v) || !(v >= 0 && v < 1<<20) {
					setBad(i, "%s = %g is not a pixel coordinate", name, v)
					return
				}
				if !conv(i, int64(v)) {
					return
				}
			}
		default:
			if flip == 0 {
				for i, v := range c.Ints[:n] {
					if uint64(v) > math.MaxUint16 {
						setBad(i, "%s = %d does not fit 0..65535", name, v)
						return
					}
					out[i] = uint16(v)
				}
				return
			}
			for i, v := range c.Ints[:n] {
				if !conv(i, v) {
					return
				}
			}
		}
	}
	coord("x", x, X, 0)
	coord("y", y, Y, s.FlipY)
	pol := func(i int, v int64) bool {
		switch v {
		case 1:
			P[i] = 1
		case 0, -1:
			P[i] = 0
		default:
			setBad(i, "p = %d is not a polarity (0/1, -1/+1 or a bool)", v)
			return false
		}
		return true
	}
	switch {
	case p.IsConst:
		for i := range P[:n] {
			if !pol(i, p.Const) {
				break
			}
		}
	case p.Floats != nil:
		for i, v := range p.Floats[:n] {
			if v != math.Trunc(v) || !pol(i, int64(v)) {
				if v != math.Trunc(v) {
					setBad(i, "p = %g is not a polarity", v)
				}
				break
			}
		}
	default:
		for i, v := range p.Ints[:n] {
			if !pol(i, v) {
				break
			}
		}
	}
	return bad, err
}
