//go:build !unix

package prophesee

func cpuSeconds() float64 { return 0 }
