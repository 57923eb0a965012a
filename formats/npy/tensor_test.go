package npy

import (
	"archive/zip"
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/tensors"
)

func readAllTensors(t *testing.T, r tensors.Reader) []tensors.Sample {
	t.Helper()
	out := make([]tensors.Sample, r.NumSamples())
	for i := range out {
		if err := r.ReadSample(i, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// Arrays of other element types read as tensors: unsigned up to 16 bits and bools exactly as uint16,
// the rest as float32, in either byte order; the file's dtype is reported.
func TestTensorElementTypes(t *testing.T) {
	for _, c := range []struct {
		descr string
		body  []byte
		u16   []uint16
		f32   []float32
	}{
		{"|u1", []byte{0, 1, 255, 7}, []uint16{0, 1, 255, 7}, nil},
		{"|b1", []byte{0, 1, 1, 0}, []uint16{0, 1, 1, 0}, nil},
		{">u2", pack(bigEndian{}, uint16(1), uint16(65535), uint16(256), uint16(0)), []uint16{1, 65535, 256, 0}, nil},
		{"<i8", pack(int64(-3), int64(1<<40), int64(0), int64(7)), nil, []float32{-3, 1 << 40, 0, 7}},
		{"<i2", pack(int16(-32768), int16(5), int16(-1), int16(0)), nil, []float32{-32768, 5, -1, 0}},
		{">f8", pack(bigEndian{}, 0.5, -2.25, 1e300, 0.0), nil, []float32{0.5, -2.25, float32(math.Inf(1)), 0}},
		{"<u4", pack(uint32(4e9), uint32(1), uint32(2), uint32(3)), nil, []float32{4e9, 1, 2, 3}},
	} {
		data := npyFile(1, "{'descr': '"+c.descr+"', 'fortran_order': False, 'shape': (1, 1, 2, 2), }", c.body)
		r, err := NewTensorReader(bytes.NewReader(data), "x.npy", true)
		if err != nil {
			t.Fatalf("%s: %v", c.descr, err)
		}
		got := readAllTensors(t, r)
		if len(got) != 1 || !slices.Equal(got[0].Tensor.Shape, []int{1, 2, 2}) || !slices.Equal(got[0].Tensor.U16, c.u16) ||
			!slices.Equal(got[0].Tensor.F32, c.f32) {
			t.Fatalf("%s: %+v", c.descr, got)
		}
		if c.descr != "<u2" && r.Meta().Extra["npy_dtype"] != c.descr {
			t.Fatalf("%s: extra %v", c.descr, r.Meta().Extra)
		}
	}
}

// Events are not tensors: a structured array and a 2-D (N, 4) array are left to the event reader.
func TestTensorReaderLeavesEvents(t *testing.T) {
	for _, dict := range []string{
		"{'descr': [('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', 'u1')], 'fortran_order': False, 'shape': (0,), }",
		"{'descr': '<i8', 'fortran_order': False, 'shape': (0, 4), }",
	} {
		if _, err := NewTensorReader(bytes.NewReader(npyFile(1, dict, nil)), "e.npy", true); !errors.Is(err, tensors.ErrNotTensors) {
			t.Fatalf("%s: %v", dict, err)
		}
	}
}

// Headers that announce more than the file holds allocate nothing big: the tensor must fit in the file,
// and a short data section is a truncation at a byte offset.
func TestTensorHostileHeaders(t *testing.T) {
	huge := npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2147483647, 2147483647), }", make([]byte, 64))
	if _, err := NewTensorReader(bytes.NewReader(huge), "h.npy", true); err == nil || !strings.Contains(err.Error(), "more bytes than the file") {
		t.Fatalf("huge tensor: %v", err)
	}
	many := npyFile(1, "{'descr': '<u2', 'fortran_order': False, 'shape': (2147483647, 1, 1, 2), }", make([]byte, 12))
	r, err := NewTensorReader(bytes.NewReader(many), "m.npy", true)
	if err != nil {
		t.Fatal(err)
	}
	var s tensors.Sample
	for i := 0; i < 3; i++ {
		if err := r.ReadSample(i, &s); err != nil {
			t.Fatalf("sample %d of the data present: %v", i, err)
		}
	}
	var de *events.DecodeError
	if err := r.ReadSample(3, &s); !errors.As(err, &de) || !errors.Is(err, events.ErrTruncated) || de.Offset != int64(len(many)) {
		t.Fatalf("sample past the data: %v", err)
	}
	// An archive whose x announces a shape far beyond what its compressed bytes can hold.
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("x.npy")
	w.Write(npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 100000, 100000), }", make([]byte, 16)))
	zw.Close()
	if _, err := NewNPZReader(bytes.NewReader(zb.Bytes()), "h.npz"); err == nil || !strings.Contains(err.Error(), "more bytes") {
		t.Fatalf("huge npz: %v", err)
	}
	if !IsNPZ(zb.Bytes()) || IsNPZ([]byte("PK\x03\x04short")) || IsNPZ(huge) {
		t.Fatal("IsNPZ")
	}
}

