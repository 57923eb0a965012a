//go:build unix

package formattest

import "syscall"

// CPUSeconds is the CPU time this process has used: benchmarks divide by it as well as by wall time, so
// a machine shared with other jobs still yields a one-core figure.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
