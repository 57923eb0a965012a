package evarrow

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// bufferPool is the memory.Allocator the encoders compress into. arrow-go allocates a fresh buffer for
// every compressed body buffer of every batch (sized for the worst case: about the uncompressed size,
// 13.6 MB for a recording batch of 1 Mi events) and frees it once the batch is written: about 12 bytes
// of garbage per event, which kept the garbage collector busy and let the heap grow to twice what was
// live. The pool keeps freed big buffers and hands them out again. As an Allocator it returns zeroed
// memory, like memory.GoAllocator (some arrow-go paths rely on it); an encoder's encoderMemory skips the
// clearing where the batch cannot take those paths.
type bufferPool struct {
	mu    sync.Mutex
	free  [][]byte
	max   int // buffers kept at most
	bytes int // bytes kept (their capacities)
}

// pooledMin is the smallest buffer worth keeping: smaller ones (metadata, offsets) are left to the GC.
const pooledMin = 64 << 10

func newBufferPool(max int) *bufferPool { return &bufferPool{max: max} }

var _ memory.Allocator = (*bufferPool)(nil)

// Allocate returns size zeroed bytes, from the smallest kept buffer that holds them and is not more than
// twice as big (so that a small request does not take a big buffer), else newly made.
func (p *bufferPool) Allocate(size int) []byte { return p.allocate(size, true) }

// allocate is Allocate; a kept buffer is handed out as it was left unless zero is set.
func (p *bufferPool) allocate(size int, zero bool) []byte {
	if size >= pooledMin {
		p.mu.Lock()
		best := -1
		for i, b := range p.free {
			if c := cap(b); c >= size && c <= 2*size && (best < 0 || c < cap(p.free[best])) {
				best = i
			}
		}
		if best >= 0 {
			b := p.free[best]
			p.free[best] = p.free[len(p.free)-1]
			p.free = p.free[:len(p.free)-1]
			p.bytes -= cap(b)
			p.mu.Unlock()
			b = b[:size]
			if zero {
				clear(b)
			}
			return b
		}
		p.mu.Unlock()
	}
	return make([]byte, size)
}

// Reallocate returns b grown or shrunk to size, its first bytes kept and any new ones zeroed.
func (p *bufferPool) Reallocate(size int, b []byte) []byte { return p.reallocate(size, b, true) }

func (p *bufferPool) reallocate(size int, b []byte, zero bool) []byte {
	if size <= cap(b) {
		if size > len(b) && zero {
			clear(b[len(b):size])
		}
		return b[:size]
	}
	nb := p.allocate(size, zero)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free keeps b for a later Allocate while the pool has room.
func (p *bufferPool) Free(b []byte) {
	if cap(b) < pooledMin {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < p.max {
		p.free = append(p.free, b[:0])
		p.bytes += cap(b)
	}
}

// kept returns the number of buffers kept and their bytes.
func (p *bufferPool) kept() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free), p.bytes
}

// encoderMemory is one encoder's allocator: the shared pool, clearing what it hands out only while the
// batch being encoded needs it. arrow-go relies on zeroed memory only where it copies validity or
// boolean bits into a new buffer (its padding bits are then whatever the memory held, and they are
// written); every other buffer it asks for — above all the compressed buffers, about the size of the
// batch — it fills before use. Clearing those cost 3 % of an SHD conversion (docs/performance.md).
type encoderMemory struct {
	pool *bufferPool
	zero bool // the batch being encoded has a null or a boolean column (needsZeroedMemory)
}

var _ memory.Allocator = (*encoderMemory)(nil)

func (m *encoderMemory) Allocate(size int) []byte { return m.pool.allocate(size, m.zero) }

func (m *encoderMemory) Reallocate(size int, b []byte) []byte {
	return m.pool.reallocate(size, b, m.zero)
}

func (m *encoderMemory) Free(b []byte) { m.pool.Free(b) }

// needsZeroedMemory reports whether encoding rec may take an arrow-go path that relies on zeroed memory:
// unless every column, children included, is of a type known not to (numbers, lists, strings, structs)
// and holds no null.
func needsZeroedMemory(rec arrow.RecordBatch) bool {
	for _, c := range rec.Columns() {
		if needsZero(c.Data()) {
			return true
		}
	}
	return false
}

func needsZero(d arrow.ArrayData) bool {
	if d.NullN() != 0 {
		return true
	}
	switch d.DataType().(type) {
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type,
		*arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type,
		*arrow.Float32Type, *arrow.Float64Type,
		*arrow.ListType, *arrow.LargeListType, *arrow.FixedSizeListType, *arrow.StructType,
		*arrow.StringType, *arrow.BinaryType:
	default:
		return true
	}
	for _, c := range d.Children() {
		if needsZero(c) {
			return true
		}
	}
	return false
}
