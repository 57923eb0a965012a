package formats_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/formats/formattest"
	"github.com/evtool/evtool/tensors"
)

var (
	tensorSamples = formattest.RandomTensors
	tensorMeta    = formattest.TensorMeta
)

func writeTensors(t *testing.T, f *formats.Format, path string, spec tensors.Spec, samples []tensors.Sample) error {
	t.Helper()
	// Stored as they are (int16, the default for counts, cannot hold 65535; the kit checks the default).
	o := formats.Options{Params: map[string]string{formats.ParamDType: string(spec.DType)}}
	w, err := f.Tensors.Create(path, tensorMeta, spec, o)
	if err != nil {
		return err
	}
	for i := range samples {
		if err := w.Write(&samples[i]); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

func readTensors(r tensors.Reader) ([]tensors.Sample, error) {
	out := make([]tensors.Sample, r.NumSamples())
	for i := range out {
		if err := r.ReadSample(i, &out[i]); err != nil {
			return out[:i], err
		}
	}
	return out, nil
}

// diffTensors says how got departs from want. Formats that store ids and labels must keep every one;
// a format that stores none (a bare .npy array) numbers the samples and leaves them unlabelled.
func diffTensors(got, want []tensors.Sample) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d samples, want %d", len(got), len(want))
	}
	bare := len(got) > 0 && got[0].ID == "0" && got[0].Label == events.NoLabel
	for i := range want {
		if d := diffSample(i, &got[i], &want[i], bare); d != "" {
			return d
		}
	}
	return ""
}

// diffSample compares sample i; bare says that the format keeps neither ids nor labels.
func diffSample(i int, g, w *tensors.Sample, bare bool) string {
	id, label := w.ID, w.Label
	if bare {
		id, label = fmt.Sprint(i), events.NoLabel
	}
	if g.ID != id || g.Label != label {
		return fmt.Sprintf("sample %d: id %q label %d, want %q %d", i, g.ID, g.Label, id, label)
	}
	if !slices.Equal(g.Tensor.Shape, w.Tensor.Shape) || g.Tensor.DType() != w.Tensor.DType() {
		return fmt.Sprintf("sample %d: shape %v %s, want %v %s", i, g.Tensor.Shape, g.Tensor.DType(), w.Tensor.Shape, w.Tensor.DType())
	}
	if !slices.Equal(g.Tensor.U16, w.Tensor.U16) || len(g.Tensor.F32) != len(w.Tensor.F32) {
		return fmt.Sprintf("sample %d: values differ", i)
	}
	for k := range w.Tensor.F32 {
		if math.Float32bits(g.Tensor.F32[k]) != math.Float32bits(w.Tensor.F32[k]) {
			return fmt.Sprintf("sample %d: value %d is %v, want %v", i, k, g.Tensor.F32[k], w.Tensor.F32[k])
		}
	}
	return ""
}

// Every format that holds tensors reads them back through the registry with their spec, classes and
// random access (backwards too), stores or refuses shapes that vary per sample, and refuses what does
// not fit its spec with nothing left behind. The conformance kit (formats/formattest, run on every
// format by formats/all) checks the rest: identity at the value extremes, hostile and cut input,
// Abort, detection.
func TestEveryTensorFormat(t *testing.T) {
	n := 0
	for _, f := range formats.All() {
		if f.Tensors == nil {
			continue
		}
		n++
		t.Run(f.Name, func(t *testing.T) { testTensorFormat(t, f) })
	}
	if n < 3 {
		t.Fatalf("%d formats hold tensors; want at least arrow, npy and npz", n)
	}
}

func testTensorFormat(t *testing.T, f *formats.Format) {
	if f.Tensors.Create == nil || f.Tensors.NewReader == nil {
		t.Fatalf("%s: tensor formats read and write", f.Name)
	}
	ext := f.Extensions[0]
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	for _, dtype := range []tensors.DType{tensors.Uint16, tensors.Float32} {
		for _, n := range []int{1, 7} {
			want := tensorSamples(rng, n, dtype, false)
			path := filepath.Join(dir, fmt.Sprintf("%s-%d%s", dtype, n, ext))
			spec := tensors.Spec{DType: dtype, Shape: []int{3, 2, 3, 4}, Samples: n}
			if err := writeTensors(t, f, path, spec, want); err != nil {
				t.Fatal(err)
			}
			if g, err := formats.Detect(path); err != nil || g != f {
				t.Fatalf("%s: detected as %v (%v)", path, g, err)
			}
			r, g, err := formats.OpenTensors(path, "", formats.Options{})
			if err != nil || g != f {
				t.Fatal(err)
			}
			got, err := readTensors(r)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffTensors(got, want); d != "" {
				t.Fatalf("%s: %s", path, d)
			}
			if rs := r.Spec(); rs.DType != dtype || rs.Samples != n || !slices.Equal(rs.Shape, spec.Shape) || r.Meta().Kind != events.KindTensors {
				t.Fatalf("%s: spec %+v, kind %s", path, rs, r.Meta().Kind)
			}
			if m := r.Meta(); len(m.Classes) > 0 && !slices.Equal(m.Classes, tensorMeta.Classes) {
				t.Fatalf("%s: classes %q", path, m.Classes)
			}
			// Backwards: random access, also where the data is a compressed stream.
			bare := got[0].ID == "0"
			var s tensors.Sample
			for i := n - 1; i >= 0; i-- {
				if err := r.ReadSample(i, &s); err != nil {
					t.Fatal(err)
				}
				if d := diffSample(i, &s, &want[i], bare); d != "" {
					t.Fatalf("%s read backwards: %s", path, d)
				}
			}
			if err := r.ReadSample(n, &s); err == nil {
				t.Fatalf("%s: sample %d of %d read", path, n, n)
			}
			r.Close()
		}
	}

	// Shapes that vary per sample: stored, or refused at the sample that departs, leaving nothing.
	want := tensorSamples(rng, 5, tensors.Uint16, true)
	path := filepath.Join(dir, "vary"+ext)
	err := writeTensors(t, f, path, tensors.Spec{DType: tensors.Uint16, Shape: []int{-1, 2, 3, 4}, Samples: 5}, want)
	if err == nil {
		r, _, err := formats.OpenTensors(path, "", formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := readTensors(r)
		r.Close()
		if d := diffTensors(got, want); err != nil || d != "" {
			t.Fatalf("varying shapes: %v %s", err, d)
		}
		os.Remove(path)
	} else if !strings.Contains(err.Error(), "shape") {
		t.Fatalf("varying shapes refused with %v", err)
	}

	// A tensor that does not fit the spec is refused; the aborted output leaves nothing behind.
	bad := tensorSamples(rng, 2, tensors.Float32, false)
	if err := writeTensors(t, f, path, tensors.Spec{DType: tensors.Uint16, Shape: []int{3, 2, 3, 4}, Samples: 2}, bad); err == nil {
		t.Fatal("float32 values written to a uint16 file")
	}
	w, err := f.Tensors.Create(path, tensorMeta, tensors.Spec{DType: tensors.Float32, Shape: []int{3, 2, 3, 4}, Samples: 2}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&bad[0]); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if left, _ := filepath.Glob(filepath.Join(dir, "vary*")); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	if left, _ := os.ReadDir(dir); len(left) != 4 { // the four good files
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Fatalf("the folder holds %v", names)
	}
}
