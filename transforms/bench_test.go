package transforms

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/tensors"
)

// nmnistLike is 1,000 samples' worth of N-MNIST-like events (34×34, ~75 µs apart) in one stream.
func nmnistLike() *events.Batch {
	rng := rand.New(rand.NewPCG(7, 7))
	b := events.NewBatch(1 << 22)
	var t int64
	for i := 0; i < 1<<22; i++ {
		t += rng.Int64N(150)
		b.Append(t, uint16(rng.IntN(34)), uint16(rng.IntN(34)), uint8(rng.IntN(2)))
	}
	return b
}

// BenchmarkFilters streams 4 Mi events through each filter in 64 Ki batches (one core): M events per
// second of wall time, and per second of the thread's CPU time (on Linux), which a loaded machine
// disturbs less.
func BenchmarkFilters(b *testing.B) {
	in := nmnistLike()
	for _, spec := range []string{"denoise", "refractory", "polarity(mode=merge)", "crop(x0=1,y0=1,w=32,h=32)",
		"transpose(action=rot90cw)", "downsample(factor=2)", "downsample(factor=2, mode=merge)",
		"downsample(factor=2, mode=iaf, threshold=2)", "time-crop(from=1s)", "decimate(n=2)", "drop-event(prob=0.5)",
		"hotpixel(rate=1000, learn=100ms)", "time-align", "time-scale(factor=1.5)", "random-flip-lr(prob=1)",
		"jitter-xy(sigma-x=1, sigma-y=1)", "jitter-t(sigma=1ms)", "denoise(mode=fastdecay)",
		"hotpixel(relative=2, window=10ms)", "hotpixel(pixels=3:3;4:4)", "drop-event(prob=0.5, exact=true)", "event-drop"} {
		b.Run(spec, func(b *testing.B) {
			c, err := Parse(spec)
			if err != nil {
				b.Fatal(err)
			}
			var out events.Batch
			m := startRates()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				st, _ := c.NewStream(g34, 1, "")
				for off := 0; off < in.Len(); off += 1 << 16 {
					part := in.Slice(off, min(in.Len(), off+1<<16))
					out.Reset()
					st.Process(&part, &out)
				}
				out.Reset()
				st.Flush(&out)
			}
			m.report(b, in.Len())
		})
	}
}

// rates measures a benchmark's speed in M events per second of wall time and, where the platform
// tells it, per second of the benchmark thread's CPU time.
type rates struct {
	cpu0 time.Duration
	ok   bool
}

// startRates pins the benchmark to its thread, so the thread's CPU time is the benchmark's.
func startRates() rates {
	runtime.LockOSThread()
	c, ok := threadCPU()
	return rates{c, ok}
}

// report reports the rates for events processed per iteration.
func (m rates) report(b *testing.B, events int) {
	defer runtime.UnlockOSThread()
	total := float64(events) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e6, "Mevents/s")
	if c, ok := threadCPU(); ok && m.ok && c > m.cpu0 {
		b.ReportMetric(total/(c-m.cpu0).Seconds()/1e6, "Mevents/cpu-s")
	}
}

// BenchmarkFramesTimeBins bins N-MNIST-sized samples (4,100 events) into 10 time bins.
func BenchmarkFramesTimeBins(b *testing.B) {
	in := nmnistLike()
	sample := in.Slice(0, 4100)
	c, _ := Parse("frames(bins=10)")
	r, _ := c.Representation()
	f := r.(*Frames)
	var out tensors.Tensor
	m := startRates()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.ComputeInto(&sample, g34, &out)
	}
	m.report(b, sample.Len())
}
