package npy

import (
	"fmt"
	"strings"
)

// scalar is a NumPy scalar type code such as '<i8', '|u1', '?' or '>f4'.
type scalar struct {
	kind      byte // 'i' signed, 'u' unsigned, 'f' float, 'b' bool
	size      int  // bytes
	bigEndian bool
}

func parseScalar(code string) (scalar, error) {
	c := code
	var s scalar
	if c != "" && strings.IndexByte("<>|=", c[0]) >= 0 {
		s.bigEndian = c[0] == '>'
		c = c[1:]
	}
	switch c {
	case "?", "b1":
		return scalar{kind: 'b', size: 1}, nil
	case "i1", "u1", "b", "B":
		s.kind, s.size = 'i', 1
		if c[0] == 'u' || c == "B" {
			s.kind = 'u'
		}
		return s, nil
	case "i2", "i4", "i8", "u2", "u4", "u8", "f4", "f8":
		s.kind, s.size = c[0], int(c[1]-'0')
		return s, nil
	}
	return s, fmt.Errorf("dtype %q is not an integer, float or bool type evtool reads", code)
}

// field is one column of the records: where it lies and how it is stored.
type field struct {
	role   int // colT… or colSkip
	offset int
	typ    scalar
}

// layout is how events lie in the data section: fixed-size records with one field per role.
type layout struct {
	itemSize int
	fields   [4]field // indexed by role
	count    int64    // records, from the shape
}

// canonical reports whether the records are exactly what Writer writes: t <i8, x <u2, y <u2, p u1,
// packed in that order (the fast path).
func (l *layout) canonical() bool {
	want := [4]field{
		{colT, 0, scalar{'i', 8, false}}, {colX, 8, scalar{'u', 2, false}},
		{colY, 10, scalar{'u', 2, false}}, {colP, 12, scalar{'u', 1, false}},
	}
	return l.itemSize == recordSize && l.fields == want
}

// Column roles.
const (
	colSkip = -1
	colT    = 0
	colX    = 1
	colY    = 2
	colP    = 3
)

var roleNames = [4]string{"t", "x", "y", "p"}

// aliases maps lower-case field names onto roles.
var aliases = map[string]int{
	"t": colT, "ts": colT, "time": colT, "times": colT, "timestamp": colT, "timestamps": colT,
	"x": colX, "y": colY,
	"p": colP, "pol": colP, "polarity": colP, "polarities": colP, "on": colP,
}

// parseHeader turns the header dict into a layout. columns (from -O columns) orders the columns of a
// plain 2-D array; nil means t,x,y,p.
func parseHeader(text string, columns []int) (*layout, error) {
	v, err := parseLiteral(text)
	if err != nil {
		return nil, err
	}
	d, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the header is not a dict")
	}
	if fo, ok := d["fortran_order"].(bool); !ok {
		return nil, fmt.Errorf("the header has no fortran_order True/False")
	} else if fo {
		return nil, fmt.Errorf("the array is in Fortran (column-major) order; save it with numpy.ascontiguousarray first")
	}
	shape, ok := d["shape"].(pyTuple)
	if !ok {
		return nil, fmt.Errorf("the header has no shape tuple")
	}
	dims := make([]int64, len(shape))
	for i, s := range shape {
		n, ok := s.(int64)
		if !ok || n < 0 {
			return nil, fmt.Errorf("shape %v: want non-negative integers", shape)
		}
		dims[i] = n
	}
	l := &layout{}
	switch descr := d["descr"].(type) {
	case []any:
		if len(dims) != 1 {
			return nil, fmt.Errorf("a structured array must be 1-D; shape is %v", dims)
		}
		l.count = dims[0]
		if err := l.structured(descr); err != nil {
			return nil, err
		}
	case string:
		typ, err := parseScalar(descr)
		if err != nil {
			return nil, err
		}
		if columns == nil {
			columns = []int{colT, colX, colY, colP}
		}
		if len(dims) >= 3 {
			return nil, fmt.Errorf("a %d-D array holds tensors, not events (evtool info and render read it)", len(dims))
		}
		if len(dims) != 2 || dims[1] != int64(len(columns)) {
			return nil, fmt.Errorf("a plain array must have shape (N, %d) with columns %s; shape is %v",
				len(columns), columnNames(columns), dims)
		}
		l.count, l.itemSize = dims[0], typ.size*len(columns)
		for i, r := range columns {
			if r != colSkip {
				l.fields[r] = field{role: r, offset: i * typ.size, typ: typ}
			}
		}
	default:
		return nil, fmt.Errorf("the header's descr is neither a type code nor a list of fields")
	}
	if l.itemSize <= 0 || l.itemSize > 1<<16 {
		return nil, fmt.Errorf("records of %d bytes are not event records", l.itemSize)
	}
	return l, nil
}

// structured reads a list of (name, type) fields; fields evtool does not know are skipped, nested or
// sub-array fields are refused.
func (l *layout) structured(descr []any) error {
	seen := [4]bool{}
	off := 0
	for _, f := range descr {
		tup, ok := f.(pyTuple)
		if !ok || len(tup) < 2 {
			return fmt.Errorf("field %v: want a (name, type) pair", f)
		}
		name, ok1 := tup[0].(string)
		code, ok2 := tup[1].(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("field %v: want a (name, type code) pair; nested records are not supported", f)
		}
		if len(tup) > 2 {
			return fmt.Errorf("field %q is a sub-array; evtool reads scalar fields only", name)
		}
		size, err := fieldSize(code)
		if err != nil {
			return fmt.Errorf("field %q: %w", name, err)
		}
		if role, known := aliases[strings.ToLower(name)]; known && !seen[role] {
			typ, err := parseScalar(code)
			if err != nil {
				return fmt.Errorf("field %q: %w", name, err)
			}
			seen[role] = true
			l.fields[role] = field{role: role, offset: off, typ: typ}
		}
		off += size
	}
	for r, ok := range seen {
		if !ok {
			return fmt.Errorf("the records have no %s field (want fields t, x, y, p or aliases such as timestamp, polarity)", roleNames[r])
		}
	}
	l.itemSize = off
	return nil
}

// fieldSize is the size of any plain field, even one evtool skips (e.g. a '<f4' or an 'S8' label).
func fieldSize(code string) (int, error) {
	c := strings.TrimLeft(code, "<>|=")
	if s, err := parseScalar(code); err == nil {
		return s.size, nil
	}
	if len(c) >= 2 && strings.IndexByte("iufcSUVbmM", c[0]) >= 0 {
		n := 0
		for _, d := range c[1:] {
			if d < '0' || d > '9' || n > 1<<16 {
				return 0, fmt.Errorf("unknown type code %q", code)
			}
			n = n*10 + int(d-'0')
		}
		if c[0] == 'U' {
			n *= 4
		}
		if c[0] == 'm' || c[0] == 'M' {
			n = 8
		}
		return n, nil
	}
	return 0, fmt.Errorf("unknown type code %q", code)
}

func columnNames(cols []int) string {
	names := make([]string, len(cols))
	for i, r := range cols {
		names[i] = "-"
		if r != colSkip {
			names[i] = roleNames[r]
		}
	}
	return strings.Join(names, ",")
}
