package npy

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/tensors"
)

// boxedTensors are 3 samples with 2, 0 and 1 boxes.
func boxedTensors() []tensors.Sample {
	out := make([]tensors.Sample, 3)
	boxes := [][]events.Box{
		{{T: 49_999, X: 10.5, Y: 20.25, W: 30, H: 40, Class: 1, Track: 7, Confidence: 1}, {T: 49_999, X: 0, Y: 1, W: 2, H: 3, Class: 0, Track: 4294967295, Confidence: 0.5}},
		nil,
		{{T: 1 << 40, X: 303.75, Y: 239, W: 0.25, H: 1, Class: 1, Track: 9, Confidence: 0.25}},
	}
	for i := range out {
		out[i] = tensors.Sample{ID: fmt.Sprint("s", i), Label: events.NoLabel, Tensor: tensors.Tensor{Shape: []int{2, 2, 2}, U16: make([]uint16, 8)}, Boxes: boxes[i]}
		out[i].Tensor.U16[i] = uint16(i + 1)
	}
	return out
}

func writeBoxedNPZ(t *testing.T, path string, samples []tensors.Sample) {
	t.Helper()
	meta := events.Meta{Kind: events.KindTensors, Boxes: true, BoxClasses: []string{"car", "pedestrian"}}
	w, err := CreateTensors(path, meta, tensors.Spec{DType: tensors.Uint16, Shape: []int{2, 2, 2}, Samples: len(samples)}, true, "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range samples {
		if err := w.Write(&samples[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// A .npz keeps every sample's boxes as plain arrays that numpy loads (and PyTorch takes as they are);
// evtool reads them back exactly.
func TestNPZBoxes(t *testing.T) {
	samples := boxedTensors()
	path := filepath.Join(t.TempDir(), "frames.npz")
	writeBoxedNPZ(t, path, samples)

	f, _ := os.Open(path)
	r, err := NewNPZReader(f, path)
	if err != nil {
		t.Fatal(err)
	}
	if m := r.Meta(); !m.Boxes || !reflect.DeepEqual(m.BoxClasses, []string{"car", "pedestrian"}) {
		t.Fatalf("meta %+v", m)
	}
	var s tensors.Sample
	for _, i := range []int{2, 0, 1} {
		if err := r.ReadSample(i, &s); err != nil {
			t.Fatal(err)
		}
		if len(s.Boxes) != len(samples[i].Boxes) || (len(s.Boxes) > 0 && !reflect.DeepEqual(s.Boxes, samples[i].Boxes)) {
			t.Fatalf("sample %d: boxes %+v, want %+v", i, s.Boxes, samples[i].Boxes)
		}
	}
	r.Close()

	py := fixtures.NumPy(t)
	script := `
import json, sys
import numpy as np
z = np.load(sys.argv[1])
o = z["box_offsets"]
print(json.dumps({"x": z["x"].shape, "boxes": z["boxes"].dtype.str + str(z["boxes"].shape),
    "per_sample": [[[float(v) for v in row] for row in z["boxes"][o[i]:o[i+1]]] for i in range(len(o) - 1)],
    "t": [int(v) for v in z["box_t"]], "class": [int(v) for v in z["box_class"]], "track": [int(v) for v in z["box_track"]],
    "confidence": [float(v) for v in z["box_confidence"]], "classes": [str(c) for c in z["box_classes"]]}))
`
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	var got struct {
		X          []int
		Boxes      string
		PerSample  [][][]float64 `json:"per_sample"`
		T          []int64
		Class      []int64
		Track      []int64
		Confidence []float64
		Classes    []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if !reflect.DeepEqual(got.X, []int{3, 2, 2, 2}) || got.Boxes != "<f4(3, 4)" || !reflect.DeepEqual(got.Classes, []string{"car", "pedestrian"}) {
		t.Fatalf("numpy read %s", out)
	}
	k := 0
	for i, s := range samples {
		if len(got.PerSample[i]) != len(s.Boxes) {
			t.Fatalf("numpy: sample %d has %d boxes, want %d", i, len(got.PerSample[i]), len(s.Boxes))
		}
		for j, b := range s.Boxes {
			want := []float64{float64(b.X), float64(b.Y), float64(b.W), float64(b.H)}
			if !reflect.DeepEqual(got.PerSample[i][j], want) || got.T[k] != b.T || got.Class[k] != int64(b.Class) ||
				got.Track[k] != int64(b.Track) || got.Confidence[k] != float64(b.Confidence) {
				t.Fatalf("numpy: box %d of sample %d: %s", j, i, out)
			}
			k++
		}
	}
}

// rewriteMember returns the .npz with one member replaced.
func rewriteMember(t *testing.T, data []byte, name string, body []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		w, _ := zw.Create(f.Name)
		if f.Name == name {
			w.Write(body)
			continue
		}
		rc, _ := f.Open()
		io.Copy(w, rc)
		rc.Close()
	}
	zw.Close()
	return out.Bytes()
}

// Box arrays that disagree with each other are refused before any box is made.
func TestNPZBoxRefusals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.npz")
	writeBoxedNPZ(t, path, boxedTensors())
	data, _ := os.ReadFile(path)
	i64s := func(shape []int, vals ...int64) []byte {
		b := ArrayHeader("<i8", shape)
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
		return b
	}
	for _, c := range []struct {
		member string
		body   []byte
		want   string
	}{
		{"box_offsets.npy", i64s([]int{4}, 0, 2, 1, 3), "without going back"},
		{"box_offsets.npy", i64s([]int{4}, 0, 2, 2, 9), "without going back"},
		{"box_offsets.npy", i64s([]int{3}, 0, 2, 3), "want (4,) int64"},
		{"box_t.npy", i64s([]int{2}, 1, 2), "want (3,) <i8"},
		{"box_class.npy", i64s([]int{3}, 0, -1, 0), "class -1"},
		{"boxes.npy", append(ArrayHeader("<f4", []int{3, 5}), make([]byte, 60)...), "(M, 4) float32"},
	} {
		bad := rewriteMember(t, data, c.member, c.body)
		_, err := NewNPZReader(bytes.NewReader(bad), "bad.npz")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.member, err, c.want)
		}
	}
	// Boxes without the file saying so, and a .npy asked to keep boxes, are refused.
	w, _ := CreateTensors(filepath.Join(t.TempDir(), "p.npz"), events.Meta{}, tensors.Spec{DType: tensors.Uint16, Shape: []int{2, 2, 2}, Samples: 3}, true, "")
	s := boxedTensors()[0]
	if err := w.Write(&s); err == nil || !strings.Contains(err.Error(), "created without them") {
		t.Fatalf("boxes into a file without: %v", err)
	}
	w.Abort()
	if _, err := CreateTensors(filepath.Join(t.TempDir(), "p.npy"), events.Meta{Boxes: true}, tensors.Spec{DType: tensors.Uint16, Shape: []int{2}, Samples: 1}, false, ""); err == nil {
		t.Fatal("a .npy took boxes")
	}
}
