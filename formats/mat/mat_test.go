package mat

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixtures.CleanupGenerated()
	os.Exit(code)
}

func readAll(t *testing.T, path string, o formats.Options) (*events.Batch, events.Meta) {
	t.Helper()
	r, err := Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b := events.NewBatch(0)
	buf := events.NewBatch(1000)
	for {
		err := r.Read(buf)
		b.AppendBatch(buf)
		if err == io.EOF {
			return b, r.Meta()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestASLDVSLayout reads what scipy wrote in ASL-DVS's layout (ts, x, y, pol), recognised without options,
// in versions 4 and 5, compressed or not, top-level or in a struct, and with y flipped.
func TestASLDVSLayout(t *testing.T) {
	dir, out := fixtures.Generate(t, "testdata/asl_gen.py", "scipy", "numpy")
	var w struct{ T, X, Y, P []int64 }
	if err := json.Unmarshal(out, &w); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"asl_z.mat", "asl.mat", "asl_v4.mat", "td.mat"} {
		got, _ := readAll(t, filepath.Join(dir, name), formats.Options{})
		if got.Len() != len(w.T) {
			t.Fatalf("%s: %d events, want %d", name, got.Len(), len(w.T))
		}
		for i := range w.T {
			if e := got.At(i); e.T != w.T[i] || int64(e.X) != w.X[i] || int64(e.Y) != w.Y[i] || int64(e.P) != w.P[i] {
				t.Fatalf("%s: event %d = %+v, want t=%d x=%d y=%d p=%d", name, i, e, w.T[i], w.X[i], w.Y[i], w.P[i])
			}
		}
	}
	o := formats.Options{Sensor: events.Geometry{Width: 240, Height: 180}, Params: map[string]string{"flip-y": "true", "time-unit": "ms"}}
	got, _ := readAll(t, filepath.Join(dir, "asl_z.mat"), o)
	for i := range w.T {
		if e := got.At(i); int64(e.Y) != 179-w.Y[i] || e.T != w.T[i]*1000 {
			t.Fatalf("flip-y, ms: event %d = %+v (y was %d, t %d)", i, e, w.Y[i], w.T[i])
		}
	}
	if _, err := Open(filepath.Join(dir, "asl_z.mat"), formats.Options{Params: map[string]string{"t": "nope", "x": "x"}}); err == nil {
		t.Error("a missing variable was accepted")
	}
}

// TestSTMNISTFixture: the real ST-MNIST sample gives EXPECTED.md's events (times rounded to the µs).
func TestSTMNISTFixture(t *testing.T) {
	got, meta := readAll(t, fixtures.Path(t, "other/stmnist/sample_stmnist.mat"), formats.Options{})
	if meta.Geometry != STMNISTSensor {
		t.Errorf("sensor %v", meta.Geometry)
	}
	var on int
	for _, p := range got.P {
		on += int(p)
	}
	if got.Len() != 2346 || on != 1601 {
		t.Fatalf("%d events, %d ON; want 2346, 1601", got.Len(), on)
	}
	if got.T[0] != 196626 || got.T[got.Len()-1] != 895745 {
		t.Errorf("t from %d to %d µs, want 196626 to 895745 (0.196626480 s, 0.895744992 s rounded)", got.T[0], got.T[got.Len()-1])
	}
	first := []events.Event{{T: 196626, X: 5, Y: 4, P: 0}, {T: 196626, X: 5, Y: 4, P: 0}, {T: 199902, X: 5, Y: 4, P: 0}}
	for i, e := range first {
		if got.At(i) != e {
			t.Errorf("event %d = %+v, want %+v (taxel 45, OFF)", i, got.At(i), e)
		}
	}
}

func TestDetect(t *testing.T) {
	head := make([]byte, 128)
	copy(head, "MATLAB 5.0 MAT-file, Platform: x")
	copy(head[126:], "IM")
	if !Detect(head) {
		t.Error("a MATLAB 5 header was not detected")
	}
	if Detect([]byte("MATLAB is a trademark")) {
		t.Error("a short text detected as a MAT-file")
	}
}
