package imagesrc

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/evtool/evtool/internal/fixtures"
)

func pixelStats(g *image.Gray) (sum, nonzero int) {
	for _, v := range g.Pix {
		sum += int(v)
		if v != 0 {
			nonzero++
		}
	}
	return
}

// TestIDXFixture checks the MNIST t10k files against EXPECTED.md.
func TestIDXFixture(t *testing.T) {
	path := fixtures.Path(t, "mnist/original/t10k-images-idx3-ubyte.gz")
	src, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if src.Len() != 10000 || len(src.Classes()) != 10 {
		t.Fatalf("%d images, %d classes; want 10000, 10", src.Len(), len(src.Classes()))
	}
	var img Image
	if err := src.Load(0, &img); err != nil {
		t.Fatal(err)
	}
	if sum, nz := pixelStats(img.Gray); sum != 18454 || nz != 116 || img.Gray.Rect.Dx() != 28 {
		t.Errorf("image 0: pixel sum %d, nonzero %d; want 18454, 116", sum, nz)
	}
	want := []int32{7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6, 9, 0, 1, 5, 9, 7, 3, 4}
	for i, l := range want {
		if err := src.Load(i, &img); err != nil {
			t.Fatal(err)
		}
		if img.Label != l {
			t.Errorf("label %d = %d; want %d", i, img.Label, l)
		}
	}
	if err := src.Load(0, &img); err != nil || img.ID != "Test/7/00001" {
		t.Errorf("id of image 0 = %q; want Test/7/00001 (N-MNIST's name for it)", img.ID)
	}
	if err := src.Load(10000, &img); err == nil {
		t.Error("out-of-range index accepted")
	}
	total := 0
	for i := 0; i < src.Len(); i++ {
		src.Load(i, &img)
		s, _ := pixelStats(img.Gray)
		total += s
	}
	if total != 264923200 {
		t.Errorf("total pixel sum %d; want 264923200", total)
	}
}

// writeIDX writes an uncompressed or gzipped IDX file.
func writeIDX(t *testing.T, path string, magic byte, dims []uint32, data []byte, gz bool) {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, magic})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	out := b.Bytes()
	if gz {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(out)
		w.Close()
		out = z.Bytes()
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestIDXPlainAndErrors(t *testing.T) {
	dir := t.TempDir()
	pix := make([]byte, 3*4*5)
	for i := range pix {
		pix[i] = byte(i)
	}
	img := filepath.Join(dir, "mine-images-idx3-ubyte")
	writeIDX(t, img, 3, []uint32{3, 4, 5}, pix, false)
	writeIDX(t, filepath.Join(dir, "mine-labels-idx1-ubyte.gz"), 1, []uint32{3}, []byte{4, 0, 9}, true)
	d, err := OpenIDX(img, "train")
	if err != nil {
		t.Fatal(err)
	}
	var im Image
	if err := d.Load(2, &im); err != nil {
		t.Fatal(err)
	}
	if im.Label != 9 || im.ID != "Train/9/00003" || im.Gray.Rect.Dx() != 5 || im.Gray.Rect.Dy() != 4 || im.Gray.Pix[0] != 40 {
		t.Errorf("image 2: label %d id %q size %v first pixel %d", im.Label, im.ID, im.Gray.Rect, im.Gray.Pix[0])
	}
	// Unlabelled: no labels file beside it.
	lone := filepath.Join(dir, "lone.idx")
	writeIDX(t, lone, 3, []uint32{3, 4, 5}, pix, true)
	if d, err := OpenIDX(lone, ""); err != nil || d.Classes() != nil {
		t.Errorf("lone IDX: %v", err)
	} else if d.Load(0, &im); im.Label != -1 || im.ID != "unlabelled/00001" {
		t.Errorf("lone IDX image: label %d id %q", im.Label, im.ID)
	}
	for name, c := range map[string]struct {
		magic byte
		dims  []uint32
		data  []byte
		msg   string
	}{
		"truncated": {3, []uint32{3, 4, 5}, pix[:50], "need 60"},
		"labels":    {1, []uint32{3}, []byte{1, 2, 3}, "want 00 00 08 03"},
	} {
		p := filepath.Join(dir, name)
		writeIDX(t, p, c.magic, c.dims, c.data, false)
		if _, err := OpenIDX(p, ""); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v; want one mentioning %q", name, err, c.msg)
		}
	}
	// A labels file that disagrees with the images.
	writeIDX(t, filepath.Join(dir, "bad-images-idx3-ubyte"), 3, []uint32{3, 4, 5}, pix, false)
	writeIDX(t, filepath.Join(dir, "bad-labels-idx1-ubyte"), 1, []uint32{2}, []byte{1, 2}, false)
	if _, err := OpenIDX(filepath.Join(dir, "bad-images-idx3-ubyte"), ""); err == nil {
		t.Error("label count mismatch accepted")
	}
	os.WriteFile(filepath.Join(dir, "notgz"), []byte{0x1f, 0x8b, 1, 2, 3}, 0o644)
	if _, err := OpenIDX(filepath.Join(dir, "notgz"), ""); err == nil {
		t.Error("broken gzip accepted")
	}
}

