package snn

import "fmt"

// What a network may ask of memory. Every size here comes from a file — a dataset's sensor size, a saved
// model's architecture and encoding — and is checked before anything is allocated (docs/limits.md).
const (
	// MaxInputs bounds the inputs of one time step: 2 polarities × width × height after the encoding's
	// transforms. 2^21 takes a 1280×720 sensor; a larger one is shrunk by the transforms (downsample, crop).
	MaxInputs = 1 << 21
	// MaxParams bounds a network's trainable values: 4 bytes each, held some 20 times while training
	// (the weights, Adam's two moments and the gradient shards).
	MaxParams = 1 << 26
	// MaxActivations bounds time bins × the values of every layer's output: what the forward pass of one
	// sample holds, per worker (the encoder's count grid, bins × inputs, too).
	MaxActivations = 1 << 27
)

// errLimit is the error of a size beyond one of the limits; what names the size and where it comes from.
func errLimit(what string, n int64, limit int64, fix string) error {
	return fmt.Errorf("%s is %d, more than the limit of %d: %s", what, n, limit, fix)
}
