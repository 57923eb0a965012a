package snn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomInput makes a sparse input of T steps over n units with random positive counts (density d).
func randomInput(rng *rand.Rand, T, n int, d float64, binary bool) *Encoded {
	e := &Encoded{Off: make([]int32, T+1)}
	for t := 0; t < T; t++ {
		e.Off[t] = int32(len(e.Idx))
		for j := 0; j < n; j++ {
			if rng.Float64() < d {
				e.Idx = append(e.Idx, int32(j))
				e.Cnt = append(e.Cnt, uint16(1+rng.IntN(3)))
			}
		}
	}
	e.Off[T] = int32(len(e.Idx))
	if binary {
		e.Cnt = nil
	}
	return e
}

// run computes the loss and parameter gradients of one sample.
func run(net *Net, dense bool, band float64, s *Encoded, T int) (float64, [][]float32) {
	w := newWorker(net, dense, band, true)
	w.load(s, T, net.Arch.Input.Size())
	w.forward()
	out := w.output()
	last := len(w.acts) - 1
	w.gact[last] = growF(w.gact[last], out.T*out.N)
	C := out.N
	l, _ := lossGrad(net.Arch.Loss, out, int(s.Label), w.gact[last], 1, make([]float64, C), make([]float64, C), make([]float64, C))
	w.backward()
	return l, w.grads
}

func lossOnly(net *Net, s *Encoded, T int) float64 {
	l, _ := run(net, true, 0, s, T)
	return l
}

