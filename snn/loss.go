package snn

import "math"

// MSE count targets: the true class should fire in r⁺ of the steps, the others in r⁻ (snnTorch's
// N-MNIST tutorial uses mse_count_loss(0.8, 0.2)).
const (
	mseRateTrue  = 0.8
	mseRateFalse = 0.2
)

// logits returns the per-class scores a prediction is taken from: spike counts Σ_t S_t for spiking
// outputs, mean_t U_t for a readout. tie, for spiking outputs, holds Σ_t U_t to break count ties.
func logits(out *Act, membrane bool, z, tie []float64) {
	T, C := out.T, out.N
	clear(z)
	clear(tie)
	for t := 0; t < T; t++ {
		for c := 0; c < C; c++ {
			z[c] += float64(out.V[t*C+c])
			if !membrane {
				tie[c] += float64(out.Aux[t*C+c])
			}
		}
	}
	if membrane {
		for c := range z {
			z[c] /= float64(T)
		}
	}
}

func argmax(z, tie []float64) int {
	best := 0
	for c := 1; c < len(z); c++ {
		if z[c] > z[best] || (z[c] == z[best] && tie != nil && tie[c] > tie[best]) {
			best = c
		}
	}
	return best
}

// lossGrad computes the loss of one sample, writes ∂L/∂out.V·scale into g (T×C) and returns the loss
// and the predicted class (docs/snn-model.md#losses).
func lossGrad(kind string, out *Act, label int, g []float32, scale float64, z, tie, p []float64) (float64, int) {
	T, C := out.T, out.N
	membrane := kind == LossCEMembrane
	logits(out, membrane, z, tie)
	var pred int
	if membrane {
		pred = argmax(z, nil)
	} else {
		pred = argmax(z, tie)
	}
	var loss float64
	switch kind {
	case LossMSECount:
		for c := 0; c < C; c++ {
			target := float64(T) * mseRateFalse
			if c == label {
				target = float64(T) * mseRateTrue
			}
			d := z[c] - target
			loss += d * d / float64(C)
			p[c] = 2 * d / float64(C)
		}
	default: // ce_count, ce_membrane: softmax cross-entropy on the logits
		m := z[0]
		for _, v := range z[1:] {
			m = math.Max(m, v)
		}
		var sum float64
		for c, v := range z {
			p[c] = math.Exp(v - m)
			sum += p[c]
		}
		loss = -(z[label] - m - math.Log(sum))
		for c := range p {
			p[c] /= sum
			if c == label {
				p[c] -= 1
			}
			if membrane {
				p[c] /= float64(T) // logits are the mean over steps
			}
		}
	}
	for t := 0; t < T; t++ {
		for c := 0; c < C; c++ {
			g[t*C+c] = float32(p[c] * scale)
		}
	}
	return loss, pred
}
