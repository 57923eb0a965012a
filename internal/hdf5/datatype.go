package hdf5

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// Class is a datatype class.
type Class uint8

// The datatype classes of the specification.
const (
	ClassInteger   Class = 0
	ClassFloat     Class = 1
	ClassTime      Class = 2
	ClassString    Class = 3
	ClassBitfield  Class = 4
	ClassOpaque    Class = 5
	ClassCompound  Class = 6
	ClassReference Class = 7
	ClassEnum      Class = 8
	ClassVLen      Class = 9
	ClassArray     Class = 10
)

var classNames = [...]string{"integer", "float", "time", "string", "bitfield", "opaque", "compound",
	"reference", "enum", "variable-length", "array"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class %d", c)
}

// Datatype describes the elements of a dataset or attribute.
type Datatype struct {
	Class     Class
	Size      int // bytes per element in the file
	Signed    bool
	BigEndian bool
	// VLenString marks a variable-length string (Class VLen); Base is then the character type.
	VLenString bool
	// Base is the element type of a VLen sequence, an Enum or an Array.
	Base *Datatype
	// Members of a compound type, in file order.
	Members []Member
	// Dims of an array type.
	Dims []int
	// EnumNames and EnumValues of an enumeration (values in Base's encoding).
	EnumNames  []string
	EnumValues [][]byte
	// StringPad of a fixed string: 0 NUL-terminated, 1 NUL-padded, 2 space-padded.
	StringPad uint8
}

// Member is one field of a compound type.
type Member struct {
	Name   string
	Offset int
	Type   *Datatype
}

func (t *Datatype) String() string {
	switch t.Class {
	case ClassInteger:
		if t.Signed {
			return fmt.Sprintf("int%d", 8*t.Size)
		}
		return fmt.Sprintf("uint%d", 8*t.Size)
	case ClassFloat:
		return fmt.Sprintf("float%d", 8*t.Size)
	case ClassString:
		return fmt.Sprintf("string[%d]", t.Size)
	case ClassVLen:
		if t.VLenString {
			return "vlen string"
		}
		return "vlen " + t.Base.String()
	case ClassEnum:
		return "enum " + t.Base.String()
	case ClassArray:
		return fmt.Sprintf("array%v of %s", t.Dims, t.Base)
	case ClassCompound:
		var parts []string
		for _, m := range t.Members {
			parts = append(parts, m.Name+":"+m.Type.String())
		}
		return "compound{" + strings.Join(parts, ", ") + "}"
	case ClassReference:
		return "object reference"
	}
	return t.Class.String()
}

// Member returns the compound member called name.
func (t *Datatype) Member(name string) (Member, bool) {
	for _, m := range t.Members {
		if m.Name == name {
			return m, true
		}
	}
	return Member{}, false
}

// Numeric reports whether values of t convert to numbers (integers, floats, enums of integers).
func (t *Datatype) Numeric() bool {
	switch t.Class {
	case ClassInteger, ClassFloat:
		return true
	case ClassEnum:
		return t.Base.Numeric()
	}
	return false
}

