package snn

// Param is one trainable tensor of a layer.
type Param struct {
	Name  string    // "weight", "bias" or "beta"; saved as "layers.<i>.<Name>"
	Shape []int     // PyTorch shape: Linear [out, in], Conv2d [out, in, k, k]
	Data  []float32 // values in the layer's internal layout (see inputMajor)
	// inputMajor marks a 2-D weight stored transposed ([in][out]) so that one input's weights are one
	// contiguous row for the gather-add (docs/snn-model.md#sparse-event-driven-computation); it is transposed back on export.
	inputMajor bool
	// decay says weight decay applies (weights yes; biases and leaks no).
	decay bool
	// export, when set, maps the internal value to the saved one (β = sigmoid(logit)); import inverts it.
	export, imprt func(float32) float32
}

// layer is one stage of a network. forward reads in and fills out for all T steps of one sample;
// backward gets gOut = ∂L/∂out.V (T×N_out) and writes gIn = ∂L/∂in.V (T×N_in, overwritten, nil when the
// layer below needs no gradient) and adds the parameter gradients into grads (aligned with params()).
type layer interface {
	params() []*Param
	outShape() Shape
	forward(w *worker, in, out *Act)
	backward(w *worker, in, out *Act, gOut, gIn []float32, grads [][]float32)
}

// Shape is a layer's per-step output shape: C channels of H×W (a flat vector has H = W = 1).
type Shape struct {
	C int `json:"channels"`
	H int `json:"height"`
	W int `json:"width"`
}

// Size is C·H·W.
func (s Shape) Size() int { return s.C * s.H * s.W }
