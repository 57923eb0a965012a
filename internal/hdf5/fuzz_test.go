package hdf5

import (
	"bytes"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/evtool/evtool/events"
)

// FuzzFile: no input panics, hangs or allocates beyond a bound set by its size; every fault is a
// DecodeError inside the input (or an error about a missing member). The seeds (testdata/fuzz/FuzzFile,
// from fuzzseeds_gen.py) are small h5py files of every structure the reader parses; mode turns checksum
// verification off (so mutations reach past checksummed metadata) and FillMissing on or off.
func FuzzFile(f *testing.F) {
	f.Add([]byte(Signature+"\x00\x00\x00\x00\x00\x08\x08\x00"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		// A hang crashes the worker, so the fuzzer records the input that caused it.
		watchdog := time.AfterFunc(10*time.Second, func() { panic("FuzzFile: an input ran for 10 s (a hang)") })
		defer watchdog.Stop()
		exercise(t, data, mode)
		runtime.ReadMemStats(&after)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("a %d-byte input took %v", len(data), d)
		}
		// Decompression may legitimately inflate ~1000×; metadata and data never exceed the file.
		limit := 32<<20 + 2100*uint64(len(data))
		if got := after.TotalAlloc - before.TotalAlloc; got > limit {
			t.Fatalf("a %d-byte input allocated %d bytes (limit %d)", len(data), got, limit)
		}
	})
}

func exercise(t *testing.T, data []byte, mode uint8) {
	f, err := newFile(bytes.NewReader(data), int64(len(data)), "fuzz.h5", mode&1 == 0)
	if err != nil {
		checkErr(t, err, len(data))
		return
	}
	root, err := f.Root()
	if err != nil {
		checkErr(t, err, len(data))
		return
	}
	budget := 64
	var walk func(o *Object, depth int)
	walk = func(o *Object, depth int) {
		budget--
		if budget < 0 || depth > 6 {
			return
		}
		if attrs, err := o.Attrs(); err == nil {
			for _, a := range attrs {
				a.Strings()
				a.Float64s()
			}
		}
		switch o.Kind() {
		case KindGroup:
			links, err := o.Links()
			if err != nil {
				return
			}
			for _, l := range links {
				if c, err := o.Get(l.Name); err == nil {
					walk(c, depth+1)
				}
			}
		case KindDataset:
			d, err := o.Dataset()
			if err != nil {
				checkErr(t, err, len(data))
				return
			}
			d.FillMissing = mode&2 != 0
			d.CheckFilters()
			if d.Len()*uint64(max(d.Type.Size, 1)) <= 1<<20 {
				if _, err := d.ReadAll(); err != nil {
					return
				}
				d.Strings()
				d.Int64s()
				d.Float64s()
				d.References()
			}
			if d.Type.Class == ClassVLen {
				for i := uint64(0); i < min(d.Len(), 4); i++ {
					d.VLen(i)
				}
			}
			if d.Rows() > 0 && d.RowBytes() <= 1<<16 {
				rows, err := d.ReadRows(0, min(d.Rows(), 64), nil)
				if err == nil {
					for _, m := range d.Type.Members {
						if fl, err := d.Field(m.Name, 0); err == nil {
							v := make([]float64, min(d.Rows(), 64))
							fl.Float64s(rows, d.RowBytes(), len(v), v)
						}
					}
				}
			}
		}
	}
	walk(root, 0)
}

func checkErr(t *testing.T, err error, n int) {
	var de *events.DecodeError
	if errors.As(err, &de) && (de.Offset < 0 || de.Offset > int64(n)) {
		t.Fatalf("error %v points outside the %d-byte input", err, n)
	}
}
