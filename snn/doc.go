// Package snn trains and evaluates leaky integrate-and-fire (LIF) spiking networks on event data, on the
// CPU, with surrogate-gradient backpropagation through time written by hand (docs/snn-model.md).
//
// A network is a list of layers run "layer by layer": each layer computes its output for all T time steps
// of one sample before the next layer starts. Samples of a mini-batch are spread over worker goroutines,
// each with its own activations, in 16 fixed gradient shards with buffers of their own that are summed in
// shard order, so the same seed and data give the same model for any number of workers.
//
// Speed comes from sparsity (docs/snn-model.md#sparse-event-driven-computation): the input arrives as per-bin lists of (active input, count) and
// hidden spikes are binary, so dense and convolutional layers gather (forward) and scatter (weight
// gradient) only the rows of active inputs, using input-major weights and gonum's Saxpy;
// convolutions scatter events in channel-last runs summed by small AVX2 kernels (kernel.go). A dense
// reference path (Config.Dense) computes the same numbers without exploiting sparsity; tests compare them.
package snn
