package formattest

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// defaultGeometry is the sensor the kit writes with when a format's Conformance does not say.
var defaultGeometry = events.Geometry{Width: 64, Height: 64}

func geometry(f *formats.Format) events.Geometry {
	if g := f.Conformance.Geometry; g.Known() {
		return g
	}
	return defaultGeometry
}

// RandomEvents returns n events inside g in time order, starting near 0 with gaps below 50 µs (so no
// format needs filler records between them), both polarities.
func RandomEvents(rng *rand.Rand, n int, g events.Geometry) *events.Batch {
	b := events.NewBatch(n)
	t := int64(rng.IntN(1000))
	for i := 0; i < n; i++ {
		t += int64(rng.IntN(50))
		b.Append(t, uint16(rng.IntN(g.Width)), uint16(rng.IntN(g.Height)), uint8(rng.IntN(2)))
	}
	return b
}

// Oversized is what the bounded-output check gives every writer: timestamps no format can store
// compactly as they are (two events at 10^9 µs, gaps of 1000 s, a recording at the 1.6·10^15 µs of an
// AEDAT 4 camera's clock).
func Oversized() []*events.Batch {
	gaps := events.NewBatch(10)
	for i := int64(1); i <= 10; i++ {
		gaps.Append(i*1_000_000_000, uint16(i), 1, uint8(i&1))
	}
	abs := events.NewBatch(100)
	for i := int64(0); i < 100; i++ {
		abs.Append(1_600_000_000_000_000+i, uint16(i%8), 2, uint8(i&1))
	}
	return []*events.Batch{
		events.FromEvents(events.Event{T: 1_000_000_000, X: 1, Y: 1, P: 1}, events.Event{T: 1_000_000_001, X: 2, Y: 1}),
		gaps, abs,
	}
}

// EventCodec is the Codec of a format's recordings: its content is an *events.Batch, written with
// Create (meta: a recording of the Conformance geometry) and read with NewReader, both with the
// Conformance options.
func EventCodec(f *formats.Format) Codec[*events.Batch] {
	g, opts := geometry(f), f.Conformance.Options
	c := Codec[*events.Batch]{
		Format:   f,
		Generate: func(rng *rand.Rand, n int) *events.Batch { return RandomEvents(rng, n, g) },
		Extremes: events.FromEvents(f.Conformance.Extremes...),
		Units:    func(b *events.Batch) int { return b.Len() },
		Diff:     diffEvents,
		Prefix:   func(b *events.Batch, n int) *events.Batch { p := b.Slice(0, n); return &p },
		Framed:   f.Conformance.Framed,
	}
	c.LibraryAllocs = f.Conformance.LibraryAllocs
	if f.Create != nil {
		meta := events.Meta{Kind: events.KindRecording, Geometry: g}
		c.Create = func(path string) (Writer[*events.Batch], error) {
			s, err := f.Create(path, meta, opts)
			if err != nil {
				return nil, err
			}
			if s.Events == nil {
				s.Abort()
				return nil, fmt.Errorf("the format's Create gave a dataset writer for a recording")
			}
			return s.Events, nil
		}
		c.Oversized = Oversized()
	} else if enc := f.Conformance.Encode; enc != nil {
		c.Encode = func(b *events.Batch) ([]byte, error) { return enc(b, g), nil }
	}
	c.Files = f.Conformance.Files
	if f.NewReader != nil {
		c.Read = func(r io.Reader, name string, chunk int) (*events.Batch, error) {
			return ReadEvents(f, opts, r, name, chunk)
		}
		c.Drain = func(r io.Reader, name string) error { return drainEvents(f, opts, r, name) }
	}
	return c
}

