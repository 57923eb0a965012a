package snn

// Act is one layer's output for one sample: T steps of N values, time-major (value of unit j at step t is
// V[t*N+j]). Layers that know their output is sparse (spikes, input counts) also fill the sparse form:
// for step t the non-zero entries are Idx[Off[t]:Off[t+1]] in increasing order, with values Val (nil
// when every value is 1, as for spikes).
type Act struct {
	T, N int

	V        []float32
	HasDense bool

	Off       []int32
	Idx       []int32
	Val       []float32
	HasSparse bool

	// Aux holds per-layer state the backward pass needs: the membrane potentials U_t of a LIF layer
	// (T*N) or a convolution's im2col matrix; AuxI the arg-max input index of each max-pool output.
	Aux  []float32
	AuxI []int32
	gemm bool // a convolution ran as matrix products; Aux holds its im2col matrix
}

// reset sizes a for t×n and marks both forms invalid, keeping buffers.
func (a *Act) reset(t, n int) {
	a.T, a.N = t, n
	a.HasDense, a.HasSparse = false, false
}

// zeroDense returns V sized T*N and zeroed, and marks the dense form valid.
func (a *Act) zeroDense() []float32 {
	n := a.T * a.N
	if cap(a.V) < n {
		a.V = make([]float32, n)
	}
	a.V = a.V[:n]
	clear(a.V)
	a.HasDense = true
	return a.V
}

// ensureDense materialises the dense form from the sparse form when needed.
func (a *Act) ensureDense() {
	if a.HasDense {
		return
	}
	v := a.zeroDense()
	for t := 0; t < a.T; t++ {
		row := v[t*a.N : (t+1)*a.N]
		for e := a.Off[t]; e < a.Off[t+1]; e++ {
			if a.Val == nil {
				row[a.Idx[e]] = 1
			} else {
				row[a.Idx[e]] = a.Val[e]
			}
		}
	}
}

// sparsify builds the sparse form from the dense form (non-zero entries, in index order).
// binary says every non-zero value is 1, so Val can be left nil.
func (a *Act) sparsify(binary bool) {
	if cap(a.Off) < a.T+1 {
		a.Off = make([]int32, a.T+1)
	}
	a.Off = a.Off[:a.T+1]
	a.Idx = a.Idx[:0]
	if binary {
		a.Val = nil
	} else {
		a.Val = a.Val[:0]
	}
	for t := 0; t < a.T; t++ {
		a.Off[t] = int32(len(a.Idx))
		row := a.V[t*a.N : (t+1)*a.N]
		for j, v := range row {
			if v != 0 {
				a.Idx = append(a.Idx, int32(j))
				if !binary {
					a.Val = append(a.Val, v)
				}
			}
		}
	}
	a.Off[a.T] = int32(len(a.Idx))
	a.HasSparse = true
}

// entry returns the value and unit index of sparse entry e.
func (a *Act) entry(e int32) (float32, int) {
	if a.Val == nil {
		return 1, int(a.Idx[e])
	}
	return a.Val[e], int(a.Idx[e])
}

// activeCount is the number of non-zero (step, unit) pairs in the sparse form.
func (a *Act) activeCount() int { return len(a.Idx) }

func growF(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

func growI(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
