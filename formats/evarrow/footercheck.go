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

// block is where the footer says a record batch lies: its message (metadata) and then its body.
type block struct {
	offset  int64
	metaLen int64
	bodyLen int64
}

// checkFooter validates the footer of the IPC file in r (of the given size) and returns its record
// batches' blocks, each checked to lie inside the file before the footer.
func checkFooter(r io.ReaderAt, size int64) ([]block, error) {
	if size < 10 {
		return nil, nil // arrow-go reports "too small"
	}
	var tail [10]byte
	if _, err := r.ReadAt(tail[:], size-10); err != nil {
		return nil, nil
	}
	flen := int64(binary.LittleEndian.Uint32(tail[:4]))
	if string(tail[4:]) != Magic || flen <= 0 || flen > size-10 {
		return nil, nil // arrow-go reports these clearly
	}
	b := make(flatbuf.Buf, flen)
	if _, err := r.ReadAt(b, size-10-flen); err != nil {
		return nil, nil
	}
	footer, ok := b.Root()
	if !ok {
		return nil, errFooter
	}
	for _, slot := range []int{2, 3} { // dictionaries, recordBatches: Block structs of 24 bytes
		if _, _, ok := footer.Vector(slot, 24); !ok {
			return nil, errFooter
		}
	}
	n, start, _ := footer.Vector(3, 24)
	blocks := make([]block, n) // n × 24 bytes are present in the footer
	for i := range blocks {
		e := b[start+24*i:]
		bl := block{offset: int64(binary.LittleEndian.Uint64(e)), metaLen: int64(int32(binary.LittleEndian.Uint32(e[8:]))),
			bodyLen: int64(binary.LittleEndian.Uint64(e[16:]))}
		end := size - 10 - flen
		if bl.offset < 8 || bl.metaLen < 8 || bl.bodyLen < 0 || bl.offset > end || bl.metaLen > end-bl.offset || bl.bodyLen > end-bl.offset-bl.metaLen {
			return nil, fmt.Errorf("%w: record batch %d claims bytes %d+%d+%d, past the data (%d bytes)", errFooter, i, bl.offset, bl.metaLen, bl.bodyLen, end)
		}
		blocks[i] = bl
	}
	if err := checkKeyValues(footer, 4); err != nil {
		return nil, err
	}
	sp, ok := footer.Ref(1)
	if !ok {
		return nil, errFooter
	}
	if sp < 0 {
		return blocks, nil
	}
	schema, ok := b.TableAt(sp)
	if !ok {
		return nil, errFooter
	}
	if err := checkKeyValues(schema, 2); err != nil {
		return nil, err
	}
	budget := len(b) / 4 // no footer can describe more fields than it has 4-byte words
	return blocks, checkFields(schema, 1, 0, &budget)
}

// batchRows reads the row count a record batch's message states, without loading its body.
func batchRows(r io.ReaderAt, bl block) (int64, error) {
	msg := make(flatbuf.Buf, bl.metaLen) // checked against the file by checkFooter
	if _, err := r.ReadAt(msg, bl.offset); err != nil {
		return 0, err
	}
	if cont, _ := msg.U32(0); cont == 0xFFFFFFFF {
		msg = msg[8:] // continuation marker and length (the current format)
	} else {
		msg = msg[4:] // length only (before Arrow 0.15)
	}
	m, ok := msg.Root()
	if !ok || m.Int8(1, 0) != 3 { // header_type 3: RecordBatch
		return 0, fmt.Errorf("the message at byte %d is not a record batch", bl.offset)
	}
	hp, ok := m.Ref(2)
	if !ok || hp < 0 {
		return 0, fmt.Errorf("the record batch message at byte %d has no header", bl.offset)
	}
	h, ok := msg.TableAt(hp)
	if !ok {
		return 0, fmt.Errorf("the record batch header at byte %d lies outside its message", bl.offset)
	}
	rows := h.Int64(0, 0)
	if rows < 0 {
		return 0, fmt.Errorf("the record batch at byte %d claims %d rows", bl.offset, rows)
	}
	return rows, nil
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

// A record batch's buffers may be compressed, each stating the length it decompresses to; arrow-go
// allocates that length before decompressing. So that a small file cannot make it allocate gigabytes, the
// buffers of one batch may together take at most batchBudget bytes: maxRatio times the bytes the batch
// occupies in the file, or minBudget when that is more. Event columns compress 2–5×, sparse tensors some
// 100×; no real batch comes near the bound.
const (
	maxRatio  = 1024
	minBudget = 256 << 20
)

func batchBudget(bl block) int64 { return max(minBudget, maxRatio*(bl.metaLen+bl.bodyLen)) }

// boundedAllocator refuses allocations above maxBuffer, and above what is left of the budget of the
// batch being loaded, by panicking; the readers' guard turns that panic into an error naming the file.
type boundedAllocator struct {
	memory.Allocator
	left *int64 // budget left for the batch being loaded; < 0 when no batch is loading
}

func (a boundedAllocator) check(size int) {
	if size < 0 || size > maxBuffer {
		panic(fmt.Sprintf("a buffer claims %d bytes (more than %d)", size, maxBuffer))
	}
	if *a.left >= 0 {
		if int64(size) > *a.left {
			panic(fmt.Sprintf("a buffer claims %d bytes, more than the record batch's size allows (%d×: it is not what the file holds)", size, maxRatio))
		}
		*a.left -= int64(size)
	}
}

func (a boundedAllocator) Allocate(size int) []byte {
	a.check(size)
	return a.Allocator.Allocate(size)
}

func (a boundedAllocator) Reallocate(size int, b []byte) []byte {
	a.check(size)
	return a.Allocator.Reallocate(size, b)
}
