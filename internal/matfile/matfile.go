// Package matfile reads MATLAB .mat files without MATLAB or cgo: as far as the event datasets stored in
// them need (ST-MNIST, ASL-DVS, EBSSA) and what scipy.io.savemat writes.
//
// Supported: version 5 files (MATLAB 5 to 7.2, the default of MATLAB's save and of scipy), little- and
// big-endian, with or without miCOMPRESSED (zlib) elements; numeric matrices of every class (double,
// single, int8…uint64, logical) in any storage type MATLAB chooses (a double matrix stored as miUINT8),
// char arrays (UTF-8/16/32), cell arrays and struct arrays, nested; version 4 files (full numeric and
// text matrices); version 7.3 files, which are HDF5 and are read through internal/hdf5 (numeric, char
// and logical arrays, empty arrays, scalar structs and cell arrays of references).
//
// Refused with an error naming the feature: complex numbers, sparse matrices, MATLAB objects, function
// handles, and struct arrays in version 7.3 files.
//
// Guarantees on hostile input: every tag's size is checked against the bytes that hold it before
// anything is allocated; a matrix's element count must match its data; decompression stops at the size
// the compressed element's own tag announces and memory grows with the bytes really inflated, never with
// a number read from the file; nesting is limited to 64 levels. Faults are *events.DecodeError values
// naming the file and the byte offset (for compressed elements: of the compressed element).
//
// Variables are indexed when the file is opened and decoded one at a time by Read, so memory holds one
// variable, not the whole file.
package matfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/klauspost/compress/zlib"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/hdf5"
	"github.com/evtool/evtool/internal/readerat"
)

// ErrUnsupported is wrapped by errors about valid MATLAB data this reader refuses.
var ErrUnsupported = errors.New("not supported by evtool's MAT-file reader")

// Class is a MATLAB array class.
type Class int

// MATLAB array classes (mxCLASS values of the version 5 format).
const (
	Cell    Class = 1
	Struct  Class = 2
	Object  Class = 3
	Char    Class = 4
	Sparse  Class = 5
	Double  Class = 6
	Single  Class = 7
	Int8    Class = 8
	Uint8   Class = 9
	Int16   Class = 10
	Uint16  Class = 11
	Int32   Class = 12
	Uint32  Class = 13
	Int64   Class = 14
	Uint64  Class = 15
	Logical Class = 100 // stored as uint8 with the logical flag; evtool's own value
)

var classNames = map[Class]string{Cell: "cell", Struct: "struct", Object: "object", Char: "char", Sparse: "sparse",
	Double: "double", Single: "single", Int8: "int8", Uint8: "uint8", Int16: "int16", Uint16: "uint16",
	Int32: "int32", Uint32: "uint32", Int64: "int64", Uint64: "uint64", Logical: "logical"}

func (c Class) String() string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return fmt.Sprintf("class %d", int(c))
}

// Numeric reports whether arrays of class c hold numbers.
func (c Class) Numeric() bool { return c >= Double && c <= Uint64 || c == Logical }

// Var is one decoded MATLAB array.
type Var struct {
	Name  string
	Class Class
	Dims  []int // MATLAB's dimensions (at least two); elements are in column-major order
	// Floats holds double and single arrays; Ints holds integer and logical arrays.
	Floats []float64
	Ints   []int64
	// Text holds a char array's characters in column-major order.
	Text []rune
	// Cells holds a cell array's elements in column-major order.
	Cells []*Var
	// Fields names a struct's fields; Elems[i][j] is field j of element i (column-major).
	Fields []string
	Elems  [][]*Var
}

// Len is the number of elements.
func (v *Var) Len() int {
	n := 1
	for _, d := range v.Dims {
		n *= d
	}
	return n
}

