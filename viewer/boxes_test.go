package viewer

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
)

func readPNG(t *testing.T, path string) *image.RGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	out := image.NewRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			out.Set(x, y, img.At(x, y))
		}
	}
	return out
}

// boxedClip is a 40×30 sample at scale 2 with events in its top-left corner and, at 900 µs, a pedestrian
// box [5,15)×[10,18) (track 7) and a car box reaching past the sensor's right edge.
func boxedClip(boxes bool) (events.Reader, Clip) {
	var b events.Batch
	for i := 0; i < 10; i++ {
		b.Append(int64(i)*100, uint16(i%3), uint16(i%2), uint8(i%2))
	}
	meta := events.Meta{Geometry: events.Geometry{Width: 40, Height: 30}, Boxes: true, BoxClasses: []string{"car", "pedestrian"}}
	r := events.WithBoxes(&events.BatchReader{B: &b, M: meta}, []events.Box{
		{T: 900, X: 5, Y: 10, W: 10, H: 8, Class: 1, Track: 7, Confidence: 1},
		{T: 900, X: 30.5, Y: 20, W: 20, H: 5, Class: 0, Track: 3, Confidence: 1},
	})
	return r, Clip{Render: Options{Width: 40, Height: 30, Scale: 2}, Window: 500, Boxes: boxes, BoxClasses: meta.BoxClasses}
}

// Boxes are drawn in their class colour at exactly the picture pixels of their region (scale 2: the
// pedestrian box covers x 10…29, y 20…35), with a label band of that colour above them holding the class
// name and track id, only on pictures at or after their label time; --boxes=false draws none.
func TestRenderBoxes(t *testing.T) {
	dir := t.TempDir()
	r, c := boxedClip(true)
	n, err := WriteSequence(filepath.Join(dir, "f%d.png"), r, c)
	if err != nil || n != 2 {
		t.Fatalf("%d frames, %v", n, err)
	}
	before, after := readPNG(t, filepath.Join(dir, "f0.png")), readPNG(t, filepath.Join(dir, "f1.png"))
	ped, car := BoxColor(1), BoxColor(0)
	bg := Schemes["okabe"].Background
	for _, p := range []image.Point{{10, 20}, {29, 20}, {10, 35}, {29, 35}, {20, 20}, {20, 35}, {10, 28}, {29, 28}} {
		if got := after.RGBAAt(p.X, p.Y); got != ped {
			t.Errorf("outline pixel %v is %v, want the pedestrian colour %v", p, got, ped)
		}
		if got := before.RGBAAt(p.X, p.Y); got == ped {
			t.Errorf("frame 0 (before the label time) shows the box at %v", p)
		}
	}
	// 1 px at scale 2: the pixels just inside and outside the outline are not the box's.
	for _, p := range []image.Point{{11, 21}, {28, 34}, {20, 28}, {9, 28}, {30, 28}, {20, 36}} {
		if got := after.RGBAAt(p.X, p.Y); got != bg {
			t.Errorf("pixel %v is %v, want the background", p, got)
		}
	}
	// The label band sits above the box: class colour with black text ("pedestrian #7").
	w, h := TextSize([]string{"pedestrian #7"})
	band := image.Rect(10, 20-h, 10+w, 20).Intersect(after.Rect)
	ink, bandPx := 0, 0
	for y := band.Min.Y; y < band.Max.Y; y++ {
		for x := band.Min.X; x < band.Max.X; x++ {
			switch after.RGBAAt(x, y) {
			case ped:
				bandPx++
			case color.RGBA{0, 0, 0, 255}:
				ink++
			default:
				t.Fatalf("label band pixel (%d,%d) is %v", x, y, after.RGBAAt(x, y))
			}
		}
	}
	if ink < 40 || bandPx < ink {
		t.Fatalf("label band: %d ink and %d band pixels", ink, bandPx)
	}
	// The car box is clipped at the picture's right edge (x 61…79), its top at y 40.
	if got := after.RGBAAt(79, 45); got != car {
		t.Errorf("clipped car box: right edge pixel %v", got)
	}
	if got := after.RGBAAt(61, 40); got != car {
		t.Errorf("car box: top-left pixel %v", got)
	}

	r, c = boxedClip(false)
	if _, err := WriteSequence(filepath.Join(dir, "n%d.png"), r, c); err != nil {
		t.Fatal(err)
	}
	if got := readPNG(t, filepath.Join(dir, "n1.png")).RGBAAt(10, 20); got == ped {
		t.Fatal("boxes drawn with Boxes off")
	}
	// The GIF palette holds the box colours exactly.
	r, c = boxedClip(true)
	var a Animation
	if _, err := a.AddClip(r, c, 1); err != nil {
		t.Fatal(err)
	}
	if got := a.gif.Image[1].At(10, 20); fmt.Sprint(got) != fmt.Sprint(color.RGBAModel.Convert(ped)) {
		t.Fatalf("GIF box pixel %v, want %v", got, ped)
	}
}

// BoxesAt shows the latest label time at or before t for hold µs.
func TestBoxesAt(t *testing.T) {
	boxes := []events.Box{{T: 10, Track: 1}, {T: 10, Track: 2}, {T: 50, Track: 3}}
	for _, c := range []struct {
		t, hold int64
		want    string
	}{{9, 100, "[]"}, {10, 100, "[1 2]"}, {49, 100, "[1 2]"}, {50, 100, "[3]"}, {149, 100, "[3]"}, {150, 100, "[]"}, {30, 20, "[]"}} {
		var got []uint32
		for _, b := range BoxesAt(boxes, c.t, c.hold) {
			got = append(got, b.Track)
		}
		if s := fmt.Sprint(got); s != c.want && !(c.want == "[]" && got == nil) {
			t.Errorf("t %d hold %d: %s, want %s", c.t, c.hold, s, c.want)
		}
	}
}

// Outlines are 1 px on small pictures at scale 1–2 and 2 px from scale 3 on or 640 px wide.
func TestBoxOutlineWidth(t *testing.T) {
	box := []events.Box{{X: 10, Y: 10, W: 20, H: 60}}
	for _, c := range []struct{ w, scale, thick int }{{320, 1, 1}, {320, 2, 1}, {320, 3, 2}, {640, 1, 2}} {
		img := image.NewRGBA(image.Rect(0, 0, c.w, 240))
		DrawBoxes(img, img.Rect, image.Point{}, float64(c.scale), box, nil)
		x, y := 10*c.scale, 60*c.scale // on the left edge, below the label band
		got := 0
		for img.RGBAAt(x+got, y) == BoxColor(0) {
			got++
		}
		if got != c.thick {
			t.Errorf("%d px wide at scale %d: outline %d px, want %d", c.w, c.scale, got, c.thick)
		}
	}
}

// On a shrunk picture (a sensor wider than MaxPicture) boxes shrink with the events: Zoom is Scale/Shrink.
func TestBoxesOnShrunkPicture(t *testing.T) {
	rd, err := New(Options{Width: 3 * MaxPicture, Height: 30, Scale: 2})
	if err != nil {
		t.Fatal(err)
	}
	if o := rd.Options(); o.Scale != 1 || o.Shrink != 3 || rd.Zoom() != 1.0/3 {
		t.Fatalf("scale %d, shrink %d, zoom %g; want 1, 3, 1/3", o.Scale, o.Shrink, rd.Zoom())
	}
	if r := BoxRect(events.Box{X: 3000, Y: 3, W: 30, H: 10}, image.Point{}, rd.Zoom()); r != image.Rect(1000, 1, 1010, 5) {
		t.Fatalf("box on the shrunk picture at %v", r)
	}
}
