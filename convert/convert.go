package convert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/parallel"
)

// SampleFunc changes a sample in place (a transform chain, for example); it runs on worker goroutines,
// so it must be safe for concurrent use or be created per worker by NewSampleFunc.
type SampleFunc func(s *events.Sample) error

// Options steer a conversion.
type Options struct {
	From    string          // force the input format ("" = detect)
	To      string          // force the output format ("" = from the output's extension)
	Format  formats.Options // passed to every reader and writer
	Workers int             // decoding goroutines (0 = all cores)
	// Progress, when set, is called on the emitting goroutine after each sample (done, total) or, for a
	// recording, with events written so far and total -1.
	Progress func(done, total int64)
	// NewSampleFunc, when set, makes one SampleFunc per worker, applied to every sample before writing.
	NewSampleFunc func() (SampleFunc, error)
	// Transforms is recorded as evtool.transforms in the output metadata.
	Transforms string
	// Source, when set, is recorded as evtool.source instead of the input path.
	Source string
}

// Result summarises a conversion.
type Result struct {
	Output   string
	Format   string
	Kind     events.Kind
	Samples  int
	Events   int64
	Geometry events.Geometry
}

// Run converts plan into output.
func Run(ctx context.Context, plan *Plan, output string, o Options) (*Result, error) {
	outFmt, err := formats.OutputFormat(output, o.To)
	if err != nil {
		return nil, err
	}
	if !plan.Dataset {
		src, inFmt, err := formats.Open(plan.Recording, o.From, o.Format)
		if err != nil {
			return nil, err
		}
		defer src.Close()
		switch s := src.(type) {
		case events.SampleReader:
			return convertDataset(ctx, datasetSource{reader: s}, s.Meta(), plan.Recording, output, outFmt, o)
		case events.Reader:
			return convertRecording(ctx, s, inFmt, plan.Recording, output, outFmt, o)
		default:
			return nil, fmt.Errorf("%s: format %s returned an unusable reader", plan.Recording, inFmt.Name)
		}
	}
	meta := events.Meta{Kind: events.KindDataset, Classes: plan.Classes}
	return convertDataset(ctx, datasetSource{plan: plan, opts: o.Format}, meta, "", output, outFmt, o)
}

