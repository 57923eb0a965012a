package formattest

import (
	"bytes"
	"io"
	"testing"

	"github.com/evtool/evtool/events"
)

// ReadAll reads r to the end in batches of chunk events, checking the events.Reader contract on the way
// (a broken contract fails tb). It returns the events, the triggers met (when r is an
// events.TriggerReader) and the fault after the good events (nil at io.EOF). Format packages use it in
// their own tests, so that every test reads the way the kit does.
func ReadAll(tb testing.TB, r events.Reader, chunk int) (*events.Batch, []events.Trigger, error) {
	tb.Helper()
	got := events.NewBatch(0)
	var trig []events.Trigger
	tr, _ := r.(events.TriggerReader)
	buf := events.NewBatch(chunk)
	for {
		err := r.Read(buf)
		if buf.Len() > chunk {
			tb.Fatalf("Read returned %d events into a batch of capacity %d", buf.Len(), chunk)
		}
		if err != nil && buf.Len() > 0 {
			tb.Fatalf("Read returned %d events together with %v", buf.Len(), err)
		}
		got.AppendBatch(buf)
		if tr != nil {
			trig = append(trig, tr.Triggers()...)
		}
		if err == io.EOF {
			return got, trig, nil
		}
		if err != nil {
			if err2 := r.Read(buf); err2 != io.EOF || buf.Len() > 0 {
				tb.Fatalf("Read after the fault %v returned %d events and %v, want io.EOF", err, buf.Len(), err2)
			}
			return got, trig, err
		}
	}
}

// SameEvents fails tb unless got holds exactly the events of want.
func SameEvents(tb testing.TB, got *events.Batch, want ...events.Event) {
	tb.Helper()
	w := events.FromEvents(want...)
	if d := got.FirstDifference(w); d >= 0 {
		var g, e any = "nothing", "nothing"
		if d < got.Len() {
			g = got.At(d)
		}
		if d < w.Len() {
			e = w.At(d)
		}
		tb.Fatalf("event %d: got %+v, want %+v (got %d events, want %d)", d, g, e, got.Len(), w.Len())
	}
}

// BenchRead measures a reader over an in-memory file: open makes a reader of the bytes, which is drained
// in 64 Ki-event batches. It reports events per wall second and per CPU second (the one-core rate on a
// shared machine) and fails when a pass does not give want events.
func BenchRead(b *testing.B, data []byte, want int, open func(r io.Reader) (events.Reader, error)) {
	b.Helper()
	buf := events.NewBatch(1 << 16)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := CPUSeconds()
	for i := 0; i < b.N; i++ {
		r, err := open(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			err := r.Read(buf)
			n += buf.Len()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if n != want {
			b.Fatalf("decoded %d events, want %d", n, want)
		}
	}
	ReportRate(b, float64(b.N)*float64(want), cpu0)
}

// ReportRate reports n events as millions per second of wall time and of CPU time since cpu0
// (CPUSeconds at the start).
func ReportRate(b *testing.B, n, cpu0 float64) {
	b.ReportMetric(n/b.Elapsed().Seconds()/1e6, "Mev/s")
	if cpu := CPUSeconds() - cpu0; cpu0 > 0 && cpu > 0 {
		b.ReportMetric(n/cpu/1e6, "Mev/cpu-s")
	}
}

// SmallReads returns a reader that gives at most n bytes per Read call: a decoder reading through it
// sees a window of about n bytes, so records straddle every refill (tests use it as a tiny buffer).
func SmallReads(r io.Reader, n int) io.Reader { return &smallReads{r, max(n, 1)} }

type smallReads struct {
	r io.Reader
	n int
}

func (s *smallReads) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.n)]) }
