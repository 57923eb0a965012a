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

// Samples decoded one after the other through Rest lie one after the other in the buffer, and a clipped
// sample grows elsewhere instead of over the next one.
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
	a.Append(9, 9, 9, 1) // must not overwrite b
	if b.T[0] != 3 || b.X[0] != 3 || a.Len() != 3 || cap(b.T) != 8 {
		t.Fatalf("appending to a clipped batch wrote over the next one: %v %v", a, b)
	}
}
