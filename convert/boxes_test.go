package convert

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/prophesee"
	"github.com/evtool/evtool/formats/prophesee/bbox"
	"github.com/evtool/evtool/internal/npyarray"
	"github.com/evtool/evtool/slicer"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/tensors"
	"github.com/evtool/evtool/transforms"
)

// writeBBox writes boxes as a Gen1 _bbox.npy file (ts <u8, x y w h <f4, class_id u1, confidence <f4,
// track_id <u4, packed).
func writeBBox(t *testing.T, path string, boxes []events.Box) {
	t.Helper()
	dict := "{'descr': [('ts', '<u8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', 'u1'), ('confidence', '<f4'), ('track_id', '<u4')], 'fortran_order': False, 'shape': (" + itoa(int64(len(boxes))) + ",), }"
	b := npyarray.AppendHeader(nil, 1, dict)
	for _, x := range boxes {
		b = binary.LittleEndian.AppendUint64(b, uint64(x.T))
		for _, v := range []float32{x.X, x.Y, x.W, x.H} {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		b = append(b, byte(x.Class))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x.Confidence))
		b = binary.LittleEndian.AppendUint32(b, x.Track)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// gen1Recording writes a Gen1-like recording (a DAT file, 304×240, an event every 1 ms from 0 to 199 ms)
// and its box labels beside it; it returns the recording's path, its events and its boxes.
func gen1Recording(t *testing.T, dir string) (string, *events.Batch, []events.Box) {
	t.Helper()
	path := filepath.Join(dir, "17-04-13_15-05-43_0_60000000_td.dat")
	ev := events.NewBatch(200)
	for i := 0; i < 200; i++ {
		ev.Append(int64(i)*1000, uint16(i%304), uint16(i%240), uint8(i%2))
	}
	w, err := prophesee.CreateDAT(path, events.Meta{Geometry: bbox.Gen1Sensor}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ev); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	boxes := []events.Box{
		{T: 49_999, X: 10.5, Y: 20, W: 30, H: 40, Class: 0, Track: 1, Confidence: 1},
		{T: 49_999, X: 200, Y: 100, W: 50.25, H: 60, Class: 1, Track: 2, Confidence: 1},
		{T: 99_999, X: 12, Y: 21, W: 30, H: 40, Class: 0, Track: 1, Confidence: 0.5},
		{T: 250_000, X: 0, Y: 0, W: 1, H: 1, Class: 1, Track: 3, Confidence: 1}, // after the last event
	}
	writeBBox(t, strings.TrimSuffix(path, "_td.dat")+"_bbox.npy", boxes)
	return path, ev, boxes
}

// A Prophesee recording with its _bbox.npy beside it converts into an Arrow recording that carries the
// boxes exactly, with Gen1's class names; sliced, every sample gets the boxes of its window, rebased like
// its events; transforms move them; a format that cannot store boxes is refused.
func TestConvertBoxes(t *testing.T) {
	dir := t.TempDir()
	in, ev, boxes := gen1Recording(t, dir)
	plan, err := sources.Discover([]string{in}, "")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "rec.arrow")
	if _, err := Run(context.Background(), plan, out, Options{}); err != nil {
		t.Fatal(err)
	}
	src, _, err := formats.Open(out, "", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	br := src.Events.(events.BoxReader)
	if m := br.Meta(); !m.Boxes || !reflect.DeepEqual(m.BoxClasses, bbox.Gen1Classes) {
		t.Fatalf("meta %+v", m)
	}
	var got []events.Box
	buf := events.NewBatch(64)
	for {
		err := br.Read(buf)
		got = append(got, br.Boxes()...)
		if err != nil {
			break
		}
	}
	src.Close()
	if !reflect.DeepEqual(got, boxes) {
		t.Fatalf("recording boxes %+v\nwant %+v", got, boxes)
	}

	// Windows of 50 ms, rebased: [0,50), [50,100), [100,150) ms (the events end at 199 ms: no whole fourth).
	sliced := filepath.Join(dir, "sliced.arrow")
	if _, err := Run(context.Background(), plan, sliced, Options{Slice: &slicer.Spec{Window: 50_000, Rebase: true}}); err != nil {
		t.Fatal(err)
	}
	samples := readSamples(t, sliced)
	want := [][]events.Box{{boxes[0], boxes[1]}, {boxes[2]}, nil}
	want[0][0].T, want[0][1].T, want[1][0].T = 49_999, 49_999, 49_999
	if len(samples) != 3 {
		t.Fatalf("%d slices", len(samples))
	}
	for k, s := range samples {
		if len(s.Boxes) != len(want[k]) || (len(want[k]) > 0 && !reflect.DeepEqual(s.Boxes, want[k])) {
			t.Fatalf("slice %d (%s): boxes %+v, want %+v", k, s.ID, s.Boxes, want[k])
		}
	}

	// A flip moves them: x' = 304 − x − w, after the boxes are clipped to the sensor.
	chain, err := transforms.Parse("transpose(action=flip-lr)")
	if err != nil {
		t.Fatal(err)
	}
	flipped := filepath.Join(dir, "flipped.arrow")
	if _, err := Run(context.Background(), plan, flipped, Options{Chain: chain, Slice: &slicer.Spec{Window: 100_000}}); err != nil {
		t.Fatal(err)
	}
	samples = readSamples(t, flipped)
	if b := samples[0].Boxes; len(b) != 3 || b[0].X != 304-10.5-30 || b[1].X != 304-200-50.25 || b[2].X != 304-12-30 || b[2].Y != 21 {
		t.Fatalf("flipped boxes %+v", b)
	}

	// Frames of the slices keep the boxes per sample (Arrow tensors).
	frames, err := transforms.Parse("frames(bins=2)")
	if err != nil {
		t.Fatal(err)
	}
	tens := filepath.Join(dir, "frames.arrow")
	if _, err := Run(context.Background(), plan, tens, Options{Chain: frames, Slice: &slicer.Spec{Window: 50_000}}); err != nil {
		t.Fatal(err)
	}
	tr, _, err := formats.OpenTensors(tens, "", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ts tensors.Sample
	if err := tr.ReadSample(1, &ts); err != nil || !reflect.DeepEqual(ts.Boxes, boxes[2:3]) || !tr.Meta().Boxes {
		t.Fatalf("tensor 1: boxes %+v, %v", ts.Boxes, err)
	}
	tr.Close()

	// The whole recording through a chain that holds the sample: boxes follow its time reversal.
	rev, err := transforms.Parse("time-reverse")
	if err != nil {
		t.Fatal(err)
	}
	reversed := filepath.Join(dir, "reversed.arrow")
	if _, err := Run(context.Background(), plan, reversed, Options{Chain: rev}); err != nil {
		t.Fatal(err)
	}
	src, _, err = formats.Open(reversed, "", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	br = src.Events.(events.BoxReader)
	n := 0
	for {
		err := br.Read(buf)
		n += buf.Len()
		got = append(got, br.Boxes()...)
		if err != nil {
			break
		}
	}
	src.Close()
	// t' = t_last − t with t_last = 199 ms, back in time order (the two boxes of one time in file order).
	wantRev := []events.Box{boxes[3], boxes[2], boxes[0], boxes[1]}
	for i, t0 := range []int64{-51_000, 99_001, 149_001, 149_001} {
		wantRev[i].T = t0
	}
	if n != ev.Len() || !reflect.DeepEqual(got, wantRev) {
		t.Fatalf("reversed: %d events, boxes %+v\nwant %+v", n, got, wantRev)
	}

	// Outputs that cannot keep boxes are refused, naming the formats that can.
	for _, o := range []string{"rec.csv", "rec.es"} {
		_, err := Run(context.Background(), plan, filepath.Join(dir, o), Options{})
		if err == nil || !strings.Contains(err.Error(), "cannot store them: write .arrow") {
			t.Errorf("%s: %v", o, err)
		}
		if _, serr := os.Stat(filepath.Join(dir, o)); serr == nil {
			t.Errorf("%s was written", o)
		}
	}
}

// readSamples reads every sample of a dataset file.
func readSamples(t *testing.T, path string) []events.Sample {
	t.Helper()
	src, _, err := formats.Open(path, "", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := make([]events.Sample, src.Samples.NumSamples())
	for i := range out {
		if err := src.Samples.ReadSample(i, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
