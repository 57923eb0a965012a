package render

import (
	"image"
	"math"
	"testing"

	"github.com/evtool/evtool/saccade"
)

func testImage() *image.Gray {
	g := image.NewGray(image.Rect(0, 0, 6, 5))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 8)
	}
	return g
}

func TestIntegerShiftCopiesPixels(t *testing.T) {
	var s Scene
	if err := s.Set(testImage(), Options{BlackLevel: 0.1, OriginX: 1, OriginY: 2}); err != nil {
		t.Fatal(err)
	}
	const W, H = 10, 9
	dst := make([]float32, W*H)
	s.Render(saccade.Pose{DX: 2, DY: -1}, dst, W, H)
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			u, v := x-3, y-1 // image pixel seen at (x, y)
			want := float32(0.1)
			if u >= 0 && u < 6 && v >= 0 && v < 5 {
				want = 0.1 + 0.9*float32(v*6+u)*8/255
			}
			if math.Abs(float64(dst[y*W+x]-want)) > 1e-6 {
				t.Fatalf("(%d,%d) = %v; want %v", x, y, dst[y*W+x], want)
			}
		}
	}
}

func TestSubPixelAndAffineAgree(t *testing.T) {
	var s Scene
	if err := s.Set(testImage(), Options{BlackLevel: 0.2, OriginX: 2, OriginY: 2}); err != nil {
		t.Fatal(err)
	}
	const W, H = 11, 10
	a, b := make([]float32, W*H), make([]float32, W*H)
	// Half a pixel right: every value is the mean of two horizontal neighbours.
	s.Render(saccade.Pose{DX: 0.5}, a, W, H)
	s.Render(saccade.Pose{}, b, W, H)
	for y := 0; y < H; y++ {
		for x := 1; x < W; x++ {
			if want := (b[y*W+x-1] + b[y*W+x]) / 2; math.Abs(float64(a[y*W+x]-want)) > 1e-6 {
				t.Fatalf("(%d,%d) = %v; want %v", x, y, a[y*W+x], want)
			}
		}
	}
	// The general path, at a tiny rotation, matches the translation fast path.
	p := saccade.Pose{DX: 1.3, DY: -0.4}
	s.Render(p, a, W, H)
	p.Theta = 1e-9
	s.Render(p, b, W, H)
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-4 {
			t.Fatalf("pixel %d: fast path %v, affine path %v", i, a[i], b[i])
		}
	}
	// Far outside: only background.
	s.Render(saccade.Pose{DX: 1000}, a, W, H)
	for i := range a {
		if a[i] != s.Background() {
			t.Fatalf("pixel %d = %v far from the image; want the black level", i, a[i])
		}
	}
}

func TestBlurAndResize(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 9, 9))
	g.Pix[4*9+4] = 255
	var s Scene
	if err := s.Set(g, Options{BlurSigmaPx: 1}); err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 81)
	s.Render(saccade.Pose{}, dst, 9, 9)
	var sum float64
	for _, v := range dst {
		sum += float64(v)
	}
	if math.Abs(sum-1) > 1e-3 || dst[40] > 0.2 || dst[40] < 0.1 {
		t.Errorf("blurred dot: total %v, centre %v; want 1 and about 0.16", sum, dst[40])
	}
	if err := s.Set(testImage(), Options{Width: 3, Height: 5}); err != nil {
		t.Fatal(err)
	}
	if w, h := s.Size(); w != 3 || h != 5 {
		t.Fatalf("resized to %dx%d", w, h)
	}
	s.Render(saccade.Pose{}, dst, 3, 5)
	if want := float32(0+1) * 8 / 255 / 2; math.Abs(float64(dst[0]-want)) > 1e-6 {
		t.Errorf("halving the width averages pairs: %v, want %v", dst[0], want)
	}
	if err := s.Set(testImage(), Options{BlackLevel: 1}); err == nil {
		t.Error("black level 1 accepted")
	}
	if err := s.Set(nil, Options{}); err == nil {
		t.Error("nil image accepted")
	}
}

func BenchmarkRenderShift(b *testing.B) {
	var s Scene
	g := image.NewGray(image.Rect(0, 0, 28, 28))
	s.Set(g, Options{BlackLevel: 0.1})
	dst := make([]float32, 34*34)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Render(saccade.Pose{DX: float64(i%70) * 0.1, DY: 0.3}, dst, 34, 34)
	}
}

// A negative shows ink at the black level on white, and white around the image, with the same contrast.
func TestNegative(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 2, 1))
	g.Pix[0], g.Pix[1] = 255, 0
	var s Scene
	if err := s.Set(g, Options{BlackLevel: 0.1, Negative: true}); err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 4)
	s.Render(saccade.Pose{}, dst, 4, 1)
	want := []float32{0.1, 1, 1, 1}
	for i := range want {
		if math.Abs(float64(dst[i]-want[i])) > 1e-6 {
			t.Fatalf("negative row = %v, want %v", dst, want)
		}
	}
	if s.Background() != 1 {
		t.Fatalf("background %v, want 1 (white)", s.Background())
	}
}
