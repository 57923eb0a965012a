package evarrow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/evtool/evtool/internal/flatbuf"
)

// arrow-go sizes its schema slices from counts stored in the file's footer without checking them against
// the bytes present, so a corrupt footer can make it allocate gigabytes and crash the process (found by
// fuzzing). checkFooter walks the footer FlatBuffer first and refuses any vector that claims more
// elements than the footer could hold. It checks only what arrow-go allocates from; arrow-go validates the rest.

var errFooter = errors.New("corrupt footer")

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
	b := make(flatbuf.Buf, flen)
	if _, err := r.ReadAt(b, size-10-flen); err != nil {
		return nil
	}
	footer, ok := b.Root()
	if !ok {
		return errFooter
	}
	for _, slot := range []int{2, 3} { // dictionaries, recordBatches: Block structs of 24 bytes
		if _, _, ok := footer.Vector(slot, 24); !ok {
			return errFooter
		}
	}
	if err := checkKeyValues(footer, 4); err != nil {
		return err
	}
	sp, ok := footer.Ref(1)
	if !ok {
		return errFooter
	}
	if sp < 0 {
		return nil
	}
	schema, ok := b.TableAt(sp)
	if !ok {
		return errFooter
	}
	if err := checkKeyValues(schema, 2); err != nil {
		return err
	}
	budget := len(b) / 4 // no footer can describe more fields than it has 4-byte words
	return checkFields(schema, 1, 0, &budget)
}

func checkKeyValues(t flatbuf.Table, slot int) error {
	if _, _, ok := t.Vector(slot, 4); !ok {
		return errFooter
	}
	return nil
}

func checkFields(t flatbuf.Table, slot, depth int, budget *int) error {
	n, start, ok := t.Vector(slot, 4)
	if !ok {
		return errFooter
	}
	if depth > 64 {
		return fmt.Errorf("%w: types nested deeper than 64", errFooter)
	}
	for i := 0; i < n; i++ {
		if *budget--; *budget < 0 {
			return errFooter
		}
		f, ok := t.B.TableIn(start, i)
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
