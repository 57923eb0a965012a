package datasets

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/prophesee"
	"github.com/evtool/evtool/internal/fixtures"
)

// labelsScript writes box label files with numpy, as the datasets ship them: argv[1] is a JSON list of
// [path, layout, rows]; layout "gen1" is Gen1's dtype (ts, …, confidence), "mpx" 1 Megapixel's (t, …,
// class_confidence); rows are [t, x, y, w, h, class, confidence, track].
const labelsScript = `
import json, sys
import numpy as np
gen1 = np.dtype([('ts', '<u8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', 'u1'), ('confidence', '<f4'), ('track_id', '<u4')])
mpx = np.dtype([('t', '<u8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', 'u1'), ('class_confidence', '<f4'), ('track_id', '<u4')])
for path, layout, rows in json.load(open(sys.argv[1])):
    np.save(path, np.array([tuple(r) for r in rows], dtype=gen1 if layout == "gen1" else mpx))
`

// detectionRec is one generated recording: its events and its label rows, in file order.
type detectionRec struct {
	split, name, ext string
	events           *events.Batch
	boxes            []events.Box
}

// genDetection makes recordings of g with labels every 50 ms (several boxes per time, some times without
// events before them, one before the first event) and rows deliberately out of time order in the file.
func genDetection(rng *rand.Rand, split, name, ext string, g events.Geometry, classes int) detectionRec {
	r := detectionRec{split: split, name: name, ext: ext, events: events.NewBatch(0)}
	var times []int64
	var gap [2]int64
	t := int64(1_000_000) + rng.Int64N(1000)
	for i := 0; i < 3000; i++ {
		t += rng.Int64N(200)
		if i == 1500 {
			gap[0] = t
			t += 120_000 // a gap: one label time gets no events in its history
			gap[1] = t
		}
		times = append(times, t)
	}
	for lt := int64(999_999); lt < t+60_000; lt += 50_000 {
		for k := 0; k < 1+rng.IntN(3); k++ {
			// Quarter pixels are exact in float32, as are numpy's float32 values of them.
			r.boxes = append(r.boxes, events.Box{T: lt, X: float32(rng.IntN(4*g.Width)) / 4, Y: float32(rng.IntN(4*g.Height)) / 4,
				W: float32(1+rng.IntN(80)) / 4, H: float32(1+rng.IntN(80)) / 2, Class: uint32(rng.IntN(classes)),
				Track: rng.Uint32N(1 << 20), Confidence: float32(rng.IntN(5)) / 4})
		}
		// Events on the window edges: at the label time (in), at t − H (out) and t − H + 1 (in), for the
		// histories the test prepares with.
		if lt > times[0] && lt < t && (lt < gap[0] || lt > gap[1]+100_000) {
			times = append(times, lt, lt-50_000, lt-49_999, lt-20_000, lt-19_999)
		}
	}
	slices.Sort(times)
	for _, x := range times {
		r.events.Append(x, uint16(rng.IntN(g.Width)), uint16(rng.IntN(g.Height)), uint8(rng.IntN(2)))
	}
	// Label files are not promised to be sorted: swap two label times.
	r.boxes[0], r.boxes[len(r.boxes)-1] = r.boxes[len(r.boxes)-1], r.boxes[0]
	return r
}

// writeDetection writes the recordings with evtool's DAT or EVT 2.0 writer and their labels with numpy.
func writeDetection(t *testing.T, root, layout string, g events.Geometry, recs []detectionRec) {
	t.Helper()
	py := fixtures.Python(t, "numpy")
	var labels []any
	for _, r := range recs {
		dir := filepath.Join(root, r.split)
		os.MkdirAll(dir, 0o755)
		rec := filepath.Join(dir, r.name+r.ext)
		var sink formats.Sink
		var err error
		if r.ext == ".raw" {
			sink, err = formats.EventSink(prophesee.CreateEVT2(rec, events.Meta{Geometry: g}, formats.Options{}))
		} else {
			sink, err = formats.EventSink(prophesee.CreateDAT(rec, events.Meta{Geometry: g}, formats.Options{}))
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Events.Write(r.events); err != nil {
			t.Fatal(err)
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		base := strings.TrimSuffix(strings.TrimSuffix(rec, r.ext), "_td")
		var rows [][]any
		for _, b := range r.boxes {
			rows = append(rows, []any{b.T, b.X, b.Y, b.W, b.H, b.Class, b.Confidence, b.Track})
		}
		labels = append(labels, []any{base + "_bbox.npy", layout, rows})
	}
	spec := filepath.Join(t.TempDir(), "labels.json")
	data, _ := json.Marshal(labels)
	os.WriteFile(spec, data, 0o644)
	if out, err := exec.Command(py, "-c", labelsScript, spec).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
}

// A generated Gen1-layout folder (DAT recordings, numpy-written labels) prepares into a dataset with a
// sample per label time: its boxes are exactly the label rows of its time, its events exactly those of
// (t − history, t]; the same for a 1 Megapixel folder of EVT 2.0 recordings and a 20 ms history, and
// with recordings cut into groups of 3 label times.
func TestPrepareDetection(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 1))
	defer func(n int) { detectionGroup = n }(detectionGroup)
	for _, group := range []int{256, 3} {
		detectionGroup = group
		testPrepareDetection(t, rng)
	}
}

