package player

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/npy"
	"github.com/evtool/evtool/formats/prophesee"
	"github.com/evtool/evtool/formats/prophesee/bbox"
	"github.com/evtool/evtool/viewer"
)

// The player draws a sample's boxes in their class colour, at the picture pixels of their region, from
// their label time for viewer.DefaultBoxHold; b hides and shows them.
func TestPlayerBoxes(t *testing.T) {
	// Low on the right: the status lines are drawn over the picture's top left.
	box := events.Box{T: 200_000, X: 30, Y: 20, W: 20, H: 12, Class: 1, Track: 4, Confidence: 1}
	s := []events.Sample{{Events: *movingBar(3, 0, 500_000), Label: 0, Boxes: []events.Box{box}}}
	p, err := New(NewMemoryPlaylist("boxes", testGeom, s, []string{"zero"}), Config{Window: 10_000, Scale: 3,
		Paused: true, Boxes: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	o := p.Picture().Min
	// Scale 3: the box covers picture pixels x 90…149, y 60…95, with a 2 px outline.
	corners := []struct{ x, y int }{{90, 60}, {149, 60}, {90, 95}, {149, 95}, {91, 61}, {120, 60}, {148, 80}}
	shows := func(when string, want bool) {
		t.Helper()
		img := p.Frame()
		for _, c := range corners {
			got := img.RGBAAt(o.X+c.x, o.Y+c.y) == viewer.BoxColor(box.Class)
			if got != want {
				t.Fatalf("%s (position %d µs): box outline at (%d,%d) drawn %v, want %v", when, p.State().Pos,
					c.x, c.y, got, want)
			}
		}
	}
	p.SeekTo(150_000)
	shows("before the label time", false)
	p.SeekTo(box.T + 1) // the picture at pos − 1 = the label time
	shows("at the label time", true)
	p.SeekTo(box.T + viewer.DefaultBoxHold)
	shows("at the end of the hold", true)
	p.SeekTo(box.T + viewer.DefaultBoxHold + 1)
	shows("after the hold", false)
	p.SeekTo(box.T + 5000)
	p.ToggleBoxes()
	shows("boxes hidden", false)
	p.ToggleBoxes()
	shows("boxes shown again", true)
	if b, classes := p.shownBoxes(); len(b) != 1 || b[0] != box || classes != nil {
		t.Fatalf("shown: %+v %v", b, classes)
	}
}

// A Gen1 recording with its _bbox.npy beside it plays with its boxes and Gen1's class names: as a
// single file held in memory or streamed, and as a sample of a folder (whose label file is no sample);
// an Arrow dataset's samples play with theirs.
func TestPlayerBoxSources(t *testing.T) {
	dir := t.TempDir()
	g := bbox.Gen1Sensor
	b := events.NewBatch(0)
	for i := int64(0); i < 20_000; i++ {
		b.Append(1000+i*25, uint16(i%304), uint16(i%240), uint8(i%2))
	}
	boxes := []events.Box{
		{T: 100_000, X: 1.5, Y: 2, W: 30, H: 40, Class: 0, Track: 1, Confidence: 1},
		{T: 100_000, X: 100, Y: 50, W: 10, H: 20, Class: 1, Track: 2, Confidence: 0.5},
		{T: 300_000, X: 3, Y: 4, W: 31, H: 41, Class: 0, Track: 1, Confidence: 1},
	}
	rec := filepath.Join(dir, "rec_td.dat")
	w, err := prophesee.CreateDAT(rec, events.Meta{Geometry: g}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	writeGen1Labels(t, filepath.Join(dir, "rec_bbox.npy"), boxes)

	check := func(name string, pl Playlist, streamed bool, want []events.Box, classes []string) {
		t.Helper()
		p, err := New(pl, Config{Window: 10_000, Paused: true, Boxes: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer p.Close()
		rec := p.rec
		if n, ok := rec.(nopClose); ok {
			rec = n.Recording
		}
		if s, ok := rec.(*streamRecording); ok != streamed {
			t.Fatalf("%s: streamed %v, want %v", name, ok, streamed)
		} else if ok {
			<-s.done  // the scan finds the boxes
			p.Tick(0) // and the player learns the span
		}
		p.SeekTo(want[0].T + 1)
		got, names := p.shownBoxes()
		if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(names) != fmt.Sprint(classes) {
			t.Fatalf("%s: shows %+v named %v, want %+v named %v", name, got, names, want, classes)
		}
	}
	for _, budget := range []int{math.MaxInt, 1000} {
		pl, err := Open(rec, "", formats.Options{}, budget)
		if err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprintf("file, memory budget %d", budget), pl, budget < b.Len(), boxes[:2], bbox.Gen1Classes)
	}
	pl, err := Open(dir, "", formats.Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if pl.Len() != 1 {
		t.Fatalf("the folder plays %d samples, want 1 (the label file is no sample)", pl.Len())
	}
	check("folder", pl, false, boxes[:2], bbox.Gen1Classes)

	set := filepath.Join(dir, "set.arrow")
	f, err := formats.Lookup("arrow")
	if err != nil {
		t.Fatal(err)
	}
	sink, err := f.Create(set, events.Meta{Kind: events.KindDataset, Geometry: testGeom, Classes: []string{"a"},
		Boxes: true, BoxClasses: []string{"cat", "dog"}}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sb := []events.Box{{T: 50_000, X: 1, Y: 2, W: 3, H: 4, Class: 1, Track: 9, Confidence: 1}}
	if err := sink.Samples.WriteSample(&events.Sample{Events: *movingBar(4, 0, 100_000), Label: 0, Boxes: sb}); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if pl, err = Open(set, "", formats.Options{}, 0); err != nil {
		t.Fatal(err)
	}
	check("dataset", pl, false, sb, []string{"cat", "dog"})
}

// writeGen1Labels writes boxes as Gen1's _bbox.npy does: packed records ts <u8, x y w h <f4, class_id
// u1, confidence <f4, track_id <u4.
func writeGen1Labels(t *testing.T, path string, boxes []events.Box) {
	t.Helper()
	dict := fmt.Sprintf("{'descr': [('ts', '<u8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), "+
		"('class_id', 'u1'), ('confidence', '<f4'), ('track_id', '<u4')], 'fortran_order': False, 'shape': (%d,), }", len(boxes))
	for (len(npy.Magic)+4+len(dict)+1)%64 != 0 {
		dict += " "
	}
	dict += "\n"
	data := append([]byte(npy.Magic), 1, 0)
	data = binary.LittleEndian.AppendUint16(data, uint16(len(dict)))
	data = append(data, dict...)
	le := binary.LittleEndian
	for _, b := range boxes {
		data = le.AppendUint64(data, uint64(b.T))
		for _, v := range []float32{b.X, b.Y, b.W, b.H} {
			data = le.AppendUint32(data, math.Float32bits(v))
		}
		data = append(data, uint8(b.Class))
		data = le.AppendUint32(data, math.Float32bits(b.Confidence))
		data = le.AppendUint32(data, b.Track)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
