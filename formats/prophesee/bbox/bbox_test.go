package bbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/npy"
	"github.com/evtool/evtool/internal/fixtures"
)

// numpyScript writes the same three boxes in the dtypes of the Gen1 release, the 1 Megapixel release and
// the Prophesee toolbox (40-byte records with padding), plus a big-endian variant without confidence or
// track id, as numpy saves them.
const numpyScript = `
import sys
import numpy as np
d = sys.argv[1]
rows = [(50000, 10.5, 20.25, 30.0, 40.0, 0, 1.0, 7), (50000, 100.0, 0.0, 5.5, 6.5, 1, 0.5, 8), (2**40, 303.0, 239.0, 1.0, 1.0, 2, 0.25, 4294967295)]
gen1 = np.dtype([('ts', '<u8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', 'u1'), ('confidence', '<f4'), ('track_id', '<u4')])
mpx = np.dtype([('t', '<u8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', 'u1'), ('class_confidence', '<f4'), ('track_id', '<u4')])
np.save(d + "/gen1_bbox.npy", np.array(rows, dtype=gen1))
np.save(d + "/mpx_bbox.npy", np.array(rows, dtype=mpx))
tool = np.dtype({'names': ['t', 'x', 'y', 'w', 'h', 'class_id', 'track_id', 'class_confidence'],
                 'formats': ['<i8', '<f4', '<f4', '<f4', '<f4', '<u4', '<u4', '<f4'],
                 'offsets': [0, 8, 12, 16, 20, 24, 28, 32], 'itemsize': 40})
a = np.zeros(3, dtype=tool)
for k, n in enumerate(['t', 'x', 'y', 'w', 'h', 'class_id', 'class_confidence', 'track_id']):
    a[n] = [r[k] for r in rows]
np.save(d + "/toolbox_bbox.npy", a)
be = np.dtype([('t', '>i8'), ('x', '>f8'), ('y', '>f8'), ('w', '>i4'), ('h', '>i4'), ('class_id', '>u2')])
np.save(d + "/bigendian_bbox.npy", np.array([(r[0], r[1], r[2], int(r[3]), int(r[4]), r[5]) for r in rows], dtype=be))
np.save(d + "/empty_bbox.npy", np.zeros(0, dtype=mpx))
`

var want = []Box{
	{T: 50000, X: 10.5, Y: 20.25, W: 30, H: 40, Class: 0, Confidence: 1, Track: 7},
	{T: 50000, X: 100, Y: 0, W: 5.5, H: 6.5, Class: 1, Confidence: 0.5, Track: 8},
	{T: 1 << 40, X: 303, Y: 239, W: 1, H: 1, Class: 2, Confidence: 0.25, Track: 4294967295},
}

// TestNumPyFiles reads label files written by numpy in every dtype the datasets and toolbox use.
func TestNumPyFiles(t *testing.T) {
	py := fixtures.NumPy(t)
	dir := t.TempDir()
	if out, err := exec.Command(py, "-c", numpyScript, dir).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	for _, name := range []string{"gen1_bbox.npy", "mpx_bbox.npy", "toolbox_bbox.npy"} {
		got, err := Read(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
	got, err := Read(filepath.Join(dir, "bigendian_bbox.npy"))
	if err != nil {
		t.Fatal(err)
	}
	be := []Box{
		{T: 50000, X: 10.5, Y: 20.25, W: 30, H: 40, Class: 0, Confidence: 1},
		{T: 50000, X: 100, Y: 0, W: 5, H: 6, Class: 1, Confidence: 1},
		{T: 1 << 40, X: 303, Y: 239, W: 1, H: 1, Class: 2, Confidence: 1},
	}
	if !reflect.DeepEqual(got, be) {
		t.Fatalf("big-endian, no confidence or track:\n got %+v\nwant %+v", got, be)
	}
	if got, err := Read(filepath.Join(dir, "empty_bbox.npy")); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v, %v", got, err)
	}
}

// labelFile writes an NPY 1.0 file; descr is the Python literal ('<f4' or a list of fields).
func labelFile(descr string, shape []int, body []byte) []byte {
	dims := ""
	for _, d := range shape {
		dims += fmt.Sprint(d) + ","
	}
	dict := fmt.Sprintf("{'descr': %s, 'fortran_order': False, 'shape': (%s), }\n", descr, dims)
	b := append([]byte(npy.Magic), 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(dict)))
	return append(append(b, dict...), body...)
}

const gen1Descr = "[('ts', '<u8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '|u1'), ('confidence', '<f4'), ('track_id', '<u4')]"

