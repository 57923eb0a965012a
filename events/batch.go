// Package events is evtool's lingua franca: a columnar batch of polarity events, the sensor geometry,
// labelled samples, and the pull-based Reader/Writer interfaces every format and transform speaks.
//
// Conventions (docs/architecture.md#contracts): time is int64 microseconds; x and y are uint16 with the origin
// at the top-left, x to the right and y down; polarity is uint8 with 1 = ON and 0 = OFF.
// The package imports nothing else of evtool.
package events

import (
	"fmt"
	"sort"
	"unsafe"
)

// Batch holds events as a struct of arrays, so it maps 1:1 onto Arrow columns and transforms run as tight
// loops over slices. All four slices always have the same length.
type Batch struct {
	T []int64
	X []uint16
	Y []uint16
	P []uint8
}

// NewBatch returns an empty batch with room for capacity events.
func NewBatch(capacity int) *Batch {
	return &Batch{
		T: make([]int64, 0, capacity),
		X: make([]uint16, 0, capacity),
		Y: make([]uint16, 0, capacity),
		P: make([]uint8, 0, capacity),
	}
}

// Len is the number of events.
func (b *Batch) Len() int { return len(b.T) }

// Reset empties the batch and keeps its buffers for reuse.
func (b *Batch) Reset() {
	b.T, b.X, b.Y, b.P = b.T[:0], b.X[:0], b.Y[:0], b.P[:0]
}

// Grow makes room for at least n more events without reallocating.
func (b *Batch) Grow(n int) {
	// Every column counts: after Append, append's size classes give the four slices different capacities.
	if min(cap(b.T)-len(b.T), cap(b.X)-len(b.X), cap(b.Y)-len(b.Y), cap(b.P)-len(b.P)) >= n {
		return
	}
	need := len(b.T) + n
	if c := 2 * cap(b.T); c > need {
		need = c
	}
	t := make([]int64, len(b.T), need)
	copy(t, b.T)
	x := make([]uint16, len(b.X), need)
	copy(x, b.X)
	y := make([]uint16, len(b.Y), need)
	copy(y, b.Y)
	p := make([]uint8, len(b.P), need)
	copy(p, b.P)
	b.T, b.X, b.Y, b.P = t, x, y, p
}

// Rest returns an empty batch over b's spare capacity: its columns start where b's events end, so that
// what is appended to it, within that capacity, lies right after them in b's memory. Decoding several
// samples into one buffer this way lets a writer take a run of them as they lie (Hold says how long it
// may keep them).
func (b *Batch) Rest() Batch {
	n := len(b.T)
	return Batch{T: b.T[n:n], X: b.X[n:n], Y: b.Y[n:n], P: b.P[n:n]}
}

// Clip drops b's spare capacity: an append then reallocates instead of writing past b's events, into
// memory a batch made by Rest after them may hold.
func (b *Batch) Clip() {
	b.T, b.X, b.Y, b.P = b.T[:len(b.T):len(b.T)], b.X[:len(b.X):len(b.X)], b.Y[:len(b.Y):len(b.Y)], b.P[:len(b.P):len(b.P)]
}

// Offset returns where e's events lie in b's memory: the index, within b's capacity, at which all four of
// e's columns start, and whether they do (e then lies wholly within that capacity). An empty e lies
// nowhere. A writer uses it to take samples decoded one after the other through Rest as one run of b.
func (b *Batch) Offset(e *Batch) (int, bool) {
	n := len(e.T)
	if n == 0 || cap(b.T) == 0 {
		return 0, false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b.T)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(e.T)))
	if at < base || (at-base)%8 != 0 {
		return 0, false
	}
	lo := int((at - base) / 8)
	if lo+n > cap(b.T) || lo+n > cap(b.X) || lo+n > cap(b.Y) || lo+n > cap(b.P) {
		return 0, false
	}
	if &b.X[:lo+1][lo] != &e.X[0] || &b.Y[:lo+1][lo] != &e.Y[0] || &b.P[:lo+1][lo] != &e.P[0] {
		return 0, false
	}
	return lo, true
}

// Append adds one event. It is meant for decoders filling a pre-grown batch; Go's append amortises growth.
func (b *Batch) Append(t int64, x, y uint16, p uint8) {
	b.T = append(b.T, t)
	b.X = append(b.X, x)
	b.Y = append(b.Y, y)
	b.P = append(b.P, p)
}

// AppendBatch adds all events of o.
func (b *Batch) AppendBatch(o *Batch) {
	b.T = append(b.T, o.T...)
	b.X = append(b.X, o.X...)
	b.Y = append(b.Y, o.Y...)
	b.P = append(b.P, o.P...)
}

// Slice returns events [i, j) as a view sharing b's memory.
func (b *Batch) Slice(i, j int) Batch {
	return Batch{T: b.T[i:j:j], X: b.X[i:j:j], Y: b.Y[i:j:j], P: b.P[i:j:j]}
}

// Clone returns a deep copy.
func (b *Batch) Clone() *Batch {
	c := NewBatch(b.Len())
	c.AppendBatch(b)
	return c
}

