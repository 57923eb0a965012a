// Package npyarray parses NumPy .npy arrays: the preamble, the header dict (a Python literal, parsed
// without evaluation), scalar type codes, and small 2-D arrays read as pixel masks. It is a leaf that
// imports nothing of evtool, so formats/npy (events in .npy files) and transforms (mask files) share
// one parser without the transforms depending on the format layer.
package npyarray

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// Magic starts every .npy file.
const Magic = "\x93NUMPY"

// MaxHeader bounds the header dict (numpy itself refuses more than 10,000 bytes by default).
const MaxHeader = 1 << 16

// Header is a parsed .npy header of a C-order array.
type Header struct {
	// Descr is the dtype: a type code string such as '<i8', or, for a structured array, a list ([]any)
	// of (name, type code[, shape]) Tuples.
	Descr any
	Shape []int64
	// DictOffset is where the header dict starts (after the preamble), DataOffset where the array data
	// starts (after the dict).
	DictOffset, DataOffset int64
}

// Tuple is a Python tuple of the header; lists are []any.
type Tuple []any

// HeaderError is a preamble or header that is not a valid .npy header, at a byte offset of the file.
type HeaderError struct {
	Offset    int64
	Msg       string
	Truncated bool // the data ends inside the preamble or the header
	Err       error
}

func (e *HeaderError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("offset %d: %s: %v", e.Offset, e.Msg, e.Err)
	}
	return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg)
}

func (e *HeaderError) Unwrap() error { return e.Err }

// ReadHeader reads the preamble (format versions 1.0, 2.0 and 3.0) and the header dict from r, which must
// be at the start of the file, and leaves r at the first byte of the data. Arrays in Fortran order are
// refused. Errors are *HeaderError.
func ReadHeader(r io.Reader) (*Header, error) {
	var buf []byte
	return ReadHeaderFrom(func(n int) ([]byte, bool) {
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		_, err := io.ReadFull(r, buf)
		return buf, err == nil
	})
}

// ReadHeaderFrom is ReadHeader over next, which returns the file's next n bytes (valid until the next call)
// or false when the file ends first: a decoder's buffered input reads the header in place.
func ReadHeaderFrom(next func(n int) ([]byte, bool)) (*Header, error) {
	pre, ok := next(10)
	if !ok {
		return nil, &HeaderError{Offset: 0, Msg: "file ends inside the .npy preamble", Truncated: true}
	}
	if string(pre[:6]) != Magic {
		return nil, &HeaderError{Offset: 0, Msg: `not a .npy file (want the magic "\x93NUMPY")`}
	}
	major, minor := pre[6], pre[7]
	hlen, start := int64(binary.LittleEndian.Uint16(pre[8:10])), int64(10)
	switch major {
	case 1:
	case 2, 3:
		hi, ok := next(2)
		if !ok {
			return nil, &HeaderError{Offset: 10, Msg: "file ends inside the .npy preamble", Truncated: true}
		}
		hlen, start = hlen|int64(binary.LittleEndian.Uint16(hi))<<16, 12
	default:
		return nil, &HeaderError{Offset: 6, Msg: fmt.Sprintf("NPY format version %d.%d is not 1, 2 or 3", major, minor)}
	}
	if hlen > MaxHeader {
		return nil, &HeaderError{Offset: 8, Msg: fmt.Sprintf("header of %d bytes is larger than %d", hlen, MaxHeader)}
	}
	text, ok := next(int(hlen))
	if !ok {
		return nil, &HeaderError{Offset: start, Msg: "file ends inside the .npy header", Truncated: true}
	}
	h, err := parseHeader(string(text))
	if err != nil {
		return nil, &HeaderError{Offset: start, Msg: "bad .npy header", Err: err}
	}
	h.DictOffset, h.DataOffset = start, start+hlen
	return h, nil
}

// AppendHeader appends the preamble of format version major (1, or 2 and 3 for dicts past 64 KiB) and the
// header dict, padded with spaces and a newline to a multiple of 64 bytes as numpy pads it.
func AppendHeader(b []byte, major byte, dict string) []byte {
	pre := 10
	if major > 1 {
		pre = 12
	}
	total := (pre + len(dict) + 1 + 63) / 64 * 64
	b = append(b, Magic...)
	b = append(b, major, 0)
	if n := total - pre; major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(n))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
	}
	b = append(b, dict...)
	for range total - pre - len(dict) - 1 {
		b = append(b, ' ')
	}
	return append(b, '\n')
}

// parseHeader checks the header dict: a C-order array with a shape of non-negative integers.
func parseHeader(text string) (*Header, error) {
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
	shape, ok := d["shape"].(Tuple)
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
	return &Header{Descr: d["descr"], Shape: dims}, nil
}

// Scalar is a NumPy scalar type code such as '<i8', '|u1', '?' or '>f4'.
type Scalar struct {
	Kind      byte // 'i' signed, 'u' unsigned, 'f' float, 'b' bool
	Size      int  // bytes
	BigEndian bool
}

// ParseScalar reads an integer, float or bool type code.
func ParseScalar(code string) (Scalar, error) {
	c := code
	var s Scalar
	if c != "" && strings.IndexByte("<>|=", c[0]) >= 0 {
		s.BigEndian = c[0] == '>'
		c = c[1:]
	}
	switch c {
	case "?", "b1":
		return Scalar{Kind: 'b', Size: 1}, nil
	case "i1", "u1", "b", "B":
		s.Kind, s.Size = 'i', 1
		if c[0] == 'u' || c == "B" {
			s.Kind = 'u'
		}
		return s, nil
	case "i2", "i4", "i8", "u2", "u4", "u8", "f4", "f8":
		s.Kind, s.Size = c[0], int(c[1]-'0')
		return s, nil
	}
	return s, fmt.Errorf("dtype %q is not an integer, float or bool type evtool reads", code)
}

// FieldSize is the size in bytes of any plain field type, even one evtool does not read (a '<c8', an
// 'S8' label, a datetime).
func FieldSize(code string) (int, error) {
	c := strings.TrimLeft(code, "<>|=")
	if s, err := ParseScalar(code); err == nil {
		return s.Size, nil
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
