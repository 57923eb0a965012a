package snn

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
)

// Arch describes a network; it is what `--model FILE` reads and what a saved model's metadata holds
// (key "evtool.architecture").
type Arch struct {
	Input     Shape       `json:"input"` // per-step input: channels = polarities (OFF, ON), height, width
	Layers    []LayerSpec `json:"layers"`
	Surrogate Surrogate   `json:"surrogate"`
	// Loss names the training loss; it also fixes how a prediction is read out: ce_count and mse_count
	// take the arg-max of output spike counts, ce_membrane the arg-max of the mean readout membrane.
	Loss string `json:"loss"`
}

// LayerSpec is one layer of an Arch.
type LayerSpec struct {
	Type string `json:"type"` // dense, conv2d, lif, readout, maxpool, sumpool, avgpool, flatten

	Units    int `json:"units,omitempty"`    // dense: output size
	Channels int `json:"channels,omitempty"` // conv2d: output channels
	Kernel   int `json:"kernel,omitempty"`   // conv2d and pools: window size
	Stride   int `json:"stride,omitempty"`   // conv2d: stride (1 when 0)
	Padding  int `json:"padding,omitempty"`  // conv2d: zero padding

	Beta        *float64 `json:"beta,omitempty"`         // lif, readout: leak β (0.9 when unset), clamped to [0, 1]
	Threshold   float64  `json:"threshold,omitempty"`    // lif: θ (1 when 0)
	Reset       string   `json:"reset,omitempty"`        // lif: subtract (default) or zero
	DetachReset *bool    `json:"detach_reset,omitempty"` // lif: no gradient through the reset (true when unset)
	LearnBeta   bool     `json:"learn_beta,omitempty"`   // lif: train β = sigmoid(w), one per layer
}

// Loss names.
const (
	LossCECount    = "ce_count"
	LossCEMembrane = "ce_membrane"
	LossMSECount   = "mse_count"
)

// DefaultBeta is the leak used when a layer does not set one (docs/snn-model.md#lif-neurons).
const DefaultBeta = 0.9

func f64(v float64) *float64 { return &v }

// MLP returns the default N-MNIST-style network In-H-C (docs/snn-model.md#mlp): dense, LIF, dense, then a spiking
// output layer (or a leaky-integrator readout for ce_membrane).
func MLP(in Shape, hidden, classes int, loss string) Arch {
	a := Arch{Input: in, Loss: loss, Layers: []LayerSpec{
		{Type: "flatten"},
		{Type: "dense", Units: hidden}, {Type: "lif"},
		{Type: "dense", Units: classes},
	}}
	return a.withOutput()
}

// CSNN returns the convolutional network 12C5-MP2-32C5-MP2-FC (snnTorch's N-MNIST tutorial shape; with
// 34×34 input the flattened size is 32·5·5 = 800), pooling the conv currents before LIF as snnTorch does.
func CSNN(in Shape, classes int, loss string) Arch {
	a := Arch{Input: in, Loss: loss, Layers: []LayerSpec{
		{Type: "conv2d", Channels: 12, Kernel: 5}, {Type: "maxpool", Kernel: 2}, {Type: "lif"},
		{Type: "conv2d", Channels: 32, Kernel: 5}, {Type: "maxpool", Kernel: 2}, {Type: "lif"},
		{Type: "flatten"},
		{Type: "dense", Units: classes},
	}}
	return a.withOutput()
}

func (a Arch) withOutput() Arch {
	if a.Loss == "" {
		a.Loss = LossCECount
	}
	if a.Loss == LossCEMembrane {
		a.Layers = append(a.Layers, LayerSpec{Type: "readout"})
	} else {
		a.Layers = append(a.Layers, LayerSpec{Type: "lif"})
	}
	return a
}

// LoadArch reads an architecture from a JSON file.
func LoadArch(path string) (Arch, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Arch{}, fmt.Errorf("read model file: %w", err)
	}
	var a Arch
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return Arch{}, fmt.Errorf("model file %s: %w", path, err)
	}
	if a.Loss == "" {
		a.Loss = LossCECount
	}
	return a, nil
}

