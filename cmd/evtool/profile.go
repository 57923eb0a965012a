package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"

	"github.com/spf13/cobra"
)

// Profiling of whole commands (docs/performance.md): hidden flags, for developers, that write Go's CPU
// and heap profiles of one run — what `go tool pprof` reads — and its execution trace (`go tool trace`:
// where the goroutines waited, which a CPU profile does not show).
var (
	cpuProfile, memProfile, traceOut string
	cpuProfileFile, traceFile        *os.File
)

func init() {
	f := rootCmd.PersistentFlags()
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file")
	f.StringVar(&memProfile, "memprofile", "", "write an allocation profile of the command to this file")
	f.StringVar(&traceOut, "trace", "", "write an execution trace of the command to this file")
	f.MarkHidden("cpuprofile")
	f.MarkHidden("memprofile")
	f.MarkHidden("trace")
	cobra.OnInitialize(startProfile)
	cobra.OnFinalize(stopProfile)
}

func startProfile() {
	if memProfile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	if traceOut != "" {
		f, err := os.Create(traceOut)
		if err == nil {
			err = trace.Start(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "evtool: --trace:", err)
		} else {
			traceFile = f
		}
	}
	if cpuProfile == "" {
		return
	}
	f, err := os.Create(cpuProfile)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "evtool: --cpuprofile:", err)
		return
	}
	cpuProfileFile = f
}

func stopProfile() {
	if traceFile != nil {
		trace.Stop()
		traceFile.Close()
		traceFile = nil
	}
	if cpuProfileFile != nil {
		pprof.StopCPUProfile()
		cpuProfileFile.Close()
		cpuProfileFile = nil
	}
	if memProfile != "" {
		f, err := os.Create(memProfile)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "evtool: --memprofile:", err)
		}
		memProfile = ""
	}
}