func convertRecording(ctx context.Context, r events.Reader, inFmt *formats.Format, input, output string,
	outFmt *formats.Format, o Options) (*Result, error) {
	meta := r.Meta()
	g := meta.Geometry
	if o.Format.Sensor.Known() {
		g = o.Format.Sensor
	}
	if !g.Known() {
		// The file does not say: one extra pass for the extent, then dataset knowledge (InferGeometry).
		ext, err := extentOf(input, inFmt, o.Format)
		if err != nil {
			return nil, err
		}
		g = infer(inFmt, ext)
	}
	out := events.Meta{Format: outFmt.Name, Kind: events.KindRecording, Geometry: g, Source: sourceOf(meta, input),
		Transforms: o.Transforms}
	if o.Source != "" {
		out.Source = o.Source
	}
	sink, err := outFmt.Create(output, out, o.Format)
	if err != nil {
		return nil, err
	}
	w, ok := sink.(events.Writer)
	if !ok {
		sink.Abort()
		return nil, fmt.Errorf("format %s cannot write a recording", outFmt.Name)
	}
	var fn SampleFunc
	if o.NewSampleFunc != nil {
		if fn, err = o.NewSampleFunc(); err != nil {
			w.Abort()
			return nil, err
		}
	}
	res := &Result{Output: output, Format: outFmt.Name, Kind: events.KindRecording, Geometry: g}
	if fn != nil {
		// Recording-wide transforms see the whole recording as one sample.
		all, err := events.ReadAll(r)
		if err == nil {
			s := &events.Sample{Label: events.NoLabel, ID: input, Events: *all}
			if err = fn(s); err == nil {
				err = w.Write(&s.Events)
				res.Events = int64(s.Events.Len())
			}
		}
		if err != nil {
			w.Abort()
			return nil, err
		}
	} else {
		buf := events.NewBatch(1 << 16)
		for {
			if err := ctx.Err(); err != nil {
				w.Abort()
				return nil, err
			}
			rerr := r.Read(buf)
			if buf.Len() > 0 {
				if err := buf.Validate(g); err != nil {
					w.Abort()
					return nil, fmt.Errorf("%s: %w (pass --sensor to set the sensor size)", input, err)
				}
				if err := w.Write(buf); err != nil {
					w.Abort()
					return nil, err
				}
				res.Events += int64(buf.Len())
				if o.Progress != nil {
					o.Progress(res.Events, -1)
				}
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				w.Abort()
				return nil, rerr
			}
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return res, nil
}

// datasetSource yields samples either from files (a Plan) or from an open dataset reader.
type datasetSource struct {
	plan   *Plan
	opts   formats.Options
	reader events.SampleReader
}

func (d datasetSource) count() int {
	if d.reader != nil {
		return d.reader.NumSamples()
	}
	return len(d.plan.Items)
}

// read decodes sample i into s. It is safe for concurrent use only for the file-backed source.
func (d datasetSource) read(i int, s *events.Sample) error {
	if d.reader != nil {
		return d.reader.ReadSample(i, s)
	}
	it := d.plan.Items[i]
	s.Reset()
	s.ID, s.Label = it.ID, it.Label
	return ReadFile(it.Path, it.Format, d.opts, &s.Events)
}

// ReadFile decodes a whole file of format f into dst (appending).
func ReadFile(path string, f *formats.Format, o formats.Options, dst *events.Batch) error {
	src, err := f.Open(path, o)
	if err != nil {
		return err
	}
	defer src.Close()
	r, ok := src.(events.Reader)
	if !ok {
		return fmt.Errorf("%s is itself a dataset; convert it on its own", path)
	}
	buf := events.NewBatch(1 << 16)
	for {
		err := r.Read(buf)
		dst.AppendBatch(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func convertDataset(ctx context.Context, src datasetSource, meta events.Meta, input, output string,
	outFmt *formats.Format, o Options) (*Result, error) {
	if !outFmt.DatasetCreate {
		return nil, fmt.Errorf("format %s holds one recording, not a dataset; write the dataset to .arrow (or --to nmnist for a folder of .bin files)", outFmt.Name)
	}
	n := src.count()
	g := meta.Geometry
	if o.Format.Sensor.Known() {
		g = o.Format.Sensor
	}
	if !g.Known() {
		var err error
		if g, err = datasetGeometry(ctx, src, o.Workers); err != nil {
			return nil, err
		}
	}
	out := events.Meta{Format: outFmt.Name, Kind: events.KindDataset, Geometry: g, Classes: meta.Classes,
		Source: meta.Source, Transforms: joinTransforms(meta.Transforms, o.Transforms)}
	if src.plan != nil || out.Source == "" {
		out.Source = input
		if src.plan != nil && len(src.plan.Items) > 0 {
			out.Source = sourceRoot(src.plan)
		}
	}
	if o.Source != "" {
		out.Source = o.Source
	}
	sink, err := outFmt.Create(output, out, o.Format)
	if err != nil {
		return nil, err
	}
	w, ok := sink.(events.SampleWriter)
	if !ok {
		sink.Abort()
		return nil, fmt.Errorf("format %s cannot write a dataset", outFmt.Name)
	}
	res := &Result{Output: output, Format: outFmt.Name, Kind: events.KindDataset, Geometry: g}
	workers := o.Workers
	if src.reader != nil {
		workers = 1 // one open reader: decode sequentially (Arrow reads are cheap)
	}
	type slot struct {
		s  *events.Sample
		fn SampleFunc
	}
	var fnErr error
	newSlot := func() *slot {
		sl := &slot{s: &events.Sample{}}
		if o.NewSampleFunc != nil {
			fn, err := o.NewSampleFunc()
			if err != nil {
				fnErr = err
			}
			sl.fn = fn
		}
		return sl
	}
	err = parallel.Ordered(ctx, n, workers, newSlot,
		func(i int, sl *slot) error {
			if fnErr != nil {
				return fnErr
			}
			if err := src.read(i, sl.s); err != nil {
				return err
			}
			if err := sl.s.Events.Validate(g); err != nil {
				return fmt.Errorf("sample %s: %w (pass --sensor to set the sensor size)", sl.s.ID, err)
			}
			if sl.fn != nil {
				return sl.fn(sl.s)
			}
			return nil
		},
		func(i int, sl *slot) error {
			if err := w.WriteSample(sl.s); err != nil {
				return err
			}
			res.Samples++
			res.Events += int64(sl.s.Events.Len())
			if o.Progress != nil {
				o.Progress(int64(i+1), int64(n))
			}
			return nil
		})
	if err != nil {
		w.Abort()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return res, nil
}

// datasetGeometry finds the canvas of a dataset whose files do not state a sensor size: the header
// geometry of its first sample when the format has one, else the extent over all samples passed through
// the format's dataset knowledge (InferGeometry).
func datasetGeometry(ctx context.Context, src datasetSource, workers int) (events.Geometry, error) {
	if src.reader != nil {
		workers = 1
	}
	n := src.count()
	if src.plan != nil && n > 0 {
		it := src.plan.Items[0]
		if s, err := it.Format.Open(it.Path, src.opts); err == nil {
			g := s.Meta().Geometry
			s.Close()
			if g.Known() {
				return g, nil
			}
		}
	}
	total := events.NewStats(events.Geometry{}, false)
	err := parallel.Ordered(ctx, n, workers, func() *events.Sample { return &events.Sample{} },
		func(i int, s *events.Sample) error { return src.read(i, s) },
		func(i int, s *events.Sample) error { total.Add(&s.Events); return nil })
	if err != nil {
		return events.Geometry{}, err
	}
	ext := total.Extent()
	if src.plan != nil && n > 0 {
		return infer(src.plan.Items[0].Format, ext), nil
	}
	return ext, nil
}

func extentOf(path string, f *formats.Format, o formats.Options) (events.Geometry, error) {
	src, err := f.Open(path, o)
	if err != nil {
		return events.Geometry{}, err
	}
	defer src.Close()
	r := src.(events.Reader)
	st := events.NewStats(events.Geometry{}, false)
	buf := events.NewBatch(1 << 16)
	for {
		err := r.Read(buf)
		st.Add(buf)
		if errors.Is(err, io.EOF) {
			return st.Extent(), nil
		}
		if err != nil {
			return events.Geometry{}, err
		}
	}
}

func infer(f *formats.Format, extent events.Geometry) events.Geometry {
	if f != nil && f.InferGeometry != nil {
		return f.InferGeometry(extent)
	}
	return extent
}

func sourceOf(meta events.Meta, input string) string {
	if meta.Source != "" && meta.Source != input {
		return meta.Source
	}
	return input
}

func sourceRoot(p *Plan) string {
	// The common folder the ids are relative to: strip the id from the first item's path.
	it := p.Items[0]
	if len(it.Path) > len(it.ID) {
		root := it.Path[:len(it.Path)-len(it.ID)]
		if fi, err := os.Stat(root); err == nil && fi.IsDir() {
			return filepath.Clean(root)
		}
	}
	return it.Path
}

func joinTransforms(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " | " + b
}
