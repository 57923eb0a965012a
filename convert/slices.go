package convert

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/slicer"
	"github.com/evtool/evtool/tensors"
	"github.com/evtool/evtool/transforms"
)

// sliceRecording cuts one recording into samples (Options.Slice) and writes them as a dataset — or, with
// a chain ending in a representation, as tensors. It streams: only the open slices are in memory.
func sliceRecording(ctx context.Context, r events.Reader, inFmt *formats.Format, input, output string,
	outFmt *formats.Format, o Options) (*Result, error) {
	meta := r.Meta()
	g, err := recordingGeometry(meta, input, inFmt, o.Format)
	if err != nil {
		return nil, err
	}
	sl, err := slicer.New(*o.Slice)
	if err != nil {
		return nil, err
	}
	var tensorFmt *formats.Format
	if o.Chain != nil && o.Chain.HasRepresentation() {
		if tensorFmt, err = formats.TensorOutputFormat(output, o.To); err != nil {
			return nil, err
		}
	}
	out := events.Meta{Kind: events.KindDataset, Geometry: g, Source: sourceOf(meta, input),
		Transforms: joinTransforms(meta.Transforms, chainText(o.Chain))}
	if o.Source != "" {
		out.Source = o.Source
	}
	br, _ := r.(events.BoxReader)
	if br != nil && meta.Boxes {
		if tensorFmt != nil {
			out.Kind = events.KindTensors
			err = tensorFmt.CarryBoxes(&out, meta, o.Format)
			out.Kind = events.KindDataset
		} else {
			err = outFmt.CarryBoxes(&out, meta, o.Format)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", input, err)
		}
	}
	base := filepath.Base(input)
	res := &Result{Output: output, Kind: events.KindDataset}
	var (
		samples events.SampleWriter
		tsink   tensors.Writer
		smp     events.Sample
		ts      tensors.Sample
	)
	fail := func(err error) (*Result, error) {
		if samples != nil {
			samples.Abort()
		}
		if tsink != nil {
			tsink.Abort()
		}
		return nil, err
	}
	if tensorFmt == nil {
		if !outFmt.DatasetCreate {
			return nil, fmt.Errorf("format %s holds one recording; slices make a dataset: write .arrow, .parquet or nmnist (a folder of .bin files)", outFmt.Name)
		}
		if o.Chain != nil {
			st, err := o.Chain.NewStream(shapeOf(g), o.Seed, "")
			if err != nil {
				return nil, err
			}
			out.Geometry = st.Shape().Geometry
		}
		out.Format = outFmt.Name
		sink, err := outFmt.Create(output, out, o.Format)
		if err != nil {
			return nil, err
		}
		if samples = sink.Samples; samples == nil {
			sink.Abort()
			return nil, fmt.Errorf("format %s cannot write a dataset", outFmt.Name)
		}
		res.Format, res.Geometry = outFmt.Name, out.Geometry
	}
	emit := func(s slicer.Slice, ev *events.Batch) error {
		smp.Reset()
		smp.ID = fmt.Sprintf("%s@%d-%d", base, s.Start, s.End)
		smp.Label = s.Label
		smp.Events.AppendBatch(ev)
		smp.Boxes = append(smp.Boxes, s.Boxes...)
		if o.Chain != nil {
			sh, err := o.Chain.ApplySample(&smp, shapeOf(g), o.Seed)
			if err != nil {
				return err
			}
			if tensorFmt != nil {
				rep, err := o.Chain.Representation()
				if err != nil {
					return err
				}
				if err := computeTensor(rep, &smp, sh, &ts); err != nil {
					return fmt.Errorf("slice %s: %w", smp.ID, err)
				}
				if tsink == nil {
					out.Kind, out.Format = events.KindTensors, tensorFmt.Name
					// The number of slices is known only at the end: formats that state it first refuse.
					if tsink, err = openTensorSink(tensorFmt, output, out, rep, &ts.Tensor, 0, false, o); err != nil {
						return err
					}
					res.Format, res.Geometry, res.Kind = tensorFmt.Name, sh.Geometry, events.KindTensors
				}
				if err := tsink.Write(&ts); err != nil {
					return err
				}
				res.Samples++
				res.Events += int64(smp.Events.Len())
				return nil
			}
		}
		if err := samples.WriteSample(&smp); err != nil {
			return err
		}
		res.Samples++
		res.Events += int64(smp.Events.Len())
		if o.Progress != nil {
			o.Progress(int64(res.Samples), -1)
		}
		return nil
	}
	buf := events.NewBatch(1 << 16)
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		rerr := r.Read(buf)
		if err := buf.Validate(g); err != nil {
			return fail(fmt.Errorf("%s: %w", input, err))
		}
		if out.Boxes && (rerr == nil || rerr == io.EOF) {
			if err := sl.AddBoxes(br.Boxes()); err != nil {
				return fail(fmt.Errorf("%s: %w", input, err))
			}
		}
		if err := sl.Add(buf, emit); err != nil {
			return fail(fmt.Errorf("%s: %w", input, err))
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fail(rerr)
		}
	}
	if err := sl.Finish(emit); err != nil {
		return fail(fmt.Errorf("%s: %w", input, err))
	}
	if n := sl.LeftOut(); n > 0 {
		o.Format.Notify(formats.Notice{Path: input, Offset: -1, Kind: formats.Omitted, Count: n,
			What: fmt.Sprintf("events after the last whole slice left out (%.1f %% of them; --slice-incomplete keeps them as a last, shorter sample)",
				100*float64(n)/float64(sl.Seen()))})
	}
	if res.Samples == 0 {
		return fail(fmt.Errorf("%s: the slicing made no samples (is the window longer than the recording? keep the incomplete last window: IncludeIncomplete)", input))
	}
	if tsink != nil {
		return res, tsink.Close()
	}
	return res, samples.Close()
}

// shapeOf is the shape of raw events from a sensor: two polarities.
func shapeOf(g events.Geometry) transforms.Shape { return transforms.Shape{Geometry: g, Polarities: 2} }
