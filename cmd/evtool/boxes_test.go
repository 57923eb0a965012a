package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/viewer"
)

// render draws the boxes of a real 1280×720 recording's _bbox.npy (written by numpy in the 1 Megapixel
// layout) on the events, in the class colour at the box's exact pixels, through every kind of input that
// carries them: the recording, a dataset of its slices, and a tensors file of its frames; --boxes=false
// draws none.
func TestRenderBoxes(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "street.raw")
	if err := os.Symlink(fixtures.Path(t, "prophesee/evt3/expelliarmus_evt3_sample_gen41.raw"), rec); err != nil {
		t.Fatal(err)
	}
	// A car (class 2) [785, 957) × [288, 405) at 11,722,000 µs, 3.3 ms into the 8.8 ms recording.
	writeBBox(t, filepath.Join(dir, "street_bbox.npy"), false, "(11722000, 785, 288, 172, 117, 2, 1, 1)")
	car := viewer.BoxColor(2)
	// On the 1280-px-wide picture the outline is 2 px: x 785, 786 on the left edge, 955, 956 on the right.
	edge := []image.Point{{785, 350}, {786, 350}, {955, 350}, {956, 350}, {870, 403}, {870, 404}}
	inside := []image.Point{{787, 350}, {954, 350}, {784, 350}, {957, 350}}
	check := func(name string, img image.Image, boxes bool) {
		t.Helper()
		for _, p := range edge {
			if got := color.RGBAModel.Convert(img.At(p.X, p.Y)) == car; got != boxes {
				t.Errorf("%s: outline pixel %v drawn %v, want %v", name, p, got, boxes)
			}
		}
		for _, p := range inside {
			if color.RGBAModel.Convert(img.At(p.X, p.Y)) == car {
				t.Errorf("%s: pixel %v, off the outline, has the box colour", name, p)
			}
		}
	}
	render := func(in, out string, args ...string) image.Image {
		t.Helper()
		if _, stderr, code := run(t, append([]string{"render", in, "-o", out, "--grid", "1", "--window", "9ms"}, args...)...); code != 0 {
			t.Fatalf("render %s: %s", in, stderr)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	check("recording", render(rec, filepath.Join(dir, "rec.png")), true)
	check("recording --boxes=false", render(rec, filepath.Join(dir, "off.png"), "--boxes=false"), false)

	set := filepath.Join(dir, "slices.arrow")
	if _, stderr, code := run(t, "convert", rec, "-o", set, "--slice-window", "5ms"); code != 0 {
		t.Fatal(stderr)
	}
	check("dataset sample", render(set, filepath.Join(dir, "set.png")), true)
	tens := filepath.Join(dir, "frames.npz")
	if _, stderr, code := run(t, "convert", set, "-o", tens, "-t", "frames(bins=1)"); code != 0 {
		t.Fatal(stderr)
	}
	check("tensor", render(tens, filepath.Join(dir, "tensor.png")), true)
	check("tensor --boxes=false", render(tens, filepath.Join(dir, "tensor-off.png"), "--boxes=false"), false)
}

// writeBBox writes a box label file with numpy, in the 1 Megapixel layout (t, …, class_confidence) or,
// for gen1, Gen1's (ts, …, confidence); rows are Python tuples (t, x, y, w, h, class, confidence, track).
func writeBBox(t *testing.T, path string, gen1 bool, rows ...string) {
	t.Helper()
	ts, conf := "t", "class_confidence"
	if gen1 {
		ts, conf = "ts", "confidence"
	}
	script := `import numpy as np, sys
dt = np.dtype([(sys.argv[2],'<u8'),('x','<f4'),('y','<f4'),('w','<f4'),('h','<f4'),('class_id','u1'),(sys.argv[3],'<f4'),('track_id','<u4')])
np.save(sys.argv[1], np.array([` + strings.Join(rows, ", ") + `], dtype=dt))`
	if out, err := exec.Command(fixtures.Python(t, "numpy"), "-c", script, path, ts, conf).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
}
