//go:build !unix

package aedat

// cpuSeconds is not measured on this platform; the benchmarks then report wall-time rates only.
func cpuSeconds() float64 { return 0 }
