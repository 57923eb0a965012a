package snn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

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
	Workers     int     // goroutines; 0 = GOMAXPROCS. Results are reproducible per (seed, workers).
	EarlyStop   int     // stop after this many epochs without improvement (0 = never)
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
	if len(train.Classes) > len(m.Classes) {
		return nil, nil, fmt.Errorf("the training data has %d classes but the model has %d outputs", len(train.Classes), len(m.Classes))
	}
	if test != nil && test.Encoding != train.Encoding {
		return nil, nil, fmt.Errorf("the test data is encoded as %+v, the training data as %+v", test.Encoding, train.Encoding)
	}
	net := m.net
	W := min(workersOrDefault(cfg.Workers), cfg.BatchSize)
	ws := make([]*worker, W)
	for i := range ws {
		ws[i] = newWorker(net, cfg.Dense, cfg.SparseGradBand, true)
	}
	augShape := transforms.Shape{Geometry: events.Geometry{Width: m.Encoding.Width, Height: m.Encoding.Height}, Polarities: 2}
	if cfg.Augment != nil {
		if len(train.Events) != train.Len() {
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
	totalSteps := cfg.Epochs * batches
	rep := &Report{Epochs: st.History, Stopped: "completed"}
	start := time.Now()
	C := len(m.Classes)
	bins, inputs := m.Encoding.Bins, m.Encoding.Inputs()

	for epoch := st.Epoch; epoch < cfg.Epochs; epoch++ {
		t0 := time.Now()
		for _, w := range ws {
			w.resetStats()
		}
		perm := rand.New(rand.NewPCG(cfg.Seed, uint64(epoch)+1)).Perm(n)
		cancelled := false
		for b := 0; b < batches; b++ {
			if ctx.Err() != nil {
				cancelled = true
				break
			}
			idx := perm[b*cfg.BatchSize : min((b+1)*cfg.BatchSize, n)]
			scale := 1 / float64(len(idx))
			var wg sync.WaitGroup
			for wi, w := range ws {
				lo, hi := wi*len(idx)/W, (wi+1)*len(idx)/W
				wg.Add(1)
				go func() {
					defer wg.Done()
					w.zeroGrads()
					z, tie, p := make([]float64, C), make([]float64, C), make([]float64, C)
					last := len(w.acts) - 1
					for _, i := range idx[lo:hi] {
						s := &train.Samples[i]
						if cfg.Augment != nil {
							// Redraw the input from the events: a new augmentation every epoch.
							a := &w.aug
							a.smp.Reset()
							a.smp.ID, a.smp.Label = train.Events[i].ID, train.Events[i].Label
							a.smp.Events.AppendBatch(&train.Events[i].Events)
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
						l, pred := lossGrad(m.Arch.Loss, out, int(s.Label), w.gact[last], scale, z, tie, p)
						w.loss += l
						w.samples++
						if pred == int(s.Label) {
							w.correct++
						}
						w.backward()
					}
				}()
			}
			wg.Wait()
			for _, w := range ws {
				if w.err != nil {
					return nil, nil, fmt.Errorf("augmentation: %w", w.err)
				}
			}
			// Sum the per-worker gradients in worker order (reproducible for a given worker count) and
			// apply Adam, each worker taking a fixed slice of every parameter.
			lr := cosineLR(cfg.LR, cfg.LRMin, st.Step, totalSteps)
			opt.step++
			for wi := range ws {
				wg.Add(1)
				go func() {
					defer wg.Done()
					g0 := ws[0].grads
					for pi, p := range net.params {
						lo, hi := wi*len(p.Data)/W, (wi+1)*len(p.Data)/W
						d := g0[pi][lo:hi]
						for _, w := range ws[1:] {
							for j, v := range w.grads[pi][lo:hi] {
								d[j] += v
							}
						}
						opt.updateRange(net.params, g0, lr, cfg.WeightDecay, pi, lo, hi)
					}
				}()
			}
			wg.Wait()
			net.gen++
			st.Step++
		}
		secs := time.Since(t0).Seconds()
		er := EpochReport{Epoch: epoch + 1, Epochs: cfg.Epochs, Seconds: secs, TestAccuracy: -1, TestLoss: -1,
			LR: cosineLR(cfg.LR, cfg.LRMin, st.Step, totalSteps)}
		var samples, correct int
		var loss float64
		var done, dense int64
		for _, w := range ws {
			samples += w.samples
			correct += w.correct
			loss += w.loss
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
			ev, err := m.Evaluate(ctx, test, cfg.Workers)
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

// mix64 is the splitmix64 finaliser: a cheap, well-spread hash for per-sample random draws.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