// evtool reads what numpy.savez_compressed and numpy.save write: x of float64, int64 labels, no ids.
func TestTensorsFromNumPy(t *testing.T) {
	py := fixtures.NumPy(t)
	dir := t.TempDir()
	script := `
import sys
import numpy as np
x = np.arange(2 * 3 * 2 * 2, dtype=np.float64).reshape(2, 3, 2, 2) / 4 - 1
np.savez_compressed(sys.argv[1] + "/a.npz", x=x, y=np.array([1, -1]), classes=np.array(["cat", "dog"]))
np.save(sys.argv[1] + "/b.npy", x.astype(np.uint16))
`
	if out, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "a.npz"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewNPZReader(f, "a.npz")
	if err != nil {
		t.Fatal(err)
	}
	got := readAllTensors(t, r)
	r.Close()
	if len(got) != 2 || got[0].Label != 1 || got[1].Label != events.NoLabel || got[1].ID != "1" ||
		!slices.Equal(r.Meta().Classes, []string{"cat", "dog"}) || !slices.Equal(got[1].Tensor.Shape, []int{3, 2, 2}) {
		t.Fatalf("npz: %+v, classes %v", got, r.Meta().Classes)
	}
	for i, v := range got[1].Tensor.F32 {
		if want := float32(12+i)/4 - 1; v != want {
			t.Fatalf("x[1] value %d: %v, want %v", i, v, want)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "b.npy"))
	if err != nil {
		t.Fatal(err)
	}
	r, err = NewTensorReader(bytes.NewReader(b), "b.npy", false)
	if err != nil {
		t.Fatal(err)
	}
	got = readAllTensors(t, r)
	if len(got) != 1 || got[0].ID != "b" || !slices.Equal(got[0].Tensor.Shape, []int{2, 3, 2, 2}) || got[0].Tensor.U16[23] != 4 {
		t.Fatalf("npy as one tensor: %+v", got)
	}
}

// Every .npz entry carries a valid DOS date (a zero time.Time writes 1980-00-00, which zip tools and
// Python's zipfile report as an invalid date), the same on every run.
func TestNPZEntryDates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npz")
	spec := tensors.Spec{DType: tensors.Uint16, Shape: []int{1, 2}, Samples: 1}
	w, err := CreateTensors(path, events.Meta{Classes: []string{"a"}}, spec, true, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&tensors.Sample{ID: "s", Tensor: tensors.Tensor{Shape: []int{1, 2}, U16: []uint16{1, 2}}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		// DOS date: day in bits 0-4, month in bits 5-8, years since 1980 in bits 9-15.
		day, month, year := f.ModifiedDate&0x1f, f.ModifiedDate>>5&0xf, 1980+int(f.ModifiedDate>>9)
		if year != 1980 || month != 1 || day != 1 || f.ModifiedTime != 0 || f.Method != zip.Deflate {
			t.Errorf("%s: dated %04d-%02d-%02d (time %#x), method %d; want 1980-01-01 00:00, deflated", f.Name, year, month, day, f.ModifiedTime, f.Method)
		}
	}
	if !slices.Equal(names, []string{"x.npy", "y.npy", "ids.npy", "classes.npy"}) {
		t.Errorf("entries %v", names)
	}
}

// FuzzTensorReaders: no .npy or .npz input panics, hangs or allocates beyond its size; a truncation
// error names an offset inside the input.
func FuzzTensorReaders(f *testing.F) {
	dir := f.TempDir()
	spec := tensors.Spec{DType: tensors.Uint16, Shape: []int{2, 1, 2}, Samples: 2}
	for _, npz := range []bool{false, true} {
		path := filepath.Join(dir, "seed.npy")
		if npz {
			path = filepath.Join(dir, "seed.npz")
		}
		w, err := CreateTensors(path, events.Meta{Classes: []string{"a", "b"}}, spec, npz, "")
		if err != nil {
			f.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := w.Write(&tensors.Sample{ID: "s", Label: int32(i), Tensor: tensors.Tensor{Shape: []int{2, 1, 2}, U16: []uint16{1, 2, 3, uint16(i)}}}); err != nil {
				f.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			f.Fatal(err)
		}
		data, _ := os.ReadFile(path)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		open := []func() (tensors.Reader, error){
			func() (tensors.Reader, error) { return NewTensorReader(bytes.NewReader(data), "f.npy", true) },
			func() (tensors.Reader, error) { return NewTensorReader(bytes.NewBuffer(data), "f.npy", false) },
			func() (tensors.Reader, error) { return NewNPZReader(bytes.NewReader(data), "f.npz") },
		}
		for _, o := range open {
			r, err := o()
			if err != nil {
				continue
			}
			var s tensors.Sample
			for i := 0; i < r.NumSamples() && i < 64; i++ {
				if err := r.ReadSample(i, &s); err != nil {
					var de *events.DecodeError
					if errors.As(err, &de) && errors.Is(err, events.ErrTruncated) && (de.Offset < 0 || de.Offset > int64(len(data))) {
						t.Fatalf("truncation at offset %d of a %d-byte input", de.Offset, len(data))
					}
					break
				}
				if s.Tensor.Values() != s.Tensor.Len() {
					t.Fatalf("sample %d: %d values for shape %v", i, s.Tensor.Values(), s.Tensor.Shape)
				}
			}
			r.Close()
		}
	})
}
