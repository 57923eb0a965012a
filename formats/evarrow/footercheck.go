package evarrow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// arrow-go sizes its schema slices from counts stored in the file's footer without checking them against
// the bytes present, so a corrupt footer can make it allocate gigabytes and crash the process (found by
// fuzzing). checkFooter walks the footer FlatBuffer first and refuses any vector that claims more
// elements than the footer could hold. It checks only what arrow-go allocates from; arrow-go validates the rest.

var errFooter = errors.New("corrupt footer")

type fbuf []byte

func (b fbuf) u32(pos int) (uint32, bool) {
	if pos < 0 || pos+4 > len(b) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[pos:]), true
}

func (b fbuf) u16(pos int) (uint16, bool) {
	if pos < 0 || pos+2 > len(b) {
		return 0, false
	}
	return binary.LittleEndian.Uint16(b[pos:]), true
}

// fbTable is a FlatBuffer table at pos with its vtable.
type fbTable struct {
	b          fbuf
	pos, vt    int
	vtableSize int
}

func (b fbuf) table(pos int) (fbTable, bool) {
	so, ok := b.u32(pos)
	if !ok {
		return fbTable{}, false
	}
	vt := pos - int(int32(so))
	n, ok := b.u16(vt)
	if !ok || n < 4 || vt+int(n) > len(b) {
		return fbTable{}, false
	}
	return fbTable{b: b, pos: pos, vt: vt, vtableSize: int(n)}, true
}

// field returns the absolute position of a field, or -1 when absent.
func (t fbTable) field(slot int) int {
	off := 4 + 2*slot
	if off+2 > t.vtableSize {
		return -1
	}
	v, _ := t.b.u16(t.vt + off)
	if v == 0 {
		return -1
	}
	return t.pos + int(v)
}

// ref follows an offset field to the table, vector or string it points at (-1 when absent, error when
// out of bounds).
func (t fbTable) ref(slot int) (int, error) {
	p := t.field(slot)
	if p < 0 {
		return -1, nil
	}
	o, ok := t.b.u32(p)
	if !ok || p+int(o) >= len(t.b) {
		return 0, errFooter
	}
	return p + int(o), nil
}

// vector returns the element count and first element position of a vector field, checking that
// count × elemSize bytes are present.
func (t fbTable) vector(slot, elemSize int) (n, start int, err error) {
	p, err := t.ref(slot)
	if err != nil || p < 0 {
		return 0, 0, err
	}
	c, ok := t.b.u32(p)
	if !ok || int64(c)*int64(elemSize) > int64(len(t.b)-p-4) {
		return 0, 0, errFooter
	}
	return int(c), p + 4, nil
}

// checkFooter validates the footer of the IPC file in r (of the given size).
func checkFooter(r io.ReaderAt, size int64) error {
	if size < 10 {
		return nil // arrow-go reports "too small"
	}
	var tail [10]byte
	if _, err := r.ReadAt(tail[:], size-10); err != nil {
		return nil
	}
	flen := int64(binary.LittleEndian.Uint32(tail[:4]))
	if string(tail[4:]) != Magic || flen <= 0 || flen > size-10 {
		return nil // arrow-go reports these clearly
	}
	b := make(fbuf, flen)
	if _, err := r.ReadAt(b, size-10-flen); err != nil {
		return nil
	}
	root, ok := b.u32(0)
	if !ok {
		return errFooter
	}
	footer, ok := b.table(int(root))
	if !ok {
		return errFooter
	}
	for _, slot := range []int{2, 3} { // dictionaries, recordBatches: Block structs of 24 bytes
		if _, _, err := footer.vector(slot, 24); err != nil {
			return err
		}
	}
	if err := checkKeyValues(footer, 4); err != nil {
		return err
	}
	sp, err := footer.ref(1)
	if err != nil || sp < 0 {
		return err
	}
	schema, ok := b.table(sp)
	if !ok {
		return errFooter
	}
	if err := checkKeyValues(schema, 2); err != nil {
		return err
	}
	budget := len(b) / 4 // no footer can describe more fields than it has 4-byte words
	return checkFields(schema, 1, 0, &budget)
}

func checkKeyValues(t fbTable, slot int) error {
	_, _, err := t.vector(slot, 4)
	return err
}

func checkFields(t fbTable, slot, depth int, budget *int) error {
	n, start, err := t.vector(slot, 4)
	if err != nil {
		return err
	}
	if depth > 64 {
		return fmt.Errorf("%w: types nested deeper than 64", errFooter)
	}
	for i := 0; i < n; i++ {
		if *budget--; *budget < 0 {
			return errFooter
		}
		o, _ := t.b.u32(start + 4*i)
		f, ok := t.b.table(start + 4*i + int(o))
		if !ok {
			return errFooter
		}
		if err := checkKeyValues(f, 6); err != nil {
			return err
		}
		if err := checkFields(f, 5, depth+1, budget); err != nil {
			return err
		}
	}
	return nil
}

// maxBuffer bounds one decompressed buffer. arrow-go trusts the uncompressed length written before each
// compressed buffer; a corrupt value would otherwise request hundreds of gigabytes. Arrow's list offsets
// are int32, so no column of a valid batch needs more than 2^31 elements of one byte… or of eight: 2 GiB
// is generous for every file our writers make (record batches are bounded) and keeps a bad file from
// taking the machine down.
const maxBuffer = 2 << 30

// boundedAllocator refuses single allocations above maxBuffer by panicking; the readers' guard turns
// that panic into an error naming the file.
type boundedAllocator struct{ memory.Allocator }

func (a boundedAllocator) Allocate(size int) []byte {
	if size < 0 || size > maxBuffer {
		panic(fmt.Sprintf("a buffer claims %d bytes (more than %d)", size, maxBuffer))
	}
	return a.Allocator.Allocate(size)
}

func (a boundedAllocator) Reallocate(size int, b []byte) []byte {
	if size < 0 || size > maxBuffer {
		panic(fmt.Sprintf("a buffer claims %d bytes (more than %d)", size, maxBuffer))
	}
	return a.Allocator.Reallocate(size, b)
}