// parseDatatype decodes a datatype message body.
func (f *File) parseDatatype(c *cursor, depth int) (*Datatype, error) {
	if depth > maxTypeNest {
		return nil, f.errAt(c.off(), "datatype nested deeper than %d", maxTypeNest)
	}
	start := c.off()
	cv := c.u8()
	class, version := Class(cv&0x0f), cv>>4
	b0, b1, b2 := c.u8(), c.u8(), c.u8()
	size := int(c.u32())
	if c.err != nil {
		return nil, c.err
	}
	bits := uint32(b0) | uint32(b1)<<8 | uint32(b2)<<16
	if version < 1 || version > 5 {
		return nil, f.errAt(start, "datatype version %d (want 1–5)", version)
	}
	t := &Datatype{Class: class, Size: size}
	if size <= 0 || size > 1<<24 {
		if class != ClassVLen && class != ClassReference {
			return nil, f.errAt(start+4, "%s datatype of %d bytes", class, size)
		}
	}
	switch class {
	case ClassInteger:
		t.BigEndian, t.Signed = bits&1 != 0, bits&8 != 0
		off, prec := int(c.u16()), int(c.u16())
		if c.err != nil {
			return nil, c.err
		}
		if size != 1 && size != 2 && size != 4 && size != 8 {
			return nil, f.unsupported(start, "%d-byte integers", size)
		}
		if off != 0 || prec != 8*size {
			return nil, f.unsupported(start, "integers of %d bits at bit offset %d in %d bytes", prec, off, size)
		}
	case ClassFloat:
		if bits&0x40 != 0 {
			return nil, f.unsupported(start, "VAX-order floats")
		}
		t.BigEndian = bits&1 != 0
		off, prec := int(c.u16()), int(c.u16())
		eLoc, eSize, mLoc, mSize := int(c.u8()), int(c.u8()), int(c.u8()), int(c.u8())
		bias := c.u32()
		sign := int(bits>>8) & 0xff
		if c.err != nil {
			return nil, c.err
		}
		std := map[int][5]int{2: {5, 10, 15, 15, 10}, 4: {8, 23, 127, 31, 23}, 8: {11, 52, 1023, 63, 52}}
		want, ok := std[size]
		if !ok || off != 0 || prec != 8*size || mLoc != 0 || eSize != want[0] || mSize != want[1] ||
			int(bias) != want[2] || sign != want[3] || eLoc != want[4] {
			return nil, f.unsupported(start, "a %d-byte float with exponent %d bits at %d, mantissa %d bits (only IEEE half, single and double)",
				size, eSize, eLoc, mSize)
		}
	case ClassString:
		t.StringPad = uint8(bits & 0x0f)
	case ClassCompound:
		n := int(bits & 0xffff)
		if n == 0 || n > c.left() {
			return nil, f.errAt(start, "compound datatype with %d members in %d bytes", n, c.left())
		}
		for i := 0; i < n; i++ {
			var m Member
			switch version {
			case 1, 2:
				nameStart := c.pos
				m.Name = c.cstring(-1)
				// the name and its NUL, padded to a multiple of 8 from the start of the name
				c.pos = nameStart
				c.skip((len(m.Name) + 8) &^ 7)
				m.Offset = int(c.u32())
				if version == 1 {
					ndims := int(c.u8())
					c.skip(3 + 4 + 4)
					dims := make([]int, 0, 4)
					for k := 0; k < 4; k++ {
						d := int(c.u32())
						if k < ndims {
							dims = append(dims, d)
						}
					}
					mt, err := f.parseDatatype(c, depth+1)
					if err != nil {
						return nil, err
					}
					if ndims > 0 {
						mt = &Datatype{Class: ClassArray, Base: mt, Dims: dims, Size: mt.Size * product(dims)}
					}
					m.Type = mt
				}
			default:
				nameStart := c.pos
				m.Name = c.cstring(-1)
				c.pos = nameStart
				c.skip(len(m.Name) + 1)
				m.Offset = int(c.uvar(limitEncSize(uint64(size))))
			}
			if c.err != nil {
				return nil, c.err
			}
			if m.Type == nil {
				mt, err := f.parseDatatype(c, depth+1)
				if err != nil {
					return nil, err
				}
				m.Type = mt
			}
			if m.Offset < 0 || m.Offset+m.Type.Size > size {
				return nil, f.errAt(start, "compound member %q (offset %d, %d bytes) overruns the %d-byte element", m.Name, m.Offset, m.Type.Size, size)
			}
			t.Members = append(t.Members, m)
		}
	case ClassReference:
		kind := bits & 0x0f
		if version >= 4 || kind != 0 {
			return nil, f.unsupported(start, "region and revised (HDF5 1.12) references")
		}
		t.Size = f.offSize
	case ClassEnum:
		n := int(bits & 0xffff)
		base, err := f.parseDatatype(c, depth+1)
		if err != nil {
			return nil, err
		}
		if base.Class != ClassInteger {
			return nil, f.unsupported(start, "enumeration over %s", base)
		}
		t.Base, t.Signed, t.BigEndian = base, base.Signed, base.BigEndian
		if n > c.left() {
			return nil, f.errAt(start, "enumeration with %d members in %d bytes", n, c.left())
		}
		for i := 0; i < n; i++ {
			nameStart := c.pos
			name := c.cstring(-1)
			c.pos = nameStart
			if version < 3 {
				c.skip((len(name) + 8) &^ 7)
			} else {
				c.skip(len(name) + 1)
			}
			t.EnumNames = append(t.EnumNames, name)
		}
		for i := 0; i < n; i++ {
			t.EnumValues = append(t.EnumValues, c.bytes(base.Size))
		}
		if c.err != nil {
			return nil, c.err
		}
	case ClassVLen:
		t.VLenString = bits&0x0f == 1
		base, err := f.parseDatatype(c, depth+1)
		if err != nil {
			return nil, err
		}
		t.Base = base
		t.Size = 4 + f.offSize + 4 // length, global heap collection address, object index
	case ClassArray:
		nd := int(c.u8())
		if version < 3 {
			c.skip(3)
		}
		if nd == 0 || nd > maxRank {
			return nil, f.errAt(start, "array datatype of rank %d", nd)
		}
		for i := 0; i < nd; i++ {
			t.Dims = append(t.Dims, int(c.u32()))
		}
		if version < 3 {
			c.skip(4 * nd) // permutation indices
		}
		base, err := f.parseDatatype(c, depth+1)
		if err != nil {
			return nil, err
		}
		t.Base = base
		if p := product(t.Dims); p <= 0 || base.Size*p != size {
			return nil, f.errAt(start, "array datatype %v of %d-byte elements does not fill %d bytes", t.Dims, base.Size, size)
		}
	default:
		return nil, f.unsupported(start, "%s datatypes", class)
	}
	if c.err != nil {
		return nil, c.err
	}
	return t, nil
}

