package convert

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/formats/nmnist"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/transforms"
)

func writeBin(t *testing.T, path string, b *events.Batch) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	w, err := nmnist.Create(path, events.Meta{}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// A recording whose file states no sensor size gets one from dataset knowledge (N-MNIST: 34×34), and
// an event outside a forced --sensor is an error, with no output left behind.
func TestRecordingGeometry(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "a.bin")
	writeBin(t, in, events.FromEvents(events.Event{T: 1, X: 33, Y: 20, P: 1}))
	out := filepath.Join(dir, "a.arrow")
	res, err := Run(context.Background(), &sources.Plan{Recording: in}, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Geometry != (events.Geometry{Width: 34, Height: 34}) {
		t.Fatalf("geometry %v", res.Geometry)
	}
	r, err := evarrow.OpenRecording(out)
	if err != nil {
		t.Fatal(err)
	}
	if m := r.Meta(); m.Source != in || m.Geometry.Width != 34 {
		t.Fatalf("meta %+v", m)
	}
	r.Close()
	out2 := filepath.Join(dir, "b.arrow")
	o := Options{}
	o.Format.Sensor = events.Geometry{Width: 10, Height: 10}
	if _, err := Run(context.Background(), &sources.Plan{Recording: in}, out2, o); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("event outside --sensor: %v", err)
	}
	if _, err := os.Stat(out2); err == nil {
		t.Fatal("output left behind")
	}
}

// --to overrides the extension, and a transform chain runs on every sample and sets the output geometry.
func TestToAndChain(t *testing.T) {
	root := t.TempDir()
	writeBin(t, filepath.Join(root, "1", "a.bin"), events.FromEvents(events.Event{T: 1}))
	plan, _ := sources.Discover([]string{root}, "")
	_, err := Run(context.Background(), plan, filepath.Join(t.TempDir(), "x.bin"), Options{To: "arrow"})
	if err != nil {
		t.Fatal(err)
	}
	chain, err := transforms.Parse("crop(x0=0, y0=0, w=2, h=2)")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), plan, filepath.Join(t.TempDir(), "y.arrow"), Options{Chain: chain})
	if err != nil || res.Events != 1 || res.Geometry != (events.Geometry{Width: 2, Height: 2}) {
		t.Fatalf("chain: %v, %+v", err, res)
	}
}

// A dataset of files without a header gets its canvas from the first file and the format's knowledge,
// checked against every sample: N-MNIST-sized files keep 34×34 on one read of each file, and files that
// outgrow the guess (N-Caltech101's) — beyond it in the middle, or only in their extent at the end — get
// the extent of all samples, exactly as a pass over every file gives it, with the chain's counts taken once.
func TestDatasetCanvas(t *testing.T) {
	for _, c := range []struct {
		name   string
		events [][]events.Event
		want   events.Geometry
	}{
		{"n-mnist", [][]events.Event{{{T: 1, X: 3, Y: 4}}, {{T: 2, X: 33, Y: 33, P: 1}}, {{T: 3, X: 0, Y: 0}}}, events.Geometry{Width: 34, Height: 34}},
		{"outgrows", [][]events.Event{{{T: 1, X: 3, Y: 4}}, {{T: 2, X: 99, Y: 40, P: 1}}, {{T: 3, X: 0, Y: 0}}}, events.Geometry{Width: 100, Height: 41}},
		{"first is largest", [][]events.Event{{{T: 1, X: 50, Y: 60}}, {{T: 2, X: 9, Y: 9, P: 1}}}, events.Geometry{Width: 51, Height: 61}},
		{"grows within", [][]events.Event{{{T: 1, X: 50, Y: 60}}, {{T: 2, X: 9, Y: 9, P: 1}}, {{T: 2, X: 52, Y: 9}}}, events.Geometry{Width: 53, Height: 61}},
		{"empty first", [][]events.Event{{}, {{T: 2, X: 40, Y: 9, P: 1}}}, events.Geometry{Width: 41, Height: 10}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			total := 0
			for i, evs := range c.events {
				writeBin(t, filepath.Join(root, "1", fmt.Sprintf("%02d.bin", i)), events.FromEvents(evs...))
				total += len(evs)
			}
			plan, err := sources.Discover([]string{root}, "")
			if err != nil {
				t.Fatal(err)
			}
			chain, err := transforms.Parse("denoise(dt=10ms)")
			if err != nil {
				t.Fatal(err)
			}
			chain.NewTally()
			out := filepath.Join(t.TempDir(), "x.arrow")
			res, err := Run(context.Background(), plan, out, Options{Chain: chain, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			if res.Geometry != c.want || res.Samples != len(c.events) {
				t.Fatalf("geometry %v, %d samples; want %v, %d", res.Geometry, res.Samples, c.want, len(c.events))
			}
			if st := chain.Tally.Stats(); st[0].In != int64(total) {
				t.Fatalf("the chain counted %d events in; want %d", st[0].In, total)
			}
			d, err := evarrow.OpenDataset(out)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if g := d.Meta().Geometry; g != c.want {
				t.Fatalf("file says %v; want %v", g, c.want)
			}
			entries, _ := os.ReadDir(filepath.Dir(out))
			if len(entries) != 1 {
				t.Fatalf("left in the output folder: %v", entries)
			}
		})
	}
}

// A dataset of files whose headers state their sensor (EVT 2.0 .raw) gets the first file's as its canvas;
// a later file whose header states another is refused with both names, and no output is left behind.
func TestDatasetStatedSensor(t *testing.T) {
	evt2, err := formats.Lookup("evt2")
	if err != nil {
		t.Fatal(err)
	}
	write := func(path string, g events.Geometry) {
		t.Helper()
		os.MkdirAll(filepath.Dir(path), 0o755)
		sink, err := evt2.Create(path, events.Meta{Geometry: g}, formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Events.Write(events.FromEvents(events.Event{T: 5, X: 3, Y: 4, P: 1})); err != nil {
			t.Fatal(err)
		}
		if err := sink.Events.Close(); err != nil {
			t.Fatal(err)
		}
	}
	vga, half := events.Geometry{Width: 640, Height: 480}, events.Geometry{Width: 320, Height: 240}
	for _, c := range []struct {
		name  string
		sizes []events.Geometry
	}{
		{"same", []events.Geometry{vga, vga, vga, vga, vga}},
		{"last differs", []events.Geometry{vga, vga, vga, vga, half}},
		{"second differs", []events.Geometry{vga, half, vga, vga, vga}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			var odd string
			for i, g := range c.sizes {
				p := filepath.Join(root, "1", fmt.Sprintf("%02d.raw", i))
				write(p, g)
				if g != c.sizes[0] && odd == "" {
					odd = p
				}
			}
			plan, err := sources.Discover([]string{root}, "")
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "x.arrow")
			res, err := Run(context.Background(), plan, out, Options{Workers: 2})
			if odd == "" {
				if err != nil || res.Geometry != vga || res.Samples != len(c.sizes) {
					t.Fatalf("%v, %+v; want %d samples on %v", err, res, len(c.sizes), vga)
				}
				return
			}
			want := fmt.Sprintf("%s states a %s sensor and %s a %s one", plan.Items[0].Path, vga, odd, half)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v; want %q", err, want)
			}
			if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
				t.Fatalf("left in the output folder: %v", entries)
			}
		})
	}
}
