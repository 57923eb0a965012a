package events

import "sync/atomic"

// Hold counts the users of memory that must not be reused while one of them still reads it: a unit of
// samples decoded into one buffer (Batch.Rest), which a writer may keep as its output columns, without
// copying, until they are encoded. Its maker holds it once; every Keep is matched by one Drop, from any
// goroutine; the last Drop calls release.
type Hold struct {
	n       atomic.Int64
	release func()
}

// NewHold returns a hold held once, by its caller, that calls release when the last user drops it.
func NewHold(release func()) *Hold {
	h := &Hold{release: release}
	h.n.Store(1)
	return h
}

// Keep adds a user; the hold must still be held.
func (h *Hold) Keep() {
	for {
		n := h.n.Load()
		if n <= 0 {
			panic("events: Keep of a hold already released")
		}
		if h.n.CompareAndSwap(n, n+1) {
			return
		}
	}
}

// Drop removes a user; the last one's Drop calls release.
func (h *Hold) Drop() {
	switch n := h.n.Add(-1); {
	case n == 0:
		h.release()
	case n < 0:
		panic("events: Drop of a hold already released")
	}
}
