package snn

import (
	"gonum.org/v1/gonum/blas"
)

// conv2d is a 2-D cross-correlation I_t = W ⋆ x_t + b with stride s and zero padding p, weights
// W[co][ci][ky][kx] (PyTorch's Conv2d layout) and activations in channel-major (C, H, W) order.
//
// With a sparse input (events or spikes) the forward pass scatters each active input into the outputs
// it reaches, and the weight gradient visits only active inputs; the input gradient, a transposed
// convolution, skips outputs whose ε is zero. The dense path loops over everything.
type conv2d struct {
	in, out   Shape
	k, s, p   int
	w, b      *Param
	kk, wSize int
}

func newConv2d(in Shape, cout, k, stride, pad int) *conv2d {
	oh := (in.H+2*pad-k)/stride + 1
	ow := (in.W+2*pad-k)/stride + 1
	c := &conv2d{in: in, out: Shape{C: cout, H: oh, W: ow}, k: k, s: stride, p: pad, kk: k * k}
	c.wSize = cout * in.C * k * k
	c.w = &Param{Name: "weight", Shape: []int{cout, in.C, k, k}, Data: make([]float32, c.wSize), decay: true}
	c.b = &Param{Name: "bias", Shape: []int{cout}, Data: make([]float32, cout)}
	return c
}

func (c *conv2d) params() []*Param { return []*Param{c.w, c.b} }
func (c *conv2d) outShape() Shape  { return c.out }

// tap is one (output pixel, kernel position) pair reached by an input pixel.
type tap struct{ op, tap int32 }

// tapList fills w.taps with every (output pixel, kernel position) reached by input pixel (iy, ix) and
// returns how many there are.
func (c *conv2d) tapList(iy, ix int, w *worker) int {
	if cap(w.taps) < c.kk {
		w.taps = make([]tap, c.kk)
	}
	w.taps = w.taps[:c.kk]
	n := 0
	for ky := 0; ky < c.k; ky++ {
		ny := iy + c.p - ky
		if ny < 0 || ny%c.s != 0 {
			continue
		}
		oy := ny / c.s
		if oy >= c.out.H {
			continue
		}
		for kx := 0; kx < c.k; kx++ {
			nx := ix + c.p - kx
			if nx < 0 || nx%c.s != 0 {
				continue
			}
			ox := nx / c.s
			if ox >= c.out.W {
				continue
			}
			w.taps[n] = tap{op: int32(oy*c.out.W + ox), tap: int32(ky*c.k + kx)}
			n++
		}
	}
	return n
}

func (c *conv2d) forward(w *worker, in, out *Act) {
	T := in.T
	Nin, Nout, OHW, IHW := c.in.Size(), c.out.Size(), c.out.H*c.out.W, c.in.H*c.in.W
	W, CI, KK := c.w.Data, c.in.C, c.kk
	out.reset(T, Nout)
	out.gemm = false
	if !w.dense && (!in.HasSparse || float64(in.activeCount()) > gemmDensity*float64(T*Nin)) {
		c.forwardGemm(w, in, out)
		return
	}
	if !w.dense && c.s == 1 {
		c.forwardSparse1(w, in, out)
		return
	}
	v := out.zeroDense()
	sparse := in.HasSparse && !w.dense
	var wt []float32
	if !sparse {
		in.ensureDense()
	} else {
		wt = c.channelLast(w)
	}
	for t := 0; t < T; t++ {
		o := v[t*Nout : (t+1)*Nout]
		for co := 0; co < c.out.C; co++ {
			b := c.b.Data[co]
			for j := co * OHW; j < (co+1)*OHW; j++ {
				o[j] = b
			}
		}
		if sparse {
			// Event-driven: scatter each active input into the outputs it reaches.
			// Accumulate channel-last (pixel, co) so each tap adds one contiguous run of CO weights,
			// then transpose into the (co, pixel) layout.
			CO := c.out.C
			acc := w.convAcc[:OHW*CO]
			clear(acc)
			for e := in.Off[t]; e < in.Off[t+1]; e++ {
				a, idx := in.entry(e)
				ci, pix := idx/IHW, idx%IHW
				nt := c.tapList(pix/c.in.W, pix%c.in.W, w)
				for _, tp := range w.taps[:nt] {
					src := wt[(ci*KK+int(tp.tap))*CO : (ci*KK+int(tp.tap)+1)*CO]
					dst := acc[int(tp.op)*CO : (int(tp.op)+1)*CO]
					for co, wv := range src {
						dst[co] += a * wv
					}
				}
				w.macDone += int64(nt * CO)
			}
			for op := 0; op < OHW; op++ {
				for co, v := range acc[op*CO : (op+1)*CO] {
					o[co*OHW+op] += v
				}
			}
		} else {
			x := in.V[t*Nin : (t+1)*Nin]
			c.eachTap(func(co, op, ci, tap, ip int) {
				o[co*OHW+op] += W[(co*CI+ci)*KK+tap] * x[ci*IHW+ip]
			})
			w.macDone += int64(Nout * CI * KK)
		}
		w.macDense += int64(Nout * CI * KK)
	}
}