// ReadEvents opens r with f and reads every event, chunk at most per Read, checking the events.Reader
// contract on the way. It returns the events before the first fault and the fault (nil at io.EOF); a
// broken contract is a *ContractError.
func ReadEvents(f *formats.Format, opts formats.Options, r io.Reader, name string, chunk int) (*events.Batch, error) {
	got := events.NewBatch(0)
	src, err := f.NewReader(r, name, opts)
	if err != nil {
		return got, err
	}
	defer src.Close()
	if src.Events == nil {
		return got, &ContractError{"NewReader opened a recording as a dataset"}
	}
	buf := events.NewBatch(chunk)
	for empty := 0; ; {
		err := src.Events.Read(buf)
		n := buf.Len()
		if n > chunk {
			return got, &ContractError{fmt.Sprintf("Read returned %d events into a batch of capacity %d", n, chunk)}
		}
		if err != nil && n > 0 {
			return got, &ContractError{fmt.Sprintf("Read returned %d events together with %v", n, err)}
		}
		got.AppendBatch(buf)
		switch {
		case err == io.EOF:
			return got, nil
		case err != nil:
			if err2 := src.Events.Read(buf); err2 != io.EOF || buf.Len() > 0 {
				return got, &ContractError{fmt.Sprintf("Read after the fault %q returned %d events and %v, want io.EOF", err, buf.Len(), err2)}
			}
			return got, err
		case n == 0:
			if empty++; empty > 1<<20 {
				return got, &ContractError{"a million Reads in a row returned no event and no error"}
			}
		default:
			empty = 0
		}
	}
}

