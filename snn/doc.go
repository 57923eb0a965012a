// Package snn trains and evaluates leaky integrate-and-fire (LIF) spiking networks on event data, on the
// CPU, with surrogate-gradient backpropagation through time written by hand (../shared/docs/SNN.md).
//
// A network is a list of layers run "layer by layer": each layer computes its output for all T time steps
// of one sample before the next layer starts. Samples of a mini-batch are spread over worker goroutines,
// each with its own activations and gradient buffers; the buffers are summed in worker order, so a run is
// reproducible for a given seed and worker count.
//
// Speed comes from sparsity (SNN.md §6): the input arrives as per-bin lists of (active input, count) and
// hidden spikes are binary, so dense and convolutional layers gather (forward) and scatter (weight
// gradient) only the rows of active inputs, using input-major weights and gonum's blas32.Axpy. A dense
// reference path (Config.Dense) computes the same numbers without exploiting sparsity; tests compare them.
package snn
