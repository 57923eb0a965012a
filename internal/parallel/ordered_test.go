package parallel

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestOrderedEmitsInOrder(t *testing.T) {
	for _, workers := range []int{1, 2, 7} {
		var got []int
		var made atomic.Int32
		err := Ordered(context.Background(), 200, workers,
			func() *int { made.Add(1); return new(int) },
			func(i int, s *int) error {
				time.Sleep(time.Duration(rand.IntN(50)) * time.Microsecond) // finish out of order
				*s = i * i
				return nil
			},
			func(i int, s *int) error {
				if *s != i*i {
					t.Errorf("slot for %d holds %d", i, *s)
				}
				got = append(got, i)
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("workers=%d: emit order %v", workers, got[:i+1])
			}
		}
		if len(got) != 200 || int(made.Load()) > 2*workers {
			t.Fatalf("workers=%d: %d emitted, %d slots made", workers, len(got), made.Load())
		}
	}
}

func TestOrderedStopsAtFirstError(t *testing.T) {
	boom := errors.New("boom")
	var emitted atomic.Int32
	err := Ordered(context.Background(), 1000, 3, func() *int { return new(int) },
		func(i int, s *int) error {
			if i == 10 {
				return boom
			}
			return nil
		},
		func(i int, s *int) error { emitted.Add(1); return nil })
	if !errors.Is(err, boom) || emitted.Load() != 10 {
		t.Fatalf("err %v, emitted %d; want boom after exactly 10", err, emitted.Load())
	}
	err = Ordered(context.Background(), 5, 2, func() *int { return new(int) },
		func(i int, s *int) error { return nil },
		func(i int, s *int) error {
			if i == 2 {
				return boom
			}
			return nil
		})
	if !errors.Is(err, boom) {
		t.Fatalf("emit error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Ordered(ctx, 5, 2, func() *int { return new(int) },
		func(i int, s *int) error { return nil }, func(i int, s *int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// A slot kept by emit is not handed to a worker until it is released, however late (here by another
// goroutine, after a delay, and the last ones after OrderedKeep has returned); the items still come in
// order, each in a slot no one else is using.
func TestOrderedKeepReusesSlotsOnlyWhenReleased(t *testing.T) {
	type slot struct {
		item int
		kept atomic.Bool
	}
	const n = 200
	var late []func()
	var mu sync.Mutex
	next := 0
	err := OrderedKeep(context.Background(), n, 3, func() *slot { return &slot{} },
		func(i int, s *slot) error {
			if s.kept.Load() {
				return fmt.Errorf("item %d got a slot still kept", i)
			}
			s.item = i
			return nil
		},
		func(i int, s *slot, release func()) error {
			if i != next || s.item != i {
				return fmt.Errorf("emitted %d (slot of %d), want %d", i, s.item, next)
			}
			next++
			s.kept.Store(true)
			free := func() { s.kept.Store(false); release() }
			switch {
			case i >= n-2:
				mu.Lock()
				late = append(late, free)
				mu.Unlock()
			case i%3 == 0:
				go func() { time.Sleep(time.Millisecond); free() }()
			default:
				free()
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if next != n {
		t.Fatalf("%d items emitted, want %d", next, n)
	}
	for _, f := range late {
		f() // after the return: must not block
	}
}