// checkGrads compares analytic gradients against central finite differences for every parameter value.
func checkGrads(t *testing.T, name string, a Arch, T int, density float64, prep func(n *Net, s *Encoded)) {
	t.Helper()
	net, err := Build(a)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	net.Init(3)
	// Larger weights so that the smooth "spikes" carry signal through every layer.
	for _, p := range net.params {
		if p.Name == "weight" {
			for i := range p.Data {
				p.Data[i] *= 3
			}
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	s := randomInput(rng, T, a.Input.Size(), density, false)
	s.Label = 1
	if prep != nil {
		prep(net, s)
	}
	l0, g := run(net, true, 0, s, T)
	// The forward pass is float32, so a difference quotient carries rounding noise of about
	// |L|·1e-7/h; the absolute floor scales with the loss.
	const h = 2e-3
	floor := 2e-4 * math.Max(1, math.Abs(l0))
	var num2, diff2 float64
	worst := 0.0
	for pi, p := range net.params {
		for i := range p.Data {
			orig := p.Data[i]
			p.Data[i] = orig + h
			lp := lossOnly(net, s, T)
			p.Data[i] = orig - h
			lm := lossOnly(net, s, T)
			p.Data[i] = orig
			num := (lp - lm) / (2 * h)
			an := float64(g[pi][i])
			d := math.Abs(num - an)
			num2 += num * num
			diff2 += d * d
			if rel := d / (math.Abs(num) + math.Abs(an) + 1e-3); rel > worst {
				worst = rel
			}
			if d > 1e-3*math.Max(math.Abs(num), math.Abs(an))+floor {
				t.Errorf("%s: %s[%d]: analytic %.6g, numeric %.6g", name, net.names[pi], i, an, num)
				return
			}
		}
	}
	if num2 == 0 {
		t.Fatalf("%s: all gradients are zero; the check is vacuous", name)
	}
	if rel := math.Sqrt(diff2 / num2); rel > 1e-3 {
		t.Errorf("%s: relative gradient error %.3g > 1e-3", name, rel)
	}
}

func checkSur() Surrogate { return Surrogate{Name: SigmoidCheck, Scale: 4} }

func bptr(b bool) *bool { return &b }

func TestGradDenseLIFVariants(t *testing.T) {
	for _, v := range []struct {
		name  string
		reset string
		learn bool
	}{{"subtract", "subtract", false}, {"zero", "zero", false}, {"subtract-learnbeta", "subtract", true}, {"zero-learnbeta", "zero", true}} {
		for _, loss := range []string{LossCECount, LossMSECount} {
			a := Arch{Input: Shape{2, 3, 3}, Surrogate: checkSur(), Loss: loss, Layers: []LayerSpec{
				{Type: "flatten"},
				{Type: "dense", Units: 5},
				{Type: "lif", Reset: v.reset, DetachReset: bptr(false), LearnBeta: v.learn, Beta: f64(0.8), Threshold: 0.7},
				{Type: "dense", Units: 3},
				{Type: "lif", Reset: v.reset, DetachReset: bptr(false)},
			}}
			checkGrads(t, v.name+"/"+loss, a, 6, 0.4, nil)
		}
	}
}

// The detached reset defines the gradient of a network whose reset term is a constant: freeze S_{t−1}
// in the reset at its current value and the finite differences must match.
func TestGradDetachedReset(t *testing.T) {
	for _, reset := range []string{"subtract", "zero"} {
		a := Arch{Input: Shape{2, 3, 3}, Surrogate: checkSur(), Loss: LossCECount, Layers: []LayerSpec{
			{Type: "flatten"},
			{Type: "dense", Units: 5},
			{Type: "lif", Reset: reset},
			{Type: "dense", Units: 3},
			{Type: "lif", Reset: reset},
		}}
		checkGrads(t, "detached-"+reset, a, 6, 0.4, func(n *Net, s *Encoded) {
			w := newWorker(n, true, 0, false)
			w.load(s, 6, a.Input.Size())
			w.forward()
			for l, ly := range n.layers {
				if li, ok := ly.(*lif); ok {
					li.frozenReset = append([]float32(nil), w.acts[l+1].V...)
				}
			}
		})
	}
}

func TestGradConvPoolReadout(t *testing.T) {
	no := bptr(false)
	cases := map[string][]LayerSpec{
		"conv-stride2-pad1+maxpool(currents)": {
			{Type: "conv2d", Channels: 3, Kernel: 3, Stride: 2, Padding: 1}, {Type: "lif", DetachReset: no},
			{Type: "conv2d", Channels: 2, Kernel: 2}, {Type: "maxpool", Kernel: 2}, {Type: "lif", DetachReset: no},
			{Type: "flatten"}, {Type: "dense", Units: 3}, {Type: "readout", Beta: f64(0.7)},
		},
		"sumpool(input)+conv+avgpool(spikes)": {
			{Type: "sumpool", Kernel: 2},
			{Type: "conv2d", Channels: 3, Kernel: 3, Padding: 1}, {Type: "lif", DetachReset: no},
			{Type: "avgpool", Kernel: 2}, {Type: "flatten"}, {Type: "dense", Units: 3}, {Type: "readout"},
		},
	}
	for name, layers := range cases {
		a := Arch{Input: Shape{2, 8, 8}, Surrogate: checkSur(), Loss: LossCEMembrane, Layers: layers}
		checkGrads(t, name, a, 4, 0.3, nil)
	}
}

// Every surrogate's derivative is checked against the numeric derivative of its own integral at a few
// points; the triangle in particular must decay to 0 and be symmetric (snnTorch's is not).
func TestSurrogateShapes(t *testing.T) {
	fs := Surrogate{Name: FastSigmoid}.withDefaults()
	if fs.grad(0, 1) != 1 || math.Abs(float64(fs.grad(0.04, 1))-0.25) > 1e-6 {
		t.Errorf("fast sigmoid: σ'(0) = %v, σ'(0.04) = %v", fs.grad(0, 1), fs.grad(0.04, 1))
	}
	at := Surrogate{Name: ATan}.withDefaults()
	if at.grad(0, 1) != 1 || math.Abs(float64(at.grad(1/math.Pi, 1))-0.5) > 1e-6 {
		t.Errorf("atan: σ'(0) = %v, σ'(1/π) = %v", at.grad(0, 1), at.grad(1/math.Pi, 1))
	}
	tr := Surrogate{Name: Triangle}.withDefaults()
	if math.Abs(float64(tr.grad(0, 1))-0.3) > 1e-6 || tr.grad(-0.5, 1) != tr.grad(0.5, 1) || tr.grad(1, 1) != 0 || tr.grad(-2, 1) != 0 {
		t.Errorf("triangle: %v %v %v %v", tr.grad(0, 1), tr.grad(-0.5, 1), tr.grad(0.5, 1), tr.grad(1, 1))
	}
	if tr.grad(0.5, 1) <= 0 {
		t.Error("triangle must be positive inside its support (no sign flip)")
	}
}

// The 2×2 max pool keeps the first maximum in row-major order, as the general loop does, ties included.
func TestMaxPool2ArgMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	in := Shape{3, 7, 6} // odd height: the last row is dropped
	p := newPool(poolMax, in, 2)
	var a, out Act
	a.reset(2, in.Size())
	x := a.zeroDense()
	for i := range x {
		x[i] = float32(rng.IntN(3)) // many ties
	}
	p.forward(nil, &a, &out)
	for st := 0; st < 2; st++ {
		for c := 0; c < in.C; c++ {
			for oy := 0; oy < 3; oy++ {
				for ox := 0; ox < 3; ox++ {
					best, arg := float32(0), -1
					for ky := 0; ky < 2; ky++ {
						for kx := 0; kx < 2; kx++ {
							i := (c*in.H+2*oy+ky)*in.W + 2*ox + kx
							if arg < 0 || x[st*in.Size()+i] > best {
								best, arg = x[st*in.Size()+i], i
							}
						}
					}
					oi := st*p.out.Size() + (c*3+oy)*3 + ox
					if out.V[oi] != best || int(out.AuxI[oi]) != arg {
						t.Fatalf("step %d channel %d (%d,%d): max %v at %d, want %v at %d", st, c, oy, ox, out.V[oi], out.AuxI[oi], best, arg)
					}
				}
			}
		}
	}
}

// The specialised LIF backward loop (atan, detached subtract reset) gives the general loop's bits.
func TestLIFBackwardFastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	net, err := Build(Arch{Input: Shape{3, 4, 5}, Loss: LossCECount, Layers: []LayerSpec{{Type: "lif"}}})
	if err != nil {
		t.Fatal(err)
	}
	T, N := 7, 60
	w := newWorker(net, false, 0, false)
	in := &w.acts[0]
	in.reset(T, N)
	for i, x := 0, in.zeroDense(); i < len(x); i++ {
		x[i] = float32(rng.NormFloat64())
	}
	w.forward()
	gOut := make([]float32, T*N)
	for i := range gOut {
		gOut[i] = float32(rng.NormFloat64())
	}
	fast, slow := make([]float32, T*N), make([]float32, T*N)
	net.layers[0].backward(w, &w.acts[0], &w.acts[1], gOut, fast, nil)
	lifGeneralOnly = true
	net.layers[0].backward(w, &w.acts[0], &w.acts[1], gOut, slow, nil)
	lifGeneralOnly = false
	for i := range fast {
		if math.Float32bits(fast[i]) != math.Float32bits(slow[i]) {
			t.Fatalf("ε[%d] = %v, general loop %v", i, fast[i], slow[i])
		}
	}
}
