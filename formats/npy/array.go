package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/evtool/evtool/events"
)

// Header is what a .npy file's header says about its array, for readers of arrays that are not events
// (label files, masks): shape, element layout, and where the data starts.
type Header struct {
	Shape      []int64
	Fields     []Field // a structured array's fields in order (padding included); nil for a plain array
	Type       Type    // a plain array's element type
	ItemSize   int     // bytes per element (a whole record for a structured array)
	DataOffset int64   // file offset of the first element
}

// Type is a scalar NumPy type. Kind is 'i', 'u', 'f' or 'b', or 0 for a type evtool does not decode
// (strings, voids, complex…), which can still be skipped by its Size.
type Type struct {
	Kind      byte
	Size      int
	BigEndian bool
	Code      string // as the header writes it, e.g. "<f4"
}

// Field is one field of a structured array.
type Field struct {
	Name   string
	Offset int // bytes from the start of the record
	Type   Type
}

// Count is the number of elements the shape announces, or -1 when that overflows an int64.
func (h *Header) Count() int64 {
	n := int64(1)
	for _, d := range h.Shape {
		if d != 0 && n > math.MaxInt64/d {
			return -1
		}
		n *= d
	}
	return n
}

// Field returns the first field whose name is one of names (compared without case).
func (h *Header) Field(names ...string) (Field, bool) {
	for _, f := range h.Fields {
		for _, n := range names {
			if strings.EqualFold(f.Name, n) {
				return f, true
			}
		}
	}
	return Field{}, false
}

// ReadHeader reads the preamble and header dict of a .npy file from r, leaving r at the first element.
// Errors are *events.DecodeError values naming name and the byte offset.
func ReadHeader(r io.Reader, name string) (*Header, error) {
	var pre [12]byte
	if _, err := io.ReadFull(r, pre[:10]); err != nil {
		return nil, &events.DecodeError{Path: name, Offset: 0, Msg: "file ends inside the .npy preamble", Err: events.ErrTruncated}
	}
	if string(pre[:6]) != Magic {
		return nil, &events.DecodeError{Path: name, Offset: 0, Msg: `not a .npy file (want the magic "\x93NUMPY")`}
	}
	var hlen, start int64
	switch pre[6] {
	case 1:
		hlen, start = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		if _, err := io.ReadFull(r, pre[10:12]); err != nil {
			return nil, &events.DecodeError{Path: name, Offset: 10, Msg: "file ends inside the .npy preamble", Err: events.ErrTruncated}
		}
		hlen, start = int64(binary.LittleEndian.Uint32(pre[8:12])), 12
	default:
		return nil, &events.DecodeError{Path: name, Offset: 6, Msg: fmt.Sprintf("NPY format version %d.%d is not 1, 2 or 3", pre[6], pre[7])}
	}
	if hlen > maxHeader {
		return nil, &events.DecodeError{Path: name, Offset: 8, Msg: fmt.Sprintf("header of %d bytes is larger than %d", hlen, maxHeader)}
	}
	text := make([]byte, hlen)
	if _, err := io.ReadFull(r, text); err != nil {
		return nil, &events.DecodeError{Path: name, Offset: start, Msg: "file ends inside the .npy header", Err: events.ErrTruncated}
	}
	h, err := ParseHeader(string(text))
	if err != nil {
		return nil, &events.DecodeError{Path: name, Offset: start, Msg: "bad .npy header", Err: err}
	}
	h.DataOffset = start + hlen
	return h, nil
}

// ParseHeader reads the header dict text ({'descr': …, 'fortran_order': …, 'shape': …}). Fortran-order
// arrays of more than one dimension are refused.
func ParseHeader(text string) (*Header, error) {
	v, err := parseLiteral(text)
	if err != nil {
		return nil, err
	}
	d, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the header is not a dict")
	}
	shape, ok := d["shape"].(pyTuple)
	if !ok {
		return nil, fmt.Errorf("the header has no shape tuple")
	}
	h := &Header{Shape: make([]int64, len(shape))}
	for i, s := range shape {
		n, ok := s.(int64)
		if !ok || n < 0 {
			return nil, fmt.Errorf("shape %v: want non-negative integers", shape)
		}
		h.Shape[i] = n
	}
	if fo, ok := d["fortran_order"].(bool); !ok {
		return nil, fmt.Errorf("the header has no fortran_order True/False")
	} else if fo && len(h.Shape) > 1 {
		return nil, fmt.Errorf("the array is in Fortran (column-major) order; save it with numpy.ascontiguousarray first")
	}
	switch descr := d["descr"].(type) {
	case string:
		h.Type, h.ItemSize, err = typeOf(descr)
	case []any:
		for _, f := range descr {
			tup, ok := f.(pyTuple)
			if !ok || len(tup) != 2 {
				return nil, fmt.Errorf("field %v: want a (name, type code) pair; nested and sub-array fields are not supported", f)
			}
			name, ok1 := tup[0].(string)
			code, ok2 := tup[1].(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("field %v: want a (name, type code) pair; nested records are not supported", f)
			}
			t, size, err := typeOf(code)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", name, err)
			}
			h.Fields = append(h.Fields, Field{Name: name, Offset: h.ItemSize, Type: t})
			if h.ItemSize += size; h.ItemSize > 1<<20 {
				return nil, fmt.Errorf("records of more than 1 MiB")
			}
		}
	default:
		return nil, fmt.Errorf("the header's descr is neither a type code nor a list of fields")
	}
	return h, err
}

// typeOf decodes a type code: a scalar evtool reads, or any other plain type by its size alone.
func typeOf(code string) (Type, int, error) {
	if s, err := parseScalar(code); err == nil {
		return Type{Kind: s.kind, Size: s.size, BigEndian: s.bigEndian, Code: code}, s.size, nil
	}
	size, err := fieldSize(code)
	return Type{Size: size, Code: code}, size, err
}

func (t Type) bits(b []byte) uint64 {
	var order binary.ByteOrder = binary.LittleEndian
	if t.BigEndian {
		order = binary.BigEndian
	}
	switch t.Size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(order.Uint16(b))
	case 4:
		return uint64(order.Uint32(b))
	default:
		return order.Uint64(b)
	}
}

// Int reads an integer or bool value from b (len(b) >= t.Size); ok is false for other kinds and for
// unsigned values above math.MaxInt64.
func (t Type) Int(b []byte) (v int64, ok bool) {
	raw := t.bits(b)
	switch t.Kind {
	case 'b':
		if raw != 0 {
			return 1, true
		}
		return 0, true
	case 'u':
		return int64(raw), raw <= math.MaxInt64
	case 'i':
		shift := 64 - 8*t.Size
		return int64(raw<<shift) >> shift, true
	}
	return 0, false
}

// Float reads any numeric value from b as a float64; ok is false for types that are not numbers.
func (t Type) Float(b []byte) (v float64, ok bool) {
	switch t.Kind {
	case 'f':
		if t.Size == 4 {
			return float64(math.Float32frombits(uint32(t.bits(b)))), true
		}
		return math.Float64frombits(t.bits(b)), true
	case 'u':
		return float64(t.bits(b)), true
	case 'i', 'b':
		i, _ := t.Int(b)
		return float64(i), true
	}
	return 0, false
}
