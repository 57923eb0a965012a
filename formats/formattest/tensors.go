package formattest

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
		// Stored as they are: int16, the default for counts, cannot hold 65535 (StoredTypes checks it).
		o := formats.Options{Params: map[string]string{formats.ParamDType: string(w.dtype)}}
		if w.w, err = w.f.Tensors.Create(w.path, meta, spec, o); err != nil {
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

// StoredTypes checks a tensor format's element types stored (formats.StoredDType): counts written
// without option dtype are stored as int16 (which torch.from_numpy takes on every torch) and read back with
// the same values, as are counts stored as uint16 or float32 on request; a count int16 cannot hold is
// refused, naming the file and leaving nothing behind; an element type the data cannot take is refused.
func StoredTypes(t *testing.T, f *formats.Format) {
	dir := t.TempDir()
	want := []uint16{0, 1, 255, 256, tensors.MaxInt16Count}
	spec := tensors.Spec{DType: tensors.Uint16, Shape: []int{1, 5}, Samples: 1}
	for _, c := range []struct {
		dtype  tensors.DType // option dtype; "" is the default
		vals   []uint16
		stored tensors.DType // what the reader reports the file holds: Spec.Stored, else Spec.DType
		ok     bool
	}{
		{"", want, tensors.Int16, true},
		{tensors.Int16, want, tensors.Int16, true},
		{tensors.Uint16, []uint16{0, 1, 255, 256, math.MaxUint16}, tensors.Uint16, true},
		{tensors.Float32, []uint16{0, 1, 255, 256, math.MaxUint16}, tensors.Float32, true},
		{"", []uint16{0, 1, 2, 3, tensors.MaxInt16Count + 1}, "", false},
	} {
		path := filepath.Join(dir, fmt.Sprintf("stored-%s-%v%s", c.dtype, c.ok, f.Extensions[0]))
		o := formats.Options{Params: map[string]string{formats.ParamDType: string(c.dtype)}}
		w, err := f.Tensors.Create(path, TensorMeta, spec, o)
		if err != nil {
			t.Fatal(err)
		}
		err = w.Write(&tensors.Sample{ID: "a", Label: 0, Tensor: tensors.Tensor{Shape: []int{1, 5}, U16: c.vals}})
		if err == nil {
			err = w.Close()
		} else {
			w.Abort()
		}
		if !c.ok {
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("a count of %d stored by default: %v; want an error naming %s", c.vals[4], err, path)
			}
			if _, serr := os.Stat(path); serr == nil {
				t.Errorf("the refused output %s remains", path)
			}
			continue
		}
		if err != nil {
			t.Fatalf("counts stored as %q: %v", c.dtype, err)
		}
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.Tensors.NewReader(fh, path, formats.Options{})
		if err != nil {
			fh.Close()
			t.Fatal(err)
		}
		var s tensors.Sample
		err = r.ReadSample(0, &s)
		sp := r.Spec()
		r.Close()
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := cmp.Or(sp.Stored, sp.DType); got != c.stored {
			t.Errorf("counts stored as %q: the reader says the file holds %s, want %s", c.dtype, got, c.stored)
		}
		for i, v := range c.vals {
			got := -1.0
			switch {
			case len(s.Tensor.U16) == len(c.vals):
				got = float64(s.Tensor.U16[i])
			case len(s.Tensor.F32) == len(c.vals):
				got = float64(s.Tensor.F32[i])
			}
			if got != float64(v) {
				t.Fatalf("counts stored as %q read back as %v %v; want %v", c.dtype, s.Tensor.U16, s.Tensor.F32, c.vals)
			}
		}
	}
	// Element types the data cannot take are refused before anything is written.
	for _, c := range []struct {
		data, dtype tensors.DType
	}{{tensors.Uint16, "int8"}, {tensors.Float32, tensors.Int16}, {tensors.Float32, tensors.Uint16}} {
		path := filepath.Join(dir, "refused-"+string(c.dtype)+f.Extensions[0])
		o := formats.Options{Params: map[string]string{formats.ParamDType: string(c.dtype)}}
		w, err := f.Tensors.Create(path, TensorMeta, tensors.Spec{DType: c.data, Shape: []int{1, 5}, Samples: 1}, o)
		if err == nil {
			w.Abort()
			t.Errorf("%s tensors stored as %s: no error", c.data, c.dtype)
		} else if !strings.Contains(err.Error(), string(c.dtype)) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s tensors stored as %s: %v; want an error naming %s and %s", c.data, c.dtype, err, c.dtype, path)
		}
		if _, serr := os.Stat(path); serr == nil {
			t.Errorf("the refused output %s remains", path)
		}
	}
}
