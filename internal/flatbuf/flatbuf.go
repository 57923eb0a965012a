// Package flatbuf reads FlatBuffers by hand, with every offset bounds-checked: enough for the few fixed
// schemas evtool meets (AEDAT 4 packets, Arrow IPC footers) without a generated-code dependency, and safe
// on corrupt input (no panic, no allocation sized by untrusted counts).
package flatbuf

import (
	"encoding/binary"
	"math"
)

// Buf is a FlatBuffer (little-endian).
type Buf []byte

func (b Buf) U32(pos int) (uint32, bool) {
	if pos < 0 || pos > len(b)-4 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[pos:]), true
}

func (b Buf) U16(pos int) (uint16, bool) {
	if pos < 0 || pos > len(b)-2 {
		return 0, false
	}
	return binary.LittleEndian.Uint16(b[pos:]), true
}

// Table is a table at Pos with its vtable.
type Table struct {
	B      Buf
	Pos    int
	vt     int
	vtSize int
}

// TableAt returns the table starting at pos, or false when its vtable lies outside the buffer.
func (b Buf) TableAt(pos int) (Table, bool) {
	so, ok := b.U32(pos)
	if !ok {
		return Table{}, false
	}
	vt := pos - int(int32(so))
	n, ok := b.U16(vt)
	if !ok || n < 4 || n%2 != 0 || vt+int(n) > len(b) {
		return Table{}, false
	}
	return Table{B: b, Pos: pos, vt: vt, vtSize: int(n)}, true
}

// Root returns the root table: the uint32 at byte 0 points at it.
func (b Buf) Root() (Table, bool) {
	o, ok := b.U32(0)
	if !ok {
		return Table{}, false
	}
	return b.TableAt(int(o))
}

// Identifier returns the 4-byte file identifier after the root offset, or "".
func (b Buf) Identifier() string {
	if len(b) < 8 {
		return ""
	}
	return string(b[4:8])
}

// Field returns the absolute position of field slot, or -1 when the field is absent (default value).
func (t Table) Field(slot int) int {
	off := 4 + 2*slot
	if off+2 > t.vtSize {
		return -1
	}
	v, _ := t.B.U16(t.vt + off)
	if v == 0 {
		return -1
	}
	return t.Pos + int(v)
}

func (t Table) scalar(slot, size int) ([]byte, bool) {
	p := t.Field(slot)
	if p < 0 || p > len(t.B)-size {
		return nil, false
	}
	return t.B[p : p+size], true
}

// Int64 reads an int64 field (def when absent or out of bounds).
func (t Table) Int64(slot int, def int64) int64 {
	if s, ok := t.scalar(slot, 8); ok {
		return int64(binary.LittleEndian.Uint64(s))
	}
	return def
}

// Int32 reads an int32 field.
func (t Table) Int32(slot int, def int32) int32 {
	if s, ok := t.scalar(slot, 4); ok {
		return int32(binary.LittleEndian.Uint32(s))
	}
	return def
}

// Int16 reads an int16 field.
func (t Table) Int16(slot int, def int16) int16 {
	if s, ok := t.scalar(slot, 2); ok {
		return int16(binary.LittleEndian.Uint16(s))
	}
	return def
}

// Int8 reads an int8 (or bool/ubyte) field.
func (t Table) Int8(slot int, def int8) int8 {
	if s, ok := t.scalar(slot, 1); ok {
		return int8(s[0])
	}
	return def
}

// Float32 reads a float32 field.
func (t Table) Float32(slot int, def float32) float32 {
	if s, ok := t.scalar(slot, 4); ok {
		return math.Float32frombits(binary.LittleEndian.Uint32(s))
	}
	return def
}

// Struct returns the bytes of an inline struct field of the given size, or nil when absent.
func (t Table) Struct(slot, size int) []byte {
	s, _ := t.scalar(slot, size)
	return s
}

// Ref follows an offset field; it returns -1 when the field is absent and false when it points outside.
func (t Table) Ref(slot int) (int, bool) {
	p := t.Field(slot)
	if p < 0 {
		return -1, true
	}
	o, ok := t.B.U32(p)
	if !ok || int64(p)+int64(o) >= int64(len(t.B)) {
		return 0, false
	}
	return p + int(o), true
}

// Vector returns the element count and the position of the first element of a vector field, checking
// that count × elemSize bytes are present. An absent field is an empty vector.
func (t Table) Vector(slot, elemSize int) (n, start int, ok bool) {
	p, ok := t.Ref(slot)
	if !ok {
		return 0, 0, false
	}
	if p < 0 {
		return 0, 0, true
	}
	c, ok := t.B.U32(p)
	if !ok || int64(c)*int64(elemSize) > int64(len(t.B)-p-4) {
		return 0, 0, false
	}
	return int(c), p + 4, true
}

// TableIn returns element i of a vector of tables starting at start.
func (b Buf) TableIn(start, i int) (Table, bool) {
	slot := start + 4*i
	o, ok := b.U32(slot)
	if !ok {
		return Table{}, false
	}
	return b.TableAt(slot + int(o))
}

// String reads a string field ("" when absent or invalid).
func (t Table) String(slot int) (string, bool) {
	n, start, ok := t.Vector(slot, 1)
	if !ok {
		return "", false
	}
	return string(t.B[start : start+n]), true
}
