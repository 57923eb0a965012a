package npy

import (
	"io"
	"math/rand/v2"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/formattest"
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
	w, _ := NewWriter(&m, "bench.npy", events.Meta{}, formats.Options{})
	w.Write(b)
	w.Close()
	return m.data
}

func benchRead(b *testing.B, data []byte, want int) {
	formattest.BenchRead(b, data, want, func(r io.Reader) (events.Reader, error) {
		return NewReader(r, "bench.npy", formats.Options{})
	})
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
		w, _ := NewWriter(&m, "bench.npy", events.Meta{}, formats.Options{})
		if err := w.Write(ev); err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
	b.ReportMetric(float64(ev.Len())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mev/s")
}
