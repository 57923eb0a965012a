package matfile

import (
	"bytes"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/evtool/evtool/events"
)

// FuzzFile: no input panics, hangs or allocates beyond a bound set by its size (inflating may multiply
// it ~1000×); faults are DecodeErrors inside the input. Seeds: scipy-written files (fuzzseeds_gen.py).
func FuzzFile(f *testing.F) {
	f.Add([]byte("MATLAB 5.0 MAT-file"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		// A hang crashes the worker, so the fuzzer records the input that caused it.
		watchdog := time.AfterFunc(10*time.Second, func() { panic("FuzzFile: an input ran for 10 s (a hang)") })
		defer watchdog.Stop()
		m, err := NewFile(bytes.NewReader(data), int64(len(data)), "fuzz.mat")
		if err == nil {
			names, _ := m.Names()
			for _, n := range names {
				v, err := m.Read(n)
				if err != nil {
					checkErr(t, err, len(data))
					continue
				}
				visit(v, 0)
			}
		} else {
			checkErr(t, err, len(data))
		}
		runtime.ReadMemStats(&after)
		limit := 32<<20 + 2100*uint64(len(data))
		if got := after.TotalAlloc - before.TotalAlloc; got > limit {
			t.Fatalf("a %d-byte input allocated %d bytes (limit %d)", len(data), got, limit)
		}
	})
}

func visit(v *Var, depth int) {
	if v == nil || depth > 70 {
		return
	}
	v.Float64s()
	v.Int64s()
	v.String()
	for _, c := range v.Cells {
		visit(c, depth+1)
	}
	for _, row := range v.Elems {
		for _, c := range row {
			visit(c, depth+1)
		}
	}
}

func checkErr(t *testing.T, err error, n int) {
	var de *events.DecodeError
	if errors.As(err, &de) && (de.Offset < 0 || de.Offset > int64(n)) {
		t.Fatalf("error %v points outside the %d-byte input", err, n)
	}
}
