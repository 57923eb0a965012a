package npy

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

func benchEvents() *events.Batch {
	rng := rand.New(rand.NewPCG(1, 1))
	b := events.NewBatch(1 << 20)
	t := int64(1_000_000)
	for i := 0; i < 1<<20; i++ {
		t += rng.Int64N(3)
		b.Append(t, uint16(rng.IntN(640)), uint16(rng.IntN(480)), uint8(rng.IntN(2)))
	}
	return b
}

func encode(b *events.Batch) []byte {
	var m memFile
	w, _ := NewWriter(&m, "bench.npy")
	w.Write(b)
	w.Close()
	return m.data
}

func benchRead(b *testing.B, data []byte, want int) {
	dst := events.NewBatch(1 << 16)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := NewReader(io.NopCloser(bytes.NewReader(data)), "bench.npy", formats.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for r.Read(dst) == nil {
			n += dst.Len()
		}
		if n != want {
			b.Fatalf("read %d events", n)
		}
	}
	b.ReportMetric(float64(want)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}

// BenchmarkRead: the canonical layout (fast path).
func BenchmarkRead(b *testing.B) {
	ev := benchEvents()
	benchRead(b, encode(ev), ev.Len())
}

// BenchmarkReadGeneric: a (N, 4) int64 array, decoded column by column.
func BenchmarkReadGeneric(b *testing.B) {
	ev := benchEvents()
	body := make([]byte, 0, ev.Len()*32)
	for i := 0; i < ev.Len(); i++ {
		body = append(body, pack(ev.T[i], int64(ev.X[i]), int64(ev.Y[i]), int64(ev.P[i]))...)
	}
	data := npyFile(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1048576, 4), }", body)
	benchRead(b, data, ev.Len())
}

// BenchmarkWrite reports M events/s of the writer into memory.
func BenchmarkWrite(b *testing.B) {
	ev := benchEvents()
	b.SetBytes(int64(ev.Len() * recordSize))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var m memFile
		m.data = make([]byte, 0, ev.Len()*recordSize+256)
		w, _ := NewWriter(&m, "bench.npy")
		if err := w.Write(ev); err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
	b.ReportMetric(float64(ev.Len())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}
