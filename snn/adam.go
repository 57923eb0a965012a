package snn

import "math"

// Adam hyper-parameters (docs/snn-model.md#optimiser).
const (
	adamB1  = 0.9
	adamB2  = 0.999
	adamEps = 1e-8
)

// adam is the Adam optimiser with decoupled weight decay (AdamW): w ← w − η·(m̂/(√v̂ + ε) + λ·w),
// the decay applying to weights only.
type adam struct {
	m, v [][]float32
	step int
}

func newAdam(params []*Param) *adam {
	a := &adam{m: make([][]float32, len(params)), v: make([][]float32, len(params))}
	for i, p := range params {
		a.m[i] = make([]float32, len(p.Data))
		a.v[i] = make([]float32, len(p.Data))
	}
	return a
}

// updateRange updates values [lo, hi) of parameter i; a.step must already count this step. Disjoint
// ranges may be updated concurrently.
func (a *adam) updateRange(params []*Param, grads [][]float32, lr, wd float64, i, lo, hi int) {
	p := params[i]
	k := adamConst{lr: lr, c1: 1 / (1 - math.Pow(adamB1, float64(a.step))), c2: 1 / (1 - math.Pow(adamB2, float64(a.step))),
		eps: adamEps, b1: adamB1, ib1: 1 - adamB1, b2: adamB2, ib2: 1 - adamB2}
	if p.decay {
		k.decay = float32(lr * wd)
	}
	m, v, g, w := a.m[i][lo:hi], a.v[i][lo:hi], grads[i][lo:hi], p.Data[lo:hi]
	n8 := 0
	if useAVX2 {
		n8 = len(w) &^ 7
		if n8 > 0 {
			_, _, _ = m[n8-1], v[n8-1], g[n8-1]
			adamAVX2(&w[0], &m[0], &v[0], &g[0], n8, &k)
		}
	}
	adamGo(w[n8:], m[n8:], v[n8:], g[n8:], &k)
}

// adamConst holds one step's constants for the kernels; the assembly reads the fields by offset.
type adamConst struct {
	lr, c1, c2, eps  float64 // c1, c2: the bias corrections 1/(1 − βᵏ)
	b1, ib1, b2, ib2 float32 // β₁, 1 − β₁, β₂, 1 − β₂
	decay            float32 // η·λ for weights, 0 for the rest
}

// adamGo is the update in Go; the AVX2 kernel (kernel_amd64.s) does the same operations in the same
// order — float32 moments, then the step in float64 (square root and division are correctly rounded
// in both) — so the two give the same bits.
func adamGo(w, m, v, g []float32, k *adamConst) {
	m, v, g = m[:len(w)], v[:len(w)], g[:len(w)]
	for j := range w {
		gj := g[j]
		m[j] = float32(k.b1*m[j]) + float32(k.ib1*gj) // the conversions forbid fused multiply-adds
		v[j] = float32(k.b2*v[j]) + float32(float32(k.ib2*gj)*gj)
		mh := float64(m[j]) * k.c1
		vh := float64(v[j]) * k.c2
		w[j] -= float32(k.lr*mh/(math.Sqrt(vh)+k.eps)) + float32(k.decay*w[j])
	}
}

// cosineLR is η_k = η_min + ½(η₀ − η_min)(1 + cos(π·k/K)).
func cosineLR(lr0, lrMin float64, k, K int) float64 {
	if K <= 0 {
		return lr0
	}
	return lrMin + 0.5*(lr0-lrMin)*(1+math.Cos(math.Pi*float64(min(k, K))/float64(K)))
}
