package evarrow

import (
	"runtime"

	"github.com/apache/arrow-go/v18/arrow"
)

// Reading a file front to back — a recording stream, a dataset read sample after sample — spends most of
// its time decompressing record batches, one after the other. The readers fetch batches through fetch,
// which, once it sees batches asked for in order, decodes the next ones on the other cores while the
// caller copies events out of the current one: a read runs at the speed of all cores' decompression.
// Random access (a dataset's sample here and there) decodes only what it asks for.

// ahead is a batch being decoded in the background.
type ahead struct {
	done chan struct{}
	rec  arrow.RecordBatch
	err  error
}

// prefetcher holds the batches decoded ahead of the caller, by batch index.
type prefetcher struct {
	last    int // the batch fetched last (-1 before the first)
	pending map[int]*ahead
}

// fetch returns batch i (the caller releases it), decoded ahead when the reads go in order, and starts
// decoding the batches after it.
func (fl *file) fetch(i int) (arrow.RecordBatch, error) {
	p := &fl.ahead
	if p.pending == nil {
		p.pending, p.last = map[int]*ahead{}, -2
	}
	sequential := i == p.last+1
	p.last = i
	var rec arrow.RecordBatch
	var err error
	if a, ok := p.pending[i]; ok {
		delete(p.pending, i)
		<-a.done
		rec, err = a.rec, a.err
	} else {
		rec, err = fl.batch(i)
	}
	if sequential && err == nil {
		depth := runtime.GOMAXPROCS(0)
		for j := i + 1; j <= i+depth && j < fl.r.NumRecords(); j++ {
			if _, ok := p.pending[j]; !ok {
				a := &ahead{done: make(chan struct{})}
				p.pending[j] = a
				go func() {
					defer close(a.done)
					a.rec, a.err = fl.batch(j)
				}()
			}
		}
	}
	// Batches behind the reader will not be asked for in order again: drop them.
	for j, a := range p.pending {
		if j <= i || j > i+runtime.GOMAXPROCS(0) {
			delete(p.pending, j)
			<-a.done
			if a.rec != nil {
				a.rec.Release()
			}
		}
	}
	return rec, err
}

// stopFetching waits for the batches being decoded ahead and releases them (before the file closes).
func (fl *file) stopFetching() {
	for j, a := range fl.ahead.pending {
		delete(fl.ahead.pending, j)
		<-a.done
		if a.rec != nil {
			a.rec.Release()
		}
	}
}
