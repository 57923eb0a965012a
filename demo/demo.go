// Package demo runs evtool's guided tour on data it makes itself (no download): it produces a small
// labelled event dataset, writes it as a compressed Arrow file, reads it back and describes it, printing
// each step with its figures and the command a user would type to do the same.
package demo

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/inspect"
)

// Options steer the tour.
type Options struct {
	OutDir string // where the files go (created)
	Quick  bool   // fewer samples
	Log    io.Writer
}

// Result holds the figures the tour measured (checked by tests and CI).
type Result struct {
	Samples       int
	Events        int64
	BytesPerEvent float64
	Dataset       string
}

// classes of the generated scene: a bar moving in one of four directions.
var classes = []string{"right", "left", "down", "up"}

// movingBar renders events of a vertical or horizontal bar sweeping across a 34×34 sensor: each pixel
// the leading edge enters fires ON, each pixel the trailing edge leaves fires OFF.
func movingBar(class int, jitter int64, dst *events.Batch) {
	const size, width, stepUs = 34, 4, 3000
	for step := 0; step < size+width; step++ {
		t := int64(step)*stepUs + jitter
		lead, trail := step, step-width
		for i := 0; i < size; i++ {
			for _, e := range []struct {
				pos int
				p   uint8
			}{{lead, 1}, {trail, 0}} {
				if e.pos < 0 || e.pos >= size {
					continue
				}
				x, y := e.pos, i
				switch class {
				case 1:
					x = size - 1 - e.pos
				case 2:
					x, y = i, e.pos
				case 3:
					x, y = i, size-1-e.pos
				}
				dst.Append(t+int64(i), uint16(x), uint16(y), e.p)
			}
		}
	}
}

// Run performs the tour.
func Run(ctx context.Context, o Options) (*Result, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	n := 400
	if o.Quick {
		n = 40
	}
	start := time.Now()
	fmt.Fprintf(log, "1. Generating %d labelled samples of a bar moving in 4 directions on a 34x34 sensor\n", n)
	path := filepath.Join(o.OutDir, "bars.arrow")
	meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 34, Height: 34},
		Classes: classes, Source: "evtool demo: moving bars"}
	w, err := evarrow.CreateDataset(path, meta, evarrow.Options{})
	if err != nil {
		return nil, err
	}
	var s events.Sample
	var total int64
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			w.Abort()
			return nil, err
		}
		s.Reset()
		s.Label = int32(i % len(classes))
		s.ID = fmt.Sprintf("bar-%s-%04d", classes[s.Label], i)
		movingBar(int(s.Label), int64(i%97), &s.Events)
		total += int64(s.Events.Len())
		if err := w.WriteSample(&s); err != nil {
			w.Abort()
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	bpe := float64(st.Size()) / math.Max(1, float64(total))
	fmt.Fprintf(log, "   wrote %s: %d events, %d bytes = %.2f bytes/event (zstd Arrow IPC) in %s\n",
		path, total, st.Size(), bpe, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(log, "\n2. Reading it back and describing it (what `evtool info %s` prints)\n", path)
	rep, err := inspect.File(path, "", formatsOptions())
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "   %s dataset, %d samples, %d events (ON %d, OFF %d), %dx%d\n", rep.Format, *rep.Samples,
		rep.Events, rep.On, rep.Off, rep.Width, rep.Height)
	fmt.Fprintf(log, "\nTry next:\n  evtool info %s\n  evtool convert %s -o bars-bin --to nmnist\n", path, path)
	return &Result{Samples: *rep.Samples, Events: rep.Events, BytesPerEvent: bpe, Dataset: path}, nil
}
