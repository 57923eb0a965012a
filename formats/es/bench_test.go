package es

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

func BenchmarkDVSRead(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	ev := events.NewBatch(2_000_000)
	var t int64
	for i := 0; i < 2_000_000; i++ {
		t += int64(rng.IntN(3))
		ev.Append(t, uint16(rng.IntN(640)), uint16(rng.IntN(480)), uint8(rng.IntN(2)))
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, "b.es", events.Geometry{Width: 640, Height: 480}, true)
	w.Write(ev)
	w.Close()
	data := buf.Bytes()
	dst := events.NewBatch(1 << 16)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		r, err := NewReader(io.NopCloser(bytes.NewReader(data)), "b.es", formats.Options{}, 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		for {
			err := r.Read(dst)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	n := float64(ev.Len()) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds()/1e6, "Mev/s")
	if cpu := cpuSeconds() - cpu0; cpu0 > 0 && cpu > 0 {
		b.ReportMetric(n/cpu/1e6, "Mev/cpu-s")
	}
}
