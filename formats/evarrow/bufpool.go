package evarrow

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// bufferPool is the memory.Allocator the encoders compress into. arrow-go allocates a fresh buffer for
// every compressed body buffer of every batch (sized for the worst case: about the uncompressed size,
// 13.6 MB for a recording batch of 1 Mi events) and frees it once the batch is written: about 12 bytes
// of garbage per event, which kept the garbage collector busy and let the heap grow to twice what was
// live. The pool keeps freed big buffers and hands them out again; like memory.GoAllocator it returns
// zeroed memory (some arrow-go paths rely on it).
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
func (p *bufferPool) Allocate(size int) []byte {
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
			clear(b)
			return b
		}
		p.mu.Unlock()
	}
	return make([]byte, size)
}

// Reallocate returns b grown or shrunk to size, its first bytes kept and any new ones zeroed.
func (p *bufferPool) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		if size > len(b) {
			clear(b[len(b):size])
		}
		return b[:size]
	}
	nb := p.Allocate(size)
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
