package snn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/parallel"
	"github.com/evtool/evtool/transforms"
)

// stream serves a dataset too large for its memory bound from its files, epoch after epoch: blocks of
// samples stored together (a shard's record batches) are read in a random order, decoded and encoded on
// spare cores, and pass through a shuffle buffer of at most buffer bytes, from which samples leave in a
// random order. The seed and the epoch fix the order; the number of goroutines does not change it.
type stream struct {
	open    func() (events.SampleReader, error) // a reader of its own for each decoding goroutine
	shared  events.SampleReader                 // or the caller's reader, one goroutine at a time
	n       int
	blocks  [][]int // dataset indices as stored; each block is read front to back (shuffled passes)
	enc     Encoding
	chain   *transforms.Chain
	in      transforms.Shape
	keep    bool  // keep the events (augmentation)
	buffer  int64 // shuffle buffer bytes
	classes int   // labels must be below (0: any label ≥ 0)
}

// StreamBlock is the samples of a block: one record batch of an Arrow dataset file, one row group of a
// Parquet one (both hold 64 samples by default), so that a block is decoded once.
const StreamBlock = 64

const blockSize = StreamBlock

// blocker is a reader whose samples are stored in several files (formats/shards): Blocks lists, for each
// shard, its dataset indices in file order as runs [first, count].
type blocker interface {
	Blocks() [][][2]int64
}

// sequential is a reader that keeps less open when told it will be read in order (formats/shards): an
// unshuffled pass tells it so.
type sequential interface {
	Sequential()
}

// releaser is a reader that can let go of the files it holds open and the data they keep decoded: the
// stream calls Release after each block, since the next block is elsewhere.
type releaser interface {
	Release()
}

// storedBlocks cuts a dataset into blocks that each read from one place in file order.
func storedBlocks(r events.SampleReader) [][]int {
	var shards [][][2]int64
	if b, ok := r.(blocker); ok {
		shards = b.Blocks()
	} else if n := r.NumSamples(); n > 0 {
		shards = [][][2]int64{{{0, int64(n)}}}
	}
	var out [][]int
	for _, runs := range shards {
		var cur []int
		for _, run := range runs {
			for i := run[0]; i < run[0]+run[1]; i++ {
				cur = append(cur, int(i))
				if len(cur) == blockSize {
					out = append(out, cur)
					cur = nil
				}
			}
		}
		if len(cur) > 0 {
			out = append(out, cur)
		}
	}
	return out
}

// inOrder cuts [0, n) into blocks in dataset order (an unshuffled pass: evaluation).
func inOrder(n int) [][]int {
	var out [][]int
	for first := 0; first < n; first += blockSize {
		b := make([]int, min(blockSize, n-first))
		for j := range b {
			b[j] = first + j
		}
		out = append(out, b)
	}
	return out
}

// item is one encoded sample on its way to training.
type item struct {
	i  int // its dataset index
	s  Encoded
	ev events.Sample // its events, when kept
}

// size is what an item holds in memory.
func (it *item) size() int64 {
	return encodedSize(&it.s) + int64(13*it.ev.Events.Len()+len(it.ev.ID))
}

// encodedSize is the memory of an encoded sample: its slices and their headers.
func encodedSize(e *Encoded) int64 {
	return int64(4*cap(e.Off)+4*cap(e.Idx)+2*cap(e.Cnt)) + 80
}

