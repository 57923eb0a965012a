package convert

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/formats/npy"
	"github.com/evtool/evtool/internal/parallel"
	"github.com/evtool/evtool/transforms"
)

// tensorSink is what a chain ending in a representation writes to: the Arrow tensors layout, or .npy/.npz.
type tensorSink interface {
	WriteTensor(id string, label int32, shape []int, u16 []uint16, f32 []float32) error
	Close() error
	Abort()
}

// TensorOutputs lists the extensions a chain ending in a representation can write.
const TensorOutputs = ".arrow, .npy or .npz"

// tensorOutput checks the output name for tensors and says which writer serves it.
func tensorOutput(output, to string) (string, error) {
	kind := strings.ToLower(filepath.Ext(output))
	if to != "" {
		kind = "." + strings.ToLower(to)
	}
	switch kind {
	case ".arrow", ".npy", ".npz":
		return kind, nil
	}
	return "", fmt.Errorf("%s: a chain ending in a representation makes tensors, which go to %s", output, TensorOutputs)
}

// tensorItem carries one sample and its tensor from a worker to the writer.
type tensorItem struct {
	smp events.Sample
	t   *transforms.Tensor
}

// openTensorSink makes the writer once the first tensor tells the shape and element type.
func openTensorSink(output, kind string, meta events.Meta, rep transforms.Representation, first *transforms.Tensor,
	n int, stacked bool, o Options) (tensorSink, error) {
	dtype := "float32"
	if first.F32 == nil {
		dtype = "uint16"
	}
	shape := append([]int(nil), first.Shape...)
	if kind == ".arrow" {
		if fs, ok := rep.(transforms.FixedShaper); !ok || !fs.FixedShape() {
			if len(shape) > 0 {
				shape[0] = -1 // frames by window, event counts…: the number of frames varies per sample
			}
		}
		spec := evarrow.TensorSpec{DType: dtype, Shape: shape}
		switch tt := o.Format.Params["tensor-type"]; tt {
		case "", "canonical":
		case "plain":
			spec.Plain = true
		default:
			return nil, fmt.Errorf("-O tensor-type=%s: want canonical (Arrow's tensor extension types) or plain", tt)
		}
		return evarrow.CreateTensors(output, meta, spec, evarrow.Options{Compression: o.Format.Compression})
	}
	return npy.CreateTensors(output, dtype, shape, n, stacked, meta.Classes)
}

func writeTensor(w tensorSink, s *events.Sample, t *transforms.Tensor) error {
	return w.WriteTensor(s.ID, s.Label, t.Shape, t.U16, t.F32)
}

// convertTensors runs a chain that ends in a representation over every sample (in parallel, written in
// order) and writes the tensors.
func convertTensors(ctx context.Context, src datasetSource, meta events.Meta, input, output string, o Options) (*Result, error) {
	kind, err := tensorOutput(output, o.To)
	if err != nil {
		return nil, err
	}
	n := src.count()
	g := meta.Geometry
	if o.Format.Sensor.Known() {
		g = o.Format.Sensor
	}
	if !g.Known() {
		if g, err = datasetGeometry(ctx, src, o.Workers); err != nil {
			return nil, err
		}
	}
	in := shapeOf(g)
	st, err := o.Chain.NewStream(in, o.Seed, "")
	if err != nil {
		return nil, err
	}
	shape := st.Shape()
	out := events.Meta{Kind: evarrow.KindTensors, Geometry: shape.Geometry, Classes: meta.Classes,
		Source: meta.Source, Transforms: joinTransforms(meta.Transforms, chainText(o.Chain))}
	if src.plan != nil && len(src.plan.Items) > 0 {
		out.Source = sourceRoot(src.plan)
	} else if out.Source == "" {
		out.Source = input
	}
	if o.Source != "" {
		out.Source = o.Source
	}
	res := &Result{Output: output, Format: strings.TrimPrefix(kind, "."), Kind: evarrow.KindTensors, Geometry: shape.Geometry}
	if n == 0 {
		return nil, fmt.Errorf("no samples to convert")
	}
	workers := o.Workers
	if src.reader != nil {
		workers = 1
	}
	var w tensorSink
	err = parallel.Ordered(ctx, n, workers, func() *tensorItem { return &tensorItem{} },
		func(i int, it *tensorItem) error {
			if err := src.read(i, &it.smp); err != nil {
				return err
			}
			if err := it.smp.Events.Validate(g); err != nil {
				return fmt.Errorf("sample %s: %w (pass --sensor to set the sensor size)", it.smp.ID, err)
			}
			sh, err := o.Chain.ApplySample(&it.smp, in, o.Seed)
			if err != nil {
				return err
			}
			rep, err := o.Chain.Representation()
			if err != nil {
				return err
			}
			if it.t, err = rep.Compute(&it.smp.Events, sh); err != nil {
				return fmt.Errorf("sample %s: %w", it.smp.ID, err)
			}
			return nil
		},
		func(i int, it *tensorItem) error {
			if w == nil {
				rep, err := o.Chain.Representation()
				if err != nil {
					return err
				}
				if w, err = openTensorSink(output, kind, out, rep, it.t, n, true, o); err != nil {
					return err
				}
			}
			if err := writeTensor(w, &it.smp, it.t); err != nil {
				return err
			}
			res.Samples++
			res.Events += int64(it.smp.Events.Len())
			if o.Progress != nil {
				o.Progress(int64(i+1), int64(n))
			}
			return nil
		})
	if err != nil {
		if w != nil {
			w.Abort()
		}
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return res, nil
}

// recordingTensor turns a whole recording into one tensor (a one-row Arrow file, or a plain .npy).
func recordingTensor(ctx context.Context, r events.Reader, inFmt *formats.Format, input, output string, o Options) (*Result, error) {
	kind, err := tensorOutput(output, o.To)
	if err != nil {
		return nil, err
	}
	b, err := events.ReadAll(r)
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
		g = infer(inFmt, st.Extent())
	}
	if err := b.Validate(g); err != nil {
		return nil, fmt.Errorf("%s: %w (pass --sensor to set the sensor size)", input, err)
	}
	smp := &events.Sample{Events: *b, Label: events.NoLabel, ID: filepath.Base(input)}
	sh, err := o.Chain.ApplySample(smp, shapeOf(g), o.Seed)
	if err != nil {
		return nil, err
	}
	rep, err := o.Chain.Representation()
	if err != nil {
		return nil, err
	}
	t, err := rep.Compute(&smp.Events, sh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", input, err)
	}
	out := events.Meta{Kind: evarrow.KindTensors, Geometry: sh.Geometry, Source: sourceOf(meta, input),
		Transforms: chainText(o.Chain)}
	if o.Source != "" {
		out.Source = o.Source
	}
	w, err := openTensorSink(output, kind, out, rep, t, 1, kind == ".npz", o)
	if err != nil {
		return nil, err
	}
	if err := writeTensor(w, smp, t); err != nil {
		w.Abort()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return &Result{Output: output, Format: strings.TrimPrefix(kind, "."), Kind: evarrow.KindTensors, Samples: 1,
		Events: int64(smp.Events.Len()), Geometry: sh.Geometry}, nil
}
