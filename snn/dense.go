package snn

import (
	"gonum.org/v1/gonum/blas/gonum"
)

// kern is gonum's BLAS, called on its concrete type: through blas32's package-level interface the
// linker would keep every routine (the complex ones too, about 450 KB), since cobra's text/template
// looks methods up by reflection.
var kern gonum.Implementation

// dense is a fully connected layer I_t = W·x_t + b with W stored input-major (In × Out), so each active
// input adds one contiguous row (docs/snn-model.md#sparse-event-driven-computation).
type dense struct {
	in, out int
	w, b    *Param
}

func newDense(in, out int) *dense {
	return &dense{in: in, out: out,
		w: &Param{Name: "weight", Shape: []int{out, in}, Data: make([]float32, in*out), inputMajor: true, decay: true},
		b: &Param{Name: "bias", Shape: []int{out}, Data: make([]float32, out)},
	}
}

func (d *dense) params() []*Param { return []*Param{d.w, d.b} }
func (d *dense) outShape() Shape  { return Shape{C: d.out, H: 1, W: 1} }

func axpy(n int, a float32, x, y []float32) {
	kern.Saxpy(n, a, x, 1, y, 1)
}

func (d *dense) forward(w *worker, in, out *Act) {
	T, O, W := in.T, d.out, d.w.Data
	out.reset(T, O)
	v := out.zeroDense()
	sparse := in.HasSparse && !w.dense
	if !sparse {
		in.ensureDense()
	}
	for t := 0; t < T; t++ {
		row := v[t*O : (t+1)*O]
		copy(row, d.b.Data)
		if sparse {
			// One call sums the step's rows with the row of currents held in registers: the same
			// products and additions, in the same order, as one axpy per active input.
			e0, e1 := in.Off[t], in.Off[t+1]
			offs := growI(w.denseOffs, int(e1-e0))
			for j, i := range in.Idx[e0:e1] {
				offs[j] = i * int32(O)
			}
			w.denseOffs = offs
			coef := w.onesFor(int(e1 - e0))
			if in.Val != nil {
				coef = in.Val[e0:e1]
			}
			axpyN(row, W, offs, coef)
			w.macDone += int64(e1-e0) * int64(O)
		} else {
			x := in.V[t*d.in : (t+1)*d.in]
			for i, a := range x {
				wr := W[i*O : (i+1)*O]
				for j := range row {
					row[j] += a * wr[j]
				}
			}
			w.macDone += int64(d.in) * int64(O)
		}
		w.macDense += int64(d.in) * int64(O)
	}
}

func (d *dense) backward(w *worker, in, out *Act, gOut, gIn []float32, grads [][]float32) {
	T, O, N, W := in.T, d.out, d.in, d.w.Data
	dW, db := grads[0], grads[1]
	sparse := in.HasSparse && !w.dense
	// Training sums a large layer's ∂W after the batch, by rows (rowGrad); this pass only records.
	var rows *rowGrad
	if w.rows != nil {
		rows = w.rows[w.cur]
	}
	if rows != nil {
		rows.record(w.slot, in, gOut)
	}
	for t := 0; t < T; t++ {
		eps := gOut[t*O : (t+1)*O]
		if sparse && allZero(eps) {
			// Nothing flows back at this step (common with the sparse-gradient band).
			if gIn != nil {
				clear(gIn[t*N : (t+1)*N])
			}
			w.macDense += 2 * int64(N) * int64(O)
			continue
		}
		for j, e := range eps {
			db[j] += e
		}
		switch {
		case rows != nil:
			w.macDone += int64(rows.entries(w.slot, t)) * int64(O)
		case sparse:
			for e := in.Off[t]; e < in.Off[t+1]; e++ {
				a, i := in.entry(e)
				axpy(O, a, eps, dW[i*O:(i+1)*O])
			}
			w.macDone += int64(in.Off[t+1]-in.Off[t]) * int64(O)
		default:
			x := in.V[t*N : (t+1)*N]
			for i, a := range x {
				gr := dW[i*O : (i+1)*O]
				for j := range gr {
					gr[j] += a * eps[j]
				}
			}
			w.macDone += int64(N) * int64(O)
		}
		w.macDense += int64(N) * int64(O)
		if gIn != nil {
			g := gIn[t*N : (t+1)*N]
			switch {
			case sparse && O >= 32:
				ev := eps[:O]
				for i := range g {
					g[i] = kern.Sdot(O, W[i*O:(i+1)*O], 1, ev, 1)
				}
			case !w.dense:
				// Short rows (a classifier's 10 outputs): a call per row would cost more than the row, so
				// the O output-major rows of W are summed weighted by ε, with g held in registers: the
				// products and sums of the loop below, in its order.
				ds := w.denseT(d)
				clear(g)
				axpyN(g, ds.wt, ds.offs, eps)
			default:
				for i := range g {
					wr := W[i*O : (i+1)*O]
					var s float32
					for j, e := range eps {
						s += wr[j] * e
					}
					g[i] = s
				}
			}
			w.macDone += int64(N) * int64(O)
			w.macDense += int64(N) * int64(O)
		}
	}
}

// denseScratch is one worker's output-major copy of a dense layer's weights, for the input gradient.
type denseScratch struct {
	gen   uint64    // net.gen wt was built for
	built bool      //
	wt    []float32 // [out][in]
	offs  []int32   // j·in: the start of output j's row
}

// denseT returns d's output-major weights, rebuilt when the parameters changed since.
func (w *worker) denseT(d *dense) *denseScratch {
	if w.denseS == nil {
		w.denseS = make(map[*dense]*denseScratch)
	}
	ds := w.denseS[d]
	if ds == nil {
		ds = &denseScratch{wt: make([]float32, d.in*d.out), offs: make([]int32, d.out)}
		for j := range ds.offs {
			ds.offs[j] = int32(j * d.in)
		}
		w.denseS[d] = ds
	}
	if ds.built && ds.gen == w.net.gen {
		return ds
	}
	W, I, O := d.w.Data, d.in, d.out
	for i := 0; i < I; i++ {
		for j, v := range W[i*O : (i+1)*O] {
			ds.wt[j*I+i] = v
		}
	}
	ds.gen, ds.built = w.net.gen, true
	return ds
}

func allZero(s []float32) bool {
	for _, v := range s {
		if v != 0 {
			return false
		}
	}
	return true
}
