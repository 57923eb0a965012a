package viewer

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sort"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"

	"github.com/evtool/evtool/events"
)

// Boxes (detection labels) are drawn on top of the events: an outline in the colour of the box's class
// and a label band with the class name and the track id. A picture at time t shows the boxes of the
// latest label time at or before t, while that time is less than a hold old (labels are given at
// instants; between two, the last one stands, for a while).

// BoxColors are the class colours, in class order (cycling): the Okabe–Ito colours that the polarity
// schemes leave free (bluish green, yellow, reddish purple, vermillion, blue), then white and three more.
var BoxColors = []color.RGBA{
	{0, 158, 115, 255}, {240, 228, 66, 255}, {204, 121, 167, 255}, {213, 94, 0, 255}, {0, 114, 178, 255},
	{255, 255, 255, 255}, {120, 255, 120, 255}, {255, 120, 255, 255}, {160, 160, 255, 255},
}

// BoxColor is the colour of a class.
func BoxColor(class uint32) color.RGBA { return BoxColors[int(class%uint32(len(BoxColors)))] }

// DefaultBoxHold is how long a label time's boxes stay on the picture at most (the player and render
// use max(window, DefaultBoxHold)).
const DefaultBoxHold = 100_000

// BoxesAt returns the boxes shown at time t among time-sorted boxes: those of the latest label time L ≤ t,
// when t − L < hold; none otherwise. The result is a view of boxes.
func BoxesAt(boxes []events.Box, t, hold int64) []events.Box {
	j := sort.Search(len(boxes), func(k int) bool { return boxes[k].T > t })
	if j == 0 || t-boxes[j-1].T >= hold {
		return nil
	}
	l := boxes[j-1].T
	i := sort.Search(j, func(k int) bool { return boxes[k].T >= l })
	return boxes[i:j:j]
}

// BoxLabel is the text drawn with a box: its class name (or number) and its track id.
func BoxLabel(b events.Box, classes []string) string {
	name := fmt.Sprint(b.Class)
	if int64(b.Class) < int64(len(classes)) {
		name = classes[b.Class]
	}
	return fmt.Sprintf("%s #%d", name, b.Track)
}

// BoxRect is where a box lies on a picture whose sensor pixel (0, 0) is at origin, zoom picture pixels
// per sensor pixel: the picture pixels the box's region touches.
func BoxRect(b events.Box, origin image.Point, zoom float64) image.Rectangle {
	s := zoom
	x0, y0 := int(math.Floor(float64(b.X)*s)), int(math.Floor(float64(b.Y)*s))
	x1, y1 := int(math.Ceil(float64(b.X+b.W)*s)), int(math.Ceil(float64(b.Y+b.H)*s))
	return image.Rect(x0, y0, max(x1, x0+1), max(y1, y0+1)).Add(origin)
}

// DrawBoxes draws boxes on img, whose sensor pixel (0, 0) lies at origin, zoom picture pixels per sensor
// pixel (Renderer.Zoom), clipped to the sensor's part of img (bounds: a box reaching past it is closed at its edge): an
// outline in the class colour, and the label on a band of that colour above the box (inside it, at its
// top, when there is no room above). The outline is 1 px, and 2 px where a thin line would be lost: from
// zoom 3 on, and on pictures 640 px wide or more (a 1 Megapixel recording at scale 1).
func DrawBoxes(img draw.Image, bounds image.Rectangle, origin image.Point, zoom float64, boxes []events.Box, classes []string) {
	thick := 1
	if zoom >= 3 || bounds.Dx() >= 640 {
		thick = 2
	}
	for _, b := range boxes {
		r := BoxRect(b, origin, zoom).Intersect(bounds) // a box past the edge is closed at the edge
		if r.Empty() {
			continue
		}
		c := image.NewUniform(BoxColor(b.Class))
		for _, edge := range []image.Rectangle{
			image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+thick), image.Rect(r.Min.X, r.Max.Y-thick, r.Max.X, r.Max.Y),
			image.Rect(r.Min.X, r.Min.Y, r.Min.X+thick, r.Max.Y), image.Rect(r.Max.X-thick, r.Min.Y, r.Max.X, r.Max.Y),
		} {
			draw.Draw(img, edge.Intersect(r).Intersect(bounds), c, image.Point{}, draw.Src)
		}
		label := BoxLabel(b, classes)
		w, h := TextSize([]string{label})
		x, y := max(r.Min.X, bounds.Min.X), r.Min.Y-h
		if y < bounds.Min.Y {
			y = max(r.Min.Y, bounds.Min.Y)
		}
		band := image.Rect(x, y, x+w, y+h).Intersect(bounds)
		draw.Draw(img, band, c, image.Point{}, draw.Src)
		ink := color.RGBA{0, 0, 0, 255}
		if lum(BoxColor(b.Class)) < 110 {
			ink = color.RGBA{255, 255, 255, 255}
		}
		d := &font.Drawer{Dst: clipped{img, band}, Src: image.NewUniform(ink), Face: Face}
		d.Dot = fixed.P(x+textPad, y+textPad+11)
		d.DrawString(label)
	}
}

// Zoom is how many picture pixels stand for one sensor pixel along each axis: Scale / Shrink.
func (r *Renderer) Zoom() float64 { return float64(r.o.Scale) / float64(r.o.Shrink) }

// lum is a colour's luma (0–255), to pick black or white text on it.
func lum(c color.RGBA) float64 { return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B) }

// clipped limits drawing on an image to a rectangle.
type clipped struct {
	draw.Image
	r image.Rectangle
}

func (c clipped) Set(x, y int, v color.Color) {
	if image.Pt(x, y).In(c.r) {
		c.Image.Set(x, y, v)
	}
}

// boxTrack collects the boxes of a stream as its reads hand them out and keeps those a picture may
// still show.
type boxTrack struct {
	r     events.BoxReader
	boxes []events.Box
	hold  int64
}

// newBoxTrack follows r's boxes when r carries them and draw is set; nil otherwise.
func newBoxTrack(r events.Reader, draw bool, hold int64) *boxTrack {
	br, ok := r.(events.BoxReader)
	if !draw || !ok || !r.Meta().Boxes {
		return nil
	}
	return &boxTrack{r: br, hold: hold}
}

// add takes the boxes of the last Read.
func (b *boxTrack) add() {
	if b != nil {
		b.boxes = append(b.boxes, b.r.Boxes()...)
	}
}

// at returns the boxes shown at t and forgets those no later picture shows (before the latest label
// time at or before t: pictures come in time order).
func (b *boxTrack) at(t int64) []events.Box {
	if b == nil {
		return nil
	}
	if j := sort.Search(len(b.boxes), func(k int) bool { return b.boxes[k].T > t }); j > 0 {
		l := b.boxes[j-1].T
		if i := sort.Search(j, func(k int) bool { return b.boxes[k].T >= l }); i > 0 {
			b.boxes = append(b.boxes[:0], b.boxes[i:]...)
		}
	}
	return BoxesAt(b.boxes, t, b.hold)
}
