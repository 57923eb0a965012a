package viewer

import "testing"

// Exact colours of a two-channel count frame and a signed single-channel frame.
func TestRenderTensor(t *testing.T) {
	s := Schemes["okabe"]
	// (2,1,4): OFF counts then ON counts. Net ON−OFF = 4, −2, 0, 0 (pixel 3 has 1 of each).
	counts := []uint16{0, 2, 0, 1, 4, 0, 0, 1}
	img, err := RenderTensor(counts, []int{2, 1, 4}, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if img.Rect.Dx() != 8 || img.Rect.Dy() != 2 {
		t.Fatalf("size %v", img.Rect)
	}
	for _, c := range []struct {
		x    int
		want any
	}{{0, s.On}, {1, mix(s.Background, s.Off, 0.5)}, {2, s.Background}, {3, s.Background}} {
		for _, px := range [][2]int{{2 * c.x, 0}, {2*c.x + 1, 1}} {
			if got := img.RGBAAt(px[0], px[1]); got != c.want {
				t.Errorf("pixel %d at %v: %v, want %v", c.x, px, got, c.want)
			}
		}
	}
	// (H,W) float: sign picks the colour, magnitude the strength.
	img, err = RenderTensor([]float32{-1, 0.25}, []int{1, 2}, "gray", 1)
	if err != nil {
		t.Fatal(err)
	}
	g := Schemes["gray"]
	if got := img.RGBAAt(0, 0); got != g.Off {
		t.Errorf("negative pixel %v, want %v", got, g.Off)
	}
	if got, want := img.RGBAAt(1, 0), mix(g.Background, g.On, 0.25); got != want {
		t.Errorf("positive pixel %v, want %v", got, want)
	}
	// All zero: background; bad shapes: errors.
	img, _ = RenderTensor(make([]float64, 4), []int{2, 2}, "", 1)
	if img.RGBAAt(1, 1) != s.Background {
		t.Error("zero frame not background")
	}
	for _, shape := range [][]int{{4}, {3, 1, 1}, {2, 2}} {
		if _, err := RenderTensor(make([]float32, 3), shape, "", 1); err == nil {
			t.Errorf("shape %v with 3 values accepted", shape)
		}
	}
}
