package evarrow

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/evtool/evtool/events"
)

// WriteSampleIn writes the file WriteSample writes, whatever the samples' layout in their units'
// buffers: units that do not line up with the record batches, empty samples, a sample in its own buffer
// in the middle of a unit, a gap between two samples, plain WriteSample calls in between. Each unit's
// buffer is scribbled over when its hold is released, so a batch read after that would differ; every
// hold is released by the end.
func TestWriteSampleInWritesWhatWriteSampleWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 65536, Height: 65536}, Classes: []string{"a", "b"}, Source: "gen"}
	for _, comp := range []string{"zstd", "none"} {
		for _, perBatch := range []int{1, 5, 7, 64} {
			t.Run(fmt.Sprintf("%s-%d", comp, perBatch), func(t *testing.T) {
				var want, got bytes.Buffer
				ww, err := NewDatasetWriter(&want, "want", meta, Options{Compression: comp, BatchSamples: perBatch})
				if err != nil {
					t.Fatal(err)
				}
				gw, err := NewDatasetWriter(&got, "got", meta, Options{Compression: comp, BatchSamples: perBatch})
				if err != nil {
					t.Fatal(err)
				}
				var released atomic.Int32
				units := 0
				for u := 0; u < 9; u++ {
					units++
					buf := events.NewBatch(7 * 300)
					samples := make([]events.Sample, 7)
					for k := range samples {
						s := &samples[k]
						s.ID, s.Label = fmt.Sprintf("u%d-%d", u, k), int32(rng.IntN(2))
						n := rng.IntN(300)
						if k == 2 {
							n = 0
						}
						src := randomEvents(rng, n)
						switch {
						case u == 4 && k == 3: // its own buffer
							s.Events = *src.Clone()
							continue
						case u == 6 && k == 4 && buf.Len() > 0: // a gap before it
							buf.T, buf.X, buf.Y, buf.P = buf.T[:buf.Len()+1], buf.X[:buf.Len()+1], buf.Y[:buf.Len()+1], buf.P[:buf.Len()+1]
						}
						s.Events = buf.Rest()
						s.Events.AppendBatch(src)
						buf.T, buf.X, buf.Y, buf.P = buf.T[:buf.Len()+n], buf.X[:buf.Len()+n], buf.Y[:buf.Len()+n], buf.P[:buf.Len()+n]
						s.Events.Clip()
					}
					for k := range samples {
						c := samples[k]
						c.Events = *samples[k].Events.Clone()
						if err := ww.WriteSample(&c); err != nil {
							t.Fatal(err)
						}
					}
					hold := events.NewHold(func() {
						released.Add(1)
						all := buf.T[:cap(buf.T)]
						for i := range all {
							all[i] = -1
						}
						clear(buf.X[:cap(buf.X)])
					})
					for k := range samples {
						var err error
						if u == 7 && k == 5 {
							err = gw.WriteSample(&samples[k])
						} else {
							err = gw.WriteSampleIn(&samples[k], buf, hold)
						}
						if err != nil {
							t.Fatal(err)
						}
					}
					hold.Drop()
				}
				if err := ww.Close(); err != nil {
					t.Fatal(err)
				}
				if err := gw.Close(); err != nil {
					t.Fatal(err)
				}
				if int(released.Load()) != units {
					t.Fatalf("%d of %d holds released", released.Load(), units)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("%d bytes, WriteSample writes %d (first difference at %d)", got.Len(), want.Len(), firstDiff(got.Bytes(), want.Bytes()))
				}
			})
		}
	}
}

// An aborted writer lets go of the buffer its pending batch lay in.
func TestWriteSampleInAbortReleases(t *testing.T) {
	meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 100, Height: 100}, Source: "gen"}
	var out bytes.Buffer
	w, err := NewDatasetWriter(&out, "x", meta, Options{BatchSamples: 64})
	if err != nil {
		t.Fatal(err)
	}
	buf := events.NewBatch(10)
	s := events.Sample{ID: "a", Label: events.NoLabel, Events: buf.Rest()}
	s.Events.Append(1, 2, 3, 1)
	buf.T, buf.X, buf.Y, buf.P = buf.T[:1], buf.X[:1], buf.Y[:1], buf.P[:1]
	released := false
	hold := events.NewHold(func() { released = true })
	if err := w.WriteSampleIn(&s, buf, hold); err != nil {
		t.Fatal(err)
	}
	hold.Drop()
	if released {
		t.Fatal("released while the pending batch lies in the buffer")
	}
	w.Abort()
	if !released {
		t.Fatal("Abort did not release the pending batch's buffer")
	}
}
