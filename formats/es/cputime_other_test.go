//go:build !unix

package es

func cpuSeconds() float64 { return 0 }
