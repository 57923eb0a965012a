package parquet

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
)

// benchEvents is a 1 Mi-event recording on a 640x480 sensor, ~1 µs apart.
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

func writeRecording(b testing.TB, ev *events.Batch) []byte {
	var buf bytes.Buffer
	w, err := NewRecordingWriter(&buf, "bench.parquet", events.Meta{}, Options{})
	record(b, w, err, ev)
	return buf.Bytes()
}

func mevents(b *testing.B, n int) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}

// BenchmarkRecordingWrite: events → zstd Parquet in memory (run with -cpu 1).
func BenchmarkRecordingWrite(b *testing.B) {
	ev := benchEvents()
	var size int
	for i := 0; i < b.N; i++ {
		size = len(writeRecording(b, ev))
	}
	mevents(b, ev.Len())
	b.ReportMetric(float64(size)/float64(ev.Len()), "bytes/event")
}

// BenchmarkRecordingRead: the streaming reader over a zstd file.
func BenchmarkRecordingRead(b *testing.B) {
	ev := benchEvents()
	path := filepath.Join(b.TempDir(), "bench.parquet")
	os.WriteFile(path, writeRecording(b, ev), 0o644)
	dst := events.NewBatch(1 << 16)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := OpenRecording(path)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for r.Read(dst) == nil {
			n += dst.Len()
		}
		r.Close()
		if n != ev.Len() {
			b.Fatalf("read %d events", n)
		}
	}
	mevents(b, ev.Len())
}

// BenchmarkNMNISTDatasetWrite: the 32 N-MNIST fixtures as one dataset file; reports bytes/event.
func BenchmarkNMNISTDatasetWrite(b *testing.B) {
	samples := nmnistSamples(b)
	var size int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		size = len(writeDataset(b, samples, Options{}))
	}
	n := countEvents(samples)
	mevents(b, n)
	b.ReportMetric(float64(size)/float64(n), "bytes/event")
}

// BenchmarkNMNISTDatasetRead: every sample of that file by index.
func BenchmarkNMNISTDatasetRead(b *testing.B) {
	samples := nmnistSamples(b)
	path := filepath.Join(b.TempDir(), "nmnist.parquet")
	os.WriteFile(path, writeDataset(b, samples, Options{}), 0o644)
	var s events.Sample
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := OpenDataset(path)
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < d.NumSamples(); j++ {
			if err := d.ReadSample(j, &s); err != nil {
				b.Fatal(err)
			}
		}
		d.Close()
	}
	mevents(b, countEvents(samples))
}
