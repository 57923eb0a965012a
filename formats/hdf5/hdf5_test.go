package hdf5

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
	h5 "github.com/evtool/evtool/internal/hdf5"
)

type layoutsReport struct {
	T, X, Y, P []int64
	DSECOffset int64 `json:"dsec_offset"`
	SHD        struct {
		Times  [][]float64
		Units  [][]int64
		Labels []int64
		Keys   []string
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	fixtures.CleanupGenerated()
	os.Exit(code)
}

func generate(t *testing.T) (string, *layoutsReport) {
	t.Helper()
	dir, out := fixtures.Generate(t, "testdata/layouts_gen.py", "h5py", "numpy")
	var rep layoutsReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	return dir, &rep
}

func params(kv ...string) formats.Options {
	o := formats.Options{Params: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Params[kv[i]] = kv[i+1]
	}
	return o
}

func readRecording(t *testing.T, path string, o formats.Options) *events.Batch {
	t.Helper()
	src, err := Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r := src.Events
	if r == nil {
		t.Fatalf("%s opened as a dataset, not a recording", path)
	}
	// small reads cross chunk boundaries at odd places
	all := events.NewBatch(0)
	buf := events.NewBatch(777)
	for {
		err := r.Read(buf)
		all.AppendBatch(buf)
		if err != nil {
			if err.Error() == "EOF" {
				return all
			}
			t.Fatal(err)
		}
	}
}

func want(rep *layoutsReport, offset int64, xmod, ymod int64) *events.Batch {
	b := events.NewBatch(len(rep.T))
	for i := range rep.T {
		x, y := rep.X[i], rep.Y[i]
		if xmod > 0 {
			x, y = x%xmod, y%ymod
		}
		b.Append(rep.T[i]+offset, uint16(x), uint16(y), uint8(rep.P[i]))
	}
	return b
}

func same(t *testing.T, name string, got, exp *events.Batch) {
	t.Helper()
	if i := got.FirstDifference(exp); i >= 0 {
		var g, w events.Event
		if i < got.Len() {
			g = got.At(i)
		}
		if i < exp.Len() {
			w = exp.At(i)
		}
		t.Fatalf("%s: %d events, want %d; first difference at %d: %+v, want %+v", name, got.Len(), exp.Len(), i, g, w)
	}
}

// TestLayouts reads h5py-written files in each dataset's layout, recognised without options, and checks
// every event against what numpy wrote.
func TestLayouts(t *testing.T) {
	dir, rep := generate(t)
	same(t, "dsec", readRecording(t, filepath.Join(dir, "dsec.h5"), formats.Options{}), want(rep, rep.DSECOffset, 0, 0))
	same(t, "threeet", readRecording(t, filepath.Join(dir, "threeet.h5"), formats.Options{}), want(rep, 0, 240, 180))
	same(t, "compound", readRecording(t, filepath.Join(dir, "compound.h5"), formats.Options{}), want(rep, 0, 0, 0))
	custom := params("t", "/stream/time_s", "x", "/stream/col", "y", "/stream/row", "p", "/stream/on")
	same(t, "custom (float seconds, bool polarity)", readRecording(t, filepath.Join(dir, "custom.h5"), custom), want(rep, 0, 0, 0))
	// the same columns named one by one, and as an (N, 4) array with a column order
	cols := params("t", "/events[0]", "x", "/events[1]", "y", "/events[2]", "p", "/events[3]")
	same(t, "columns by index", readRecording(t, filepath.Join(dir, "threeet.h5"), cols), want(rep, 0, 240, 180))
	flipped := params("events", "/events", "columns", "t,x,y,p", "flip-y", "true")
	flipped.Sensor = events.Geometry{Width: 240, Height: 180}
	got := readRecording(t, filepath.Join(dir, "threeet.h5"), flipped)
	exp := want(rep, 0, 240, 180)
	for i := range exp.Y {
		exp.Y[i] = 179 - exp.Y[i]
	}
	same(t, "flip-y", got, exp)
	ms := params("t", "/events/t", "x", "/events/x", "y", "/events/y", "p", "/events/p", "time-unit", "ms", "time-offset", "5")
	got = readRecording(t, filepath.Join(dir, "dsec.h5"), ms)
	if got.T[1] != rep.T[1]*1000+5 {
		t.Errorf("time-unit=ms, offset 5: t[1] = %d, want %d", got.T[1], rep.T[1]*1000+5)
	}
}

// TestSHDSamples reads SHD's variable-length layout as a labelled dataset.
func TestSHDSamples(t *testing.T) {
	dir, rep := generate(t)
	src, err := Open(filepath.Join(dir, "shd.h5"), formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r := src.Samples
	if r == nil {
		t.Fatal("SHD opened as a recording, not a sample dataset")
	}
	m := r.Meta()
	if strings.Join(m.Classes, ",") != strings.Join(rep.SHD.Keys, ",") || r.NumSamples() != len(rep.SHD.Times) {
		t.Fatalf("%d samples, classes %v", r.NumSamples(), m.Classes)
	}
	var s events.Sample
	for i := range rep.SHD.Times {
		if err := r.ReadSample(i, &s); err != nil {
			t.Fatal(err)
		}
		if s.Label != int32(rep.SHD.Labels[i]) || s.Events.Len() != len(rep.SHD.Times[i]) {
			t.Fatalf("sample %d: label %d, %d events; want %d, %d", i, s.Label, s.Events.Len(), rep.SHD.Labels[i], len(rep.SHD.Times[i]))
		}
		for k, sec := range rep.SHD.Times[i] {
			e := s.Events.At(k)
			if e.T != int64(math.Round(sec*1e6)) || int64(e.X) != rep.SHD.Units[i][k] || e.Y != 0 || e.P != 1 {
				t.Fatalf("sample %d event %d = %+v; want t=%v s, x=%d", i, k, e, sec, rep.SHD.Units[i][k])
			}
		}
	}
}

// An SHD time that is no time, or a sample whose columns differ in length, is an error naming the sample
// (and the event), and keeps only the events before the fault; the next sample still reads.
func TestSHDSampleFaults(t *testing.T) {
	dir, _ := generate(t)
	src, err := Open(filepath.Join(dir, "shd_bad.h5"), formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r := src.Samples
	var s events.Sample
	for i, want := range []string{"sample 1: event 2: t = NaN is not a time", "sample 2: /spikes/units holds 2 values but /spikes/times holds 3"} {
		err := r.ReadSample(i+1, &s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("sample %d: %v; want an error with %q", i+1, err, want)
		}
		if kept := 2 * (1 - i); s.Events.Len() != kept {
			t.Errorf("sample %d: %d events kept after the error; want %d", i+1, s.Events.Len(), kept)
		}
	}
	if err := r.ReadSample(0, &s); err != nil || s.Events.Len() != 2 || s.Events.At(1).T != 199951 || s.Events.At(1).X != 4 {
		t.Fatalf("sample 0 after the faults: %v, %d events", err, s.Events.Len())
	}
}

// Compression evtool cannot undo is refused before reading, naming the filter.
func TestRefusedFilters(t *testing.T) {
	dir, _ := generate(t)
	for file, name := range map[string]string{"lzf.h5": "lzf", "zstd.h5": "zstd"} {
		_, err := Open(filepath.Join(dir, file), formats.Options{})
		if err == nil || !errors.Is(err, h5.ErrUnsupported) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v; want an unsupported-filter error naming %s", file, err, name)
		}
	}
}

// Options that name datasets the file lacks, or an unrecognised layout, say what the file holds.
func TestLayoutErrors(t *testing.T) {
	dir, _ := generate(t)
	if _, err := Open(filepath.Join(dir, "custom.h5"), formats.Options{}); err == nil || !strings.Contains(err.Error(), "/stream/time_s") {
		t.Errorf("unrecognised layout: %v; want the dataset listing", err)
	}
	if _, err := Open(filepath.Join(dir, "dsec.h5"), params("t", "/nope", "x", "/events/x")); err == nil {
		t.Error("a missing dataset was accepted")
	}
	if _, err := Open(filepath.Join(dir, "dsec.h5"), params("t", "/events/t")); err == nil {
		t.Error("t without x was accepted")
	}
	if _, err := Open(filepath.Join(dir, "threeet.h5"), params("events", "/events", "flip-y", "true")); err == nil {
		t.Error("flip-y without a sensor height was accepted")
	}
}

func TestDetect(t *testing.T) {
	head := make([]byte, 1024)
	copy(head[512:], h5.Signature)
	if !Detect(head) {
		t.Error("HDF5 after a user block not detected")
	}
	copy(head, "MATLAB 7.3 MAT-file")
	if Detect(head) {
		t.Error("a MATLAB 7.3 file detected as plain HDF5")
	}
	if !Detect([]byte(h5.Signature + "rest")) {
		t.Error("HDF5 signature not detected")
	}
}
