package npyarray

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// file makes a .npy file of format version major with the given header dict, then body.
func file(major byte, dict string, body []byte) []byte {
	return append(AppendHeader(nil, major, dict), body...)
}

func TestReadHeader(t *testing.T) {
	structured := "{'descr': [('t', '<i8'), ('x', '<u2'), ('p', 'u1', (2,))], 'fortran_order': False, 'shape': (3,), }"
	for _, major := range []byte{1, 2, 3} {
		data := file(major, structured, []byte("rest"))
		r := bytes.NewReader(data)
		h, err := ReadHeader(r)
		if err != nil {
			t.Fatalf("version %d: %v", major, err)
		}
		dict := int64(10)
		if major > 1 {
			dict = 12
		}
		if h.DictOffset != dict || h.DataOffset != 128 || !slices.Equal(h.Shape, []int64{3}) {
			t.Fatalf("version %d: dict at %d, data at %d, shape %v; want %d, 128, [3]", major, h.DictOffset, h.DataOffset, h.Shape, dict)
		}
		fields, ok := h.Descr.([]any)
		if !ok || len(fields) != 3 {
			t.Fatalf("descr %#v", h.Descr)
		}
		if f, ok := fields[2].(Tuple); !ok || f[0] != "p" || f[1] != "u1" || !slices.Equal(f[2].(Tuple), Tuple{int64(2)}) {
			t.Fatalf("third field %#v", fields[2])
		}
		if rest := data[len(data)-r.Len():]; string(rest) != "rest" {
			t.Fatalf("reader left at %q, want the data", rest)
		}
	}
	// A plain 2-D array; numpy writes long shapes as plain ints, Python 2 with an L suffix.
	h, err := ReadHeader(bytes.NewReader(file(1, `{"descr": "<f4", "fortran_order": False, "shape": (2, 3L)}`, nil)))
	if err != nil || h.Descr != "<f4" || !slices.Equal(h.Shape, []int64{2, 3}) {
		t.Fatalf("plain array: %+v, %v", h, err)
	}

	for _, c := range []struct {
		name      string
		data      []byte
		offset    int64
		truncated bool
		msg       string
	}{
		{"empty", nil, 0, true, "ends inside the .npy preamble"},
		{"not npy", []byte("PK\x03\x04 this is an npz"), 0, false, "not a .npy file"},
		{"version 4", append([]byte(Magic), 4, 0, 0, 0), 6, false, "version 4.0"},
		{"v2 preamble cut", append([]byte(Magic), 2, 0, 0x10, 0), 10, true, "ends inside the .npy preamble"},
		{"huge header", append([]byte(Magic), 2, 0, 0xff, 0xff, 0xff, 0x7f), 8, false, "header of 2147483647 bytes"},
		{"header cut", file(1, "{'descr': '<u2', 'fortran_order': False, 'shape': (1,), }", nil)[:40], 10, true, "ends inside the .npy header"},
		{"fortran", file(3, "{'descr': '<i8', 'fortran_order': True, 'shape': (1, 4), }", nil), 12, false, "Fortran"},
		{"no fortran_order", file(1, "{'descr': '<i8', 'shape': (1, 4), }", nil), 10, false, "no fortran_order"},
		{"negative dim", file(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, -4), }", nil), 10, false, "non-negative"},
		{"shape is a list", file(1, "{'descr': '<i8', 'fortran_order': False, 'shape': [4], }", nil), 10, false, "no shape tuple"},
		{"not a dict", file(1, "('<i8', False, (4,))", nil), 10, false, "not a dict"},
		{"unterminated", file(1, "{'descr': '<i8", nil), 10, false, "unterminated string"},
		{"deep", file(1, strings.Repeat("[", 40)+strings.Repeat("]", 40), nil), 10, false, "nested too deeply"},
	} {
		_, err := ReadHeader(bytes.NewReader(c.data))
		var he *HeaderError
		if !errors.As(err, &he) || he.Offset != c.offset || he.Truncated != c.truncated || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v (%+v), want a HeaderError at %d, truncated %v, saying %q", c.name, err, he, c.offset, c.truncated, c.msg)
		}
	}
}

