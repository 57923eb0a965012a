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
	"github.com/evtool/evtool/slicer"
	"github.com/evtool/evtool/transforms"
)

// Options steer a conversion.
type Options struct {
	From    string          // force the input format ("" = detect)
	To      string          // force the output format ("" = from the output's extension)
	Format  formats.Options // passed to every reader and writer
	Workers int             // decoding goroutines (0 = all cores)
	// Progress, when set, is called on the emitting goroutine after each sample (done, total) or, for a
	// recording, with events written so far and total -1.
	Progress func(done, total int64)
	// Chain, when set, transforms every sample (streams through a recording); it is recorded as
	// evtool.transforms. A chain ending in a representation (frames, voxel…) makes one tensor per sample,
	// written by a format that holds tensors (tensors.go).
	Chain *transforms.Chain
	// Seed seeds the chain's random transforms (per sample: hash(seed, sample id, stage)).
	Seed uint64
	// Source, when set, is recorded as evtool.source instead of the input path.
	Source string
	// Slice, when set, cuts a single recording into the samples of a dataset (slices.go).
	Slice *slicer.Spec
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
	var outFmt *formats.Format
	if o.Chain != nil && o.Chain.HasRepresentation() {
		if _, err := formats.TensorOutputFormat(output, o.To); err != nil {
			return nil, err
		}
	} else {
		var err error
		if outFmt, err = formats.OutputFormat(output, o.To); err != nil {
			return nil, err
		}
	}
	if !plan.Dataset {
		src, inFmt, err := formats.Open(plan.Recording, o.From, o.Format)
		if err != nil {
			return nil, err
		}
		defer src.Close()
		tensors := o.Chain != nil && o.Chain.HasRepresentation()
		if r, ok := src.(events.Reader); ok && o.Slice != nil {
			return sliceRecording(ctx, r, inFmt, plan.Recording, output, outFmt, o)
		}
		if o.Slice != nil {
			return nil, fmt.Errorf("%s is a dataset already: slicing cuts one recording into samples", plan.Recording)
		}
		switch s := src.(type) {
		case events.SampleReader:
			if tensors {
				return convertTensors(ctx, datasetSource{reader: s}, s.Meta(), plan.Recording, output, o)
			}
			return convertDataset(ctx, datasetSource{reader: s}, s.Meta(), plan.Recording, output, outFmt, o)
		case events.Reader:
			if tensors {
				return recordingTensor(ctx, s, inFmt, plan.Recording, output, o)
			}
			return convertRecording(ctx, s, inFmt, plan.Recording, output, outFmt, o)
		default:
			return nil, fmt.Errorf("%s: format %s returned an unusable reader", plan.Recording, inFmt.Name)
		}
	}
	if o.Slice != nil {
		return nil, fmt.Errorf("slicing cuts one recording into samples: give a single recording file")
	}
	// Several dataset files: one dataset of all their samples.
	if m, ok, err := openMerged(plan, o.Format); err != nil {
		return nil, err
	} else if ok {
		defer m.Close()
		src := datasetSource{reader: m}
		if o.Chain != nil && o.Chain.HasRepresentation() {
			return convertTensors(ctx, src, m.Meta(), "", output, o)
		}
		return convertDataset(ctx, src, m.Meta(), "", output, outFmt, o)
	}
	meta := events.Meta{Kind: events.KindDataset, Classes: plan.Classes}
	if o.Chain != nil && o.Chain.HasRepresentation() {
		return convertTensors(ctx, datasetSource{plan: plan, opts: o.Format}, meta, "", output, o)
	}
	return convertDataset(ctx, datasetSource{plan: plan, opts: o.Format}, meta, "", output, outFmt, o)
}

