package events

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"testing"
)

func TestTimeSliceHalfOpen(t *testing.T) {
	b := FromEvents(Event{T: 0}, Event{T: 10}, Event{T: 10}, Event{T: 20}, Event{T: 30})
	for _, c := range []struct {
		t0, t1 int64
		want   []int64
	}{
		{10, 20, []int64{10, 10}}, // both events at 10 in, 20 out
		{0, 1, []int64{0}},        // t = 0 included
		{-5, 100, []int64{0, 10, 10, 20, 30}},
		{31, 40, nil},
		{20, 20, nil}, // empty interval
		{25, 10, nil}, // inverted interval → empty, not a panic
	} {
		s := b.TimeSlice(c.t0, c.t1)
		if s.Len() != len(c.want) {
			t.Fatalf("[%d,%d): %v, want %v", c.t0, c.t1, s.T, c.want)
		}
		for i := range c.want {
			if s.T[i] != c.want[i] {
				t.Fatalf("[%d,%d): %v, want %v", c.t0, c.t1, s.T, c.want)
			}
		}
	}
	if got := b.SearchTime(11); got != 3 {
		t.Fatalf("SearchTime(11) = %d", got)
	}
}

func TestMonotonicAndValidate(t *testing.T) {
	b := FromEvents(Event{T: 5}, Event{T: 5}, Event{T: 4, X: 3})
	if i := b.CheckMonotonic(); i != 2 {
		t.Fatalf("CheckMonotonic = %d, want 2", i)
	}
	if err := b.Validate(Geometry{Width: 3, Height: 3}); err == nil {
		t.Fatal("x = 3 accepted on a 3-wide sensor")
	}
	if err := b.Validate(Geometry{Width: 4, Height: 1}); err != nil {
		t.Fatal(err)
	}
	if err := FromEvents(Event{P: 2}).Validate(Geometry{}); err == nil {
		t.Fatal("polarity 2 accepted")
	}
}

func TestStats(t *testing.T) {
	g := Geometry{Width: 3, Height: 2}
	s := NewStats(g, true)
	s.Add(FromEvents(Event{T: 7, X: 2, Y: 1, P: 1}, Event{T: 9, X: 0, Y: 0, P: 0}))
	s.Add(FromEvents(Event{T: 8, X: 2, Y: 1, P: 1}, Event{T: 12, X: 5, Y: 0, P: 1}))
	if s.Count != 4 || s.On != 3 || s.Off != 1 || s.TFirst != 7 || s.TLast != 12 || s.TMin != 7 || s.TMax != 12 {
		t.Fatalf("stats = %+v", s)
	}
	if s.NonMonotonic != 1 {
		t.Fatalf("NonMonotonic = %d, want 1 (9 → 8 across batches)", s.NonMonotonic)
	}
	if s.PixelCounts[1*3+2] != 2 || s.PixelCounts[0] != 1 || s.OutOfRange != 1 {
		t.Fatalf("pixel counts %v, out of range %d", s.PixelCounts, s.OutOfRange)
	}
	if e := s.Extent(); e != (Geometry{Width: 6, Height: 2}) {
		t.Fatalf("extent = %v", e)
	}
	// Merging the stats of two halves equals adding everything at once.
	rng := rand.New(rand.NewPCG(1, 2))
	all := NewBatch(0)
	for i := 0; i < 1000; i++ {
		all.Append(int64(i/3), uint16(rng.IntN(3)), uint16(rng.IntN(2)), uint8(rng.IntN(2)))
	}
	whole := NewStats(g, true)
	whole.Add(all)
	a, b := NewStats(g, true), NewStats(g, true)
	h1, h2 := all.Slice(0, 400), all.Slice(400, 1000)
	a.Add(&h1)
	b.Add(&h2)
	a.Merge(b)
	if a.Count != whole.Count || a.On != whole.On || a.TFirst != whole.TFirst || a.TLast != whole.TLast || a.NonMonotonic != 0 {
		t.Fatalf("merged %+v, whole %+v", a, whole)
	}
	for i := range a.PixelCounts {
		if a.PixelCounts[i] != whole.PixelCounts[i] {
			t.Fatal("pixel counts differ after merge")
		}
	}
}