// Truncate keeps the first n events.
func (b *Batch) Truncate(n int) {
	b.T, b.X, b.Y, b.P = b.T[:n], b.X[:n], b.Y[:n], b.P[:n]
}

// SearchTime returns the index of the first event with T >= t, assuming T is non-decreasing
// (binary search, O(log n)).
func (b *Batch) SearchTime(t int64) int {
	return sort.Search(len(b.T), func(i int) bool { return b.T[i] >= t })
}

// TimeSlice returns the events with t0 <= T < t1 as a view (half-open, like every interval in evtool).
func (b *Batch) TimeSlice(t0, t1 int64) Batch {
	i := b.SearchTime(t0)
	j := i + sort.Search(len(b.T)-i, func(k int) bool { return b.T[i+k] >= t1 })
	if j < i {
		j = i
	}
	return b.Slice(i, j)
}

// CheckMonotonic returns the index of the first event whose timestamp is smaller than its predecessor's,
// or -1 when T is non-decreasing.
func (b *Batch) CheckMonotonic() int {
	for i := 1; i < len(b.T); i++ {
		if b.T[i] < b.T[i-1] {
			return i
		}
	}
	return -1
}

// Validate checks that the columns have equal length and that every event lies inside g
// (when g is known). It names the first offending event.
func (b *Batch) Validate(g Geometry) error {
	_, err := b.ValidateExtent(g)
	return err
}

// ValidateExtent is Validate, and also returns the extent of the events (the largest x and y plus one;
// zero for no events), gathered in the same pass.
func (b *Batch) ValidateExtent(g Geometry) (Geometry, error) {
	n := len(b.T)
	if len(b.X) != n || len(b.Y) != n || len(b.P) != n {
		return Geometry{}, fmt.Errorf("batch columns differ in length: t=%d x=%d y=%d p=%d", n, len(b.X), len(b.Y), len(b.P))
	}
	if n == 0 {
		return Geometry{}, nil
	}
	// The common case — every event valid — is three maxima without branches; only a batch that fails
	// is walked again to name its first offending event.
	var mx, my uint16
	var mp uint8
	x, y, p := b.X[:n], b.Y[:n], b.P[:n]
	for i := range n {
		mx, my, mp = max(mx, x[i]), max(my, y[i]), max(mp, p[i])
	}
	ext := Geometry{Width: int(mx) + 1, Height: int(my) + 1}
	known := g.Width > 0 && g.Height > 0
	if mp <= 1 && (!known || (int(mx) < g.Width && int(my) < g.Height)) {
		return ext, nil
	}
	if known {
		for i := 0; i < n; i++ {
			if int(b.X[i]) >= g.Width || int(b.Y[i]) >= g.Height {
				return ext, SensorErrorf("event %d at (%d,%d) lies outside the %dx%d sensor", i, b.X[i], b.Y[i], g.Width, g.Height)
			}
		}
	}
	for i := 0; i < n; i++ {
		if b.P[i] > 1 {
			return ext, fmt.Errorf("event %d has polarity %d; want 0 or 1", i, b.P[i])
		}
	}
	return ext, nil
}

// Equal reports whether two batches hold the same events in the same order.
func (b *Batch) Equal(o *Batch) bool {
	if b.Len() != o.Len() {
		return false
	}
	for i := range b.T {
		if b.T[i] != o.T[i] || b.X[i] != o.X[i] || b.Y[i] != o.Y[i] || b.P[i] != o.P[i] {
			return false
		}
	}
	return true
}

// FirstDifference returns the index of the first event that differs between b and o (or the shorter
// length when one is a prefix of the other), and -1 when they are equal. Tests use it for clear failures.
func (b *Batch) FirstDifference(o *Batch) int {
	n := min(b.Len(), o.Len())
	for i := 0; i < n; i++ {
		if b.T[i] != o.T[i] || b.X[i] != o.X[i] || b.Y[i] != o.Y[i] || b.P[i] != o.P[i] {
			return i
		}
	}
	if b.Len() != o.Len() {
		return n
	}
	return -1
}

// Event is one event by value, for tests, printing and small hand-made lists. Hot paths use Batch.
type Event struct {
	T    int64
	X, Y uint16
	P    uint8
}

// At returns event i by value.
func (b *Batch) At(i int) Event { return Event{b.T[i], b.X[i], b.Y[i], b.P[i]} }

// FromEvents builds a batch from a list of events.
func FromEvents(evs ...Event) *Batch {
	b := NewBatch(len(evs))
	for _, e := range evs {
		b.Append(e.T, e.X, e.Y, e.P)
	}
	return b
}

// Extend lengthens the batch by n events and returns the new slots, for hot loops that write by index
// (no per-event append). Callers that keep fewer than n call Truncate afterwards.
func (b *Batch) Extend(n int) (t []int64, x, y []uint16, p []uint8) {
	start := len(b.T)
	b.Grow(n)
	end := start + n
	b.T, b.X, b.Y, b.P = b.T[:end], b.X[:end], b.Y[:end], b.P[:end]
	return b.T[start:end], b.X[start:end], b.Y[start:end], b.P[start:end]
}
