//go:build unix

package synth

import "syscall"

// cpuSeconds is the CPU time (user + system) this process has used: benchmarks report it per sample,
// which stays meaningful on a machine shared with other jobs, where wall time does not.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