// Hostile and wrong files are refused with a DecodeError, before anything their header announces is
// allocated.
func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"huge shape", labelFile(gen1Descr, []int{1 << 40}, make([]byte, 33)), "announces 1099511627776 rows"},
		{"2-D shape", labelFile("[('t', '<i8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '<u4')]", []int{9223372036854775807, 3}, nil), "a 1-D structured array"},
		{"cut row", labelFile(gen1Descr, []int{2}, make([]byte, 40)), "announces 2 rows of 33 bytes"},
		{"no class", labelFile("[('t', '<i8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4')]", []int{0}, nil), "no numeric class_id field (fields: t, x, y, w, h)"},
		{"plain array", labelFile("'<f4'", []int{3, 8}, make([]byte, 96)), "1-D structured array"},
		{"float time", labelFile("[('t', '<f8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '<u4')]", []int{0}, nil), "must be integers"},
		{"not npy", []byte("ts,x,y,w,h,class_id\n1,2,3,4,5,6\n"), "not a .npy file"},
	} {
		got, err := Decode(c.data, c.name+".npy")
		var de *events.DecodeError
		if got != nil || !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, %v; want an error saying %q", c.name, got, err, c.want)
		}
	}
	// A negative class (signed field) is named with its row.
	body := make([]byte, 2*28)
	body[28+24], body[28+25], body[28+26], body[28+27] = 0xFF, 0xFF, 0xFF, 0xFF
	_, err := Decode(labelFile("[('t', '<i8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '<i4')]", []int{2}, body), "neg.npy")
	if err == nil || !strings.Contains(err.Error(), "row 1: class_id -1 is not a class index") {
		t.Fatalf("negative class: %v", err)
	}
}

// FuzzDecode: any file gives boxes or a DecodeError, never a panic or an allocation its bytes do not back.
func FuzzDecode(f *testing.F) {
	f.Add(labelFile(gen1Descr, []int{1}, make([]byte, 33)))
	f.Add(labelFile("[('t', '<i8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '<u4'), ('track_id', '<u4'), ('class_confidence', '<f4'), ('', '|V4')]", []int{1}, make([]byte, 40)))
	f.Fuzz(func(t *testing.T, data []byte) {
		boxes, err := Decode(data, "fuzz.npy")
		if err != nil {
			var de *events.DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > int64(len(data)) {
				t.Fatalf("error %v is not a DecodeError inside the input", err)
			}
			return
		}
		if int64(len(boxes))*8 > int64(len(data)) {
			t.Fatalf("%d boxes from %d bytes", len(boxes), len(data))
		}
	})
}

// Read and Decode agree, and Read names the file.
func TestReadFile(t *testing.T) {
	data := labelFile(gen1Descr, []int{1}, []byte{0x50, 0xC3, 0, 0, 0, 0, 0, 0, 0, 0, 0x28, 0x41, 0, 0, 0xA2, 0x41, 0, 0, 0xF0, 0x41, 0, 0, 0x20, 0x42, 1, 0, 0, 0x80, 0x3F, 9, 0, 0, 0})
	path := filepath.Join(t.TempDir(), "x_bbox.npy")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil || !reflect.DeepEqual(got, []Box{{T: 50000, X: 10.5, Y: 20.25, W: 30, H: 40, Class: 1, Track: 9, Confidence: 1}}) {
		t.Fatalf("%+v, %v", got, err)
	}
	if _, err := Read(path + ".missing"); err == nil {
		t.Fatal("a missing file gave no error")
	}
	os.WriteFile(path, data[:len(data)-1], 0o644)
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, events.ErrTruncated) {
		t.Fatalf("cut file: %v", err)
	}
}

// Label files pair with recordings by the datasets' names; classes follow the sensor.
func TestNaming(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "17-03-30_12-53-58_1037500000_1097500000_td.dat")
	raw := filepath.Join(dir, "moorea_2019-02-21_000_td_2257500000_2317500000.raw")
	for _, p := range []string{rec, raw, filepath.Join(dir, "17-03-30_12-53-58_1037500000_1097500000_bbox.npy")} {
		os.WriteFile(p, nil, 0o644)
	}
	if got := LabelFile(rec); got != filepath.Join(dir, "17-03-30_12-53-58_1037500000_1097500000_bbox.npy") {
		t.Fatalf("LabelFile(td.dat) = %q", got)
	}
	if got := LabelFile(raw); got != "" {
		t.Fatalf("LabelFile of a raw without labels = %q", got)
	}
	os.WriteFile(filepath.Join(dir, "moorea_2019-02-21_000_td_2257500000_2317500000_bbox.npy"), nil, 0o644)
	if got := LabelFile(raw); !strings.HasSuffix(got, "2317500000_bbox.npy") {
		t.Fatalf("LabelFile(raw) = %q", got)
	}
	if got := RecordingsOf("a/x_bbox.npy"); !reflect.DeepEqual(got, []string{"a/x_td.dat", "a/x.dat", "a/x.raw"}) {
		t.Fatalf("RecordingsOf = %v", got)
	}
	if RecordingsOf("a/x.npy") != nil || LabelFile("a/x.csv") != "" {
		t.Fatal("a file that is no label or recording paired")
	}
	if ClassesFor(events.Geometry{Width: 304, Height: 240})[1] != "pedestrian" || len(ClassesFor(MpxSensor)) != 7 || ClassesFor(events.Geometry{Width: 34, Height: 34}) != nil {
		t.Fatal("classes by sensor")
	}
}
