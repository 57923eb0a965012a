package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evtool/evtool/internal/fixtures"
)

// litPixels counts the pixels of img that are not black (the default scheme's background).
func litPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r|g|bl != 0 {
				n++
			}
		}
	}
	return n
}

// TestRenderEveryFormat renders a fixture of every readable format (and our own outputs) as a PNG grid
// and as a GIF, and checks that the pictures show events. EVTOOL_KEEP_RENDERS=dir keeps them for review.
func TestRenderEveryFormat(t *testing.T) {
	dir := t.TempDir()
	if keep := os.Getenv("EVTOOL_KEEP_RENDERS"); keep != "" {
		dir = keep
		os.MkdirAll(dir, 0o755)
	}
	inputs := map[string]string{
		"nmnist":      fixtures.Path(t, "nmnist/Train/0/00002.bin"),
		"ncaltech101": fixtures.Path(t, "ncaltech101/Faces_easy/image_0001.bin"),
		"aedat4":      fixtures.Path(t, "aedat4/tonic_dvxplorer_sample.aedat4"),
		"aedat4-346":  fixtures.Path(t, "aedat4/davis346_frames_imu_triggers_clip.aedat4"),
		"evt2":        fixtures.Path(t, "prophesee/evt2/sparklers_gen3_vga.raw"),
		"evt3":        fixtures.Path(t, "prophesee/evt3/pedestrians_gen41_small.raw"),
		"dat":         fixtures.Path(t, "prophesee/dat/tonic_sample_ncars_td.dat"),
		"es":          fixtures.Path(t, "es/loris_NCARS_obj_004397.es"),
	}
	// Our writers' outputs render too: one recording per output format, from the N-MNIST digit.
	for _, ext := range []string{"csv", "npy", "arrow", "parquet", "aedat", "es"} {
		out := filepath.Join(dir, "digit."+ext)
		if ext == "es" {
			out = filepath.Join(dir, "digit-out.es")
		}
		if _, stderr, code := run(t, "convert", inputs["nmnist"], "-o", out); code != 0 {
			t.Fatalf("convert to %s: %s", ext, stderr)
		}
		inputs["ours-"+ext] = out
	}
	for name, in := range inputs {
		png1 := filepath.Join(dir, name+".png")
		gif1 := filepath.Join(dir, name+".gif")
		if _, stderr, code := run(t, "render", in, "-o", png1, "--grid", "4", "--window", "30ms"); code != 0 {
			t.Errorf("%s: render png: exit %d: %s", name, code, stderr)
			continue
		}
		if _, stderr, code := run(t, "render", in, "-o", gif1, "--max-frames", "6", "--window", "20ms"); code != 0 {
			t.Errorf("%s: render gif: exit %d: %s", name, code, stderr)
			continue
		}
		f, err := os.Open(png1)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if lit := litPixels(img); lit < 50 {
			t.Errorf("%s: the grid shows %d lit pixels", name, lit)
		}
		f, _ = os.Open(gif1)
		g, err := gif.DecodeAll(f)
		f.Close()
		if err != nil || len(g.Image) == 0 || len(g.Image) > 6 {
			t.Fatalf("%s: gif: %v, %d frames", name, err, len(g.Image))
		}
	}
}

// A recording without events, or a broken one, is an error, not an empty picture, and leaves no file.
func TestRenderEmptyOrBrokenRecording(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.csv")
	if err := os.WriteFile(empty, []byte("t,x,y,p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, msg string }{
		{empty, "no events"},
		{fixtures.Path(t, "aedat2/mibblez_dvs128_header_only.aedat"), "truncated"},
	} {
		for _, out := range []string{"x.png", "x.gif", "f_%02d.png"} {
			out = filepath.Join(dir, out)
			_, stderr, code := run(t, "render", c.in, "--sensor", "128x128", "-o", out)
			if code != 1 || !strings.Contains(stderr, c.msg) {
				t.Fatalf("%s → %s: exit %d: %q", c.in, out, code, stderr)
			}
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "*.png")); len(left) > 0 {
			t.Fatalf("outputs left behind: %v", left)
		}
	}
}

// Without a display, view explains itself and exits 1; it never panics.
func TestViewWithoutDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	_, stderr, code := run(t, "view", fixtures.Path(t, "nmnist/Train/0/00002.bin"))
	if code != 1 || !strings.Contains(stderr, "no display") || !strings.Contains(stderr, "evtool render") {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	if _, stderr, code := run(t, "view", fixtures.Path(t, "nmnist/Train"), "--sample", "999"); code != 2 {
		t.Fatalf("--sample out of range: exit %d: %q", code, stderr)
	}
}