// feed is one pass over a stream: items arrive on C; Err tells, once C is closed, why it ended early.
type feed struct {
	C      <-chan *item
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Err waits for the pass to end and returns its error.
func (f *feed) Err() error {
	<-f.done
	return f.err
}

// Stop ends the pass early and waits for its goroutines.
func (f *feed) Stop() {
	f.cancel()
	for range f.C {
	}
	<-f.done
}

// pass starts reading the stream: shuffled by (seed, epoch) with shuffle set, else in dataset order.
func (s *stream) pass(ctx context.Context, shuffle bool, seed uint64, epoch int) *feed {
	ctx, cancel := context.WithCancel(ctx)
	c := make(chan *item, 2*blockSize)
	f := &feed{C: c, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		defer close(c)
		f.err = s.run(ctx, shuffle, seed, epoch, c)
	}()
	return f
}

// decodeSlot is a decoding goroutine's scratch: its reader, encoder and the block it decoded.
type decodeSlot struct {
	r       events.SampleReader
	en      *Encoder
	smp     events.Sample
	scratch Encoded
	items   []*item
}

func (s *stream) run(ctx context.Context, shuffle bool, seed uint64, epoch int, out chan<- *item) error {
	blocks := s.blocks
	if !shuffle {
		blocks = inOrder(s.n)
	}
	order := make([]int, len(blocks))
	for i := range order {
		order[i] = i
	}
	// A generator of its own (not Train's permutation stream), fixed by the seed and the epoch.
	rng := rand.New(rand.NewPCG(seed^0x5eed5a3bf1e1d, uint64(epoch)+1))
	if shuffle {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	workers := 1
	if s.open != nil {
		workers = max(1, runtime.GOMAXPROCS(0)/2) // the other cores train
	}
	var mu sync.Mutex
	var readers []events.SampleReader
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()
	newSlot := func() *decodeSlot { return &decodeSlot{} }
	var buf []*item
	var bytes int64
	send := func(it *item) error {
		select {
		case out <- it:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := parallel.Ordered(ctx, len(order), workers, newSlot,
		func(k int, sl *decodeSlot) error {
			if sl.r == nil {
				if s.open == nil {
					sl.r = s.shared
				} else {
					r, err := s.open()
					if err != nil {
						return err
					}
					mu.Lock()
					readers = append(readers, r)
					mu.Unlock()
					sl.r = r
				}
				if q, ok := sl.r.(sequential); ok && !shuffle {
					q.Sequential()
				}
				var err error
				if sl.en, err = NewEncoder(s.enc); err != nil {
					return err
				}
			}
			sl.items = sl.items[:0]
			for _, i := range blocks[order[k]] {
				it, err := s.decode(sl, i)
				if err != nil {
					return err
				}
				sl.items = append(sl.items, it)
			}
			if r, ok := sl.r.(releaser); ok && shuffle {
				r.Release()
			}
			return nil
		},
		func(k int, sl *decodeSlot) error {
			for _, it := range sl.items {
				if !shuffle {
					if err := send(it); err != nil {
						return err
					}
					continue
				}
				buf = append(buf, it)
				bytes += it.size()
				for bytes > s.buffer && len(buf) > 0 {
					j := rng.IntN(len(buf))
					pick := buf[j]
					buf[j] = buf[len(buf)-1]
					buf = buf[:len(buf)-1]
					bytes -= pick.size()
					if err := send(pick); err != nil {
						return err
					}
				}
			}
			return nil
		})
	if err != nil {
		return err
	}
	for len(buf) > 0 {
		j := rng.IntN(len(buf))
		pick := buf[j]
		buf[j] = buf[len(buf)-1]
		buf = buf[:len(buf)-1]
		if err := send(pick); err != nil {
			return err
		}
	}
	return nil
}

// decode reads, transforms and encodes dataset sample i.
func (s *stream) decode(sl *decodeSlot, i int) (*item, error) {
	if err := sl.r.ReadSample(i, &sl.smp); err != nil {
		return nil, fmt.Errorf("read sample %d: %w", i, err)
	}
	if l := sl.smp.Label; l < 0 || (s.classes > 0 && int(l) >= s.classes) {
		return nil, fmt.Errorf("sample %d (%s) has label %d but the dataset names %d classes", i, sl.smp.ID, l, s.classes)
	}
	if s.chain != nil {
		if _, err := s.chain.ApplySample(&sl.smp, s.in, 0); err != nil {
			return nil, err
		}
	}
	it := &item{i: i, s: encodedCopy(sl.en, &sl.smp, &sl.scratch)}
	if s.keep {
		it.ev = events.Sample{Label: sl.smp.Label, ID: sl.smp.ID}
		it.ev.Events.AppendBatch(&sl.smp.Events)
	}
	return it, nil
}

// encodedCopy encodes a sample's events into scratch and returns a copy that owns exactly its values.
func encodedCopy(en *Encoder, smp *events.Sample, scratch *Encoded) Encoded {
	en.Encode(&smp.Events, scratch)
	e := Encoded{Label: smp.Label, Off: append([]int32(nil), scratch.Off...), Idx: append([]int32(nil), scratch.Idx...)}
	if scratch.Cnt != nil {
		e.Cnt = append([]uint16(nil), scratch.Cnt...)
	}
	return e
}
