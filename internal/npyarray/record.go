package npyarray

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// Field is one field of a structured array's records: where it lies and how it is stored.
type Field struct {
	Name   string
	Offset int    // bytes from the start of the record
	Code   string // the type code as the header writes it, e.g. '<f4' or '|S8'
	// Type is the decoded scalar type; Kind is 0 for a type evtool does not decode (strings, complex
	// numbers, dates), whose Size is still right, so that the fields after it are found.
	Type Scalar
}

// Record is the layout of a structured array's records: its fields in order, padding included, and the
// record size.
type Record struct {
	Fields []Field
	Size   int
}

// maxRecord bounds a record: no array evtool reads has records of more than a few dozen bytes.
const maxRecord = 1 << 20

// Record reads the header's structured dtype, a list of (name, type code) fields. Sub-array fields
// ('p', 'u1', (2,)) and nested records are refused.
func (h *Header) Record() (*Record, error) {
	descr, ok := h.Descr.([]any)
	if !ok {
		return nil, fmt.Errorf("the array is not structured (its dtype is %v, not a list of fields)", h.Descr)
	}
	r := &Record{Fields: make([]Field, 0, len(descr))}
	for _, f := range descr {
		tup, ok := f.(Tuple)
		if !ok || len(tup) < 2 {
			return nil, fmt.Errorf("field %v: want a (name, type) pair", f)
		}
		name, ok1 := tup[0].(string)
		code, ok2 := tup[1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("field %v: want a (name, type code) pair; nested records are not supported", f)
		}
		if len(tup) > 2 {
			return nil, fmt.Errorf("field %q is a sub-array; evtool reads scalar fields only", name)
		}
		size, err := FieldSize(code)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", name, err)
		}
		typ, err := ParseScalar(code)
		if err != nil {
			typ = Scalar{Size: size}
		}
		r.Fields = append(r.Fields, Field{Name: name, Offset: r.Size, Code: code, Type: typ})
		if r.Size += size; r.Size > maxRecord {
			return nil, fmt.Errorf("records of more than %d bytes", maxRecord)
		}
	}
	return r, nil
}

// Field returns the first field whose name is one of names (compared without case).
func (r *Record) Field(names ...string) (Field, bool) {
	for _, f := range r.Fields {
		for _, n := range names {
			if strings.EqualFold(f.Name, n) {
				return f, true
			}
		}
	}
	return Field{}, false
}

// Names lists the field names, for messages.
func (r *Record) Names() string {
	names := make([]string, len(r.Fields))
	for i, f := range r.Fields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
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

func (s Scalar) bits(b []byte) uint64 {
	var order binary.ByteOrder = binary.LittleEndian
	if s.BigEndian {
		order = binary.BigEndian
	}
	switch s.Size {
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

// Int reads an integer or bool value from b (len(b) >= s.Size); ok is false for other kinds and for
// unsigned values above math.MaxInt64.
func (s Scalar) Int(b []byte) (v int64, ok bool) {
	switch s.Kind {
	case 'b':
		if s.bits(b) != 0 {
			return 1, true
		}
		return 0, true
	case 'u':
		raw := s.bits(b)
		return int64(raw), raw <= math.MaxInt64
	case 'i':
		shift := 64 - 8*s.Size
		return int64(s.bits(b)<<shift) >> shift, true
	}
	return 0, false
}

// Float reads any numeric value from b as a float64; ok is false for types that are not numbers.
func (s Scalar) Float(b []byte) (v float64, ok bool) {
	switch s.Kind {
	case 'f':
		if s.Size == 4 {
			return float64(math.Float32frombits(uint32(s.bits(b)))), true
		}
		return math.Float64frombits(s.bits(b)), true
	case 'u':
		return float64(s.bits(b)), true
	case 'i', 'b':
		i, _ := s.Int(b)
		return float64(i), true
	}
	return 0, false
}