func TestBatchReaderAndCopy(t *testing.T) {
	src := NewBatch(0)
	for i := 0; i < 1000; i++ {
		src.Append(int64(i), uint16(i%7), uint16(i%5), uint8(i%2))
	}
	r := &BatchReader{B: src, Chunk: 64}
	got, err := ReadAll(r)
	if err != nil || !got.Equal(src) {
		t.Fatalf("ReadAll: %v, equal=%v", err, got.Equal(src))
	}
	if err := r.Read(NewBatch(4)); err != io.EOF {
		t.Fatalf("after the end: %v", err)
	}
	// Read respects the caller's capacity.
	r2 := &BatchReader{B: src}
	small := NewBatch(10)
	if err := r2.Read(small); err != nil || small.Len() != 10 {
		t.Fatalf("capacity 10: %d events, %v", small.Len(), err)
	}
	w := &collect{}
	n, err := Copy(w, &BatchReader{B: src, Chunk: 100})
	if err != nil || n != 1000 || !w.b.Equal(src) {
		t.Fatalf("Copy: %d, %v", n, err)
	}
}

type collect struct{ b Batch }

func (c *collect) Write(b *Batch) error { c.b.AppendBatch(b); return nil }
func (c *collect) Close() error         { return nil }
func (c *collect) Abort()               {}

func TestDecodeErrorWraps(t *testing.T) {
	err := error(&DecodeError{Path: "a.bin", Offset: 12, Msg: "bad", Err: ErrTruncated})
	if !errors.Is(err, ErrTruncated) || err.Error() != "a.bin: at byte 12: bad: file is truncated" {
		t.Fatalf("%v", err)
	}
}

func TestGrowKeepsContents(t *testing.T) {
	b := FromEvents(Event{T: 1, X: 2, Y: 3, P: 1})
	b.Grow(1000)
	if cap(b.T) < 1001 || b.At(0) != (Event{T: 1, X: 2, Y: 3, P: 1}) {
		t.Fatal("Grow lost data or capacity")
	}
	c := b.Clone()
	c.T[0] = 99
	if b.T[0] != 1 {
		t.Fatal("Clone shares memory")
	}
}

// Extend after Append: the columns' capacities differ (append rounds per element size), and Grow must
// make room in every one of them.
func TestExtendAfterAppend(t *testing.T) {
	for n := 1; n < 3000; n += 7 {
		var b Batch
		for i := 0; i < n; i++ {
			b.Append(int64(i), uint16(i), uint16(i), uint8(i&1))
		}
		T, X, Y, P := b.Extend(n + 5)
		if len(T) != n+5 || len(X) != n+5 || len(Y) != n+5 || len(P) != n+5 || b.Len() != 2*n+5 {
			t.Fatalf("n=%d: extended to %d/%d/%d/%d", n, len(T), len(X), len(Y), len(P))
		}
		if b.X[n-1] != uint16(n-1) {
			t.Fatal("Extend lost events")
		}
	}
}

func TestTimeMath(t *testing.T) {
	for _, c := range []struct{ t, d, want int64 }{
		{1, 2, 3}, {math.MaxInt64, 1, math.MaxInt64}, {math.MaxInt64 - 1, 5, math.MaxInt64},
		{math.MinInt64, -1, math.MinInt64}, {math.MinInt64, math.MaxInt64, -1}, {-5, -3, -8},
	} {
		if got := AddTime(c.t, c.d); got != c.want {
			t.Errorf("AddTime(%d, %d) = %d; want %d", c.t, c.d, got, c.want)
		}
	}
	if got := Span(math.MinInt64, math.MaxInt64); got != math.MaxUint64 {
		t.Errorf("Span of the whole int64 range = %d", got)
	}
	if Span(5, 3) != 0 || Span(-3, 5) != 8 {
		t.Error("Span of a reversed or small interval")
	}
}
