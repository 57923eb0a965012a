package es

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/formattest"
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
	w, _ := NewWriter(&buf, "b.es", events.Meta{Geometry: events.Geometry{Width: 640, Height: 480}}, formats.Options{})
	w.Write(ev)
	w.Close()
	formattest.BenchRead(b, buf.Bytes(), ev.Len(), func(r io.Reader) (events.Reader, error) {
		return NewReader(r, "b.es", formats.Options{})
	})
}
