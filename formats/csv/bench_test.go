package csv

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/formattest"
)

// benchEvents is a 1 Mi-event recording on a 640x480 sensor, ~1 µs apart (lines of ~20 bytes).
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
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, "bench.csv", events.Meta{}, formats.Options{})
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// BenchmarkRead reports M events/s of the streaming reader (run with -cpu 1).
func BenchmarkRead(b *testing.B) {
	ev := benchEvents()
	formattest.BenchRead(b, encode(ev), ev.Len(), func(r io.Reader) (events.Reader, error) {
		return NewReader(r, "bench.csv", formats.Options{})
	})
}

// BenchmarkWrite reports M events/s of the writer into memory.
func BenchmarkWrite(b *testing.B) {
	ev := benchEvents()
	b.SetBytes(int64(len(encode(ev))))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, _ := NewWriter(io.Discard, "bench.csv", events.Meta{}, formats.Options{})
		if err := w.Write(ev); err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
	b.ReportMetric(float64(ev.Len())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mev/s")
}
