package npy

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
)

// numpyScript loads the file Go wrote and reports it, then saves the layouts Python users produce for Go
// to read.
const numpyScript = `
import json, sys
import numpy as np
d = sys.argv[1]
a = np.load(d + "/ours.npy")
out = {"descr": str(a.dtype.descr), "shape": list(a.shape),
       "t": [int(v) for v in a["t"]], "x": [int(v) for v in a["x"]], "y": [int(v) for v in a["y"]], "p": [int(v) for v in a["p"]]}
t = np.array([10, -20, 2**40], dtype="<i8"); x = np.array([1, 65535, 7]); y = np.array([2, 3, 0]); p = np.array([1, 0, 1])
ev = np.zeros(3, dtype=[("t", "<i8"), ("x", "<u2"), ("y", "<u2"), ("p", "u1")])
ev["t"], ev["x"], ev["y"], ev["p"] = t, x, y, p
np.save(d + "/canonical.npy", ev)
other = np.zeros(3, dtype=[("x", "<i4"), ("y", "<i4"), ("timestamp", "<f8"), ("polarity", "i1")])
other["x"], other["y"], other["timestamp"], other["polarity"] = x, y, t, np.where(p == 1, 1, -1)
with open(d + "/other-v2.npy", "wb") as f:
    np.lib.format.write_array(f, other, version=(2, 0))
with open(d + "/bool-v3.npy", "wb") as f:
    b = np.zeros(3, dtype=[("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("p", "?")])
    b["t"], b["x"], b["y"], b["p"] = [0, 1, 2], x, y, p == 1
    np.lib.format.write_array(f, b, version=(3, 0))
np.save(d + "/plain.npy", np.stack([t, x, y, p], axis=1).astype("<i8"))
print(json.dumps(out))
`

// TestNumPyInterop: numpy.load reads our files with the documented dtype, and we read what np.save and
// np.lib.format.write_array (versions 1, 2 and 3) write.
func TestNumPyInterop(t *testing.T) {
	py := fixtures.NumPy(t)
	dir := t.TempDir()
	ours := events.FromEvents(event(-5, 0, 65535, 0), event(1<<50, 65535, 0, 1))
	w, err := Create(filepath.Join(dir, "ours.npy"), events.Meta{}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ours); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", numpyScript, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var rep struct {
		Descr   string
		Shape   []int
		T       []int64
		X, Y, P []int
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("python printed %q: %v", out, err)
	}
	if rep.Descr != "[('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', '|u1')]" || len(rep.Shape) != 1 || rep.Shape[0] != 2 {
		t.Fatalf("numpy sees dtype %s shape %v", rep.Descr, rep.Shape)
	}
	for i := 0; i < ours.Len(); i++ {
		if rep.T[i] != ours.T[i] || rep.X[i] != int(ours.X[i]) || rep.Y[i] != int(ours.Y[i]) || rep.P[i] != int(ours.P[i]) {
			t.Fatalf("numpy event %d = (%d,%d,%d,%d); want %v", i, rep.T[i], rep.X[i], rep.Y[i], rep.P[i], ours.At(i))
		}
	}
	want := events.FromEvents(event(10, 1, 2, 1), event(-20, 65535, 3, 0), event(1<<40, 7, 0, 1))
	for _, name := range []string{"canonical.npy", "other-v2.npy", "plain.npy"} {
		r, err := Open(filepath.Join(dir, name), formats.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := events.ReadAll(r)
		r.Close()
		if err != nil || !got.Equal(want) {
			t.Fatalf("%s: read %v, %v; want %v", name, got, err, want)
		}
	}
	r, err := Open(filepath.Join(dir, "bool-v3.npy"), formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.ReadAll(r)
	r.Close()
	if want := events.FromEvents(event(0, 1, 2, 1), event(1, 65535, 3, 0), event(2, 7, 0, 1)); err != nil || !got.Equal(want) {
		t.Fatalf("bool-v3.npy: read %v, %v; want %v", got, err, want)
	}
}
