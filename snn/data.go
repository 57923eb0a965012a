package snn

import (
	"context"
	"fmt"
	"strconv"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/sources"
)

// Dataset is a labelled set of samples already encoded into sparse input bins and held in memory
// (about 6 bytes per active (bin, input) pair: N-MNIST at 10 bins is some 15–25 kB per sample).
type Dataset struct {
	Encoding Encoding
	Classes  []string
	Samples  []Encoded
	Source   string // where it came from, for messages
	// Events holds each sample's events (after the encoding's transforms) when the dataset was loaded
	// with KeepEvents, for augmentations that redraw the input every epoch (Config.Augment). 13 bytes
	// per event: some 560 MB for 10,000 N-MNIST-sized samples.
	Events []events.Sample
	// Bytes is the memory the encoded samples (and kept events) take — for a streamed dataset, would
	// take: the estimate from the samples encoded before the memory bound was reached.
	Bytes int64

	stream *stream // set when the samples are streamed from disk instead (Samples and Events are nil)
	pairs  float64 // mean active (bin, input) pairs per sample, for Stats
}

// withGeometry is a sample reader whose metadata gains the sensor size found from its events.
type withGeometry struct {
	events.SampleReader
	g events.Geometry
}

func (w withGeometry) Meta() events.Meta {
	m := w.SampleReader.Meta()
	m.Geometry = w.g
	return m
}

// LoadOptions tune LoadDatasetWith.
type LoadOptions struct {
	// Format is given to the file's reader (OpenDatasetWith): its Warn hears what the reader distrusts.
	Format     formats.Options
	KeepEvents bool // keep the events for Config.Augment
	// Progress, when set, is called every 256 samples and at the end with the samples read and the total.
	Progress func(done, total int)
	// Memory, when positive, bounds the bytes the dataset holds in memory. When its encoded samples
	// would take more, they are not held but streamed from disk every epoch (Streamed): blocks of
	// samples stored together are read in a random order and pass through a shuffle buffer of this size.
	Memory int64
}

// Len is the number of samples.
func (d *Dataset) Len() int {
	if d.stream != nil {
		return d.stream.n
	}
	return len(d.Samples)
}

// Streamed reports whether the samples are read from disk every epoch instead of held in memory.
func (d *Dataset) Streamed() bool { return d.stream != nil }

// sampleBytes is what one loaded sample holds in memory: its encoding and, when kept, its events.
func sampleBytes(e *Encoded, ev *events.Sample) int64 {
	n := encodedSize(e)
	if ev != nil {
		n += int64(13*ev.Events.Len()+len(ev.ID)) + 64
	}
	return n
}

// LoadDataset reads and encodes every sample of r. Geometry comes from the reader's metadata (bins and
// binary from enc; enc's width/height, when set, must agree); class names from Meta().Classes, or "0",
// "1", … up to the largest label when the metadata has none. Unlabelled samples are an error.
func LoadDataset(ctx context.Context, r events.SampleReader, enc Encoding) (*Dataset, error) {
	return LoadDatasetWith(ctx, r, enc, LoadOptions{})
}

// LoadDatasetWith is LoadDataset with options. A dataset streamed from disk (LoadOptions.Memory) reads
// r during training and evaluation: the caller keeps it open until then. OpenDatasetWith opens readers
// of its own instead, one per decoding goroutine.
func LoadDatasetWith(ctx context.Context, r events.SampleReader, enc Encoding, lo LoadOptions) (*Dataset, error) {
	return loadDataset(ctx, r, nil, enc, lo)
}

