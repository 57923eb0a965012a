package snn

// rowGradMin is the size (in values) from which a dense layer's weight gradient is summed by rows
// (rowGrad) instead of in the gradient shards: 64 K floats, 256 kB, whose 16 shard copies would no longer
// fit in a core's L2 cache. The built-in CSNN has no such layer; the MLP's first layer (2312 × 256) is one.
const rowGradMin = 1 << 16

// rowChunkRows is how many rows of ∂W make one unit of work after a batch. The chunk (32·out floats:
// 32 kB for 256 outputs, 128 kB for 1,024) stays in L1/L2 while the batch's ε rows stream past, and the
// MLP's 2312 inputs give 73 chunks: enough for 16 workers to end within about 10 % of one another on
// N-MNIST, whose border pixels see few events. 32·out floats are whole cache lines, so workers never
// share one.
const rowChunkRows = 32

// rowGrad sums the weight gradient of one large dense layer over a whole mini-batch with no copy per
// gradient shard. During the batch, each sample's backward pass records what the gradient needs, its
// active inputs and ε, in the sample's slot (its position in the batch). After the batch the rows of ∂W
// are cut into fixed chunks that workers take in any order; a chunk's rows are summed over the slots in
// batch order, then step by step, then input by input (the sparse form's increasing order). That order
// does not depend on the number of workers, and it is the one a single worker scattering sample after
// sample into one buffer follows, so the sum is bit for bit that of the one-worker scatter.
type rowGrad struct {
	d      *dense
	pi     int // index of d.w in Net.params
	T      int
	chunks int       // ⌈in / rowChunkRows⌉
	g      []float32 // ∂W of the batch, input-major like the weights
	eps    []float32 // ε of every slot, [slot][t][out]
	slots  []rowSlot
	// bnd[(c·batch + k)·ts + t] is the first entry of slot k's step t whose input is in chunk c or above
	// (c = chunks: the step's end). Chunk-major, so that summing chunk c streams two contiguous runs
	// (c and c + 1); ts is T rounded up to 16, so that each slot's run fills whole cache lines and
	// workers recording different slots never share one. The range is empty for a step whose ε is zero
	// (it adds nothing, and the scatter skips it too).
	bnd       []int32
	ts, batch int
}

// rowSlot is one sample's record: the layer's active inputs and where each chunk's entries start.
type rowSlot struct {
	idx  []int32   // active input of each entry, step after step, increasing within a step
	val  []float32 // its value, unless unit
	unit bool      // every value is 1 (spikes, binary counts)
}

// newRowGrads returns a rowGrad for every dense layer of at least rowGradMin weights, indexed by layer
// (nil for the others), with slots for batches of up to batch samples of T steps; any is false when there
// is none.
func newRowGrads(n *Net, T, batch int) (rgs []*rowGrad, any bool) {
	rgs = make([]*rowGrad, len(n.layers))
	for l, ly := range n.layers {
		d, ok := ly.(*dense)
		if !ok || d.in*d.out < rowGradMin {
			continue
		}
		chunks, ts := (d.in+rowChunkRows-1)/rowChunkRows, (T+15)&^15
		rgs[l] = &rowGrad{d: d, pi: n.pidx[l][0], T: T, chunks: chunks, bnd: alignedInts((chunks + 1) * batch * ts), ts: ts, batch: batch,
			g: alignedFloats(d.in * d.out), eps: make([]float32, batch*T*d.out), slots: make([]rowSlot, batch)}
		any = true
	}
	return rgs, any
}

// record stores sample k's contribution to ∂W: its input entries (from the sparse form, or the non-zero
// values of the dense form) and ε = gOut. Each slot is written by one worker.
func (r *rowGrad) record(k int, in *Act, gOut []float32) {
	O, T := r.d.out, r.T
	s := &r.slots[k]
	eps := r.eps[k*T*O : (k+1)*T*O]
	copy(eps, gOut[:T*O])
	bnd, cs := r.bnd[k*r.ts:], r.batch*r.ts // chunk c's bound of step t: bnd[c·cs + t]
	s.idx, s.val = s.idx[:0], s.val[:0]
	sparse := in.HasSparse
	s.unit = sparse && in.Val == nil
	for t := 0; t < T; t++ {
		e0 := int32(len(s.idx))
		if sparse {
			s.idx = append(s.idx, in.Idx[in.Off[t]:in.Off[t+1]]...)
			if in.Val != nil {
				s.val = append(s.val, in.Val[in.Off[t]:in.Off[t+1]]...)
			}
		} else {
			for i, v := range in.V[t*in.N : (t+1)*in.N] {
				if v != 0 {
					s.idx = append(s.idx, int32(i))
					s.val = append(s.val, v)
				}
			}
		}
		if allZero(eps[t*O : (t+1)*O]) {
			for c := 0; c <= r.chunks; c++ {
				bnd[c*cs+t] = e0
			}
			continue
		}
		// The step's entries are in increasing input order: one walk finds every chunk's start.
		e, end := e0, int32(len(s.idx))
		for c := 0; c < r.chunks; c++ {
			lim := int32(c * rowChunkRows)
			for e < end && s.idx[e] < lim {
				e++
			}
			bnd[c*cs+t] = e
		}
		bnd[r.chunks*cs+t] = end
	}
}

// entries is the number of entries slot k recorded for step t (none when its ε is zero).
func (r *rowGrad) entries(k, t int) int {
	b := r.bnd[k*r.ts:]
	return int(b[r.chunks*r.batch*r.ts+t] - b[t])
}

// reduce computes chunk c of ∂W from the first n slots: clears its rows, then adds val·ε_t to row idx
// for every entry, slot after slot, step after step. It returns the chunk's value range in g.
func (r *rowGrad) reduce(c, n int) (lo, hi int) {
	O, T := r.d.out, r.T
	lo, hi = c*rowChunkRows*O, min((c+1)*rowChunkRows, r.d.in)*O
	clear(r.g[lo:hi])
	for k := 0; k < n; k++ {
		s := &r.slots[k]
		b0 := r.bnd[(c*r.batch+k)*r.ts:][:T]
		b1 := r.bnd[((c+1)*r.batch+k)*r.ts:][:T]
		for t := 0; t < T; t++ {
			e0, e1 := b0[t], b1[t]
			if e0 == e1 {
				continue
			}
			eps := r.eps[(k*T+t)*O : (k*T+t+1)*O]
			for e := e0; e < e1; e++ {
				i := int(s.idx[e])
				a := float32(1)
				if !s.unit {
					a = s.val[e]
				}
				axpy1(r.g[i*O:(i+1)*O], eps, a)
			}
		}
	}
	return lo, hi
}
