package convert

import (
	"context"
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