// A tensors file (convert with a chain ending in frames) is described by info and drawn by render, in
// every format that holds tensors; the same sample draws the same picture from .arrow and .npz.
func TestTensorsInfoAndRender(t *testing.T) {
	dir := t.TempDir()
	var grids [][]byte
	for _, ext := range []string{".arrow", ".npz", ".npy"} {
		tens := filepath.Join(dir, "frames"+ext)
		if _, stderr, code := run(t, "convert", fixtures.Path(t, "nmnist/Train"), "-o", tens, "-t", "frames(bins=4)"); code != 0 {
			t.Fatal(stderr)
		}
		out, _, code := run(t, "info", "--json", tens)
		var rep struct {
			Format  string
			Kind    string
			Samples int
			Classes []string
			Labels  []int `json:"label_counts"`
			Details map[string]any
		}
		wantClasses := 10
		if ext == ".npy" {
			wantClasses = 0 // a bare array
		}
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Format != ext[1:] || rep.Kind != "tensors" ||
			rep.Samples != 20 || len(rep.Classes) != wantClasses || fmt.Sprint(rep.Details["tensor_shape"]) != "[4 2 34 34]" ||
			rep.Details["tensor_dtype"] != "int16" {
			t.Fatalf("info %s: %d %s", ext, code, out)
		}
		if wantClasses > 0 && fmt.Sprint(rep.Labels) != "[1 4 2 3 2 2 2 1 1 2]" {
			t.Fatalf("info %s: label counts %v", ext, rep.Labels)
		}
		if text, _, _ := run(t, "info", tens); !strings.Contains(text, "samples   20") || !strings.Contains(text, "tensor_shape [4,2,34,34]") {
			t.Fatalf("info %s:\n%s", ext, text)
		}
		for _, name := range []string{"t.png", "t.gif", "t_%02d.png"} {
			o := filepath.Join(dir, ext[1:]+name)
			if _, stderr, code := run(t, "render", tens, "--sample", "3", "-o", o, "--scale", "4"); code != 0 {
				t.Fatalf("render %s %s: %s", ext, name, stderr)
			}
		}
		f, _ := os.Open(filepath.Join(dir, ext[1:]+"t.png"))
		img, err := png.Decode(f)
		f.Close()
		if err != nil || litPixels(img) < 50 {
			t.Fatalf("%s tensor grid: %v", ext, err)
		}
		if seq, _ := filepath.Glob(filepath.Join(dir, ext[1:]+"t_*.png")); len(seq) != 4 {
			t.Fatalf("%s: %d sequence files, want 4 frames", ext, len(seq))
		}
		grid, _ := os.ReadFile(filepath.Join(dir, ext[1:]+"t.png"))
		grids = append(grids, grid)
	}
	if !bytes.Equal(grids[0], grids[1]) { // .npy has no label to draw
		t.Fatal("sample 3 draws differently from .arrow and .npz")
	}
	// A single recording's .npy holds its tensor without a sample axis: -O stacked=false reads it whole.
	rec := filepath.Join(dir, "rec.npy")
	if _, stderr, code := run(t, "convert", fixtures.Path(t, "nmnist/Train/0/00002.bin"), "-o", rec, "-t", "frames(bins=4)"); code != 0 {
		t.Fatal(stderr)
	}
	if out, _, code := run(t, "info", "--json", "-O", "stacked=false", rec); code != 0 || !strings.Contains(out, `"samples":1`) ||
		!strings.Contains(out, `"tensor_shape":[4,2,34,34]`) {
		t.Fatalf("info of a recording's .npy: %s", out)
	}
	if _, stderr, code := run(t, "render", rec, "-O", "stacked=false", "-o", filepath.Join(dir, "rec_%d.png")); code != 0 {
		t.Fatal(stderr)
	}
	if seq, _ := filepath.Glob(filepath.Join(dir, "rec_*.png")); len(seq) != 4 {
		t.Fatalf("recording: %d frames drawn, want 4", len(seq))
	}
	// Events are not tensors: convert refuses a tensors file with a sentence.
	if _, stderr, code := run(t, "convert", filepath.Join(dir, "frames.npz"), "-o", filepath.Join(dir, "x.arrow")); code != 1 ||
		!strings.Contains(stderr, "holds tensors") {
		t.Fatalf("convert of tensors: %d %s", code, stderr)
	}
}
