package snn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/transforms"
)

// Config holds the training settings. Zero values take the defaults noted.
type Config struct {
	Arch        Arch    // the network; its input must match the data's Encoding().Shape()
	Epochs      int     // 10
	BatchSize   int     // 128
	LR          float64 // initial learning rate η₀, 2e-3
	LRMin       float64 // final learning rate of the cosine schedule, 0
	WeightDecay float64 // decoupled (AdamW) weight decay on weights, 0
	Seed        uint64  // initialisation and shuffling
	// Workers is the number of goroutines (0 = GOMAXPROCS, at most GradShards). The trained model does
	// not depend on it: the same seed and data give the same bytes with any number of workers.
	Workers   int
	EarlyStop int // stop after this many epochs without improvement (0 = never)
	// Shift augments the training samples with a random translation of up to ±Shift pixels in x and y,
	// drawn per (seed, epoch, sample); 0 = none.
	Shift int
	// Augment, when set, is an event filter chain (drop-event, jitter-xy, …) applied to every training
	// sample's events anew each epoch, seeded by (seed, epoch, sample id), before binning. The training
	// set must keep its events (LoadOptions.KeepEvents); the chain must not change the sensor size.
	Augment *transforms.Chain

	Dense          bool    // use the dense reference paths (slow; for checks)
	SparseGradBand float64 // Perez-Nieves sparse gradient: ε = 0 where |U − θ| > band (0 = exact BPTT)

	Checkpoint string // written after every epoch (model + optimiser state); "" = none
	Resume     string // continue from this checkpoint (its architecture wins over Arch)

	// TestAliases maps class names of the test set that the model does not know to names it does
	// (see Model.ClassIndex).
	TestAliases map[string]string

	// OnBatch, when set, is called after every mini-batch (from Train's goroutine), for progress bars.
	OnBatch func(BatchReport)
	// OnTest, when set, is passed to the evaluation on the test set after every epoch as its progress
	// callback (samples done, total).
	OnTest func(done, total int)
}

// GradShards is the number of slices every mini-batch is cut into for the gradient: each slice has its
// own gradient buffers and the slices are summed in a fixed order, so results do not depend on the
// number of workers. (Large dense weights have no buffers in the slices: rowGrad sums them by rows, in
// batch order.) It also caps the useful number of workers.
const GradShards = 16

// sumShards adds, for values [lo, hi) of one parameter, the copies of shards used[1:] to that of
// used[0] (copy s starts at s·stride in arena), in shard order, block by block; calls use(b0, b1) on each
// summed block, then zeroes every used shard's copy of it. offs and ones are scratch of len(used)−1 and
// at least len(used) ones.
func sumShards(arena []float32, stride int, used []int, lo, hi int, offs []int32, ones []float32, use func(b0, b1 int)) {
	g0 := arena[used[0]*stride:]
	for b0 := lo; b0 < hi; b0 += reduceBlock {
		b1 := min(b0+reduceBlock, hi)
		for j, si := range used[1:] {
			offs[j] = int32(si*stride + b0)
		}
		axpyN(g0[b0:b1], arena, offs[:len(used)-1], ones)
		use(b0, b1)
		for _, si := range used {
			clear(arena[si*stride+b0 : si*stride+b1])
		}
	}
}

// alignedFloats returns n zero floats starting on a 64-byte boundary.
func alignedFloats(n int) []float32 { return aligned[float32](n) }

// alignedInts returns n zero int32s starting on a 64-byte boundary.
func alignedInts(n int) []int32 { return aligned[int32](n) }

func aligned[T float32 | int32](n int) []T {
	buf := make([]T, n+16)
	off := int(uintptr(unsafe.Pointer(&buf[0]))&63) / 4
	if off != 0 {
		off = 16 - off
	}
	return buf[off : off+n : off+n]
}

// reduceBlock is how many values of a parameter the shard sum handles at a time (16 kB: they stay in L1
// while the shards stream past).
const reduceBlock = 4096

// rowChunk is one chunk of rows of a row-summed weight gradient, a unit of work after a batch.
type rowChunk struct {
	r *rowGrad
	c int
}

// gradShard is one slice of a batch: its gradient buffers and statistics.
type gradShard struct {
	grads   [][]float32
	lgrad   [][][]float32
	loss    float64
	correct int
	samples int
}