func testPrepareDetection(t *testing.T, rng *rand.Rand) {
	for _, c := range []struct {
		def     string
		layout  string
		history int64
		recs    []detectionRec
	}{
		{"gen1", "gen1", 0, []detectionRec{
			genDetection(rng, "train", "17-03-30_12-53-58_1037500000_1097500000_td", ".dat", events.Geometry{Width: 304, Height: 240}, 2),
			genDetection(rng, "train", "17-04-04_11-00-13_cut_15_183500000_243500000_td", ".dat", events.Geometry{Width: 304, Height: 240}, 2),
			genDetection(rng, "test", "17-04-06_09-57-37_6344500000_6404500000_td", ".dat", events.Geometry{Width: 304, Height: 240}, 2),
		}},
		{"1mpx", "mpx", 20_000, []detectionRec{
			genDetection(rng, "val", "moorea_2019-02-21_000_td_2257500000_2317500000", ".raw", events.Geometry{Width: 1280, Height: 720}, 7),
		}},
	} {
		def, err := Lookup(c.def)
		if err != nil {
			t.Fatal(err)
		}
		root := filepath.Join(t.TempDir(), "detection_dataset_duration_60s_ratio_1.0")
		writeDetection(t, root, c.layout, def.Sensor, c.recs)
		from := filepath.Dir(root)
		out := filepath.Join(t.TempDir(), c.def+".arrow")
		res, err := prepare(def, from, out, Selection{Split: "all", History: c.history}, 2)
		if err != nil {
			t.Fatal(err)
		}
		history := c.history
		if history == 0 {
			history = defaultHistory
		}
		// The expected samples: splits in name order (test, train, val), recordings by path, label times
		// ascending, the rows of each time in file order.
		var want []events.Sample
		for _, split := range []string{"test", "train", "val"} {
			var recs []detectionRec
			for _, r := range c.recs {
				if r.split == split {
					recs = append(recs, r)
				}
			}
			for i := range recs {
				for j := i + 1; j < len(recs); j++ {
					if recs[j].name < recs[i].name {
						recs[i], recs[j] = recs[j], recs[i]
					}
				}
			}
			for _, r := range recs {
				byTime := map[int64][]events.Box{}
				var times []int64
				for _, b := range r.boxes {
					if _, ok := byTime[b.T]; !ok {
						times = append(times, b.T)
					}
					byTime[b.T] = append(byTime[b.T], b)
				}
				for i := range times {
					for j := i + 1; j < len(times); j++ {
						if times[j] < times[i] {
							times[i], times[j] = times[j], times[i]
						}
					}
				}
				for _, lt := range times {
					s := events.Sample{Label: events.NoLabel, ID: fmt.Sprintf("%s/%s%s@%d", split, r.name, r.ext, lt), Boxes: byTime[lt]}
					v := r.events.TimeSlice(lt+1-history, lt+1)
					s.Events.AppendBatch(&v)
					want = append(want, s)
				}
			}
		}
		got := readDataset(t, out)
		if len(got) != len(want) || res.Samples != len(want) {
			t.Fatalf("%s: %d samples, want %d", c.def, len(got), len(want))
		}
		empty := 0
		for i := range want {
			g, w := got[i], want[i]
			if g.ID != w.ID || g.Label != events.NoLabel || !reflect.DeepEqual(g.Boxes, w.Boxes) {
				t.Fatalf("%s sample %d: %q with boxes %+v\nwant %q with %+v", c.def, i, g.ID, g.Boxes, w.ID, w.Boxes)
			}
			if g.Events.Len() != w.Events.Len() || (w.Events.Len() > 0 && g.Events.FirstDifference(&w.Events) >= 0) {
				t.Fatalf("%s sample %d (%s): %d events, want %d", c.def, i, g.ID, g.Events.Len(), w.Events.Len())
			}
			if w.Events.Len() == 0 {
				empty++
			}
		}
		if empty == 0 {
			t.Fatalf("%s: no label time without events: the test misses that case", c.def)
		}
		src, _, err := formats.Open(out, "", formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := src.Meta()
		src.Close()
		if !m.Boxes || !reflect.DeepEqual(m.BoxClasses, def.BoxClasses) || m.Geometry != def.Sensor {
			t.Fatalf("%s: meta %+v", c.def, m)
		}
	}
}

// readDataset reads every sample of a dataset file.
func readDataset(t *testing.T, path string) []events.Sample {
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

// A split without labelled recordings, a label file without its recording, and an unknown split are
// refused with the folder named.
func TestPrepareDetectionRefusals(t *testing.T) {
	def, _ := Lookup("gen1")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "train"), 0o755)
	if _, err := Inputs(def, root, Selection{Split: "train"}); err == nil || !strings.Contains(err.Error(), "holds no labelled recording") {
		t.Fatalf("empty split: %v", err)
	}
	os.WriteFile(filepath.Join(root, "train", "x_bbox.npy"), []byte("\x93NUMPY"), 0o644)
	if _, err := Inputs(def, root, Selection{Split: "train"}); err == nil || !strings.Contains(err.Error(), "no recording beside it") {
		t.Fatalf("labels alone: %v", err)
	}
	if _, err := Inputs(def, root, Selection{Split: "dev"}); err == nil || !strings.Contains(err.Error(), "no split") {
		t.Fatalf("unknown split: %v", err)
	}
}
