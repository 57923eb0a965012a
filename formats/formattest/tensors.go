package formattest

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/tensors"
)

// tensorShape is the shape of the kit's tensors: 3 frames of 2 polarities on a 4×3 sensor.
var tensorShape = []int{3, 2, 3, 4}

// TensorMeta is what the kit's tensor files say they hold.
var TensorMeta = events.Meta{Kind: events.KindTensors, Geometry: events.Geometry{Width: 4, Height: 3},
	Classes: []string{"zero", "один", "2"}, Transforms: "frames(bins=3)", Source: "formattest"}

// extremeU16 and extremeF32 are the values a tensor file must keep bit for bit.
var (
	extremeU16 = []uint16{0, 1, 255, 256, math.MaxUint16}
	extremeF32 = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.1, math.MaxFloat32, -math.MaxFloat32,
		math.SmallestNonzeroFloat32, float32(math.Inf(1)), float32(math.Inf(-1))}
)

// RandomTensors returns n samples of shape (3, 2, 3, 4) and element type dtype, with values drawn from
// the extremes, labels from the classes and NoLabel, and ids in several scripts. With vary, the first
// size varies per sample (1 to 4), as frames by time window do.
func RandomTensors(rng *rand.Rand, n int, dtype tensors.DType, vary bool) []tensors.Sample {
	out := make([]tensors.Sample, n)
	for i := range out {
		t := tensors.Tensor{Shape: slices.Clone(tensorShape)}
		if vary {
			t.Shape[0] = 1 + i%4
		}
		for k := 0; k < t.Len(); k++ {
			if dtype == tensors.Uint16 {
				t.U16 = append(t.U16, extremeU16[rng.IntN(len(extremeU16))])
			} else {
				t.F32 = append(t.F32, extremeF32[rng.IntN(len(extremeF32))])
			}
		}
		out[i] = tensors.Sample{ID: fmt.Sprintf("Train/%d/é-日本-%05d.bin", i%3, i), Label: int32(i%4) - 1, Tensor: t}
	}
	return out
}

// tensorWriter creates the format's writer at the first Write: the formats that state the number of
// tensors before the data (.npy, .npz) must be told it at Create.
type tensorWriter struct {
	f     *formats.Format
	path  string
	dtype tensors.DType
	w     tensors.Writer
}

func (w *tensorWriter) Write(s []tensors.Sample) error {
	if w.w == nil {
		var err error
		spec := tensors.Spec{DType: w.dtype, Shape: slices.Clone(tensorShape), Samples: len(s)}
		meta := TensorMeta
		if w.f.Tensors.Boxes {
			meta.Boxes, meta.BoxClasses = true, TensorMeta.Classes
		}
		if w.w, err = w.f.Tensors.Create(w.path, meta, spec, formats.Options{}); err != nil {
			return err
		}
	}
	for i := range s {
		if err := w.w.Write(&s[i]); err != nil {
			return err
		}
	}
	return nil
}

func (w *tensorWriter) Close() error {
	if w.w == nil {
		if err := w.Write([]tensors.Sample{}); err != nil {
			return err
		}
	}
	return w.w.Close()
}

func (w *tensorWriter) Abort() {
	if w.w != nil {
		w.w.Abort()
	}
}

// TensorCodec is the Codec of a format's tensors of element type dtype: its content is a list of
// tensor samples, written with Tensors.Create and read back, by index, with Tensors.NewReader. A file
// that states its length (every tensor format does) must report any cut. For a format that keeps boxes
// (Tensors.Boxes) the samples carry boxes, which must come back exactly.
func TensorCodec(f *formats.Format, dtype tensors.DType) Codec[[]tensors.Sample] {
	generate := func(rng *rand.Rand, n int) []tensors.Sample {
		out := RandomTensors(rng, n, dtype, false)
		if f.Tensors.Boxes {
			for i := range out {
				out[i].Boxes = RandomBoxes(rng, rng.IntN(4), TensorMeta.Geometry, len(TensorMeta.Classes))
			}
		}
		return out
	}
	c := Codec[[]tensors.Sample]{
		Format:   f,
		Generate: generate,
		Create: func(path string) (Writer[[]tensors.Sample], error) {
			return &tensorWriter{f: f, path: path, dtype: dtype}, nil
		},
		Read: func(r io.Reader, name string, _ int) ([]tensors.Sample, error) {
			tr, err := f.Tensors.NewReader(r, name, formats.Options{})
			if err != nil {
				return nil, err
			}
			defer tr.Close()
			out := make([]tensors.Sample, 0, tr.NumSamples())
			for i := 0; i < tr.NumSamples(); i++ {
				var s tensors.Sample
				if err := tr.ReadSample(i, &s); err != nil {
					return out, err
				}
				out = append(out, s)
			}
			return out, nil
		},
		Units:    func(s []tensors.Sample) int { return len(s) },
		Diff:     diffTensors,
		MinUnits: 1,
		Framed:   true,
	}
	c.Extremes = generate(rand.New(rand.NewPCG(21, 22)), 7)
	return c
}

// diffTensors describes how got departs from the first len(got) samples of want. A format that keeps
// no ids or labels (a bare .npy array) numbers the samples and leaves them unlabelled.
func diffTensors(got, want []tensors.Sample) string {
	if len(got) > len(want) {
		return fmt.Sprintf("%d samples read, more than the %d written", len(got), len(want))
	}
	bare := len(got) > 0 && got[0].ID == "0" && got[0].Label == events.NoLabel
	for i := range got {
		g, w := &got[i], &want[i]
		id, label := w.ID, w.Label
		if bare {
			id, label = fmt.Sprint(i), events.NoLabel
		}
		if g.ID != id || g.Label != label {
			return fmt.Sprintf("sample %d: id %q label %d, want %q %d", i, g.ID, g.Label, id, label)
		}
		gt, wt := &g.Tensor, &w.Tensor
		if !slices.Equal(gt.Shape, wt.Shape) || gt.DType() != wt.DType() || !slices.Equal(gt.U16, wt.U16) || len(gt.F32) != len(wt.F32) {
			return fmt.Sprintf("sample %d: shape %v %s, want %v %s, or values differ", i, gt.Shape, gt.DType(), wt.Shape, wt.DType())
		}
		for k := range wt.F32 {
			if math.Float32bits(gt.F32[k]) != math.Float32bits(wt.F32[k]) {
				return fmt.Sprintf("sample %d: value %d is %v, want %v", i, k, gt.F32[k], wt.F32[k])
			}
		}
		if len(g.Boxes) != len(w.Boxes) || (len(w.Boxes) > 0 && !slices.Equal(g.Boxes, w.Boxes)) {
			return fmt.Sprintf("sample %d: boxes %+v, want %+v", i, g.Boxes, w.Boxes)
		}
	}
	return ""
}