func product(d []int) int {
	p := 1
	for _, v := range d {
		if v < 0 || (v > 0 && p > math.MaxInt32/v) {
			return -1
		}
		p *= v
	}
	return p
}

// half converts an IEEE 754 half-precision value.
func half(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * mant * math.Pow(2, -24)
	case 0x1f:
		if mant == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * (1 + mant/1024) * math.Pow(2, float64(exp-15))
}

// halfTable maps every half-precision bit pattern to its value (decoding float16 columns is a lookup).
var halfTable = func() *[65536]float64 {
	var t [65536]float64
	for i := range t {
		t[i] = half(uint16(i))
	}
	return &t
}()

// HalfToFloat64 converts an IEEE 754 half-precision bit pattern.
func HalfToFloat64(h uint16) float64 { return halfTable[h] }

func (t *Datatype) order() binary.ByteOrder {
	if t.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// numeric returns the integer or float type behind t (an enum's base), or an error naming what t is.
func (t *Datatype) numeric() (*Datatype, error) {
	if t.Class == ClassEnum {
		return t.Base, nil
	}
	if t.Class == ClassInteger || t.Class == ClassFloat {
		return t, nil
	}
	return nil, fmt.Errorf("%s values are not numbers", t)
}

// span checks that n values of t's numeric type, stride bytes apart, fit src and a destination of
// dstLen values, and returns that numeric type.
func (t *Datatype) span(src []byte, stride, n, dstLen int) (*Datatype, error) {
	nt, err := t.numeric()
	if err != nil {
		return nil, err
	}
	if n > dstLen || (n > 0 && (stride < nt.Size || (n-1)*stride+nt.Size > len(src))) {
		return nil, fmt.Errorf("%d values of %d bytes with stride %d do not fit %d bytes", n, nt.Size, stride, len(src))
	}
	return nt, nil
}

// Int64s converts n elements of type t, the first at src[0] and each stride bytes after the previous,
// to int64. Floats must hold whole numbers; unsigned values above 2⁶³−1 are refused. It returns the index
// of the first value that cannot be represented with the error.
func (t *Datatype) Int64s(src []byte, stride, n int, dst []int64) (int, error) {
	nt, err := t.span(src, stride, n, len(dst))
	if err != nil {
		return 0, err
	}
	o := nt.order()
	switch {
	case nt.Class == ClassFloat:
		fs := make([]float64, n)
		if _, err := nt.Float64s(src, stride, n, fs); err != nil {
			return 0, err
		}
		for i, v := range fs {
			if v != math.Trunc(v) || !(v >= -(1<<63) && v < 1<<63) {
				return i, fmt.Errorf("value %g is not a whole number", v)
			}
			dst[i] = int64(v)
		}
	case nt.Size == 1 && nt.Signed:
		for i := 0; i < n; i++ {
			dst[i] = int64(int8(src[i*stride]))
		}
	case nt.Size == 1:
		for i := 0; i < n; i++ {
			dst[i] = int64(src[i*stride])
		}
	case nt.Size == 2 && nt.Signed:
		for i := 0; i < n; i++ {
			dst[i] = int64(int16(o.Uint16(src[i*stride:])))
		}
	case nt.Size == 2:
		for i := 0; i < n; i++ {
			dst[i] = int64(o.Uint16(src[i*stride:]))
		}
	case nt.Size == 4 && nt.Signed:
		for i := 0; i < n; i++ {
			dst[i] = int64(int32(o.Uint32(src[i*stride:])))
		}
	case nt.Size == 4:
		for i := 0; i < n; i++ {
			dst[i] = int64(o.Uint32(src[i*stride:]))
		}
	case nt.Signed:
		for i := 0; i < n; i++ {
			dst[i] = int64(o.Uint64(src[i*stride:]))
		}
	default:
		for i := 0; i < n; i++ {
			v := o.Uint64(src[i*stride:])
			if v > math.MaxInt64 {
				return i, fmt.Errorf("value %d does not fit an int64", v)
			}
			dst[i] = int64(v)
		}
	}
	return n, nil
}

// Float64s converts n numeric elements (integers or floats) to float64; see Int64s for src and stride.
func (t *Datatype) Float64s(src []byte, stride, n int, dst []float64) (int, error) {
	nt, err := t.span(src, stride, n, len(dst))
	if err != nil {
		return 0, err
	}
	o := nt.order()
	if nt.Class == ClassFloat {
		switch nt.Size {
		case 2:
			for i := 0; i < n; i++ {
				dst[i] = halfTable[o.Uint16(src[i*stride:])]
			}
		case 4:
			for i := 0; i < n; i++ {
				dst[i] = float64(math.Float32frombits(o.Uint32(src[i*stride:])))
			}
		default:
			for i := 0; i < n; i++ {
				dst[i] = math.Float64frombits(o.Uint64(src[i*stride:]))
			}
		}
		return n, nil
	}
	if nt.Size == 8 && !nt.Signed {
		for i := 0; i < n; i++ {
			dst[i] = float64(o.Uint64(src[i*stride:]))
		}
		return n, nil
	}
	tmp := make([]int64, n)
	if _, err := nt.Int64s(src, stride, n, tmp); err != nil {
		return 0, err
	}
	for i, v := range tmp {
		dst[i] = float64(v)
	}
	return n, nil
}

// FixedString decodes one fixed-length string element, dropping its padding.
func (t *Datatype) FixedString(b []byte) string {
	switch t.StringPad {
	case 0, 1:
		if i := strings.IndexByte(string(b), 0); i >= 0 {
			b = b[:i]
		}
	case 2:
		return strings.TrimRight(string(b), " ")
	}
	return string(b)
}
