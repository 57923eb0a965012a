package synth

import (
	"context"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/imagesrc"
	"github.com/evtool/evtool/internal/fixtures"
)

// BenchmarkNMNISTPreset measures samples/s of the nmnist preset on MNIST test digits, through Generate
// on all cores (GOMAXPROCS; run with -cpu 1,2 to compare).
func BenchmarkNMNISTPreset(b *testing.B) {
	src, err := imagesrc.OpenIDX(fixtures.Path(b, "mnist/original/t10k-images-idx3-ubyte.gz"), "")
	if err != nil {
		b.Fatal(err)
	}
	var evs int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	err = Generate(context.Background(), loop{src}, NMNIST(), GenerateOptions{Limit: b.N}, func(s *events.Sample) error {
		evs += int64(s.Events.Len())
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	cpu := cpuSeconds() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(evs)/float64(b.N), "events/sample")
	// CPU time per sample, and the rate it implies for two idle cores: wall time on a shared machine
	// understates the throughput.
	b.ReportMetric(cpu/float64(b.N)*1e3, "cpu-ms/sample")
	if cpu > 0 {
		b.ReportMetric(2*float64(b.N)/cpu, "samples/s@2cores")
	}
}

// BenchmarkSample is one sample on one goroutine.
func BenchmarkSample(b *testing.B) {
	src, err := imagesrc.OpenIDX(fixtures.Path(b, "mnist/original/t10k-images-idx3-ubyte.gz"), "")
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(NMNIST())
	if err != nil {
		b.Fatal(err)
	}
	var img imagesrc.Image
	var dst events.Batch
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	for i := 0; b.Loop(); i++ {
		if err := src.Load(i%1000, &img); err != nil {
			b.Fatal(err)
		}
		if err := s.Sample(img.Gray, uint64(i), &dst); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N)*1e3, "cpu-ms/sample")
}

// loop repeats a source's images so a benchmark can ask for more samples than it holds.
type loop struct{ src *imagesrc.IDX }

func (l loop) Len() int                              { return 1 << 30 }
func (l loop) Load(i int, dst *imagesrc.Image) error { return l.src.Load(i%l.src.Len(), dst) }
