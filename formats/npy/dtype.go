package npy

import (
	"fmt"
	"strings"

	"github.com/evtool/evtool/internal/npyarray"
)

// scalar is a field's type code as npyarray parses it, in the form the column decoders read.
type scalar struct {
	kind      byte // 'i' signed, 'u' unsigned, 'f' float, 'b' bool
	size      int  // bytes
	bigEndian bool
}

func parseScalar(code string) (scalar, error) {
	s, err := npyarray.ParseScalar(code)
	return scalar{kind: s.Kind, size: s.Size, bigEndian: s.BigEndian}, err
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

// layoutOf turns a parsed header into a layout. columns (from -O columns) orders the columns of a plain
// 2-D array; nil means t,x,y,p.
func layoutOf(hd *npyarray.Header, columns []int) (*layout, error) {
	dims := hd.Shape
	l := &layout{}
	switch descr := hd.Descr.(type) {
	case []any:
		if len(dims) != 1 {
			return nil, fmt.Errorf("a structured array must be 1-D; shape is %v", dims)
		}
		l.count = dims[0]
		if err := l.structured(hd); err != nil {
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

// structured maps the fields of a structured array onto the event columns by name; fields evtool does
// not know are skipped.
func (l *layout) structured(hd *npyarray.Header) error {
	rec, err := hd.Record()
	if err != nil {
		return err
	}
	seen := [4]bool{}
	for _, f := range rec.Fields {
		if role, known := aliases[strings.ToLower(f.Name)]; known && !seen[role] {
			typ, err := parseScalar(f.Code)
			if err != nil {
				return fmt.Errorf("field %q: %w", f.Name, err)
			}
			seen[role] = true
			l.fields[role] = field{role: role, offset: f.Offset, typ: typ}
		}
	}
	for r, ok := range seen {
		if !ok {
			return fmt.Errorf("the records have no %s field (want fields t, x, y, p or aliases such as timestamp, polarity)", roleNames[r])
		}
	}
	l.itemSize = rec.Size
	return nil
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