func TestScalarsAndFieldSizes(t *testing.T) {
	for code, want := range map[string]Scalar{
		"<i8": {'i', 8, false}, ">u2": {'u', 2, true}, "|u1": {'u', 1, false}, "b": {'i', 1, false}, "B": {'u', 1, false},
		"?": {'b', 1, false}, "=f4": {'f', 4, false}, ">f8": {'f', 8, true},
	} {
		if got, err := ParseScalar(code); err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", code, got, err, want)
		}
	}
	for _, code := range []string{"<c8", "S8", "<U4", "", "<i3", "O"} {
		if _, err := ParseScalar(code); err == nil {
			t.Errorf("%q accepted as a scalar", code)
		}
	}
	// Fields evtool skips still need their size to find the next field.
	for code, want := range map[string]int{"<c16": 16, "S8": 8, "<U4": 16, "<M8": 8, "<m8": 8, "|V3": 3, "<i2": 2} {
		if got, err := FieldSize(code); err != nil || got != want {
			t.Errorf("size of %q: %d, %v; want %d", code, got, err, want)
		}
	}
	for _, code := range []string{"O", "<U", "S99999999", "x4"} {
		if _, err := FieldSize(code); err == nil {
			t.Errorf("size of %q accepted", code)
		}
	}
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.npy")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadMask(t *testing.T) {
	f32 := func(v ...float32) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
		return b
	}
	for _, c := range []struct {
		name  string
		descr string
		body  []byte
		want  []bool // 2×3, row-major
	}{
		{"u1", "|u1", []byte{0, 1, 0, 0, 0, 255}, []bool{false, true, false, false, false, true}},
		{"bool", "?", []byte{1, 0, 0, 0, 1, 0}, []bool{true, false, false, false, true, false}},
		{"big-endian i2", ">i2", []byte{0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, []bool{false, true, false, false, false, true}},
		// −0.0 is zero; NaN and tiny values are not.
		{"f4", "<f4", f32(0, float32(math.Copysign(0, -1)), 1e-30, 0, float32(math.NaN()), 0), []bool{false, false, true, false, true, false}},
		{"big-endian f8", ">f8", binary.BigEndian.AppendUint64(make([]byte, 40), math.Float64bits(-2)), []bool{false, false, false, false, false, true}},
	} {
		w, h, bits, err := ReadMask(writeFile(t, file(1, "{'descr': '"+c.descr+"', 'fortran_order': False, 'shape': (2, 3), }", c.body)))
		if err != nil || w != 3 || h != 2 || !slices.Equal(bits, c.want) {
			t.Errorf("%s: %d×%d %v, %v; want 3×2 %v", c.name, w, h, bits, err, c.want)
		}
	}
	for _, c := range []struct {
		name, dict string
		body       []byte
		msg        string
	}{
		{"1-D", "{'descr': '|u1', 'fortran_order': False, 'shape': (6,), }", make([]byte, 6), "2-D array"},
		{"empty dimension", "{'descr': '|u1', 'fortran_order': False, 'shape': (0, 3), }", nil, "bad mask shape"},
		{"too wide", "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 65537), }", make([]byte, 65537), "bad mask shape"},
		{"strings", "{'descr': '<U4', 'fortran_order': False, 'shape': (1, 1), }", make([]byte, 16), "not an integer, float or bool"},
		{"structured", "{'descr': [('a', '<u2')], 'fortran_order': False, 'shape': (1, 1), }", make([]byte, 2), "not an integer, float or bool"},
		{"short", "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 3), }", make([]byte, 11), "fewer than the 2×3 mask values"},
		// A header announcing a 32 GiB mask over an empty body is refused before any allocation.
		{"huge", "{'descr': '<f8', 'fortran_order': False, 'shape': (65536, 65536), }", nil, "fewer than the 65536×65536"},
		{"fortran", "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }", make([]byte, 6), "Fortran"},
	} {
		path := writeFile(t, file(1, c.dict, c.body))
		if _, _, _, err := ReadMask(path); err == nil || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming the file and saying %q", c.name, err, c.msg)
		}
	}
	if _, _, _, err := ReadMask(filepath.Join(t.TempDir(), "missing.npy")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzReadHeader: any input gives a header that ends inside it, or a HeaderError located inside it;
// never a panic.
func FuzzReadHeader(f *testing.F) {
	f.Add(file(1, "{'descr': [('t', '<i8'), ('x', '<u2')], 'fortran_order': False, 'shape': (1,), }", nil))
	f.Add(file(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", nil))
	f.Add([]byte("\x93NUMPY\x01\x00\x10\x00{'descr': '<u2'}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHeader(bytes.NewReader(data))
		if err != nil {
			var he *HeaderError
			if !errors.As(err, &he) || he.Offset < 0 || he.Offset > int64(len(data)) {
				t.Fatalf("error %v is not a HeaderError inside the %d-byte input", err, len(data))
			}
			return
		}
		if h.DictOffset < 10 || h.DictOffset > h.DataOffset || h.DataOffset > int64(len(data)) {
			t.Fatalf("dict at %d, data at %d in a %d-byte input", h.DictOffset, h.DataOffset, len(data))
		}
	})
}

// FuzzReadMask: any file gives a mask or an error, never a panic or a huge allocation.
func FuzzReadMask(f *testing.F) {
	f.Add(file(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", []byte{0, 1, 0, 0, 0, 1}))
	f.Add(file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", []byte{0, 0, 128, 63}))
	f.Add(file(1, "{'descr': '?', 'fortran_order': False, 'shape': (1, 2), }", []byte{1, 0}))
	f.Add(file(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", nil))
	f.Add([]byte("\x93NUMPY\x01\x00\x10\x00{'descr': '<u2'}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, h, bits, err := ReadMask(writeFile(t, data))
		if err == nil && len(bits) != w*h {
			t.Fatalf("%d×%d mask with %d values", w, h, len(bits))
		}
	})
}

// Record describes a structured dtype: fields with their offsets (padding and types evtool does not decode
// skipped by size); Count gives -1 for shapes whose product overflows.
func TestRecord(t *testing.T) {
	h, err := ReadHeader(bytes.NewReader(file(1, "{'descr': [('t', '<i8'), ('label', '|S3'), ('c', '>u2'), ('', '|V4')], 'fortran_order': False, 'shape': (5,), }", nil)))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := h.Record()
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{{"t", 0, "<i8", Scalar{'i', 8, false}}, {"label", 8, "|S3", Scalar{0, 3, false}},
		{"c", 11, ">u2", Scalar{'u', 2, true}}, {"", 13, "|V4", Scalar{0, 4, false}}}
	if !slices.Equal(rec.Fields, want) || rec.Size != 17 || h.Count() != 5 || rec.Names() != "t, label, c, " {
		t.Fatalf("%+v, count %d", rec, h.Count())
	}
	if f, ok := rec.Field("x", "C"); !ok || f.Offset != 11 {
		t.Fatalf("Field(C) = %+v, %v", f, ok)
	}
	if v, ok := rec.Fields[2].Type.Int([]byte{0x01, 0x02}); !ok || v != 0x0102 {
		t.Fatalf("big-endian u2 = %d", v)
	}
	if _, ok := rec.Fields[1].Type.Float([]byte("abc")); ok {
		t.Fatal("a string read as a number")
	}
	for _, c := range []struct{ descr, msg string }{
		{"'<f4'", "not structured"},
		{"[('p', 'u1', (2,))]", "sub-array"},
		{"[('p', [('a', 'u1')])]", "nested records"},
		{"[('p', '<q9')]", "unknown type code"},
	} {
		h.Descr, _ = parseLiteral(c.descr)
		if _, err := h.Record(); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %q", c.descr, err, c.msg)
		}
	}
	h.Shape = []int64{3037000500, 3037000500, 2}
	if h.Count() != -1 {
		t.Fatalf("overflowing shape counts %d", h.Count())
	}
	for _, c := range []struct {
		s    Scalar
		b    []byte
		want float64
	}{{Scalar{'i', 2, false}, []byte{0xFE, 0xFF}, -2}, {Scalar{'f', 4, false}, []byte{0, 0, 0x28, 0x41}, 10.5}, {Scalar{'b', 1, false}, []byte{7}, 1},
		{Scalar{'u', 8, true}, []byte{0, 0, 0, 0, 0, 0, 1, 0}, 256}} {
		if v, ok := c.s.Float(c.b); !ok || v != c.want {
			t.Errorf("%+v of % x = %v, want %v", c.s, c.b, v, c.want)
		}
	}
}
