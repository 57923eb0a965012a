package snn

import "github.com/evtool/evtool/events"

// worker holds everything one goroutine needs to run samples through a network: activations, gradient
// buffers and running statistics. Parameters are shared read-only during a batch.
type worker struct {
	net   *Net
	sur   Surrogate
	dense bool    // use the dense reference paths
	band  float32 // sparse-gradient band (0 = off)

	acts  []Act         // acts[0] = input, acts[l+1] = output of layer l
	gact  [][]float32   // gact[l] = ∂L/∂acts[l].V
	grads [][]float32   // per net parameter
	lgrad [][][]float32 // per layer: its parameters' gradient buffers (views of grads)

	taps            []tap     // conv scratch: taps of one input pixel
	convE, convCols []float32 // conv scratch for the input-gradient product
	convWt, convDWt []float32 // conv scratch: channel-last weights and weight gradient
	convAcc         []float32 // conv scratch: one step's output or ε, channel-last
	conv            map[*conv2d]*convScratch
	// hint is set by a max pool's backward pass to describe its input gradient; gHint is the hint about
	// the gradient of the layer whose backward pass is running (the layer above left it).
	hint, gHint gradHint
	hintOnly    bool // the layer below the one running backward reads only the hint

	// statistics since the last reset
	loss     float64
	correct  int
	samples  int
	spikes   []float64 // per layer (only spiking layers count)
	cur      int       // layer being run, forward or backward
	macDone  int64     // multiply-adds done by forward and backward
	macDense int64     // what the dense paths would have done

	// rows[l], when set, records layer l's weight gradient for the batch's row sum instead of adding
	// it (training only; see rowGrad); slot is the running sample's position in the batch.
	rows []*rowGrad
	slot int

	denseOffs []int32 // dense scratch: one step's weight-row offsets
	denseS    map[*dense]*denseScratch
	ones      []float32 // all ones, the coefficients of binary inputs

	aug augScratch // per-epoch augmentation buffers (Config.Augment)
	err error      // a failure inside the batch (augmentation), reported after it
}

// augScratch holds one worker's augmentation buffers, reused sample after sample.
type augScratch struct {
	enc     *Encoder
	smp     events.Sample
	encoded Encoded
}

// newWorker makes a worker; with train it gets its own gradient buffers (Train gives its workers the
// buffers of the shard they are running instead).
func newWorker(n *Net, dense bool, band float64, train bool) *worker {
	w := &worker{net: n, sur: n.sur, dense: dense, band: float32(band)}
	w.acts = make([]Act, len(n.layers)+1)
	w.gact = make([][]float32, len(n.layers)+1)
	if train {
		w.grads, w.lgrad = newGrads(n)
	}
	w.spikes = make([]float64, len(n.layers))
	return w
}

// newGrads allocates one gradient buffer per parameter, and the per-layer views of them.
func newGrads(n *Net) ([][]float32, [][][]float32) {
	grads := make([][]float32, len(n.params))
	for i, p := range n.params {
		grads[i] = make([]float32, len(p.Data))
	}
	lgrad := make([][][]float32, len(n.layers))
	for l, idx := range n.pidx {
		for _, p := range idx {
			lgrad[l] = append(lgrad[l], grads[p])
		}
	}
	return grads, lgrad
}

// resetStats clears the statistics.
func (w *worker) resetStats() {
	w.loss, w.correct, w.samples = 0, 0, 0
	clear(w.spikes)
	w.macDone, w.macDense = 0, 0
}

// load puts an encoded sample into acts[0] (sparse form), translated by (dx, dy) pixels of a
// width×height sensor when either is non-zero (augmentation; events shifted off the sensor are dropped).
// A uniform shift keeps every bin's indices in increasing order.
func (w *worker) load(s *Encoded, bins, inputs int) { w.loadShifted(s, bins, inputs, 0, 0, 0, 0) }

func (w *worker) loadShifted(s *Encoded, bins, inputs, width, height, dx, dy int) {
	a := &w.acts[0]
	a.reset(bins, inputs)
	if dx == 0 && dy == 0 {
		a.Off = append(a.Off[:0], s.Off...)
		a.Idx = append(a.Idx[:0], s.Idx...)
		if s.Cnt == nil {
			a.Val = nil
		} else {
			a.Val = growF(a.Val, len(s.Cnt))
			for i, c := range s.Cnt {
				a.Val[i] = float32(c)
			}
		}
		a.HasSparse = true
		return
	}
	hw := width * height
	a.Off = growI(a.Off, bins+1)
	a.Idx = a.Idx[:0]
	a.Val = a.Val[:0]
	for t := 0; t < bins; t++ {
		a.Off[t] = int32(len(a.Idx))
		for e := s.Off[t]; e < s.Off[t+1]; e++ {
			idx := int(s.Idx[e])
			ch, pix := idx/hw, idx%hw
			x, y := pix%width+dx, pix/width+dy
			if x < 0 || x >= width || y < 0 || y >= height {
				continue
			}
			a.Idx = append(a.Idx, int32(ch*hw+y*width+x))
			if s.Cnt == nil {
				a.Val = append(a.Val, 1)
			} else {
				a.Val = append(a.Val, float32(s.Cnt[e]))
			}
		}
	}
	a.Off[bins] = int32(len(a.Idx))
	a.HasSparse = true
}

// forward runs every layer on acts[0].
func (w *worker) forward() {
	for l, ly := range w.net.layers {
		w.cur = l
		ly.forward(w, &w.acts[l], &w.acts[l+1])
	}
}

// backward runs BPTT from gact[L] (set by the loss) down to the first layer, adding parameter gradients.
func (w *worker) backward() {
	L := len(w.net.layers)
	for l := L - 1; l >= 0 && (w.net.needIn[l] || len(w.net.pidx[l]) > 0); l-- {
		in, out := &w.acts[l], &w.acts[l+1]
		var gIn []float32
		if w.net.needIn[l] {
			w.gact[l] = growF(w.gact[l], in.T*in.N)
			gIn = w.gact[l]
		}
		w.cur = l
		w.gHint, w.hint = w.hint, gradHint{}
		// A stride-1 convolution that ran event-driven takes its gradient from a max pool's hint alone,
		// so the pool need not write it out densely.
		w.hintOnly = false
		if l > 0 && !w.dense && !w.acts[l].gemm {
			c, ok := w.net.layers[l-1].(*conv2d)
			w.hintOnly = ok && c.s == 1
		}
		w.net.layers[l].backward(w, in, out, w.gact[l+1], gIn, w.lgrad[l])
	}
	w.hint, w.gHint = gradHint{}, gradHint{}
}

// onesFor returns n ones.
func (w *worker) onesFor(n int) []float32 {
	if len(w.ones) < n {
		w.ones = make([]float32, max(n, 2*len(w.ones)))
		for i := range w.ones {
			w.ones[i] = 1
		}
	}
	return w.ones[:n]
}

// output returns the last layer's activation.
func (w *worker) output() *Act { return &w.acts[len(w.acts)-1] }
