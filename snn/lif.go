package snn

import "math"

// lif is a layer of leaky integrate-and-fire neurons (docs/snn-model.md#lif-neurons). Its input is the current I_t, its
// output the spikes S_t (0/1; a smooth sigmoid in gradient-check mode).
//
//	subtract reset: U_t = β·U_{t−1} + I_t − θ·S_{t−1}
//	zero reset:     U_t = β·(1 − S_{t−1})·U_{t−1} + I_t
//	S_t = Θ(U_t − θ)
//
// With detach (the default) the reset term passes no gradient, as in snnTorch's Leaky.
type lif struct {
	shape     Shape
	beta      float32 // fixed leak; ignored when learn is set
	theta     float32
	zeroReset bool
	detach    bool
	learn     bool   // β = sigmoid(logit) is trained (PLIF-style, one β per layer)
	logit     *Param // when learn

	// frozenReset, when set (tests only), replaces S_{t−1} in the reset term by a constant, so finite
	// differences measure exactly the gradient the detached reset defines.
	frozenReset []float32
}

func (l *lif) params() []*Param {
	if l.learn {
		return []*Param{l.logit}
	}
	return nil
}

func (l *lif) outShape() Shape { return l.shape }

func (l *lif) leak() float32 {
	if l.learn {
		return float32(1 / (1 + math.Exp(-float64(l.logit.Data[0]))))
	}
	return l.beta
}

func (l *lif) forward(w *worker, in, out *Act) {
	T, N := in.T, l.shape.Size()
	in.ensureDense()
	out.reset(T, N)
	S := out.zeroDense()
	out.Aux = growF(out.Aux, T*N)
	U := out.Aux
	beta, theta := l.leak(), l.theta
	check := w.sur.Name == SigmoidCheck
	out.Off = growI(out.Off, T+1)
	out.Idx, out.Val = out.Idx[:0], nil
	for t := 0; t < T; t++ {
		out.Off[t] = int32(len(out.Idx))
		I := in.V[t*N : (t+1)*N]
		u := U[t*N : (t+1)*N]
		s := S[t*N : (t+1)*N]
		if t == 0 {
			copy(u, I)
		} else {
			up, sp := U[(t-1)*N:t*N], S[(t-1)*N:t*N]
			if l.frozenReset != nil {
				sp = l.frozenReset[(t-1)*N : t*N]
			}
			if l.zeroReset {
				for j := range u {
					u[j] = beta*(1-sp[j])*up[j] + I[j]
				}
			} else {
				for j := range u {
					u[j] = beta*up[j] + I[j] - theta*sp[j]
				}
			}
		}
		if check {
			for j := range s {
				s[j] = w.sur.spike(u[j] - theta)
			}
			continue
		}
		for j, uj := range u {
			if uj >= theta {
				s[j] = 1
				out.Idx = append(out.Idx, int32(j))
			}
		}
	}
	out.Off[T] = int32(len(out.Idx))
	out.HasSparse = !check
	if w.spikes != nil {
		if check {
			var n float64
			for _, v := range S {
				n += float64(v)
			}
			w.spikes[w.cur] += n
		} else {
			w.spikes[w.cur] += float64(len(out.Idx))
		}
	}
}

// lifGeneralOnly, in tests, turns the specialised backward loop off.
var lifGeneralOnly bool

func (l *lif) backward(w *worker, in, out *Act, gOut, gIn []float32, grads [][]float32) {
	T, N := in.T, l.shape.Size()
	U, S := out.Aux, out.V
	beta, theta := l.leak(), l.theta
	band := w.band
	var dBeta float64
	// The common case, subtract reset detached with the atan surrogate and no band, runs in a loop of
	// its own (the same arithmetic as the general loop below, without its per-neuron switches).
	fast := !l.zeroReset && l.detach && band == 0 && w.sur.Name == ATan && !lifGeneralOnly
	a := float32(w.sur.Scale)
	half, k := a/2, float32(math.Pi)*a/2
	for t := T - 1; t >= 0; t-- {
		gs := gOut[t*N : (t+1)*N]
		u := U[t*N : (t+1)*N]
		s := S[t*N : (t+1)*N]
		eps := gIn[t*N : (t+1)*N]
		var next []float32
		if t+1 < T {
			next = gIn[(t+1)*N : (t+2)*N]
		}
		if fast {
			gs, u := gs[:len(eps)], u[:len(eps)]
			if next == nil {
				for j := range eps {
					z := k * (u[j] - theta)
					eps[j] = gs[j] * (half / (1 + z*z))
				}
			} else {
				next := next[:len(eps)]
				for j := range eps {
					z := k * (u[j] - theta)
					eps[j] = float32(gs[j]*(half/(1+z*z))) + float32(beta*next[j])
				}
			}
		} else {
			for j := range eps {
				x := u[j] - theta
				if band > 0 && (x > band || x < -band) {
					// Sparse gradient (Perez-Nieves & Goodman): a neuron far from threshold passes nothing.
					eps[j] = 0
					continue
				}
				sg := w.sur.grad(x, theta)
				e := gs[j] * sg
				if next != nil {
					n := next[j]
					switch {
					case !l.zeroReset && l.detach:
						e += beta * n
					case !l.zeroReset:
						e += n * (beta - theta*sg)
					case l.detach:
						e += beta * (1 - s[j]) * n
					default:
						e += n * (beta*(1-s[j]) - beta*u[j]*sg)
					}
				}
				eps[j] = e
			}
		}
		if l.learn && t > 0 {
			up, sp := U[(t-1)*N:t*N], S[(t-1)*N:t*N]
			for j, e := range eps {
				if l.zeroReset {
					dBeta += float64(e * (1 - sp[j]) * up[j])
				} else {
					dBeta += float64(e * up[j])
				}
			}
		}
	}
	if l.learn {
		grads[0][0] += float32(dBeta * float64(beta) * float64(1-beta))
	}
}

// readout is the non-spiking leaky integrator U_t = β·U_{t−1} + I_t (no reset); its output is U_t, and
// the ce_membrane loss takes logits = mean_t U_t (docs/snn-model.md#readout).
type readout struct {
	n    int
	beta float32
}

func (r *readout) params() []*Param { return nil }
func (r *readout) outShape() Shape  { return Shape{C: r.n, H: 1, W: 1} }

func (r *readout) forward(w *worker, in, out *Act) {
	T, N := in.T, r.n
	in.ensureDense()
	out.reset(T, N)
	U := out.zeroDense()
	copy(U[:N], in.V[:N])
	for t := 1; t < T; t++ {
		u, up, I := U[t*N:(t+1)*N], U[(t-1)*N:t*N], in.V[t*N:(t+1)*N]
		for j := range u {
			u[j] = r.beta*up[j] + I[j]
		}
	}
}

func (r *readout) backward(w *worker, in, out *Act, gOut, gIn []float32, grads [][]float32) {
	T, N := in.T, r.n
	copy(gIn[(T-1)*N:T*N], gOut[(T-1)*N:T*N])
	for t := T - 2; t >= 0; t-- {
		e, next, g := gIn[t*N:(t+1)*N], gIn[(t+1)*N:(t+2)*N], gOut[t*N:(t+1)*N]
		for j := range e {
			e[j] = g[j] + r.beta*next[j]
		}
	}
}
