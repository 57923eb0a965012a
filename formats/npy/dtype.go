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
	h, err := ParseHeader(text)
	if err != nil {
		return nil, err
	}
	l := &layout{}
	if h.Fields != nil {
		if len(h.Shape) != 1 {
			return nil, fmt.Errorf("a structured array must be 1-D; shape is %v", h.Shape)
		}
		l.count = h.Shape[0]
		if err := l.structured(h); err != nil {
			return nil, err
		}
	} else {
		if h.Type.Kind == 0 {
			return nil, fmt.Errorf("dtype %q is not an integer, float or bool type evtool reads", h.Type.Code)
		}
		typ := scalar{kind: h.Type.Kind, size: h.Type.Size, bigEndian: h.Type.BigEndian}
		if columns == nil {
			columns = []int{colT, colX, colY, colP}
		}
		if len(h.Shape) != 2 || h.Shape[1] != int64(len(columns)) {
			return nil, fmt.Errorf("a plain array must have shape (N, %d) with columns %s; shape is %v",
				len(columns), columnNames(columns), h.Shape)
		}
		l.count, l.itemSize = h.Shape[0], typ.size*len(columns)
		for i, r := range columns {
			if r != colSkip {
				l.fields[r] = field{role: r, offset: i * typ.size, typ: typ}
			}
		}
	}
	if l.itemSize <= 0 || l.itemSize > 1<<16 {
		return nil, fmt.Errorf("records of %d bytes are not event records", l.itemSize)
	}
	return l, nil
}

// structured maps the fields of a structured array onto the event columns by name; fields evtool does
// not know are skipped.
func (l *layout) structured(h *Header) error {
	seen := [4]bool{}
	for _, f := range h.Fields {
		role, known := aliases[strings.ToLower(f.Name)]
		if !known || seen[role] {
			continue
		}
		if f.Type.Kind == 0 {
			return fmt.Errorf("field %q: dtype %q is not an integer, float or bool type evtool reads", f.Name, f.Type.Code)
		}
		seen[role] = true
		l.fields[role] = field{role: role, offset: f.Offset, typ: scalar{kind: f.Type.Kind, size: f.Type.Size, bigEndian: f.Type.BigEndian}}
	}
	for r, ok := range seen {
		if !ok {
			return fmt.Errorf("the records have no %s field (want fields t, x, y, p or aliases such as timestamp, polarity)", roleNames[r])
		}
	}
	l.itemSize = h.ItemSize
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
