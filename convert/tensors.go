package convert

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/parallel"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/tensors"
	"github.com/evtool/evtool/transforms"
)

// openTensorSink makes the writer once the first tensor tells the shape and element type. n is the number
// of tensors to come (0 when unknown); single marks the one tensor of a whole recording.
func openTensorSink(f *formats.Format, output string, meta events.Meta, rep transforms.Representation, first *tensors.Tensor,
	n int, single bool, o Options) (tensors.Writer, error) {
	shape := append([]int(nil), first.Shape...)
	if fs, ok := rep.(transforms.FixedShaper); !ok || !fs.FixedShape() {
		if len(shape) > 0 {
			shape[0] = -1 // frames by window, event counts…: the number of frames varies per sample
		}
	}
	spec := tensors.Spec{DType: first.DType(), Shape: shape, Samples: n, Single: single}
	return f.Tensors.Create(output, meta, spec, o.Format)
}

// computeTensor turns a transformed sample into its tensor sample.
func computeTensor(rep transforms.Representation, smp *events.Sample, sh transforms.Shape, dst *tensors.Sample) error {
	t, err := rep.Compute(&smp.Events, sh)
	if err != nil {
		return err
	}
	dst.ID, dst.Label, dst.Tensor = smp.ID, smp.Label, *t
	dst.Boxes = append(dst.Boxes[:0], smp.Boxes...)
	return nil
}

// convertTensors runs a chain that ends in a representation over every sample (in parallel, written in
// order) and writes the tensors.
func convertTensors(ctx context.Context, src datasetSource, meta events.Meta, input, output string, o Options) (*Result, error) {
	outFmt, err := formats.TensorOutputFormat(output, o.To)
	if err != nil {
		return nil, err
	}
	if src.units() == 0 {
		return nil, fmt.Errorf("no samples to convert")
	}
	return onCanvas(ctx, src, meta, o, func(c *canvas) (*Result, error) {
		return tensorsOnCanvas(ctx, src, meta, input, output, outFmt, o, c)
	})
}

func tensorsOnCanvas(ctx context.Context, src datasetSource, meta events.Meta, input, output string, outFmt *formats.Format,
	o Options, c *canvas) (*Result, error) {
	n := src.samples()
	st, err := o.Chain.NewStream(shapeOf(c.g), o.Seed, "")
	if err != nil {
		return nil, err
	}
	rep, err := o.Chain.Representation()
	if err != nil {
		return nil, err
	}
	shape := st.Shape()
	out := events.Meta{Format: outFmt.Name, Kind: events.KindTensors, Geometry: shape.Geometry, Classes: meta.Classes,
		Source: datasetSourceText(src, meta, input, o), Transforms: joinTransforms(meta.Transforms, chainText(o.Chain))}
	if err := outFmt.CarryBoxes(&out, meta, o.Format); err != nil {
		return nil, err
	}
	res := &Result{Output: output, Format: outFmt.Name, Kind: events.KindTensors, Geometry: shape.Geometry}
	var w tensors.Writer
	err = parallel.Ordered(ctx, src.units(), src.workers(o.Workers), func() *unit { return &unit{} },
		func(i int, u *unit) error { return src.prepare(i, u, c, o, rep) },
		func(i int, u *unit) error {
			c.seen(u)
			for j := range u.tensors {
				if w == nil {
					var err error
					if w, err = openTensorSink(outFmt, output, out, rep, &u.tensors[j].Tensor, n, false, o); err != nil {
						return err
					}
				}
				if err := w.Write(&u.tensors[j]); err != nil {
					return err
				}
				res.Samples++
				res.Events += int64(u.samples[j].Events.Len())
				if o.Progress != nil {
					o.Progress(int64(res.Samples), int64(n))
				}
			}
			return nil
		})
	if err == nil {
		err = c.check()
	}
	return finish(w, err, res)
}

// recordingTensor turns a whole recording into one tensor (a one-row Arrow file, or a plain .npy).
func recordingTensor(ctx context.Context, r events.Reader, inFmt *formats.Format, input, output string, o Options) (*Result, error) {
	outFmt, err := formats.TensorOutputFormat(output, o.To)
	if err != nil {
		return nil, err
	}
	b, boxes, err := readAll(r)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	meta := r.Meta()
	g := meta.Geometry
	if o.Format.Sensor.Known() {
		g = o.Format.Sensor
	}
	if !g.Known() {
		st := events.NewStats(events.Geometry{}, false)
		st.Add(b)
		g = sources.Infer(inFmt, st.Extent())
	}
	if err := b.Validate(g); err != nil {
		return nil, fmt.Errorf("%s: %w", input, err)
	}
	smp := &events.Sample{Events: *b, Label: events.NoLabel, ID: filepath.Base(input), Boxes: boxes}
	sh, err := o.Chain.ApplySample(smp, shapeOf(g), o.Seed)
	if err != nil {
		return nil, err
	}
	rep, err := o.Chain.Representation()
	if err != nil {
		return nil, err
	}
	var ts tensors.Sample
	if err := computeTensor(rep, smp, sh, &ts); err != nil {
		return nil, fmt.Errorf("%s: %w", input, err)
	}
	out := events.Meta{Format: outFmt.Name, Kind: events.KindTensors, Geometry: sh.Geometry, Source: sourceOf(meta, input),
		Transforms: chainText(o.Chain)}
	if o.Source != "" {
		out.Source = o.Source
	}
	if boxes != nil {
		if err := outFmt.CarryBoxes(&out, meta, o.Format); err != nil {
			return nil, fmt.Errorf("%s: %w", input, err)
		}
	}
	w, err := openTensorSink(outFmt, output, out, rep, &ts.Tensor, 1, true, o)
	if err != nil {
		return nil, err
	}
	if err := w.Write(&ts); err != nil {
		w.Abort()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return &Result{Output: output, Format: outFmt.Name, Kind: events.KindTensors, Samples: 1,
		Events: int64(smp.Events.Len()), Geometry: sh.Geometry}, nil
}

// readAll drains a recording, with its boxes when it carries them (nil otherwise).
func readAll(r events.Reader) (*events.Batch, []events.Box, error) {
	br, ok := r.(events.BoxReader)
	if !ok || !r.Meta().Boxes {
		b, err := events.ReadAll(r)
		return b, nil, err
	}
	all, buf := events.NewBatch(0), events.NewBatch(1<<16)
	boxes := []events.Box{}
	for {
		err := r.Read(buf)
		all.AppendBatch(buf)
		if err == nil || err == io.EOF {
			boxes = append(boxes, br.Boxes()...)
		}
		if err == io.EOF {
			return all, boxes, nil
		}
		if err != nil {
			return all, boxes, err
		}
	}
}
