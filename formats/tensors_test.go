package formats_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/tensors"
)

// tensorSamples makes n samples of shape (first_i, 2, 3, 4) — first_i = 3 unless vary — with values at
// the extremes of dtype, the classes' labels and NoLabel, and ids in several scripts.
func tensorSamples(rng *rand.Rand, n int, dtype tensors.DType, vary bool) []tensors.Sample {
	f32 := []float32{0, float32(math.Copysign(0, -1)), 1, -1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Inf(1)), 0.1}
	u16 := []uint16{0, 1, 65535, 256, 255}
	out := make([]tensors.Sample, n)
	for i := range out {
		first := 3
		if vary {
			first = 1 + i%4
		}
		t := tensors.Tensor{Shape: []int{first, 2, 3, 4}}
		for k := 0; k < t.Len(); k++ {
			if dtype == tensors.Uint16 {
				t.U16 = append(t.U16, u16[rng.IntN(len(u16))])
			} else {
				t.F32 = append(t.F32, f32[rng.IntN(len(f32))])
			}
		}
		out[i] = tensors.Sample{ID: fmt.Sprintf("Train/%d/é-日本-%05d.bin", i%3, i), Label: int32(i%4) - 1, Tensor: t}
	}
	return out
}

var tensorMeta = events.Meta{Kind: events.KindTensors, Geometry: events.Geometry{Width: 4, Height: 3},
	Classes: []string{"zero", "один", "2"}, Transforms: "frames(bins=3)", Source: "test"}

func writeTensors(t *testing.T, f *formats.Format, path string, spec tensors.Spec, samples []tensors.Sample) error {
	t.Helper()
	w, err := f.Tensors.Create(path, tensorMeta, spec, formats.Options{})
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

// Every format that holds tensors keeps the promises event formats keep: write → read identity (through
// the registry's detection), refusal of what it cannot store with nothing left behind, errors and never
// a hang or a panic on truncated or stalling input, and detection of its own output.
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
			data, _ := os.ReadFile(path)
			testTruncatedTensors(t, f, path, data, want)
			testHostileTensorSources(t, f, path, data, want)
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

// testTruncatedTensors cuts the file everywhere (sampled in long files): opening and reading every sample
// must fail — a truncated file is never taken for a whole one — and never panic. The samples read before
// the error are the file's first ones, and an error inside the data says the file is truncated, at an
// offset inside it.
func testTruncatedTensors(t *testing.T, f *formats.Format, path string, data []byte, want []tensors.Sample) {
	step := max(1, len(data)/300)
	cut := filepath.Join(filepath.Dir(path), "cut"+filepath.Ext(path))
	defer os.Remove(cut)
	for size := 0; size < len(data); size += step {
		os.WriteFile(cut, data[:size], 0o644)
		r, _, err := formats.OpenTensors(cut, f.Name, formats.Options{})
		if err != nil {
			if errors.Is(err, tensors.ErrNotTensors) {
				t.Fatalf("%s cut at %d: %v", path, size, err)
			}
			continue
		}
		got, err := readTensors(r)
		r.Close()
		if err == nil {
			t.Fatalf("%s cut at %d of %d bytes: all %d samples read without an error", path, size, len(data), len(got))
		}
		var de *events.DecodeError
		if !errors.As(err, &de) || !errors.Is(err, events.ErrTruncated) || de.Offset < 0 || de.Offset > int64(size) {
			t.Fatalf("%s cut at %d: want a DecodeError wrapping ErrTruncated inside the file, got %v", path, size, err)
		}
		if d := diffTensors(got, want[:len(got)]); len(got) > 0 && d != "" {
			t.Fatalf("%s cut at %d: the samples before the cut differ: %s", path, size, d)
		}
	}
}

// stall serves its data, then returns (0, nil) forever.
type stall struct{ r io.Reader }

func (s *stall) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		return 0, nil
	}
	return n, err
}

// testHostileTensorSources reads through one-byte reads, a source that fails, and one that stalls:
// the same content, or an error — never a hang. Formats that need random access must say so for a stream.
func testHostileTensorSources(t *testing.T, f *formats.Format, path string, data []byte, want []tensors.Sample) {
	read := func(src io.Reader) ([]tensors.Sample, error) {
		r, err := f.Tensors.NewReader(src, path, formats.Options{})
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return readTensors(r)
	}
	got, err := read(iotest.OneByteReader(bytes.NewBuffer(data)))
	if err != nil {
		if !strings.Contains(err.Error(), "random access") {
			t.Fatalf("%s one byte at a time: %v", path, err)
		}
		return // the format reads files, not streams
	}
	if d := diffTensors(got, want); d != "" {
		t.Fatalf("%s one byte at a time: %s", path, d)
	}
	if got, err := read(iotest.DataErrReader(bytes.NewBuffer(data))); err != nil || diffTensors(got, want) != "" {
		t.Fatalf("%s with the error on the last data: %v", path, err)
	}
	fail := errors.New("disk on fire")
	half := io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(fail))
	if _, err := read(half); !errors.Is(err, fail) {
		t.Fatalf("%s failing half way: %v", path, err)
	}
	if _, err := read(&stall{bytes.NewReader(data[:len(data)-1])}); err == nil {
		t.Fatalf("%s stalling: no error", path)
	}
}