func (c *conv2d) backward(w *worker, in, out *Act, gOut, gIn []float32, grads [][]float32) {
	T := in.T
	Nin, Nout, OHW, IHW := c.in.Size(), c.out.Size(), c.out.H*c.out.W, c.in.H*c.in.W
	W, CI, KK := c.w.Data, c.in.C, c.kk
	dW, db := grads[0], grads[1]
	if !w.dense && c.s == 1 && !out.gemm {
		c.backward1(w, in, out, gOut, gIn, grads)
		return
	}
	sparse := in.HasSparse && !w.dense
	if !w.dense && (out.gemm || gIn != nil) {
		c.gatherEps(w, T, gOut)
	}
	if out.gemm {
		c.weightGradGemm(w, T, out, dW)
	}
	var dwt []float32
	if sparse && !out.gemm {
		c.channelLast(w) // sizes the scratch
		dwt = w.convDWt[:c.wSize]
		clear(dwt)
		defer func() {
			// Fold the channel-last gradient back into dW[co][ci][tap].
			CO := c.out.C
			for r := 0; r < CI*KK; r++ {
				for co, v := range dwt[r*CO : (r+1)*CO] {
					dW[co*CI*KK+r] += v
				}
			}
		}()
	}
	for t := 0; t < T; t++ {
		eps := gOut[t*Nout : (t+1)*Nout]
		for co := 0; co < c.out.C; co++ {
			var s float32
			for _, e := range eps[co*OHW : (co+1)*OHW] {
				s += e
			}
			db[co] += s
		}
		// Weight gradient: ∂W[co,ci,ky,kx] += ε[co,oy,ox]·x[ci, oy·s+ky−p, ox·s+kx−p].
		if out.gemm {
			continue // done above for all steps; so is the input gradient, below
		}
		if sparse {
			// Channel-last again: ε transposed to (pixel, co), gradient rows (ci, tap) of CO values.
			CO := c.out.C
			et := w.convAcc[:OHW*CO]
			for co := 0; co < CO; co++ {
				for op, v := range eps[co*OHW : (co+1)*OHW] {
					et[op*CO+co] = v
				}
			}
			for e := in.Off[t]; e < in.Off[t+1]; e++ {
				a, idx := in.entry(e)
				ci, pix := idx/IHW, idx%IHW
				nt := c.tapList(pix/c.in.W, pix%c.in.W, w)
				for _, tp := range w.taps[:nt] {
					src := et[int(tp.op)*CO : (int(tp.op)+1)*CO]
					dst := dwt[(ci*KK+int(tp.tap))*CO : (ci*KK+int(tp.tap)+1)*CO]
					for co, ev := range src {
						dst[co] += a * ev
					}
				}
				w.macDone += int64(nt * CO)
			}
		} else {
			x := in.V[t*Nin : (t+1)*Nin]
			c.eachTap(func(co, op, ci, tap, ip int) {
				dW[(co*CI+ci)*KK+tap] += eps[co*OHW+op] * x[ci*IHW+ip]
			})
			w.macDone += int64(Nout * CI * KK)
		}
		w.macDense += int64(Nout * CI * KK)
		if gIn == nil || !w.dense {
			continue
		}
		// Input gradient (transposed convolution), dense reference path; the fast path is inputGradGemm.
		g := gIn[t*Nin : (t+1)*Nin]
		clear(g)
		c.eachTap(func(co, op, ci, tap, ip int) {
			g[ci*IHW+ip] += W[(co*CI+ci)*KK+tap] * eps[co*OHW+op]
		})
		w.macDone += int64(Nout * CI * KK)
		w.macDense += int64(Nout * CI * KK)
	}
	if gIn != nil && !w.dense {
		c.inputGradGemm(w, T, gOut, gIn)
	}
}