// BatchReport is the running state of an epoch, passed to Config.OnBatch (once with Done = 0 when the
// epoch starts, then after every batch).
type BatchReport struct {
	Epoch, Epochs int
	Done, Total   int     // training samples done in this epoch, and per epoch
	Loss          float64 // mean training loss so far in the epoch
	Accuracy      float64 // training accuracy so far in the epoch
}

func (c *Config) defaults() {
	if c.Epochs <= 0 {
		c.Epochs = 10
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 128
	}
	if c.LR <= 0 {
		c.LR = 2e-3
	}
}

// EpochReport is what Train tells its progress callback after every epoch.
type EpochReport struct {
	Epoch         int         `json:"epoch"` // 1-based
	Epochs        int         `json:"epochs"`
	Loss          float64     `json:"loss"`           // mean training loss
	TrainAccuracy float64     `json:"train_accuracy"` // on the training batches, during the epoch
	TestAccuracy  float64     `json:"test_accuracy"`  // -1 without a test set
	TestLoss      float64     `json:"test_loss"`
	LR            float64     `json:"lr"` // learning rate at the end of the epoch
	Seconds       float64     `json:"seconds"`
	SamplesPerSec float64     `json:"samples_per_sec"` // training throughput (forward + backward + update)
	SpikeRates    []LayerRate `json:"spike_rates"`
	// SkippedWork is the fraction of the dense multiply-adds (forward and backward of dense and conv
	// layers) the sparse paths did not do.
	SkippedWork float64 `json:"skipped_work"`
	Improved    bool    `json:"improved"`
}

// Report summarises a training run.
type Report struct {
	Epochs  []EpochReport `json:"epochs"`
	Stopped string        `json:"stopped"` // "completed", "early stop", "cancelled"
	Seconds float64       `json:"seconds"`
}

// trainState is what a checkpoint stores besides weights and Adam moments.
type trainState struct {
	Epoch   int           `json:"epoch"` // epochs completed
	Step    int           `json:"step"`
	Best    float64       `json:"best"`
	Stale   int           `json:"stale"` // epochs since the best
	Seed    uint64        `json:"seed"`
	History []EpochReport `json:"history"`
}

