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
			for e := in.Off[t]; e < in.Off[t+1]; e++ {
				a, i := in.entry(e)
				axpy(O, a, W[i*O:(i+1)*O], row)
			}
			w.macDone += int64(in.Off[t+1]-in.Off[t]) * int64(O)
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
		if sparse {
			for e := in.Off[t]; e < in.Off[t+1]; e++ {
				a, i := in.entry(e)
				axpy(O, a, eps, dW[i*O:(i+1)*O])
			}
			w.macDone += int64(in.Off[t+1]-in.Off[t]) * int64(O)
		} else {
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
			if sparse && O >= 32 {
				ev := eps[:O]
				for i := range g {
					g[i] = kern.Sdot(O, W[i*O:(i+1)*O], 1, ev, 1)
				}
			} else {
				// Short rows (a classifier's 10 outputs): a call per row would cost more than the row.
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

func allZero(s []float32) bool {
	for _, v := range s {
		if v != 0 {
			return false
		}
	}
	return true
}