// inputGradGemm computes the input gradient of all T steps at once as one matrix product followed by a
// scatter (col2im): cols[(ci,ky,kx)][(t,oy,ox)] = Σ_co W[co][(ci,ky,kx)]·ε_t[co][(oy,ox)]. ε is rarely
// sparse here (the leak spreads it over time), so a GEMM beats any skipping scheme.
func (c *conv2d) inputGradGemm(w *worker, T int, gOut, gIn []float32) {
	Nin, Nout, OHW, IHW := c.in.Size(), c.out.Size(), c.out.H*c.out.W, c.in.H*c.in.W
	CO, CK := c.out.C, c.in.C*c.kk
	w.convCols = growF(w.convCols, CK*T*OHW)
	kern.Sgemm(blas.Trans, blas.NoTrans, CK, T*OHW, CO, 1, c.w.Data, CK, w.convE, T*OHW, 0, w.convCols, T*OHW)
	clear(gIn[:T*Nin])
	for ci := 0; ci < c.in.C; ci++ {
		for ky := 0; ky < c.k; ky++ {
			for kx := 0; kx < c.k; kx++ {
				row := w.convCols[((ci*c.k+ky)*c.k+kx)*T*OHW:]
				for t := 0; t < T; t++ {
					g := gIn[t*Nin+ci*IHW : t*Nin+(ci+1)*IHW]
					r := row[t*OHW : (t+1)*OHW]
					for oy := 0; oy < c.out.H; oy++ {
						iy := oy*c.s + ky - c.p
						if iy < 0 || iy >= c.in.H {
							continue
						}
						for ox := 0; ox < c.out.W; ox++ {
							ix := ox*c.s + kx - c.p
							if ix >= 0 && ix < c.in.W {
								g[iy*c.in.W+ix] += r[oy*c.out.W+ox]
							}
						}
					}
				}
			}
		}
	}
	n := int64(T) * int64(Nout) * int64(c.in.C*c.kk)
	w.macDone += n
	w.macDense += n
}

// channelLast returns the weights as wt[(ci, tap)][co] (in worker scratch) and sizes the other
// channel-last scratch buffers.
func (c *conv2d) channelLast(w *worker) []float32 {
	CO, CK := c.out.C, c.in.C*c.kk
	w.convWt = growF(w.convWt, c.wSize)
	w.convDWt = growF(w.convDWt, c.wSize)
	w.convAcc = growF(w.convAcc, c.out.Size())
	for co := 0; co < CO; co++ {
		for r, v := range c.w.Data[co*CK : (co+1)*CK] {
			w.convWt[r*CO+co] = v
		}
	}
	return w.convWt[:c.wSize]
}

// gemmDensity is the input density above which the convolution runs as matrix products (im2col +
// a GEMM) rather than event-driven scatter: the scatter does density × the multiply-adds but at a
// fraction of Gemm's speed, and they break even at roughly 15 % on the target CPU.
const gemmDensity = 0.5

// gatherEps copies ε into (co, t·OHW) order (w.convE) so products run over all steps at once.
func (c *conv2d) gatherEps(w *worker, T int, gOut []float32) {
	Nout, OHW, CO := c.out.Size(), c.out.H*c.out.W, c.out.C
	w.convE = growF(w.convE, CO*T*OHW)
	for t := 0; t < T; t++ {
		for co := 0; co < CO; co++ {
			copy(w.convE[co*T*OHW+t*OHW:co*T*OHW+(t+1)*OHW], gOut[t*Nout+co*OHW:t*Nout+(co+1)*OHW])
		}
	}
}

