package snn_test

import (
	"fmt"

	"github.com/evtool/evtool/snn"
)

// Build the default N-MNIST network: 10 time bins of (OFF, ON) × 34 × 34 counts into a 2312-256-10 LIF MLP.
// Training it is snn.OpenDataset + snn.Train (see docs/train.md); Model.Predict classifies raw samples.
func Example() {
	enc := snn.Encoding{Bins: 10, Width: 34, Height: 34}
	classes := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	m, err := snn.NewModel(snn.MLP(enc.Shape(), 256, len(classes), snn.LossCECount), enc, classes, 1)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Summary())
	fmt.Println(m.NumParams(), "parameters; input", m.Encoding.Spec())
	// Output:
	// 2312 → flatten 2312 → dense 256 → lif 256 → dense 10 → lif 10
	// 594698 parameters; input frames(bins=10)
}