// Float64s returns the values of a numeric array as float64.
func (v *Var) Float64s() ([]float64, error) {
	switch {
	case v.Floats != nil || (v.Class == Double || v.Class == Single):
		return v.Floats, nil
	case v.Class.Numeric():
		out := make([]float64, len(v.Ints))
		for i, x := range v.Ints {
			out[i] = float64(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is a %s array, not numbers", v.Name, v.Class)
}

// Int64s returns the values of a numeric array as int64; floats must be whole numbers.
func (v *Var) Int64s() ([]int64, error) {
	if !v.Class.Numeric() {
		return nil, fmt.Errorf("%s is a %s array, not numbers", v.Name, v.Class)
	}
	if v.Floats == nil && v.Class != Double && v.Class != Single {
		return v.Ints, nil
	}
	out := make([]int64, len(v.Floats))
	for i, x := range v.Floats {
		if x != math.Trunc(x) || !(x >= -(1<<63) && x < 1<<63) {
			return nil, fmt.Errorf("%s element %d = %g is not a whole number", v.Name, i, x)
		}
		out[i] = int64(x)
	}
	return out, nil
}

// String returns a char array as a string (rows of a 2-D char matrix joined by newlines).
func (v *Var) String() (string, error) {
	if v.Class != Char {
		return "", fmt.Errorf("%s is a %s array, not text", v.Name, v.Class)
	}
	if len(v.Dims) == 2 && v.Dims[0] > 1 && v.Dims[1] > 1 {
		rows := make([]string, v.Dims[0])
		for r := range rows {
			var b strings.Builder
			for c := 0; c < v.Dims[1]; c++ {
				b.WriteRune(v.Text[c*v.Dims[0]+r])
			}
			rows[r] = b.String()
		}
		return strings.Join(rows, "\n"), nil
	}
	return string(v.Text), nil
}

// Field returns field name of a 1×1 struct (nil when there is no such field).
func (v *Var) Field(name string) *Var {
	if v.Class != Struct || len(v.Elems) != 1 {
		return nil
	}
	for j, f := range v.Fields {
		if f == name {
			return v.Elems[0][j]
		}
	}
	return nil
}

// File is an open .mat file.
type File struct {
	Version int    // 4, 5 or 73
	Header  string // the descriptive text of a version 5 or 7.3 header
	name    string
	r       io.ReaderAt
	size    int64
	closer  io.Closer
	order   binary.ByteOrder
	entries []entry // version 4 and 5
	h5      *hdf5.File
}

// entry is one top-level variable of a version 4 or 5 file.
type entry struct {
	name   string
	off    int64 // of the element's tag
	size   int64 // bytes after the tag
	typ    uint32
	dtype  int // version 4: the header's type
	header []int32
}

// Open opens the .mat file at path and indexes its variables.
func Open(path string) (*File, error) {
	m, closer, err := readerat.Open(path, NewFile)
	if err != nil {
		return nil, err
	}
	m.closer = closer
	return m, nil
}

// NewFile indexes a .mat file of size bytes read from r; name is used in errors.
func NewFile(r io.ReaderAt, size int64, name string) (*File, error) {
	m := &File{name: name, r: r, size: size}
	var head [128]byte
	n, err := r.ReadAt(head[:], 0)
	if err != nil && err != io.EOF {
		return nil, m.wrapAt(0, "read header", err)
	}
	text := string(head[:min(n, 116)])
	if n > 0 && n < 128 && strings.HasPrefix("MATLAB ", text[:min(n, 7)]) {
		return nil, m.truncated(int64(n), "the file ends inside the %d-byte MAT-file header", 128)
	}
	switch {
	case n == 128 && strings.HasPrefix(text, "MATLAB 7.3 MAT-file"):
		return m.openV73(text)
	case n == 128 && strings.HasPrefix(text, "MATLAB") && (string(head[126:128]) == "IM" || string(head[126:128]) == "MI"):
		m.Version = 5
		m.Header = strings.TrimRight(text, " \x00")
		if string(head[126:128]) == "IM" {
			m.order = binary.LittleEndian
		} else {
			m.order = binary.BigEndian
		}
		if v := m.order.Uint16(head[124:]); v != 0x0100 {
			return nil, m.errAt(124, "MAT-file version %#04x (want 0x0100)", v)
		}
		if err := m.indexV5(); err != nil {
			return nil, err
		}
		return m, nil
	case n >= 8 && bytes.Equal(head[:8], []byte(hdf5.Signature)):
		return m.openV73("")
	}
	if err := m.indexV4(); err != nil {
		return nil, err
	}
	return m, nil
}

// Close closes the file when Open opened it.
func (m *File) Close() error {
	if m.h5 != nil {
		m.h5.Close()
	}
	if m.closer != nil {
		return m.closer.Close()
	}
	return nil
}

// Names lists the variables in file order.
func (m *File) Names() ([]string, error) {
	if m.h5 != nil {
		return m.namesV73()
	}
	var out []string
	for _, e := range m.entries {
		out = append(out, e.name)
	}
	return out, nil
}

// Read decodes the variable called name.
func (m *File) Read(name string) (*Var, error) {
	if m.h5 != nil {
		return m.readV73(name)
	}
	for _, e := range m.entries {
		if e.name == name {
			if m.Version == 4 {
				return m.readV4(e)
			}
			return m.readV5(e)
		}
	}
	names, _ := m.Names()
	return nil, fmt.Errorf("%s: no variable %q (variables: %s)", m.name, name, strings.Join(names, ", "))
}

func (m *File) errAt(off int64, format string, a ...any) error {
	return &events.DecodeError{Path: m.name, Offset: max(0, min(off, m.size)), Msg: fmt.Sprintf(format, a...)}
}

// wrapAt builds the error for a fault at an absolute file offset caused by err (a failed read).
func (m *File) wrapAt(off int64, msg string, err error) error {
	return &events.DecodeError{Path: m.name, Offset: max(0, min(off, m.size)), Msg: msg, Err: err}
}

// truncated builds the error for a file that ends inside a structure.
func (m *File) truncated(off int64, format string, a ...any) error {
	return &events.DecodeError{Path: m.name, Offset: max(0, min(off, m.size)), Msg: fmt.Sprintf(format, a...), Err: events.ErrTruncated}
}

func (m *File) unsupported(off int64, format string, a ...any) error {
	return &events.DecodeError{Path: m.name, Offset: max(0, min(off, m.size)), Msg: fmt.Sprintf(format, a...), Err: ErrUnsupported}
}

// Version 5 data types.
const (
	miINT8       = 1
	miUINT8      = 2
	miINT16      = 3
	miUINT16     = 4
	miINT32      = 5
	miUINT32     = 6
	miSINGLE     = 7
	miDOUBLE     = 9
	miINT64      = 12
	miUINT64     = 13
	miMATRIX     = 14
	miCOMPRESSED = 15
	miUTF8       = 16
	miUTF16      = 17
	miUTF32      = 18
)

var miSize = map[uint32]int{miINT8: 1, miUINT8: 1, miINT16: 2, miUINT16: 2, miINT32: 4, miUINT32: 4, miSINGLE: 4,
	miDOUBLE: 8, miINT64: 8, miUINT64: 8, miUTF8: 1, miUTF16: 2, miUTF32: 4}

// indexV5 walks the top-level elements, learning each variable's name.
func (m *File) indexV5() error {
	off := int64(128)
	for off+8 <= m.size {
		var tag [8]byte
		if _, err := m.r.ReadAt(tag[:], off); err != nil {
			return &events.DecodeError{Path: m.name, Offset: off, Msg: "read element tag", Err: err}
		}
		typ, size := m.order.Uint32(tag[:]), int64(m.order.Uint32(tag[4:]))
		if typ>>16 != 0 {
			return m.errAt(off, "top-level element with a small-element tag")
		}
		if size > m.size-off-8 {
			return m.truncated(m.size, "element of %d bytes at byte %d runs past the end of the %d-byte file", size, off, m.size)
		}
		e := entry{off: off, size: size, typ: typ}
		switch typ {
		case miMATRIX, miCOMPRESSED:
			name, err := m.peekName(e)
			if err != nil {
				return err
			}
			e.name = name
		default:
			return m.errAt(off, "top-level element of type %d (want miMATRIX or miCOMPRESSED)", typ)
		}
		if e.name != "" { // unnamed elements hold MATLAB's subsystem data
			m.entries = append(m.entries, e)
		}
		next := off + 8 + size
		if typ != miCOMPRESSED && size%8 != 0 {
			next += 8 - size%8
		}
		off = next
	}
	if off < m.size {
		return m.truncated(m.size, "the file ends inside an element tag at byte %d", off)
	}
	return nil
}

// element returns the body of a top-level element (inflated for miCOMPRESSED) and the tag type inside.
func (m *File) element(e entry, limit int64) (uint32, []byte, int64, error) {
	if e.typ == miMATRIX {
		n := min(e.size, limit)
		b := make([]byte, n)
		if _, err := m.r.ReadAt(b, e.off+8); err != nil {
			return 0, nil, 0, &events.DecodeError{Path: m.name, Offset: e.off + 8, Msg: "read variable", Err: err}
		}
		return miMATRIX, b, e.size, nil
	}
	zr, err := zlib.NewReader(io.NewSectionReader(m.r, e.off+8, e.size))
	if err != nil {
		return 0, nil, 0, m.wrapAt(e.off+8, "compressed variable", err)
	}
	defer zr.Close()
	var tag [8]byte
	if _, err := io.ReadFull(zr, tag[:]); err != nil {
		return 0, nil, 0, m.wrapAt(e.off+8, "compressed variable", err)
	}
	typ, size := m.order.Uint32(tag[:]), int64(m.order.Uint32(tag[4:]))
	if typ != miMATRIX {
		return 0, nil, 0, m.errAt(e.off+8, "compressed element holds type %d, not a matrix", typ)
	}
	// Grow with what really inflates: a lying size never allocates more than the stream holds.
	var buf bytes.Buffer
	got, err := io.Copy(&buf, io.LimitReader(zr, min(size, limit)))
	if err != nil {
		return 0, nil, 0, m.wrapAt(e.off+8, "inflating variable", err)
	}
	if got < min(size, limit) {
		return 0, nil, 0, m.errAt(e.off+8, "compressed variable inflates to %d bytes; its tag announces %d", got, size)
	}
	return typ, buf.Bytes(), size, nil
}

// peekName reads a matrix's name without decoding its data.
func (m *File) peekName(e entry) (string, error) {
	const peek = 64 << 10
	_, b, total, err := m.element(e, peek)
	if err != nil {
		return "", err
	}
	name, err := matrixName(m, b, e.off+8)
	if err != nil && total > peek { // a very long dimensions element: decode the whole head
		if _, b, _, err = m.element(e, total); err != nil {
			return "", err
		}
		name, err = matrixName(m, b, e.off+8)
	}
	return name, err
}

func matrixName(m *File, b []byte, at int64) (string, error) {
	d := &dec{m: m, b: b, at: at}
	d.sub() // array flags
	d.sub() // dimensions
	name := d.sub()
	return string(name), d.err
}

func (m *File) readV5(e entry) (*Var, error) {
	_, b, _, err := m.element(e, math.MaxInt64) // the whole element
	if err != nil {
		return nil, err
	}
	d := &dec{m: m, b: b, at: e.off + 8}
	return d.matrix(0)
}

// dec decodes version 5 data elements from a buffer with a sticky error.
type dec struct {
	m   *File
	b   []byte
	pos int
	at  int64 // file offset reported for faults in b
	err error
}

func (d *dec) fail(format string, a ...any) {
	if d.err == nil {
		d.err = d.m.errAt(d.at+int64(d.pos), format, a...)
	}
}

// tag reads an element tag, returning the type and the data (small elements included).
func (d *dec) tag() (uint32, []byte) {
	if d.err != nil {
		return 0, nil
	}
	if len(d.b)-d.pos < 8 {
		d.fail("element tag is truncated")
		return 0, nil
	}
	o := d.m.order
	t := o.Uint32(d.b[d.pos:])
	if t>>16 != 0 { // small data element: size and type share the first 4 bytes
		n := int(t >> 16)
		if n > 4 {
			d.fail("small element of %d bytes", n)
			return 0, nil
		}
		data := d.b[d.pos+4 : d.pos+4+n]
		d.pos += 8
		return t & 0xffff, data
	}
	n := int64(o.Uint32(d.b[d.pos+4:]))
	if n > int64(len(d.b)-d.pos-8) {
		d.fail("element of %d bytes runs past its container (%d bytes left)", n, len(d.b)-d.pos-8)
		return 0, nil
	}
	data := d.b[d.pos+8 : d.pos+8+int(n)]
	d.pos += 8 + int(n)
	if r := int(n) % 8; r != 0 {
		d.pos = min(len(d.b), d.pos+8-r)
	}
	return t, data
}

func (d *dec) sub() []byte {
	_, b := d.tag()
	return b
}

func (d *dec) int32s(b []byte, typ uint32) []int {
	if typ != miINT32 && typ != miUINT32 || len(b)%4 != 0 {
		d.fail("dimensions stored as type %d (want miINT32)", typ)
		return nil
	}
	out := make([]int, len(b)/4)
	for i := range out {
		out[i] = int(int32(d.m.order.Uint32(b[4*i:])))
	}
	return out
}

const maxDepth = 64

// matrix decodes the contents of one miMATRIX element (d.b is its body).
func (d *dec) matrix(depth int) (*Var, error) {
	if depth > maxDepth {
		d.fail("arrays nested deeper than %d", maxDepth)
		return nil, d.err
	}
	if len(d.b) == 0 {
		return &Var{Class: Double, Dims: []int{0, 0}}, nil // an empty matrix (empty cell elements)
	}
	ft, flags := d.tag()
	if d.err != nil {
		return nil, d.err
	}
	if ft != miUINT32 || len(flags) != 8 {
		d.fail("array flags of type %d and %d bytes (want miUINT32, 8)", ft, len(flags))
		return nil, d.err
	}
	f0 := d.m.order.Uint32(flags)
	class := Class(f0 & 0xff)
	complex, logical := f0&0x800 != 0, f0&0x200 != 0
	dt, db := d.tag()
	dims := d.int32s(db, dt)
	_, name := d.tag()
	if d.err != nil {
		return nil, d.err
	}
	v := &Var{Name: string(name), Class: class, Dims: dims}
	n := 1
	for _, x := range dims {
		if x < 0 || (x > 0 && n > math.MaxInt32/x) {
			d.fail("dimensions %v", dims)
			return nil, d.err
		}
		n *= x
	}
	if len(dims) < 2 {
		d.fail("array of %d dimensions (MATLAB has at least 2)", len(dims))
		return nil, d.err
	}
	switch {
	case complex:
		return nil, d.m.unsupported(d.at, "complex array %q", v.Name)
	case class == Sparse:
		return nil, d.m.unsupported(d.at, "sparse matrix %q", v.Name)
	case class == Object || class > Uint64:
		return nil, d.m.unsupported(d.at, "%s %q (MATLAB objects and function handles)", class, v.Name)
	case class == Cell:
		if n > len(d.b)/8 {
			d.fail("cell array of %d elements in %d bytes", n, len(d.b))
			return nil, d.err
		}
		for i := 0; i < n; i++ {
			t, body := d.tag()
			if d.err != nil {
				return nil, d.err
			}
			if t != miMATRIX {
				d.fail("cell element of type %d", t)
				return nil, d.err
			}
			c, err := (&dec{m: d.m, b: body, at: d.at}).matrix(depth + 1)
			if err != nil {
				return nil, err
			}
			v.Cells = append(v.Cells, c)
		}
	case class == Struct:
		lt, lb := d.tag()
		_, names := d.tag()
		if d.err != nil {
			return nil, d.err
		}
		if lt != miINT32 || len(lb) != 4 {
			d.fail("struct field name length of type %d", lt)
			return nil, d.err
		}
		fl := int(int32(d.m.order.Uint32(lb)))
		if fl <= 0 || len(names)%fl != 0 {
			d.fail("struct field names of %d bytes in pieces of %d", len(names), fl)
			return nil, d.err
		}
		for i := 0; i+fl <= len(names); i += fl {
			s := names[i : i+fl]
			if k := bytes.IndexByte(s, 0); k >= 0 {
				s = s[:k]
			}
			v.Fields = append(v.Fields, string(s))
		}
		if len(v.Fields) > 0 && n > len(d.b)/(8*len(v.Fields)) {
			d.fail("struct array of %d elements × %d fields in %d bytes", n, len(v.Fields), len(d.b))
			return nil, d.err
		}
		for i := 0; i < n; i++ {
			row := make([]*Var, len(v.Fields))
			for j := range v.Fields {
				t, body := d.tag()
				if d.err != nil {
					return nil, d.err
				}
				if t != miMATRIX {
					d.fail("struct field of type %d", t)
					return nil, d.err
				}
				fv, err := (&dec{m: d.m, b: body, at: d.at}).matrix(depth + 1)
				if err != nil {
					return nil, err
				}
				fv.Name = v.Fields[j]
				row[j] = fv
			}
			v.Elems = append(v.Elems, row)
		}
	case class == Char:
		t, b := d.tag()
		if d.err != nil {
			return nil, d.err
		}
		runes, err := d.m.text(t, b)
		if err != nil {
			d.fail("%v", err)
			return nil, d.err
		}
		if len(runes) != n {
			d.fail("char array %v holds %d characters", dims, len(runes))
			return nil, d.err
		}
		v.Text = runes
	default:
		t, b := d.tag()
		if d.err != nil {
			return nil, d.err
		}
		if logical {
			v.Class = Logical
		}
		if err := d.m.numbers(v, t, b, n); err != nil {
			d.fail("%s %q: %v", v.Class, v.Name, err)
			return nil, d.err
		}
	}
	return v, d.err
}

// text decodes character data.
func (m *File) text(t uint32, b []byte) ([]rune, error) {
	switch t {
	case miUTF8, miUINT8, miINT8:
		if t == miUTF8 && utf8.Valid(b) {
			return []rune(string(b)), nil
		}
		out := make([]rune, len(b))
		for i, c := range b {
			out[i] = rune(c)
		}
		return out, nil
	case miUTF16, miUINT16:
		if len(b)%2 != 0 {
			return nil, fmt.Errorf("odd-length UTF-16 text")
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = m.order.Uint16(b[2*i:])
		}
		return utf16.Decode(u), nil
	case miUTF32, miUINT32, miINT32:
		if len(b)%4 != 0 {
			return nil, fmt.Errorf("UTF-32 text of %d bytes", len(b))
		}
		out := make([]rune, len(b)/4)
		for i := range out {
			out[i] = rune(m.order.Uint32(b[4*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("text stored as type %d", t)
}

// numbers decodes n values stored as type t into v (Floats for float classes, Ints otherwise).
func (m *File) numbers(v *Var, t uint32, b []byte, n int) error {
	size, ok := miSize[t]
	if !ok || t == miUTF8 || t == miUTF16 || t == miUTF32 {
		return fmt.Errorf("data of type %d", t)
	}
	if len(b) != n*size {
		return fmt.Errorf("%d elements need %d bytes of type %d; the element holds %d", n, n*size, t, len(b))
	}
	o := m.order
	float := v.Class == Double || v.Class == Single
	if float {
		v.Floats = make([]float64, n)
	} else {
		v.Ints = make([]int64, n)
	}
	for i := 0; i < n; i++ {
		p := b[i*size:]
		var iv int64
		var fv float64
		isF := false
		switch t {
		case miINT8:
			iv = int64(int8(p[0]))
		case miUINT8:
			iv = int64(p[0])
		case miINT16:
			iv = int64(int16(o.Uint16(p)))
		case miUINT16:
			iv = int64(o.Uint16(p))
		case miINT32:
			iv = int64(int32(o.Uint32(p)))
		case miUINT32:
			iv = int64(o.Uint32(p))
		case miINT64:
			iv = int64(o.Uint64(p))
		case miUINT64:
			u := o.Uint64(p)
			if u > math.MaxInt64 {
				return fmt.Errorf("element %d = %d does not fit an int64", i, u)
			}
			iv = int64(u)
		case miSINGLE:
			fv, isF = float64(math.Float32frombits(o.Uint32(p))), true
		case miDOUBLE:
			fv, isF = math.Float64frombits(o.Uint64(p)), true
		}
		switch {
		case float && isF:
			v.Floats[i] = fv
		case float:
			v.Floats[i] = float64(iv)
		case isF:
			if fv != math.Trunc(fv) || !(fv >= -(1<<63) && fv < 1<<63) {
				return fmt.Errorf("element %d = %g of an integer array is not whole", i, fv)
			}
			v.Ints[i] = int64(fv)
		default:
			v.Ints[i] = iv
		}
	}
	return nil
}