// forwardGemm computes all T steps as out[co][(t,op)] = W[co][(ci,ky,kx)]·cols[(ci,ky,kx)][(t,op)]; the
// im2col matrix is kept in out.Aux for the weight gradient.
func (c *conv2d) forwardGemm(w *worker, in, out *Act) {
	T := in.T
	Nin, Nout, OHW, IHW := c.in.Size(), c.out.Size(), c.out.H*c.out.W, c.in.H*c.in.W
	CO, CK := c.out.C, c.in.C*c.kk
	in.ensureDense()
	out.gemm = true
	cols := growF(out.Aux, CK*T*OHW)
	out.Aux = cols
	for ci := 0; ci < c.in.C; ci++ {
		for ky := 0; ky < c.k; ky++ {
			for kx := 0; kx < c.k; kx++ {
				row := cols[((ci*c.k+ky)*c.k+kx)*T*OHW:]
				for t := 0; t < T; t++ {
					x := in.V[t*Nin+ci*IHW : t*Nin+(ci+1)*IHW]
					r := row[t*OHW : (t+1)*OHW]
					for oy := 0; oy < c.out.H; oy++ {
						iy := oy*c.s + ky - c.p
						rr := r[oy*c.out.W : (oy+1)*c.out.W]
						if iy < 0 || iy >= c.in.H {
							clear(rr)
							continue
						}
						for ox := range rr {
							ix := ox*c.s + kx - c.p
							if ix >= 0 && ix < c.in.W {
								rr[ox] = x[iy*c.in.W+ix]
							} else {
								rr[ox] = 0
							}
						}
					}
				}
			}
		}
	}
	w.convE = growF(w.convE, CO*T*OHW)
	kern.Sgemm(blas.NoTrans, blas.NoTrans, CO, T*OHW, CK, 1, c.w.Data, CK, cols, T*OHW, 0, w.convE, T*OHW)
	v := out.zeroDense()
	for t := 0; t < T; t++ {
		for co := 0; co < CO; co++ {
			o := v[t*Nout+co*OHW : t*Nout+(co+1)*OHW]
			src := w.convE[co*T*OHW+t*OHW:]
			b := c.b.Data[co]
			for j := range o {
				o[j] = src[j] + b
			}
		}
	}
	n := int64(T) * int64(Nout) * int64(CK)
	w.macDone += n
	w.macDense += n
}

// weightGradGemm adds dW[co][(ci,ky,kx)] += Σ_(t,op) ε[co][(t,op)]·cols[(ci,ky,kx)][(t,op)].
func (c *conv2d) weightGradGemm(w *worker, T int, out *Act, dW []float32) {
	OHW, CO, CK := c.out.H*c.out.W, c.out.C, c.in.C*c.kk
	kern.Sgemm(blas.NoTrans, blas.Trans, CO, CK, T*OHW, 1, w.convE, T*OHW, out.Aux, T*OHW, 1, dW, CK)
	n := int64(T) * int64(c.out.Size()) * int64(CK)
	w.macDone += n
	w.macDense += n
}

// eachTap calls f(co, outPixel, ci, tap, inPixel) for every in-range (output, weight) pair.
func (c *conv2d) eachTap(f func(co, op, ci, tap, ip int)) {
	for co := 0; co < c.out.C; co++ {
		for oy := 0; oy < c.out.H; oy++ {
			for ox := 0; ox < c.out.W; ox++ {
				op := oy*c.out.W + ox
				for ci := 0; ci < c.in.C; ci++ {
					for ky := 0; ky < c.k; ky++ {
						iy := oy*c.s + ky - c.p
						if iy < 0 || iy >= c.in.H {
							continue
						}
						for kx := 0; kx < c.k; kx++ {
							ix := ox*c.s + kx - c.p
							if ix < 0 || ix >= c.in.W {
								continue
							}
							f(co, op, ci, ky*c.k+kx, iy*c.in.W+ix)
						}
					}
				}
			}
		}
	}
}
