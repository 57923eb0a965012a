//go:build !unix

package formattest

// CPUSeconds is not measured on this platform; benchmarks then report wall-time rates only.
func CPUSeconds() float64 { return 0 }
