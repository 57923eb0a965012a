package parallel

import (
	"errors"
	"math/rand"
	"sync/atomic"
	"testing"
	"time"
)

// Tasks finish in the order they started whatever order their work ends in, and Room bounds those in flight.
func TestInOrderFinishesInOrder(t *testing.T) {
	var got []int
	var running, most atomic.Int32
	q := NewInOrder(3, func(i int) error { got = append(got, i); return nil })
	for i := range 50 {
		if err := q.Room(); err != nil {
			t.Fatal(err)
		}
		q.Go(i, func() {
			n := running.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Duration(rand.Intn(300)) * time.Microsecond)
			running.Add(-1)
		})
	}
	if err := q.Finish(); err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("finished %v, want 0..49 in order", got)
		}
	}
	if len(got) != 50 || most.Load() > 3 {
		t.Fatalf("%d finished, at most %d running at once (limit 3)", len(got), most.Load())
	}
}

// The first error of finish stops Room and Finish; Finish waits for the tasks after it without finishing them.
func TestInOrderStopsAtFirstError(t *testing.T) {
	boom := errors.New("disk full")
	var finished []int
	var ran atomic.Int32
	q := NewInOrder(2, func(i int) error {
		finished = append(finished, i)
		if i == 1 {
			return boom
		}
		return nil
	})
	var roomErr error
	for i := range 5 {
		if roomErr = q.Room(); roomErr != nil {
			break
		}
		q.Go(i, func() { ran.Add(1) })
	}
	if !errors.Is(roomErr, boom) {
		t.Fatalf("Room: %v, want %v", roomErr, boom)
	}
	if len(finished) != 2 || finished[1] != 1 {
		t.Fatalf("Room stopped after finishing %v, want [0 1]", finished)
	}
	q.Abandon()
	if n := ran.Load(); n != 3 {
		t.Fatalf("%d tasks ran, want the 3 started", n)
	}
	q2 := NewInOrder(8, func(i int) error {
		if i == 0 {
			return boom
		}
		t.Errorf("task %d finished after task 0 failed", i)
		return nil
	})
	var done atomic.Int32
	for i := range 4 {
		q2.Go(i, func() { time.Sleep(time.Millisecond); done.Add(1) })
	}
	if err := q2.Finish(); !errors.Is(err, boom) {
		t.Fatalf("Finish: %v", err)
	}
	if done.Load() != 4 {
		t.Fatalf("Finish returned with %d of 4 tasks still running", 4-done.Load())
	}
}
