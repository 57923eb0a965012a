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
}

// Len is the number of samples.
func (d *Dataset) Len() int { return len(d.Samples) }

// LoadDataset reads and encodes every sample of r. Geometry comes from the reader's metadata (bins and
// binary from enc; enc's width/height, when set, must agree); class names from Meta().Classes, or "0",
// "1", … up to the largest label when the metadata has none. Unlabelled samples are an error.
func LoadDataset(ctx context.Context, r events.SampleReader, enc Encoding) (*Dataset, error) {
	return LoadDatasetWith(ctx, r, enc, LoadOptions{})
}

// LoadDatasetWith is LoadDataset with options.
func LoadDatasetWith(ctx context.Context, r events.SampleReader, enc Encoding, lo LoadOptions) (*Dataset, error) {
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
		if chain != nil {
			if _, err := chain.ApplySample(&s, in, 0); err != nil {
				return nil, err
			}
		}
		if lo.KeepEvents {
			k := events.Sample{Label: s.Label, ID: s.ID}
			k.Events.AppendBatch(&s.Events)
			d.Events = append(d.Events, k)
		}
		en.Encode(&s.Events, &scratch)
		e := Encoded{Label: s.Label, Off: append([]int32(nil), scratch.Off...), Idx: append([]int32(nil), scratch.Idx...)}
		if scratch.Cnt != nil {
			e.Cnt = append([]uint16(nil), scratch.Cnt...)
		}
		d.Samples = append(d.Samples, e)
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
	src, f, err := formats.Open(path, "", lo.Format)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	sr := src.Samples
	if sr == nil {
		return nil, fmt.Errorf("%s holds one recording, not a dataset of labelled samples", path)
	}
	if sr.NumSamples() == 0 {
		return nil, fmt.Errorf("%s: the dataset holds no samples", path)
	}
	if !sr.Meta().Geometry.Known() {
		// A dataset from another writer (pyarrow, polars) may not say its sensor: its events do.
		g, err := sources.SamplesSensor(path, f, sr, lo.Format)
		if err != nil {
			return nil, err
		}
		sr = withGeometry{sr, g}
	}
	d, err := LoadDatasetWith(ctx, sr, enc, lo)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if d.Source == "" {
		d.Source = path
	}
	return d, nil
}

// Stats summarises the input activity: mean active (bin, input) pairs per sample and their density.
func (d *Dataset) Stats() (pairs float64, density float64) {
	if len(d.Samples) == 0 {
		return 0, 0
	}
	var n int
	for i := range d.Samples {
		n += len(d.Samples[i].Idx)
	}
	pairs = float64(n) / float64(len(d.Samples))
	return pairs, pairs / float64(d.Encoding.Bins*d.Encoding.Inputs())
}
