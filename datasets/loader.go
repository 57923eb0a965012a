package datasets

import (
	"fmt"
	"math/rand/v2"

	"github.com/evtool/evtool/events"
)

// Loader serves a dataset in shuffled mini-batches for training: the order of epoch e is a permutation
// drawn from a PRNG seeded by (Seed, e), so a run is reproducible and independent of worker counts.
type Loader struct {
	Data      events.SampleReader
	BatchSize int
	Seed      uint64
	Shuffle   bool
	DropLast  bool // drop a final partial batch
}

// Order returns the sample indices of epoch e.
func (l *Loader) Order(epoch int) []int {
	n := l.Data.NumSamples()
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if l.Shuffle {
		rng := rand.New(rand.NewPCG(l.Seed, uint64(epoch)+0x9e3779b97f4a7c15))
		rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	return idx
}

// Batches splits epoch e's order into batches of sample indices.
func (l *Loader) Batches(epoch int) ([][]int, error) {
	if l.BatchSize <= 0 {
		return nil, fmt.Errorf("batch size %d: want at least 1", l.BatchSize)
	}
	order := l.Order(epoch)
	var out [][]int
	for i := 0; i < len(order); i += l.BatchSize {
		end := min(i+l.BatchSize, len(order))
		if end-i < l.BatchSize && l.DropLast {
			break
		}
		out = append(out, order[i:end])
	}
	return out, nil
}

// Load reads the samples of one batch into dst (resized and reused).
func (l *Loader) Load(batch []int, dst []events.Sample) ([]events.Sample, error) {
	if cap(dst) < len(batch) {
		dst = append(dst[:cap(dst)], make([]events.Sample, len(batch)-cap(dst))...)
	}
	dst = dst[:len(batch)]
	for i, idx := range batch {
		if err := l.Data.ReadSample(idx, &dst[i]); err != nil {
			return dst, err
		}
	}
	return dst, nil
}
