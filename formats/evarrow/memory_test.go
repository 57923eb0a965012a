package evarrow

import (
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/evtool/evtool/events"
)

// A recording writer's memory is bounded by its encoders, whatever the recording's length: at most one
// set of columns per encoder and one being gathered, compressed into buffers that are reused, so that
// after the first batches writing makes (almost) no garbage. Before the pool, arrow-go's worst-case
// buffer for every compressed body buffer made about 12 bytes of garbage per event, and the heap grew to
// twice what was live.
func TestRecordingWriterMemoryBound(t *testing.T) {
	const batch = 1 << 16
	// Warm-up: every encoder has made its compressor (whose 16 MiB of history zstd allocates on first use).
	warmUp := 4 * runtime.GOMAXPROCS(0)
	batches := warmUp + 32
	rng := rand.New(rand.NewPCG(3, 4))
	ev := randomEvents(rng, 3*batch)
	meta := events.Meta{Geometry: events.Geometry{Width: 65536, Height: 65536}}
	w, err := NewRecordingWriter(io.Discard, "x", meta, Options{BatchEvents: batch})
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	var allocAfterWarmUp uint64
	var written int
	for written < batches*batch {
		// Uneven writes, so that batches are gathered across them.
		k := min(batches*batch-written, 1+rng.IntN(batch/2))
		off := written % (2 * batch)
		part := ev.Slice(off, off+k)
		if err := w.Write(&part); err != nil {
			t.Fatal(err)
		}
		written += k
		if allocAfterWarmUp == 0 && written >= warmUp*batch {
			runtime.ReadMemStats(&ms)
			allocAfterWarmUp = ms.TotalAlloc
		}
	}
	runtime.ReadMemStats(&ms)
	garbage := float64(ms.TotalAlloc-allocAfterWarmUp) / float64(written-warmUp*batch)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	encoders := cap(w.iw.encoders)
	kept, keptBytes := w.iw.pool.kept()
	t.Logf("%d encoders: %d column sets; %d compression buffers kept (%d KiB); %.2f bytes allocated per event after the first %d batches",
		encoders, w.sets.made, kept, keptBytes>>10, garbage, warmUp)
	if w.sets.made > encoders+1 {
		t.Errorf("%d column sets made for %d encoders: want at most one per encoder and one being gathered", w.sets.made, encoders)
	}
	// Each encoder compresses a batch's four columns (13 bytes an event) into four buffers, each about its
	// column's size; a buffer may be taken for a smaller column (up to twice its size), and one more made.
	if keptBytes > 2*encoders*batch*13 {
		t.Errorf("the pool keeps %d buffers (%d KiB) for %d encoders: want about the columns of one batch each", kept, keptBytes>>10, encoders)
	}
	if garbage > 1 {
		t.Errorf("%.2f bytes allocated per event written: the compression buffers or the columns are not reused", garbage)
	}
}

// A dataset writer's event columns are reused the same way: at most one set per encoder and one being
// gathered, and after the first batches (almost) no garbage per event. Before, builders made every
// batch's columns anew: 13 bytes of garbage per event.
func TestDatasetWriterMemoryBound(t *testing.T) {
	const perBatch, perSample = 16, 6000
	encoders := runtime.GOMAXPROCS(0)
	warmUp, measured := 4*encoders, 32
	rng := rand.New(rand.NewPCG(5, 6))
	ev := randomEvents(rng, 2*perSample)
	w, err := NewDatasetWriter(io.Discard, "x", events.Meta{Kind: events.KindDataset}, Options{BatchSamples: perBatch})
	if err != nil {
		t.Fatal(err)
	}
	write := func(batches int) (written int) {
		for i := 0; i < batches*perBatch; i++ {
			// Uneven samples, but batches of one size (90,000 events: each column's compressed body is one
			// the pool keeps), so the sets are as big as the first batches made them.
			k := perSample/2 + (i%perBatch)*perSample/perBatch
			s := events.Sample{ID: "s", Label: events.NoLabel, Events: ev.Slice(0, k)}
			if err := w.WriteSample(&s); err != nil {
				t.Fatal(err)
			}
			written += k
		}
		return written
	}
	// Warm-up: every encoder is made and has encoded a batch (zstd allocates 16 MiB of history then).
	write(warmUp)
	for extra := 0; w.iw.made < cap(w.iw.encoders) && extra < 10*warmUp; extra++ {
		write(1)
	}
	for deadline := time.Now().Add(10 * time.Second); len(w.iw.encoders) < w.iw.made && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	written := write(measured)
	runtime.ReadMemStats(&ms)
	garbage := float64(ms.TotalAlloc-before) / float64(written)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d encoders: %d column sets; %.2f bytes allocated per event over %d batches after the first ones", w.iw.made, w.sets.made, garbage, measured)
	if w.sets.made > cap(w.iw.encoders)+1 {
		t.Errorf("%d column sets made for %d encoders: want at most one per encoder and one being gathered", w.sets.made, cap(w.iw.encoders))
	}
	if garbage > 1 {
		t.Errorf("%.2f bytes allocated per event written: the columns or the compression buffers are not reused", garbage)
	}
}