// loadDataset loads r; open, when set, opens more readers of the same data for a stream.
func loadDataset(ctx context.Context, r events.SampleReader, open func() (events.SampleReader, error), enc Encoding,
	lo LoadOptions) (*Dataset, error) {
	meta := r.Meta()
	g := meta.Geometry
	chain, in, err := enc.chain()
	if err != nil {
		return nil, err
	}
	switch {
	case chain != nil:
		// The chain maps the data's sensor to the network's input size.
		if !g.Known() {
			return nil, fmt.Errorf("the data does not say its sensor size, which the input transforms need")
		}
		if enc.SensorWidth == 0 && enc.SensorHeight == 0 {
			enc.SensorWidth, enc.SensorHeight = g.Width, g.Height
			in.Geometry = g
		} else if in.Geometry != g {
			return nil, fmt.Errorf("the data's sensor is %s but the model's input transforms expect %s", g, in.Geometry)
		}
		st, err := chain.NewStream(in, 0, "")
		if err != nil {
			return nil, fmt.Errorf("input transforms: %w", err)
		}
		out := st.Shape().Geometry
		if enc.Width == 0 && enc.Height == 0 {
			enc.Width, enc.Height = out.Width, out.Height
		} else if enc.Width != out.Width || enc.Height != out.Height {
			return nil, fmt.Errorf("the input transforms make %s events but the model expects %dx%d", out, enc.Width, enc.Height)
		}
	case enc.Width == 0 && enc.Height == 0:
		enc.Width, enc.Height = g.Width, g.Height
	case g.Known() && (g.Width != enc.Width || g.Height != enc.Height):
		return nil, fmt.Errorf("the data's sensor is %s but the model expects %dx%d", g, enc.Width, enc.Height)
	}
	en, err := NewEncoder(enc)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Encoding: enc, Classes: meta.Classes, Source: meta.Source}
	n := r.NumSamples()
	d.Samples = make([]Encoded, 0, min(n, 1<<16)) // n is the file's claim: grow as samples arrive
	var s events.Sample
	var scratch Encoded
	maxLabel := int32(-1)
	if lo.Progress != nil {
		lo.Progress(0, n)
	}
	var pairs int64
	for i := 0; i < n; i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if lo.Progress != nil && i > 0 {
				lo.Progress(i, n)
			}
		}
		if err := r.ReadSample(i, &s); err != nil {
			return nil, fmt.Errorf("read sample %d: %w", i, err)
		}
		if s.Label < 0 {
			return nil, fmt.Errorf("sample %d (%s) has no label", i, s.ID)
		}
		if len(meta.Classes) > 0 && int(s.Label) >= len(meta.Classes) {
			return nil, fmt.Errorf("sample %d (%s) has label %d but the dataset names %d classes", i, s.ID, s.Label, len(meta.Classes))
		}
		maxLabel = max(maxLabel, s.Label)
		if d.stream != nil {
			continue // streaming: this pass only finds the largest label
		}
		if chain != nil {
			if _, err := chain.ApplySample(&s, in, 0); err != nil {
				return nil, err
			}
		}
		var kept *events.Sample
		if lo.KeepEvents {
			d.Events = append(d.Events, events.Sample{Label: s.Label, ID: s.ID})
			kept = &d.Events[len(d.Events)-1]
			kept.Events.AppendBatch(&s.Events)
		}
		d.Samples = append(d.Samples, encodedCopy(en, &s, &scratch))
		d.Bytes += sampleBytes(&d.Samples[i], kept)
		pairs += int64(len(d.Samples[i].Idx))
		if lo.Memory > 0 && d.Bytes > lo.Memory && i+1 < n {
			// Over the bound: keep nothing, stream the samples from disk every epoch instead.
			d.stream = &stream{open: open, n: n, blocks: storedBlocks(r), enc: enc, chain: chain, in: in,
				keep: lo.KeepEvents, buffer: lo.Memory, classes: len(meta.Classes)}
			if open == nil {
				d.stream.shared = r
			}
			d.pairs = float64(pairs) / float64(i+1)
			d.Bytes = int64(float64(d.Bytes) * float64(n) / float64(i+1))
			d.Samples, d.Events = nil, nil
			if len(meta.Classes) > 0 {
				break
			}
		}
	}
	if lo.Progress != nil {
		lo.Progress(n, n)
	}

	if len(d.Classes) == 0 {
		for c := int32(0); c <= maxLabel; c++ {
			d.Classes = append(d.Classes, strconv.Itoa(int(c)))
		}
	}
	return d, nil
}

// OpenDataset opens a dataset file through the format registry (e.g. an Arrow file written by convert,
// datasets prepare or synth) and loads it with LoadDataset. The caller must have registered the formats
// (import formats/all).
func OpenDataset(ctx context.Context, path string, enc Encoding) (*Dataset, error) {
	return OpenDatasetWith(ctx, path, enc, LoadOptions{})
}

// OpenDatasetWith is OpenDataset with options.
func OpenDatasetWith(ctx context.Context, path string, enc Encoding, lo LoadOptions) (*Dataset, error) {
	// The file is opened again for every epoch of a streamed dataset: what its reader distrusts is told
	// the first time only.
	fo := lo.Format
	var geom events.Geometry // found from the events when the file does not say it
	open := func() (events.SampleReader, error) {
		src, f, err := formats.Open(path, "", fo)
		fo.Warn = nil
		if err != nil {
			return nil, err
		}
		sr := src.Samples
		if sr == nil {
			src.Close()
			return nil, fmt.Errorf("%s holds one recording, not a dataset of labelled samples", path)
		}
		if sr.NumSamples() == 0 {
			sr.Close()
			return nil, fmt.Errorf("%s: the dataset holds no samples", path)
		}
		if sr.Meta().Geometry.Known() {
			return sr, nil
		}
		// A dataset from another writer (pyarrow, polars) may not say its sensor: its events do.
		if !geom.Known() {
			if geom, err = sources.SamplesSensor(path, f, sr, lo.Format); err != nil {
				sr.Close()
				return nil, err
			}
		}
		return withGeometry{sr, geom}, nil
	}
	sr, err := open()
	if err != nil {
		return nil, err
	}
	defer sr.Close()
	d, err := loadDataset(ctx, sr, open, enc, lo)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if d.Source == "" {
		d.Source = path
	}
	return d, nil
}

// Stats summarises the input activity: mean active (bin, input) pairs per sample and their density (for
// a streamed dataset, over the samples encoded before it was streamed).
func (d *Dataset) Stats() (pairs float64, density float64) {
	if d.Len() == 0 {
		return 0, 0
	}
	pairs = d.pairs
	if d.stream == nil {
		var n int
		for i := range d.Samples {
			n += len(d.Samples[i].Idx)
		}
		pairs = float64(n) / float64(len(d.Samples))
	}
	return pairs, pairs / float64(d.Encoding.Bins*d.Encoding.Inputs())
}
