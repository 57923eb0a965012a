package aedat

import (
	"bytes"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/formattest"
)

const benchEvents = 4 << 20

var benchFiles = map[string][]byte{}
var benchOnce sync.Once

// benchData writes benchEvents random events (DVSGesture-like rates) as AEDAT 3.1 (DVS128, 4096 events
// per packet) and as AEDAT 2.0 (DVS128 and DAVIS346), once per test binary.
func benchData(b *testing.B, kind string) []byte {
	benchOnce.Do(func() {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, k := range []struct {
			name string
			g    events.Geometry
		}{{"aedat31", events.Geometry{Width: 128, Height: 128}}, {"dvs128", events.Geometry{Width: 128, Height: 128}}, {"davis346", events.Geometry{Width: 346, Height: 260}}} {
			ev := randomEvents(rng, benchEvents, k.g.Width, k.g.Height, 1000, 3)
			var buf bytes.Buffer
			var w events.Writer
			var err error
			if k.name == "aedat31" {
				w, err = NewWriter31(&buf, "bench", events.Meta{Geometry: k.g}, formats.Options{})
			} else {
				w, err = NewWriter2(&buf, "bench", events.Meta{Geometry: k.g}, formats.Options{})
			}
			if err == nil {
				err = w.Write(ev)
			}
			if err != nil {
				panic(err)
			}
			w.Close()
			benchFiles[k.name] = buf.Bytes()
		}
	})
	return benchFiles[kind]
}

// benchRead streams an in-memory file through the public reader with 64 Ki-event batches.
func benchRead(b *testing.B, kind string) {
	formattest.BenchRead(b, benchData(b, kind), benchEvents, func(r io.Reader) (events.Reader, error) {
		return NewReader(r, "bench", formats.Options{})
	})
}

// BenchmarkRead31 measures AEDAT 3.1 decoding (target ≥ 300 M events/s on one core).
func BenchmarkRead31(b *testing.B) { benchRead(b, "aedat31") }

// BenchmarkRead2DVS128 and BenchmarkRead2DAVIS346 measure AEDAT 2.0 decoding.
func BenchmarkRead2DVS128(b *testing.B)   { benchRead(b, "dvs128") }
func BenchmarkRead2DAVIS346(b *testing.B) { benchRead(b, "davis346") }

// BenchmarkWrite31 measures the AEDAT 3.1 writer.
func BenchmarkWrite31(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	ev := randomEvents(rng, 1<<20, 128, 128, 0, 3)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := formattest.CPUSeconds()
	for i := 0; i < b.N; i++ {
		w, _ := NewWriter31(io.Discard, "bench", events.Meta{Geometry: events.Geometry{Width: 128, Height: 128}}, formats.Options{})
		if err := w.Write(ev); err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
	formattest.ReportRate(b, float64(b.N)*float64(ev.Len()), cpu0)
}

// BenchmarkPolarityLoop measures the AEDAT 3.1 hot loop alone, on one 4096-event packet payload.
func BenchmarkPolarityLoop(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	var payload []byte
	for i := 0; i < 4096; i++ {
		payload = append(payload, pol3(true, uint32(rng.IntN(128)), uint32(rng.IntN(128)), rng.IntN(2) == 1, uint32(i))...)
	}
	dst := events.NewBatch(4096)
	d := decoder3{w: 128, h: 128}
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	cpu0 := formattest.CPUSeconds()
	for i := 0; i < b.N; i++ {
		dst.Reset()
		d.last = 0
		d.polarity(payload, 8, 4, 0, dst)
	}
	formattest.ReportRate(b, float64(b.N)*4096, cpu0)
}
