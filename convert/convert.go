package convert

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/shards"
	"github.com/evtool/evtool/slicer"
	"github.com/evtool/evtool/sources"
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
	// Part, when it splits (Count > 1), converts only that part of a dataset's inputs — contiguous in
	// their order (files, groups, or the samples of a dataset file) — so that the parts that the jobs of a
	// cluster array write make, in order, the dataset one run would (formats/shards joins them).
	Part shards.Part
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

// Run converts plan into output. The plan's sensor size, source description and format settings apply
// where o does not set them.
func Run(ctx context.Context, plan *sources.Plan, output string, o Options) (*Result, error) {
	if plan.Sensor.Known() && !o.Format.Sensor.Known() {
		o.Format.Sensor = plan.Sensor
	}
	if o.Source == "" {
		o.Source = plan.Source
	}
	for k, v := range plan.Params {
		if _, set := o.Format.Params[k]; !set {
			p := maps.Clone(o.Format.Params)
			if p == nil {
				p = map[string]string{}
			}
			p[k] = v
			o.Format.Params = p
		}
	}
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
		src, inFmt, err := sources.Open(plan.Recording, o.From, o.Format)
		if err != nil {
			return nil, err
		}
		defer src.Close()
		tensors := o.Chain != nil && o.Chain.HasRepresentation()
		if src.Events != nil && !o.Part.Whole() {
			return nil, fmt.Errorf("%s is one recording: only the samples of a dataset split into parts", plan.Recording)
		}
		if src.Events != nil && o.Slice != nil {
			return sliceRecording(ctx, src.Events, inFmt, plan.Recording, output, outFmt, o)
		}
		if o.Slice != nil {
			return nil, fmt.Errorf("%s is a dataset already: slicing cuts one recording into samples", plan.Recording)
		}

		if s := src.Samples; s != nil {
			if tensors {
				return convertTensors(ctx, newDatasetSource(plan, s, o), s.Meta(), plan.Recording, output, o)
			}
			return convertDataset(ctx, newDatasetSource(plan, s, o), s.Meta(), plan.Recording, output, outFmt, o)
		}
		if tensors {
			return recordingTensor(ctx, src.Events, inFmt, plan.Recording, output, o)
		}
		return convertRecording(ctx, src.Events, inFmt, plan.Recording, output, outFmt, o)
	}
	if o.Slice != nil {
		return nil, fmt.Errorf("slicing cuts one recording into samples: give a single recording file")
	}
	// Several dataset files: one dataset of all their samples.
	if plan.Groups == nil {
		m, ok, err := openMerged(plan, o.Format)
		if err != nil {
			return nil, err
		}
		if ok {
			defer m.Close()
			src := newDatasetSource(plan, m, o)
			if o.Chain != nil && o.Chain.HasRepresentation() {
				return convertTensors(ctx, src, m.Meta(), "", output, o)
			}
			return convertDataset(ctx, src, m.Meta(), "", output, outFmt, o)
		}
	}
	meta := events.Meta{Kind: events.KindDataset, Classes: plan.Classes, Boxes: plan.Boxes, BoxClasses: plan.BoxClasses}
	if o.Chain != nil && o.Chain.HasRepresentation() {
		return convertTensors(ctx, newDatasetSource(plan, nil, o), meta, "", output, o)
	}
	return convertDataset(ctx, newDatasetSource(plan, nil, o), meta, "", output, outFmt, o)
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
	if err := outFmt.CarryBoxes(&out, meta, o.Format); err != nil {
		return nil, fmt.Errorf("%s: %w", input, err)
	}
	boxes := newBoxStream(r, out.Boxes, stream)
	sink, err := outFmt.Create(output, out, o.Format)
	if err != nil {
		return nil, err
	}
	w := sink.Events
	if w == nil {
		sink.Abort()
		return nil, fmt.Errorf("format %s cannot write a recording", outFmt.Name)
	}
	bw, _ := w.(events.BoxWriter)
	if boxes != nil && bw == nil {
		sink.Abort()
		return nil, fmt.Errorf("format %s keeps boxes of samples, not of a recording", outFmt.Name)
	}
	res := &Result{Output: output, Format: outFmt.Name, Kind: events.KindRecording, Geometry: outG}
	fail := func(err error) (*Result, error) { w.Abort(); return nil, err }
	buf := events.NewBatch(1 << 16)
	var tbuf events.Batch
	// write writes events, after the boxes that come with them (events.BoxWriter).
	write := func(b *events.Batch, final bool) error {
		if boxes != nil {
			if err := bw.WriteBoxes(boxes.ready(final)); err != nil {
				return err
			}
		}
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
				return fail(fmt.Errorf("%s: %w", input, err))
			}
		}
		if rerr == nil || rerr == io.EOF {
			boxes.add()
		}
		cur := buf
		if stream != nil && buf.Len() > 0 {
			tbuf.Reset()
			if err := stream.Process(buf, &tbuf); err != nil {
				return fail(fmt.Errorf("%s: %w", input, err))
			}
			cur = &tbuf
		}
		if err := write(cur, false); err != nil {
			return fail(err)
		}
		if buf.Len() > 0 && o.Progress != nil {
			o.Progress(res.Events, -1)
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
		if err := write(&tbuf, true); err != nil {
			return fail(err)
		}
		o.Chain.Tally.AddStream(stream)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return res, nil
}

// boxStream carries a recording's boxes (an events.BoxReader's) through a conversion: taken after each
// Read, mapped through the chain once the events they come with have gone through it — at once for a
// streaming chain, after Flush for one that holds the whole sample — and handed out before those events.
type boxStream struct {
	r       events.BoxReader
	stream  *transforms.Stream
	pending []events.Box
}

// newBoxStream returns nil when the recording has no boxes to carry.
func newBoxStream(r events.Reader, carry bool, stream *transforms.Stream) *boxStream {
	br, ok := r.(events.BoxReader)
	if !carry || !ok {
		return nil
	}
	return &boxStream{r: br, stream: stream}
}

// add takes the boxes of the last Read.
func (b *boxStream) add() {
	if b != nil {
		b.pending = append(b.pending, b.r.Boxes()...)
	}
}

// ready returns the boxes that can go out now, mapped (final: the chain has been flushed).
func (b *boxStream) ready(final bool) []events.Box {
	if b.stream != nil && b.stream.HoldsSample() && !final {
		return nil
	}
	out := b.pending
	if b.stream != nil {
		out = b.stream.MapBoxes(out)
	}
	b.pending = b.pending[:0]
	return out
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
	ext, err := sources.Extent(input, f, o)
	if err != nil {
		return events.Geometry{}, err
	}
	return sources.Infer(f, ext), nil
}

func sourceOf(meta events.Meta, input string) string {
	if meta.Source != "" && meta.Source != input {
		return meta.Source
	}
	return input
}

func sourceRoot(p *sources.Plan) string {
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
