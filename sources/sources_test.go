package sources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/internal/fixtures"
)

// oneEvent is an N-MNIST .bin file of one event: t=1 µs at (2, 3), ON.
var oneEvent = []byte{2, 3, 0x80, 0, 1}

// Class folders are labelled in numeric order when numeric, files directly in the root are unlabelled,
// unknown and hidden files are ignored, and ids are relative paths in sorted order.
func TestDiscoverFolder(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"10/a.bin", "9/b.bin", "9/c.bin", "loose.bin", ".hidden/x.bin"} {
		os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755)
		os.WriteFile(filepath.Join(root, p), oneEvent, 0o644)
	}
	os.WriteFile(filepath.Join(root, "README.txt"), []byte("not events"), 0o644)
	plan, err := Discover([]string{root}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Dataset || strings.Join(plan.Classes, ",") != "9,10" {
		t.Fatalf("dataset %v, classes %v, want numeric order 9,10", plan.Dataset, plan.Classes)
	}
	var got []string
	for _, it := range plan.Items {
		got = append(got, it.ID+":"+string(rune('0'+it.Label+1))+":"+it.Format.Name)
	}
	if strings.Join(got, " ") != "10/a.bin:2:nmnist 9/b.bin:1:nmnist 9/c.bin:1:nmnist loose.bin:0:nmnist" {
		t.Fatalf("items %v", got)
	}
	// One file is a recording; several files an unlabelled dataset; a folder among several is refused.
	one := filepath.Join(root, "9/b.bin")
	if p, err := Discover([]string{one}, ""); err != nil || p.Dataset || p.Recording != one {
		t.Fatalf("one file: %+v %v", p, err)
	}
	if p, err := Discover([]string{one, filepath.Join(root, "loose.bin")}, ""); err != nil || len(p.Items) != 2 || p.Items[1].Label != events.NoLabel {
		t.Fatalf("two files: %+v %v", p, err)
	}
	if _, err := Discover([]string{one, root}, ""); err == nil || !strings.Contains(err.Error(), "folder") {
		t.Fatalf("a folder among files: %v", err)
	}
	if _, err := Discover([]string{t.TempDir()}, ""); err == nil || !strings.Contains(err.Error(), "no file of a known event format") {
		t.Fatalf("an empty folder: %v", err)
	}
}

// SortClassNames orders integers numerically, anything else lexicographically.
func TestSortClassNames(t *testing.T) {
	for _, c := range []struct{ in, want string }{{"10,9,1", "1,9,10"}, {"b,a,10", "10,a,b"}, {"", ""}} {
		names := strings.Split(c.in, ",")
		if c.in == "" {
			names = nil
		}
		SortClassNames(names)
		if got := strings.Join(names, ","); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}

// ReadFile appends a whole file's events; SensorOf takes the header's size, else the format's knowledge
// of the extent (N-MNIST .bin files do not say: 34×34), and --sensor wins over both.
func TestReadFileAndSensorOf(t *testing.T) {
	path := fixtures.Path(t, "nmnist/Train/0/00002.bin")
	f, err := formats.Detect(path)
	if err != nil {
		t.Fatal(err)
	}
	b := events.FromEvents(events.Event{T: -5})
	if err := ReadFile(path, f, formats.Options{}, b); err != nil {
		t.Fatal(err)
	}
	exp := fixtures.ExpectedEvents(t)["nmnist/Train/0/00002.bin"]
	if exp == nil || int64(b.Len()) != exp.N+1 || b.T[0] != -5 {
		t.Fatalf("%d events after the one already there, want %v", b.Len()-1, exp)
	}
	if g, err := SensorOf(path, f, formats.Options{}); err != nil || g != (events.Geometry{Width: 34, Height: 34}) {
		t.Fatalf("sensor %v %v, want 34x34", g, err)
	}
	forced := events.Geometry{Width: 40, Height: 40}
	if g, err := SensorOf(path, f, formats.Options{Sensor: forced}); err != nil || g != forced {
		t.Fatalf("forced sensor %v %v", g, err)
	}
	if ext, err := Extent(path, f, formats.Options{}); err != nil || ext.Width > 34 || ext.Height > 34 || !ext.Known() {
		t.Fatalf("extent %v %v", ext, err)
	}
}

// BenchmarkReadFile is the per-file path of a dataset conversion: Discover's items of the 1,000 N-MNIST
// training files, each decoded whole into one reused sample (what a convert worker does per file).
func BenchmarkReadFile(b *testing.B) {
	plan, err := Discover([]string{fixtures.Path(b, "nmnist-small/Train")}, "")
	if err != nil {
		b.Fatal(err)
	}
	var s events.Sample
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		it := plan.Items[i%len(plan.Items)]
		s.Reset()
		if err := ReadFile(it.Path, it.Format, formats.Options{}, &s.Events); err != nil {
			b.Fatal(err)
		}
	}
}