// Net is a built network: layers plus their parameters.
type Net struct {
	Arch   Arch
	layers []layer
	lifs   []int    // indices of spiking layers (for spike-rate statistics)
	params []*Param // all parameters in layer order
	pidx   [][]int  // per layer: indices into params
	names  []string // "layers.<i>.<name>" per param
	// needIn[l] says layer l must compute ∂L/∂input: some layer below it has parameters. The first
	// trainable layer skips its input gradient, the one dense product of an MLP's backward pass.
	needIn []bool
	sur    Surrogate
	// gen counts parameter updates, so that workers know when their copies of the weights in other
	// layouts (convScratch) are stale.
	gen uint64
}

// Build checks an architecture, infers every layer's shape and allocates the parameters (zero; see Init).
// A network of more than MaxParams parameters is refused before anything is allocated.
func Build(a Arch) (*Net, error) { return build(a, MaxParams) }

// build is Build with a bound on the parameters: MaxParams, or what a saved model's file holds.
func build(a Arch, maxParams int64) (*Net, error) {
	a.Surrogate = a.Surrogate.withDefaults()
	if err := a.Surrogate.validate(); err != nil {
		return nil, err
	}
	if a.Input.Size() <= 0 {
		return nil, fmt.Errorf("architecture: input shape %+v is empty", a.Input)
	}
	n := &Net{Arch: a, sur: a.Surrogate}
	cur := a.Input
	if int64(cur.C)*int64(cur.H)*int64(cur.W) > MaxInputs || cur.C < 0 || cur.H < 0 || cur.W < 0 {
		return nil, errLimit(fmt.Sprintf("architecture: the input %dx%dx%d", cur.C, cur.H, cur.W),
			int64(cur.C)*int64(cur.H)*int64(cur.W), MaxInputs, "shrink the input")
	}
	var params int64
	// room checks, before a layer allocates, that its parameters and output stay within the limits.
	room := func(i int, s LayerSpec, weights, outputs int64) error {
		if params += weights; params > maxParams {
			return fmt.Errorf("architecture: layer %d (%s) brings the parameters to %d, more than %d", i, s.Type, params, maxParams)
		}
		if outputs > MaxActivations {
			return errLimit(fmt.Sprintf("architecture: the output of layer %d (%s)", i, s.Type), outputs, MaxActivations, "make the layer smaller")
		}
		return nil
	}
	for i, s := range a.Layers {
		var l layer
		bad := func(msg string, args ...any) error {
			return fmt.Errorf("architecture: layer %d (%s): %s", i, s.Type, fmt.Sprintf(msg, args...))
		}
		switch s.Type {
		case "dense":
			if s.Units <= 0 {
				return nil, bad("units must be positive")
			}
			if err := room(i, s, (int64(cur.Size())+1)*int64(s.Units), int64(s.Units)); err != nil {
				return nil, err
			}
			l = newDense(cur.Size(), s.Units)
		case "conv2d":
			stride := max(s.Stride, 1)
			if s.Kernel > 1<<16 || s.Padding > 1<<16 || stride > 1<<16 {
				return nil, bad("kernel %d, stride %d, padding %d: at most 65536 each", s.Kernel, stride, s.Padding)
			}
			if s.Channels <= 0 || s.Kernel <= 0 || s.Padding < 0 {
				return nil, bad("channels and kernel must be positive, padding non-negative")
			}
			if cur.H+2*s.Padding < s.Kernel || cur.W+2*s.Padding < s.Kernel {
				return nil, bad("kernel %d does not fit the %dx%d input", s.Kernel, cur.H, cur.W)
			}
			oh, ow := int64((cur.H+2*s.Padding-s.Kernel)/stride+1), int64((cur.W+2*s.Padding-s.Kernel)/stride+1)
			weights := (int64(cur.C)*int64(s.Kernel)*int64(s.Kernel) + 1) * int64(s.Channels)
			if err := room(i, s, weights, int64(s.Channels)*oh*ow); err != nil {
				return nil, err
			}
			l = newConv2d(cur, s.Channels, s.Kernel, stride, s.Padding)
		case "maxpool", "sumpool", "avgpool":
			if s.Kernel <= 0 || cur.H < s.Kernel || cur.W < s.Kernel {
				return nil, bad("kernel %d does not fit the %dx%d input", s.Kernel, cur.H, cur.W)
			}
			kind := map[string]int{"maxpool": poolMax, "sumpool": poolSum, "avgpool": poolAvg}[s.Type]
			l = newPool(kind, cur, s.Kernel)
		case "flatten":
			l = &flatten{in: cur}
		case "lif":
			beta := DefaultBeta
			if s.Beta != nil {
				beta = min(max(*s.Beta, 0), 1)
			}
			theta := s.Threshold
			if theta == 0 {
				theta = 1
			}
			if theta < 0 {
				return nil, bad("threshold must be positive")
			}
			zero := false
			switch s.Reset {
			case "", "subtract":
			case "zero":
				zero = true
			default:
				return nil, bad("reset %q: want subtract or zero", s.Reset)
			}
			ly := &lif{shape: cur, beta: float32(beta), theta: float32(theta), zeroReset: zero,
				detach: s.DetachReset == nil || *s.DetachReset, learn: s.LearnBeta}
			if s.LearnBeta {
				b := min(max(beta, 1e-4), 1-1e-4)
				ly.logit = &Param{Name: "beta", Shape: []int{1}, Data: []float32{float32(math.Log(b / (1 - b)))},
					export: sigmoid32, imprt: logit32}
			}
			n.lifs = append(n.lifs, i)
			l = ly
		case "readout":
			if cur.H != 1 || cur.W != 1 {
				return nil, bad("needs a flat input (add a dense layer first)")
			}
			beta := DefaultBeta
			if s.Beta != nil {
				beta = min(max(*s.Beta, 0), 1)
			}
			l = &readout{n: cur.C, beta: float32(beta)}
		default:
			return nil, bad("unknown layer type")
		}
		var idx []int
		for _, p := range l.params() {
			idx = append(idx, len(n.params))
			n.params = append(n.params, p)
			n.names = append(n.names, fmt.Sprintf("layers.%d.%s", i, p.Name))
		}
		n.pidx = append(n.pidx, idx)
		n.layers = append(n.layers, l)
		cur = l.outShape()
	}
	if len(n.layers) == 0 {
		return nil, fmt.Errorf("architecture has no layers")
	}
	n.needIn = make([]bool, len(n.layers))
	below := false
	for l := range n.layers {
		n.needIn[l] = below
		below = below || len(n.pidx[l]) > 0
	}
	last := a.Layers[len(a.Layers)-1].Type
	switch a.Loss {
	case LossCECount, LossMSECount:
		if last != "lif" {
			return nil, fmt.Errorf("architecture: loss %s needs a spiking (lif) output layer, not %s", a.Loss, last)
		}
	case LossCEMembrane:
		if last != "readout" {
			return nil, fmt.Errorf("architecture: loss ce_membrane needs a readout output layer, not %s", last)
		}
	default:
		return nil, fmt.Errorf("unknown loss %q (want ce_count, ce_membrane or mse_count)", a.Loss)
	}
	return n, nil
}

// Classes is the output size.
func (n *Net) Classes() int { return n.layers[len(n.layers)-1].outShape().Size() }

// NumParams is the number of trainable values.
func (n *Net) NumParams() int {
	s := 0
	for _, p := range n.params {
		s += len(p.Data)
	}
	return s
}

// Init draws weights and biases from U(±1/√fan_in) (PyTorch's default) with a seeded generator.
func (n *Net) Init(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	for _, l := range n.layers {
		var fanIn int
		var ps []*Param
		switch l := l.(type) {
		case *dense:
			fanIn, ps = l.in, []*Param{l.w, l.b}
		case *conv2d:
			fanIn, ps = l.in.C*l.kk, []*Param{l.w, l.b}
		}
		bound := 1 / math.Sqrt(float64(max(fanIn, 1)))
		for _, p := range ps {
			for i := range p.Data {
				p.Data[i] = float32((2*rng.Float64() - 1) * bound)
			}
		}
	}
}

func sigmoid32(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
func logit32(b float32) float32 {
	v := min(max(float64(b), 1e-6), 1-1e-6)
	return float32(math.Log(v / (1 - v)))
}