// Train trains a model on train, evaluating on test (may be nil) after every epoch. progress (may be nil)
// is called after each epoch. When ctx is cancelled, training stops after the current batch and the model
// as it stands is returned with Report.Stopped = "cancelled" (handy for a time budget).
func Train(ctx context.Context, cfg Config, train, test *Dataset, progress func(EpochReport)) (*Model, *Report, error) {
	cfg.defaults()
	if train == nil || train.Len() == 0 {
		return nil, nil, errors.New("the training set is empty")
	}
	var m *Model
	var opt *adam
	st := &trainState{Best: math.Inf(-1), Seed: cfg.Seed}
	if cfg.Resume != "" {
		var err error
		var rs *trainState
		m, opt, rs, err = loadModel(cfg.Resume)
		if err != nil {
			return nil, nil, err
		}
		if rs == nil {
			return nil, nil, fmt.Errorf("%s is a model without optimiser state, not a checkpoint", cfg.Resume)
		}
		st = rs
		cfg.Seed = st.Seed
		if m.Encoding != train.Encoding {
			return nil, nil, fmt.Errorf("checkpoint %s expects input %+v, the data gives %+v", cfg.Resume, m.Encoding, train.Encoding)
		}
	} else {
		var err error
		m, err = NewModel(cfg.Arch, train.Encoding, train.Classes, cfg.Seed)
		if err != nil {
			return nil, nil, err
		}
		opt = newAdam(m.net.params)
	}
	// Training labels are matched to the model's classes by name (they differ from the data's indices
	// when a checkpoint was made on data with another class list).
	trainLab, err := m.ClassIndex(train.Classes, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", train.Source, err)
	}
	for i := range train.Samples {
		if err := checkLabel(train, i, train.Samples[i].Label, len(trainLab)); err != nil {
			return nil, nil, err
		}
	}
	if test != nil && test.Encoding != train.Encoding {
		return nil, nil, fmt.Errorf("the test data is encoded as %+v, the training data as %+v", test.Encoding, train.Encoding)
	}
	net := m.net
	W := min(workersOrDefault(cfg.Workers), GradShards)
	ws := make([]*worker, W)
	for i := range ws {
		ws[i] = newWorker(net, cfg.Dense, cfg.SparseGradBand, false)
	}
	// Large dense weights are summed by rows after each batch (rowGrad), the other parameters in the
	// gradient shards. Which ones is fixed by the architecture, not by the number of workers.
	bins, inputs := m.Encoding.Bins, m.Encoding.Inputs()
	var rowChunks []rowChunk
	rowOf := make([]*rowGrad, len(net.params)) // the rowGrad of a row-summed weight
	if !cfg.Dense {
		rows, anyRows := newRowGrads(net, bins, cfg.BatchSize)
		if anyRows {
			for _, w := range ws {
				w.rows = rows
			}
		}
		for _, r := range rows {
			if r != nil {
				rowOf[r.pi] = r
				for c := 0; c < r.chunks; c++ {
					rowChunks = append(rowChunks, rowChunk{r, c})
				}
			}
		}
	}
	// The shards' buffers of one parameter lie end to end in one arena, so that the sum over shards is
	// one axpyN per block. They start zero and are zeroed again as they are summed.
	// Each shard's copy starts on a cache line of its own (stride rounded up to 16 floats), so that
	// workers writing small gradients such as biases of different shards do not share lines.
	arena := make([][]float32, len(net.params))
	stride := make([]int, len(net.params))
	for pi, p := range net.params {
		if rowOf[pi] == nil {
			stride[pi] = (len(p.Data) + 15) &^ 15
			arena[pi] = alignedFloats(GradShards * stride[pi])
		}
	}
	shards := make([]*gradShard, GradShards)
	for i := range shards {
		sh := &gradShard{grads: make([][]float32, len(net.params)), lgrad: make([][][]float32, len(net.layers))}
		for pi, p := range net.params {
			if rowOf[pi] == nil { // a row-summed weight has no copy in the shards: nil
				sh.grads[pi] = arena[pi][i*stride[pi] : i*stride[pi]+len(p.Data) : i*stride[pi]+len(p.Data)]
			}
		}
		for l, idx := range net.pidx {
			for _, pi := range idx {
				sh.lgrad[l] = append(sh.lgrad[l], sh.grads[pi])
			}
		}
		shards[i] = sh
	}
	ones := make([]float32, GradShards)
	for i := range ones {
		ones[i] = 1
	}
	augShape := transforms.Shape{Geometry: events.Geometry{Width: m.Encoding.Width, Height: m.Encoding.Height}, Polarities: 2}
	if cfg.Augment != nil {
		if len(train.Events) != train.Len() && (train.stream == nil || !train.stream.keep) {
			return nil, nil, errors.New("augmentation needs the training events: load the set with LoadOptions{KeepEvents: true}")
		}
		if cfg.Augment.HasRepresentation() {
			return nil, nil, errors.New("augmentation takes event filters only")
		}
		s, err := cfg.Augment.NewStream(augShape, 0, "")
		if err != nil {
			return nil, nil, fmt.Errorf("augmentation: %w", err)
		}
		if s.Shape().Geometry != augShape.Geometry {
			return nil, nil, fmt.Errorf("augmentation changes the sensor from %s to %s; the network's input is fixed", augShape.Geometry, s.Shape().Geometry)
		}
		for _, w := range ws {
			if w.aug.enc, err = NewEncoder(m.Encoding); err != nil {
				return nil, nil, err
			}
		}
	}
	n := train.Len()
	batches := (n + cfg.BatchSize - 1) / cfg.BatchSize
	batch := make([]batchItem, 0, cfg.BatchSize)
	totalSteps := cfg.Epochs * batches
	rep := &Report{Epochs: st.History, Stopped: "completed"}
	start := time.Now()
	C := len(m.Classes)
	gsum := make([][]float32, len(net.params)) // the batch's summed gradient of every parameter

	for epoch := st.Epoch; epoch < cfg.Epochs; epoch++ {
		t0 := time.Now()
		for _, w := range ws {
			w.resetStats()
		}
		var samples, correct int
		var loss float64
		// The epoch's order: a permutation of the samples held in memory, or the shuffled stream of a
		// dataset read from disk. Either way the seed and the epoch fix it.
		var perm []int
		var fd *feed
		if train.stream != nil {
			fd = train.stream.pass(ctx, true, cfg.Seed, epoch)
		} else {
			perm = rand.New(rand.NewPCG(cfg.Seed, uint64(epoch)+1)).Perm(n)
		}
		cancelled := false
		if cfg.OnBatch != nil {
			cfg.OnBatch(BatchReport{Epoch: epoch + 1, Epochs: cfg.Epochs, Total: n})
		}
		for b := 0; b < batches; b++ {
			if ctx.Err() != nil {
				cancelled = true
				break
			}
			want := min((b+1)*cfg.BatchSize, n) - b*cfg.BatchSize
			batch = batch[:0]
			if fd == nil {
				for _, i := range perm[b*cfg.BatchSize : b*cfg.BatchSize+want] {
					it := batchItem{i: i, s: &train.Samples[i]}
					if cfg.Augment != nil {
						it.ev = &train.Events[i]
					}
					batch = append(batch, it)
				}
			} else {
				for len(batch) < want {
					got, ok := <-fd.C
					if !ok {
						break
					}
					if err := checkLabel(train, got.i, got.s.Label, len(trainLab)); err != nil {
						fd.Stop()
						return nil, nil, err
					}
					batch = append(batch, batchItem{i: got.i, s: &got.s, ev: &got.ev})
				}
				if len(batch) < want {
					if err := fd.Err(); err != nil && ctx.Err() == nil {
						return nil, nil, fmt.Errorf("%s: %w", train.Source, err)
					}
					if ctx.Err() != nil {
						cancelled = true
						break
					}
					return nil, nil, fmt.Errorf("%s: the stream ended after %d of %d samples", train.Source, b*cfg.BatchSize+len(batch), n)
				}
			}
			idx := batch
			scale := 1 / float64(len(idx))
			// The batch is cut into GradShards fixed slices, each with its own gradient buffers; workers
			// take shards in any order, and the shards are summed in shard order below, so the result
			// does not depend on the number of workers.
			var next atomic.Int64
			var wg sync.WaitGroup
			for _, w := range ws {
				wg.Add(1)
				go func() {
					defer wg.Done()
					z, tie, p := make([]float64, C), make([]float64, C), make([]float64, C)
					last := len(w.acts) - 1
					for {
						si := int(next.Add(1)) - 1
						if si >= GradShards {
							return
						}
						sh := shards[si]
						lo, hi := si*len(idx)/GradShards, (si+1)*len(idx)/GradShards
						sh.loss, sh.correct, sh.samples = 0, 0, hi-lo
						if hi == lo {
							continue
						}
						w.lgrad = sh.lgrad // zero: cleared when last summed
						for k, it := range idx[lo:hi] {
							w.slot = lo + k
							i, s := it.i, it.s
							if cfg.Augment != nil {
								// Redraw the input from the events: a new augmentation every epoch.
								a := &w.aug
								a.smp.Reset()
								a.smp.ID, a.smp.Label = it.ev.ID, it.ev.Label
								a.smp.Events.AppendBatch(&it.ev.Events)
								if _, err := cfg.Augment.ApplySample(&a.smp, augShape, cfg.Seed^mix64(uint64(epoch)+0x9e37)); err != nil {
									w.err = err
									continue
								}
								a.enc.Encode(&a.smp.Events, &a.encoded)
								a.encoded.Label = s.Label
								s = &a.encoded
							}
							if cfg.Shift > 0 {
								h := mix64(cfg.Seed ^ mix64(uint64(epoch)<<32|uint64(i)))
								span := uint64(2*cfg.Shift + 1)
								dx, dy := int(h%span)-cfg.Shift, int((h>>32)%span)-cfg.Shift
								w.loadShifted(s, bins, inputs, m.Encoding.Width, m.Encoding.Height, dx, dy)
							} else {
								w.load(s, bins, inputs)
							}
							w.forward()
							out := w.output()
							w.gact[last] = growF(w.gact[last], out.T*out.N)
							y := trainLab[s.Label]
							l, pred := lossGrad(m.Arch.Loss, out, y, w.gact[last], scale, z, tie, p)
							sh.loss += l
							w.samples++
							if pred == y {
								sh.correct++
							}
							w.backward()
						}
					}
				}()
			}
			wg.Wait()
			for _, w := range ws {
				if w.err != nil {
					return nil, nil, fmt.Errorf("augmentation: %w", w.err)
				}
			}
			var used []int
			for si, sh := range shards {
				if sh.samples > 0 {
					used = append(used, si)
					loss += sh.loss
					correct += sh.correct
					samples += sh.samples
				}
			}
			// Row-summed weights: workers take the chunks of rows in any order; each chunk is summed over
			// the batch in batch order and Adam updates it while it is in cache.
			// Other parameters: sum the shards' gradients in shard order into the first used one, block
			// by block (the block stays in registers and L1 while the other shards stream past, each
			// element summed in the same order whatever the split), apply Adam to the block and zero the
			// shards' copies of it. Each worker takes a fixed slice of every parameter.
			lr := cosineLR(cfg.LR, cfg.LRMin, st.Step, totalSteps)
			opt.step++
			for pi := range gsum {
				if rowOf[pi] != nil {
					gsum[pi] = rowOf[pi].g
				} else {
					gsum[pi] = shards[used[0]].grads[pi]
				}
			}
			var nextChunk atomic.Int64
			for wi := range ws {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						c := int(nextChunk.Add(1)) - 1
						if c >= len(rowChunks) {
							break
						}
						rc := rowChunks[c]
						lo, hi := rc.r.reduce(rc.c, len(idx))
						opt.updateRange(net.params, gsum, lr, cfg.WeightDecay, rc.r.pi, lo, hi)
					}
					offs := make([]int32, len(used)-1)
					for pi, p := range net.params {
						if rowOf[pi] != nil {
							continue
						}
						L := len(p.Data)
						sumShards(arena[pi], stride[pi], used, wi*L/W, (wi+1)*L/W, offs, ones, func(b0, b1 int) {
							opt.updateRange(net.params, gsum, lr, cfg.WeightDecay, pi, b0, b1)
						})
					}
				}()
			}
			wg.Wait()
			net.gen++
			st.Step++
			if cfg.OnBatch != nil {
				cfg.OnBatch(BatchReport{Epoch: epoch + 1, Epochs: cfg.Epochs, Done: min((b+1)*cfg.BatchSize, n), Total: n,
					Loss: loss / float64(samples), Accuracy: float64(correct) / float64(samples)})
			}
		}
		if fd != nil {
			if cancelled {
				fd.Stop()
			} else if err := fd.Err(); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", train.Source, err)
			}
		}
		secs := time.Since(t0).Seconds()
		er := EpochReport{Epoch: epoch + 1, Epochs: cfg.Epochs, Seconds: secs, TestAccuracy: -1, TestLoss: -1,
			LR: cosineLR(cfg.LR, cfg.LRMin, st.Step, totalSteps)}
		var done, dense int64
		for _, w := range ws {
			done += w.macDone
			dense += w.macDense
		}
		if samples > 0 {
			er.Loss = loss / float64(samples)
			er.TrainAccuracy = float64(correct) / float64(samples)
			er.SamplesPerSec = float64(samples) / secs
		}
		if dense > 0 {
			er.SkippedWork = 1 - float64(done)/float64(dense)
		}
		er.SpikeRates = spikeRates(net, ws, bins)
		if cancelled {
			rep.Stopped = "cancelled"
			if samples > 0 {
				rep.Epochs = append(rep.Epochs, er)
				if progress != nil {
					progress(er)
				}
			}
			break
		}
		score := -er.Loss
		if test != nil && test.Len() > 0 {
			ev, err := m.EvaluateWith(ctx, test, EvalOptions{Workers: cfg.Workers, Progress: cfg.OnTest, Aliases: cfg.TestAliases})
			if err != nil && ctx.Err() == nil {
				return nil, nil, err
			}
			if err == nil {
				er.TestAccuracy, er.TestLoss = ev.Accuracy, ev.Loss
				score = ev.Accuracy
			}
		}
		if score > st.Best {
			st.Best, st.Stale, er.Improved = score, 0, true
		} else {
			st.Stale++
		}
		st.Epoch = epoch + 1
		rep.Epochs = append(rep.Epochs, er)
		st.History = rep.Epochs
		if cfg.Checkpoint != "" {
			if err := m.save(cfg.Checkpoint, opt, st); err != nil {
				return nil, nil, fmt.Errorf("checkpoint: %w", err)
			}
		}
		if progress != nil {
			progress(er)
		}
		if cfg.EarlyStop > 0 && st.Stale >= cfg.EarlyStop {
			rep.Stopped = "early stop"
			break
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	return m, rep, nil
}

// batchItem is one sample of a mini-batch: its dataset index (which seeds its augmentations), its
// encoding and, for Config.Augment, its events.
type batchItem struct {
	i  int
	s  *Encoded
	ev *events.Sample
}

// checkLabel checks a training or test sample's label against the classes.
func checkLabel(d *Dataset, i int, l int32, classes int) error {
	if l < 0 || int(l) >= classes {
		return fmt.Errorf("%s: sample %d has label %d but the data name %d classes", d.Source, i, l, classes)
	}
	return nil
}

// mix64 is the splitmix64 finaliser: a cheap, well-spread hash for per-sample random draws.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
