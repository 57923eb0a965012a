package events

import (
	"sync"
	"testing"
)

// A hold calls release once, when its last user drops it, whichever goroutine that is.
func TestHoldReleasesOnceAtTheLastDrop(t *testing.T) {
	var released int
	var mu sync.Mutex
	h := NewHold(func() { mu.Lock(); released++; mu.Unlock() })
	var wg sync.WaitGroup
	for range 50 {
		h.Keep()
		wg.Add(1)
		go func() { defer wg.Done(); h.Drop() }()
	}
	wg.Wait()
	if released != 0 {
		t.Fatalf("released %d times while its maker still holds it", released)
	}
	h.Drop()
	if released != 1 {
		t.Fatalf("released %d times, want 1", released)
	}
	for _, misuse := range []func(){h.Keep, h.Drop} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("Keep or Drop of a released hold did not panic")
				}
			}()
			misuse()
		}()
	}
}

// Samples decoded one after the other through Rest lie one after the other in the buffer (Offset says
// where; a batch elsewhere, in part or whole, lies nowhere), and a clipped sample grows elsewhere instead
// of over the next one.
func TestRestAndClip(t *testing.T) {
	buf := NewBatch(10)
	a := buf.Rest()
	a.Append(1, 1, 1, 1)
	a.Append(2, 2, 2, 1)
	if &a.T[0] != &buf.T[:1][0] {
		t.Fatal("Rest's batch does not start at the buffer's end")
	}
	buf.T, buf.X, buf.Y, buf.P = buf.T[:2], buf.X[:2], buf.Y[:2], buf.P[:2]
	a.Clip()
	b := buf.Rest()
	b.Append(3, 3, 3, 0)
	if &b.T[0] != &buf.T[:3][2] || &b.P[0] != &buf.P[:3][2] {
		t.Fatal("the second sample does not follow the first")
	}
	if lo, ok := buf.Offset(&a); !ok || lo != 0 {
		t.Fatalf("Offset of the first sample: %d %v, want 0 true", lo, ok)
	}
	if lo, ok := buf.Offset(&b); !ok || lo != 2 {
		t.Fatalf("Offset of the second sample: %d %v, want 2 true", lo, ok)
	}
	other := NewBatch(4)
	other.Append(1, 1, 1, 1)
	if _, ok := buf.Offset(other); ok {
		t.Fatal("a batch of its own memory lies in the buffer")
	}
	if _, ok := buf.Offset(&Batch{}); ok {
		t.Fatal("an empty batch lies in the buffer")
	}
	mixed := Batch{T: b.T, X: other.X, Y: b.Y, P: b.P}
	if _, ok := buf.Offset(&mixed); ok {
		t.Fatal("a batch with one column elsewhere lies in the buffer")
	}
	a.Append(9, 9, 9, 1) // must not overwrite b
	if b.T[0] != 3 || b.X[0] != 3 || a.Len() != 3 || cap(b.T) != 8 {
		t.Fatalf("appending to a clipped batch wrote over the next one: %v %v", a, b)
	}
}