// drainEvents reads everything into one reused batch.
func drainEvents(f *formats.Format, opts formats.Options, r io.Reader, name string) error {
	src, err := f.NewReader(r, name, opts)
	if err != nil {
		return err
	}
	defer src.Close()
	buf := events.NewBatch(4096)
	for {
		if err := src.Events.Read(buf); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// diffEvents describes how got departs from the first got.Len() events of want.
func diffEvents(got, want *events.Batch) string {
	if got.Len() > want.Len() {
		return fmt.Sprintf("%d events read, more than the %d written", got.Len(), want.Len())
	}
	for i := range got.T {
		if got.At(i) != want.At(i) {
			return fmt.Sprintf("event %d is %+v, want %+v", i, got.At(i), want.At(i))
		}
	}
	return ""
}

// samplesWriter drives an events.SampleWriter with a whole dataset.
type samplesWriter struct{ events.SampleWriter }

func (w samplesWriter) Write(s []events.Sample) error {
	for i := range s {
		if err := w.WriteSample(&s[i]); err != nil {
			return err
		}
	}
	return nil
}

// datasetClasses are the class names of the kit's datasets.
var datasetClasses = []string{"zero", "one", "two"}

// DatasetCodec is the Codec of a format's datasets: its content is a list of labelled samples (some
// unlabelled, some empty), written with Create (meta: a dataset) and read back with NewReader when the
// format writes a dataset as one file. For a format that stores boxes (Format.StoresBoxes under its
// Conformance.Options: Arrow files, Arrow shards) the samples carry boxes too (none, one or several),
// which must come back exactly.
func DatasetCodec(f *formats.Format) Codec[[]events.Sample] {
	g, opts := geometry(f), f.Conformance.Options
	meta := events.Meta{Kind: events.KindDataset, Geometry: g, Classes: datasetClasses}
	boxes := f.StoresBoxes(opts)
	if boxes {
		meta.Boxes, meta.BoxClasses = true, datasetClasses
	}
	c := Codec[[]events.Sample]{
		Format: f,
		Generate: func(rng *rand.Rand, n int) []events.Sample {
			out := make([]events.Sample, n)
			for i := range out {
				out[i] = events.Sample{Label: int32(rng.IntN(len(datasetClasses)+1)) - 1, ID: fmt.Sprintf("s%05d%s", i, extension(f)),
					Events: *RandomEvents(rng, rng.IntN(30), g)}
				if boxes {
					out[i].Boxes = RandomBoxes(rng, rng.IntN(4), g, len(datasetClasses))
				}
			}
			return out
		},
		Units:  func(s []events.Sample) int { return len(s) },
		Diff:   diffSamples,
		Framed: f.Conformance.Framed,
		Prefix: func(s []events.Sample, n int) []events.Sample { return s[:n] },
		Create: func(path string) (Writer[[]events.Sample], error) {
			s, err := f.Create(path, meta, opts)
			if err != nil {
				return nil, err
			}
			if s.Samples == nil {
				s.Abort()
				return nil, fmt.Errorf("the format's Create gave a recording writer for a dataset")
			}
			return samplesWriter{s.Samples}, nil
		},
	}
	for _, b := range Oversized() {
		c.Oversized = append(c.Oversized, []events.Sample{{Label: 1, ID: "big" + extension(f), Events: *b}})
	}
	c.Read = func(r io.Reader, name string, _ int) ([]events.Sample, error) {
		src, err := f.NewReader(r, name, opts)
		if err != nil {
			return nil, err
		}
		defer src.Close()
		if src.Samples == nil {
			return nil, &ContractError{"NewReader opened a dataset as a recording"}
		}
		out := make([]events.Sample, 0, src.Samples.NumSamples())
		for i := 0; i < src.Samples.NumSamples(); i++ {
			var s events.Sample
			if err := src.Samples.ReadSample(i, &s); err != nil {
				return out, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	return c
}

// writesOneFile reports whether f writes a dataset as one file (not a folder of per-sample files), so
// that the dataset reads back through NewReader.
func writesOneFile(t *testing.T, f *formats.Format) bool {
	c := DatasetCodec(f)
	path := filepath.Join(t.TempDir(), "probe"+extension(f))
	w, err := c.Create(path)
	if err != nil {
		t.Fatalf("Create a dataset: %v", err)
	}
	if err := w.Close(); err != nil {
		// A folder of per-sample files may refuse to be empty (it would not read back as a dataset); a
		// single file holds an empty dataset, which the identity checks read back.
		if _, serr := os.Stat(path); serr == nil {
			t.Fatalf("Close an empty dataset failed and left %s: %v", path, err)
		}
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// diffSamples describes how got departs from the first len(got) samples of want.
func diffSamples(got, want []events.Sample) string {
	if len(got) > len(want) {
		return fmt.Sprintf("%d samples read, more than the %d written", len(got), len(want))
	}
	for i := range got {
		g, w := &got[i], &want[i]
		if g.Label != w.Label || g.ID != w.ID {
			return fmt.Sprintf("sample %d is (label %d, id %q), want (%d, %q)", i, g.Label, g.ID, w.Label, w.ID)
		}
		if d := diffEvents(&g.Events, &w.Events); d != "" || g.Events.Len() != w.Events.Len() {
			return fmt.Sprintf("sample %d (%q): %d events, want %d; %s", i, g.ID, g.Events.Len(), w.Events.Len(), d)
		}
		if len(g.Boxes) != len(w.Boxes) || (len(w.Boxes) > 0 && !slices.Equal(g.Boxes, w.Boxes)) {
			return fmt.Sprintf("sample %d (%q): boxes %+v, want %+v", i, g.ID, g.Boxes, w.Boxes)
		}
	}
	return ""
}

// RandomBoxes returns n boxes in time order, inside the sensor g (coordinates of a quarter pixel), of
// classes below classes.
func RandomBoxes(rng *rand.Rand, n int, g events.Geometry, classes int) []events.Box {
	out := make([]events.Box, n)
	t := int64(rng.IntN(1000))
	for i := range out {
		t += int64(rng.IntN(3)) * 50_000
		w, h := 1+rng.IntN(g.Width), 1+rng.IntN(g.Height)
		out[i] = events.Box{T: t, X: float32(rng.IntN(4*(g.Width-w+1))) / 4, Y: float32(rng.IntN(4*(g.Height-h+1))) / 4,
			W: float32(w), H: float32(h), Class: uint32(rng.IntN(classes)), Track: rng.Uint32(), Confidence: float32(rng.IntN(5)) / 4}
	}
	return out
}