func convertRecording(ctx context.Context, r events.Reader, inFmt *formats.Format, input, output string,
	outFmt *formats.Format, o Options) (*Result, error) {
	meta := r.Meta()
	g, err := recordingGeometry(meta, input, inFmt, o.Format)
	if err != nil {
		return nil, err
	}
	var stream *transforms.Stream
	outG := g
	if o.Chain != nil {
		var err error
		if stream, err = o.Chain.NewStream(shapeOf(g), o.Seed, input); err != nil {
			return nil, err
		}
		outG = stream.Shape().Geometry
	}
	out := events.Meta{Format: outFmt.Name, Kind: events.KindRecording, Geometry: outG, Source: sourceOf(meta, input),
		Transforms: chainText(o.Chain)}
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
	res := &Result{Output: output, Format: outFmt.Name, Kind: events.KindRecording, Geometry: outG}
	fail := func(err error) (*Result, error) { w.Abort(); return nil, err }
	buf := events.NewBatch(1 << 16)
	var tbuf events.Batch
	write := func(b *events.Batch) error {
		if b.Len() == 0 {
			return nil
		}
		res.Events += int64(b.Len())
		return w.Write(b)
	}
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		rerr := r.Read(buf)
		if buf.Len() > 0 {
			if err := buf.Validate(g); err != nil {
				return fail(fmt.Errorf("%s: %w (pass --sensor to set the sensor size)", input, err))
			}
			cur := buf
			if stream != nil {
				tbuf.Reset()
				if err := stream.Process(buf, &tbuf); err != nil {
					return fail(fmt.Errorf("%s: %w", input, err))
				}
				cur = &tbuf
			}
			if err := write(cur); err != nil {
				return fail(err)
			}
			if o.Progress != nil {
				o.Progress(res.Events, -1)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fail(rerr)
		}
	}
	if stream != nil {
		tbuf.Reset()
		if err := stream.Flush(&tbuf); err != nil {
			return fail(fmt.Errorf("%s: %w", input, err))
		}
		if err := write(&tbuf); err != nil {
			return fail(err)
		}
		o.Chain.Tally.AddStream(stream)
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
	outG := g
	if o.Chain != nil {
		st, err := o.Chain.NewStream(shapeOf(g), o.Seed, "")
		if err != nil {
			return nil, err
		}
		outG = st.Shape().Geometry
	}
	out := events.Meta{Format: outFmt.Name, Kind: events.KindDataset, Geometry: outG, Classes: meta.Classes,
		Source: meta.Source, Transforms: joinTransforms(meta.Transforms, chainText(o.Chain))}
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
	res := &Result{Output: output, Format: outFmt.Name, Kind: events.KindDataset, Geometry: outG}
	workers := o.Workers
	if src.reader != nil {
		workers = 1 // one open reader: decode sequentially (Arrow reads are cheap)
	}
	err = parallel.Ordered(ctx, n, workers, func() *events.Sample { return &events.Sample{} },
		func(i int, smp *events.Sample) error {
			if err := src.read(i, smp); err != nil {
				return err
			}
			if err := smp.Events.Validate(g); err != nil {
				return fmt.Errorf("sample %s: %w (pass --sensor to set the sensor size)", smp.ID, err)
			}
			return ApplyChain(o.Chain, smp, g, o.Seed)
		},
		func(i int, smp *events.Sample) error {
			if err := w.WriteSample(smp); err != nil {
				return err
			}
			res.Samples++
			res.Events += int64(smp.Events.Len())
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

// recordingGeometry is a recording's sensor: --sensor, else its header's, else (one extra pass over the
// events) the format's dataset knowledge applied to their extent.
func recordingGeometry(meta events.Meta, input string, f *formats.Format, o formats.Options) (events.Geometry, error) {
	switch {
	case o.Sensor.Known():
		return o.Sensor, nil
	case meta.Geometry.Known():
		return meta.Geometry, nil
	}
	ext, err := extentOf(input, f, o)
	if err != nil {
		return events.Geometry{}, err
	}
	return infer(f, ext), nil
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

// ApplyChain runs a chain's filters over one sample of sensor g (nothing when chain is nil).
func ApplyChain(chain *transforms.Chain, smp *events.Sample, g events.Geometry, seed uint64) error {
	if chain == nil {
		return nil
	}
	_, err := chain.ApplySample(smp, shapeOf(g), seed)
	return err
}

func chainText(c *transforms.Chain) string {
	if c == nil {
		return ""
	}
	return c.String()
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

// SensorOf returns the sensor size of a recording file: its header's, else (one pass over the events)
// the format's dataset knowledge applied to their extent.
func SensorOf(path string, f *formats.Format, o formats.Options) (events.Geometry, error) {
	if o.Sensor.Known() {
		return o.Sensor, nil
	}
	src, err := f.Open(path, o)
	if err != nil {
		return events.Geometry{}, err
	}
	g := src.Meta().Geometry
	src.Close()
	if g.Known() {
		return g, nil
	}
	ext, err := extentOf(path, f, o)
	if err != nil {
		return events.Geometry{}, err
	}
	return infer(f, ext), nil
}
