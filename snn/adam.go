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
	c1 := 1 / (1 - math.Pow(adamB1, float64(a.step)))
	c2 := 1 / (1 - math.Pow(adamB2, float64(a.step)))
	p := params[i]
	m, v, g, w := a.m[i][lo:hi], a.v[i][lo:hi], grads[i][lo:hi], p.Data[lo:hi]
	decay := float32(0)
	if p.decay {
		decay = float32(lr * wd)
	}
	for j := range w {
		gj := g[j]
		m[j] = adamB1*m[j] + (1-adamB1)*gj
		v[j] = adamB2*v[j] + (1-adamB2)*gj*gj
		mh := float64(m[j]) * c1
		vh := float64(v[j]) * c2
		w[j] -= float32(lr*mh/(math.Sqrt(vh)+adamEps)) + decay*w[j]
	}
}

// cosineLR is η_k = η_min + ½(η₀ − η_min)(1 + cos(π·k/K)).
func cosineLR(lr0, lrMin float64, k, K int) float64 {
	if K <= 0 {
		return lr0
	}
	return lrMin + 0.5*(lr0-lrMin)*(1+math.Cos(math.Pi*float64(min(k, K))/float64(K)))
}
