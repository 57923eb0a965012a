package snn

// Pooling kinds.
const (
	poolMax = iota
	poolSum
	poolAvg
)

// pool2d pools k×k windows with stride k per channel (a partial last row/column is dropped, as in
// PyTorch). Max keeps the arg-max for backward; sum passes g to every input (input downsampling such as
// DVS128 Gesture 128→32); avg passes g/k². It may sit before LIF (pooling currents, snnTorch) or after
// (pooling spikes, SpikingJelly); pooled spikes stay sparse for the next layer.
type pool2d struct {
	kind    int
	in, out Shape
	k       int
}

func newPool(kind int, in Shape, k int) *pool2d {
	return &pool2d{kind: kind, in: in, out: Shape{C: in.C, H: in.H / k, W: in.W / k}, k: k}
}

func (p *pool2d) params() []*Param { return nil }
func (p *pool2d) outShape() Shape  { return p.out }

func (p *pool2d) forward(w *worker, in, out *Act) {
	T, Nin, Nout := in.T, p.in.Size(), p.out.Size()
	in.ensureDense()
	out.reset(T, Nout)
	if p.kind == poolMax && p.k == 2 {
		out.V, out.HasDense = growF(out.V, T*Nout), true // every value is written
		out.AuxI = growI(out.AuxI, T*Nout)
		p.max2(in, out)
		if in.HasSparse {
			out.sparsify(in.Val == nil)
		}
		return
	}
	v := out.zeroDense()
	if p.kind == poolMax {
		out.AuxI = growI(out.AuxI, T*Nout)
	}
	inv := 1 / float32(p.k*p.k)
	for t := 0; t < T; t++ {
		x := in.V[t*Nin : (t+1)*Nin]
		o := v[t*Nout : (t+1)*Nout]
		for c := 0; c < p.out.C; c++ {
			for oy := 0; oy < p.out.H; oy++ {
				for ox := 0; ox < p.out.W; ox++ {
					oi := (c*p.out.H+oy)*p.out.W + ox
					best, arg, sum := float32(0), -1, float32(0)
					for ky := 0; ky < p.k; ky++ {
						base := (c*p.in.H+oy*p.k+ky)*p.in.W + ox*p.k
						for kx := 0; kx < p.k; kx++ {
							xv := x[base+kx]
							sum += xv
							if arg < 0 || xv > best {
								best, arg = xv, base+kx
							}
						}
					}
					switch p.kind {
					case poolMax:
						o[oi] = best
						out.AuxI[t*Nout+oi] = int32(arg)
					case poolSum:
						o[oi] = sum
					default:
						o[oi] = sum * inv
					}
				}
			}
		}
	}
	if in.HasSparse {
		out.sparsify(in.Val == nil && p.kind == poolMax)
	}
}

// max2 is the 2×2 max pool: the same maximum and arg-max (the first maximum in row-major order) as the
// general loop, without its data-dependent branches in the inner loop.
func (p *pool2d) max2(in, out *Act) {
	T, Nin, Nout := in.T, p.in.Size(), p.out.Size()
	IW, IH, OW, OH := p.in.W, p.in.H, p.out.W, p.out.H
	for t := 0; t < T; t++ {
		x := in.V[t*Nin : (t+1)*Nin]
		o := out.V[t*Nout : (t+1)*Nout]
		arg := out.AuxI[t*Nout : (t+1)*Nout]
		for c := 0; c < p.out.C; c++ {
			for oy := 0; oy < OH; oy++ {
				r0 := (c*IH + 2*oy) * IW
				row0, row1 := x[r0:r0+IW], x[r0+IW:r0+2*IW]
				oi := (c*OH + oy) * OW
				for ox := 0; ox < OW; ox++ {
					// Branch-free: comparisons become 0/1 and pick indices (conv outputs are
					// noise to a branch predictor).
					i := 2*ox + b2i(row0[2*ox+1] > row0[2*ox])
					j := 2*ox + b2i(row1[2*ox+1] > row1[2*ox])
					m, n := row0[i], row1[j]
					c := b2i(n > m)
					idx := r0 + (1-c)*i + c*(IW+j)
					o[oi+ox] = x[idx]
					arg[oi+ox] = int32(idx)
				}
			}
		}
	}
}

// b2i is 1 for true, 0 for false (compiled to a SETcc, not a branch).
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// gradHint describes a gradient that is zero except at one known input per pooled output: value
// val[t·n+i] at input index idx[t·n+i] of step t. A max pool leaves it for the layer below (a convolution
// then visits only those sites instead of scanning for non-zeros).
type gradHint struct {
	idx []int32
	val []float32
	n   int
}

func (p *pool2d) backward(w *worker, in, out *Act, gOut, gIn []float32, grads [][]float32) {
	if gIn == nil {
		return
	}
	if p.kind == poolMax {
		w.hint = gradHint{idx: out.AuxI, val: gOut, n: p.out.Size()}
		if w.hintOnly {
			return // the layer below reads the hint, not gIn
		}
	}
	T, Nin, Nout := in.T, p.in.Size(), p.out.Size()
	clear(gIn[:T*Nin])
	inv := 1 / float32(p.k*p.k)
	for t := 0; t < T; t++ {
		g := gOut[t*Nout : (t+1)*Nout]
		gi := gIn[t*Nin : (t+1)*Nin]
		if p.kind == poolMax {
			arg := out.AuxI[t*Nout : (t+1)*Nout]
			for oi, e := range g {
				gi[arg[oi]] += e
			}
			continue
		}
		for c := 0; c < p.out.C; c++ {
			for oy := 0; oy < p.out.H; oy++ {
				for ox := 0; ox < p.out.W; ox++ {
					e := g[(c*p.out.H+oy)*p.out.W+ox]
					if p.kind == poolAvg {
						e *= inv
					}
					for ky := 0; ky < p.k; ky++ {
						base := (c*p.in.H+oy*p.k+ky)*p.in.W + ox*p.k
						for kx := 0; kx < p.k; kx++ {
							gi[base+kx] = e
						}
					}
				}
			}
		}
	}
}

// flatten only relabels a (C, H, W) activation as a vector; the data are already in C-major order, which
// is also PyTorch's nn.Flatten order, so a following dense layer's weights load unchanged in PyTorch.
type flatten struct{ in Shape }

func (f *flatten) params() []*Param { return nil }
func (f *flatten) outShape() Shape  { return Shape{C: f.in.Size(), H: 1, W: 1} }

func (f *flatten) forward(w *worker, in, out *Act) {
	aux, auxI := out.Aux, out.AuxI
	*out = *in // shares the buffers: flatten's output is only ever read
	out.Aux, out.AuxI = aux, auxI
}

func (f *flatten) backward(w *worker, in, out *Act, gOut, gIn []float32, grads [][]float32) {
	if gIn != nil {
		copy(gIn, gOut[:in.T*in.N])
	}
}