func TestFolder(t *testing.T) {
	dir := t.TempDir()
	write := func(rel string, enc func(f *os.File, img image.Image) error) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		img := image.NewRGBA(image.Rect(0, 0, 6, 4))
		for i := range img.Pix {
			img.Pix[i] = 255
		}
		img.Set(1, 1, color.RGBA{0, 0, 0, 255})
		if err := enc(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	pngEnc := func(f *os.File, img image.Image) error { return png.Encode(f, img) }
	jpgEnc := func(f *os.File, img image.Image) error { return jpeg.Encode(f, img, &jpeg.Options{Quality: 95}) }
	write("Train/dog/a.png", pngEnc)
	write("Train/cat/b.JPG", jpgEnc)
	write("Train/cat/c.png", pngEnc)
	write("Test/cat/d.png", pngEnc)
	os.WriteFile(filepath.Join(dir, "Train", "notes.txt"), []byte("skip me"), 0o644)

	f, err := OpenFolder(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 3 || strings.Join(f.Classes(), ",") != "cat,dog" {
		t.Fatalf("%d images, classes %v; want 3, [cat dog]", f.Len(), f.Classes())
	}
	var im Image
	wantIDs := []string{"Train/cat/b", "Train/cat/c", "Train/dog/a"}
	for i, id := range wantIDs {
		if err := f.Load(i, &im); err != nil {
			t.Fatal(err)
		}
		if im.ID != id || im.Label != map[bool]int32{true: 1, false: 0}[i == 2] {
			t.Errorf("image %d: id %q label %d", i, im.ID, im.Label)
		}
		if im.Gray.Rect.Dx() != 6 || im.Gray.Pix[1*6+1] > 20 || im.Gray.Pix[0] < 235 {
			t.Errorf("image %d decoded wrongly: %v", i, im.Gray.Pix[:8])
		}
	}
	ft, err := OpenFolder(dir, "test")
	if err != nil || ft.Len() != 1 {
		t.Fatalf("test split: %v", err)
	}
	plain := t.TempDir()
	if _, err := OpenFolder(plain, ""); err == nil {
		t.Error("empty folder accepted")
	}
	if _, err := OpenFolder(filepath.Join(dir, "Train"), "test"); err == nil {
		t.Error("--split on a folder without splits accepted")
	}
	os.WriteFile(filepath.Join(plain, "broken.png"), []byte("not a png"), 0o644)
	fb, err := OpenFolder(plain, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := fb.Load(0, &im); err == nil || !strings.Contains(err.Error(), "broken.png") {
		t.Errorf("broken image: %v", err)
	}
}

func TestDigits(t *testing.T) {
	src, err := Open("builtin:digits:50", Options{Split: "test", Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if src.Len() != 50 || len(src.Classes()) != 10 {
		t.Fatal("wrong size")
	}
	// Concurrent loads give the same images as sequential ones.
	seq := make([][]byte, 50)
	var im Image
	for i := range seq {
		if err := src.Load(i, &im); err != nil {
			t.Fatal(err)
		}
		seq[i] = append([]byte(nil), im.Gray.Pix...)
		if im.Label != int32(i%10) || !strings.HasPrefix(im.ID, "Test/") {
			t.Errorf("image %d: label %d id %q", i, im.Label, im.ID)
		}
		sum, nz := pixelStats(im.Gray)
		// MNIST digits ink about 100–200 of 784 pixels; the border stays blank.
		if nz < 50 || nz > 350 || sum < 50*128 {
			t.Errorf("digit %d: %d inked pixels, sum %d", i, nz, sum)
		}
		for k := 0; k < 28; k++ {
			if im.Gray.Pix[k] != 0 || im.Gray.Pix[27*28+k] != 0 {
				t.Fatalf("digit %d touches the image border", i)
			}
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var im Image
			for i := 49 - w; i >= 0; i -= 4 {
				src.Load(i, &im)
				if !bytes.Equal(im.Gray.Pix, seq[i]) {
					t.Errorf("digit %d differs when loaded concurrently", i)
				}
			}
		}()
	}
	wg.Wait()
	train, _ := Open("builtin:digits:50", Options{Seed: 3})
	train.Load(0, &im)
	if bytes.Equal(im.Gray.Pix, seq[0]) {
		t.Error("train and test splits drew the same digit")
	}
	for _, bad := range []string{"builtin:letters", "builtin:digits:0", "builtin:digits:x", "/no/such/path"} {
		if _, err := Open(bad, Options{}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := Open("builtin:digits", Options{Split: "val"}); err == nil {
		t.Error("split val accepted")
	}
}

// FuzzParseIDX: no input may panic, and accepted input must be self-consistent.
func FuzzParseIDX(f *testing.F) {
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4})
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9})
	f.Add([]byte{0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		dims, body, err := ParseIDX("fuzz", data)
		if err != nil {
			return
		}
		n := 1
		for _, d := range dims {
			n *= d
		}
		if n != len(body) {
			t.Fatalf("dims %v but %d data bytes", dims, len(body))
		}
	})
}

func BenchmarkDigits(b *testing.B) {
	d := NewDigits(1000, "train", 0)
	var im Image
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Load(i%1000, &im)
	}
}
