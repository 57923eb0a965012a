// Package parallel runs per-item work on all cores and hands the results on in input order, so outputs
// are byte-identical whatever the worker count.
package parallel

import (
	"context"
	"runtime"
	"sync"
)

// Ordered calls work(i, slot) for i in [0, n) on `workers` goroutines and emit(i, slot) on the calling
// goroutine in increasing i. Each worker fills a slot taken from a pool of reusable values made by newSlot;
// the pool bounds memory to about 2×workers items in flight. The first error (from work, emit or ctx)
// stops everything and is returned.
func Ordered[S any](ctx context.Context, n, workers int, newSlot func() S,
	work func(i int, slot S) error, emit func(i int, slot S) error) error {
	return OrderedKeep(ctx, n, workers, newSlot, work, func(i int, slot S, release func()) error {
		err := emit(i, slot)
		release()
		return err
	})
}

// OrderedKeep is Ordered for an emit that may keep its slot after it returns — a writer that holds a
// slot's memory until it is written: the slot goes back to the pool when release is called, exactly
// once, from any goroutine, before or after emit returns (even after OrderedKeep has returned). Workers
// wait for a free slot, so whoever keeps slots must release them without waiting for later ones.
func OrderedKeep[S any](ctx context.Context, n, workers int, newSlot func() S,
	work func(i int, slot S) error, emit func(i int, slot S, release func()) error) error {
	if err := ctx.Err(); err != nil || n <= 0 {
		return err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	poolSize := 2 * workers
	pool := make(chan S, poolSize)
	for i := 0; i < poolSize; i++ {
		pool <- newSlot()
	}
	type result struct {
		i    int
		slot S
		err  error
	}
	jobs := make(chan int)
	results := make(chan result, poolSize)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var slot S
				select {
				case slot = <-pool:
				case <-ctx.Done():
					return
				}
				var i int
				var ok bool
				select {
				case i, ok = <-jobs:
				case <-ctx.Done():
					return
				}
				if !ok {
					return
				}
				err := work(i, slot)
				select {
				case results <- result{i, slot, err}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := 0; i < n; i++ {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	pending := map[int]result{}
	next := 0
	var firstErr error
	for r := range results {
		if firstErr != nil {
			continue
		}
		pending[r.i] = r
		for {
			p, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			err := p.err
			if err == nil {
				// The pool has room for every slot, so a release never blocks, whenever it comes.
				slot := p.slot
				err = emit(next, slot, func() { pool <- slot })
			}
			if err != nil {
				firstErr = err
				cancel()
				break
			}
			next++
		}
	}
	if firstErr != nil {
		return firstErr
	}
	if next < n {
		return ctx.Err()
	}
	return nil
}
