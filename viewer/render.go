// Package viewer draws events as pictures: a pure-Go renderer (events of a time window → image.RGBA, with
// decay modes, polarity colour schemes, scaling and text overlays) that is testable anywhere, and the
// writers of `evtool render` (PNG grids, animated GIFs, numbered PNG sequences). The interactive player
// only shows what this package draws.
package viewer

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sort"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/evtool/evtool/events"
)

// Scheme colours a picture: background, ON and OFF.
type Scheme struct {
	Background, On, Off color.RGBA
}

// Schemes by name. The default, "okabe", uses the Okabe–Ito colour-blind-safe pair: ON orange
// (230,159,0), OFF sky blue (86,180,233), on black.
var Schemes = map[string]Scheme{
	"okabe":    {Background: color.RGBA{0, 0, 0, 255}, On: color.RGBA{230, 159, 0, 255}, Off: color.RGBA{86, 180, 233, 255}},
	"light":    {Background: color.RGBA{255, 255, 255, 255}, On: color.RGBA{213, 94, 0, 255}, Off: color.RGBA{0, 114, 178, 255}},
	"gray":     {Background: color.RGBA{128, 128, 128, 255}, On: color.RGBA{255, 255, 255, 255}, Off: color.RGBA{0, 0, 0, 255}},
	"redgreen": {Background: color.RGBA{0, 0, 0, 255}, On: color.RGBA{0, 220, 0, 255}, Off: color.RGBA{230, 0, 0, 255}},
}

// SchemeNames lists the schemes, sorted.
func SchemeNames() []string {
	var n []string
	for k := range Schemes {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Decay modes: how a pixel's colour fades after its last event, seen at time t.
const (
	DecayWindow      = "window"      // full colour while t − last < window, else background
	DecayLinear      = "linear"      // intensity max(0, 1 − (t − last)/tau)
	DecayExponential = "exponential" // intensity exp(−(t − last)/tau)
	DecayCumulative  = "cumulative"  // full colour once a pixel has fired (no fading)
)

// MaxPicture bounds a picture's width and height in pixels. A renderer of a larger sensor (a header may
// say 65535×65535) draws it shrunk: Shrink sensor pixels per picture pixel along each axis, so its memory
// stays bounded whatever the file says.
const MaxPicture = 4096

// Options configure a renderer.
type Options struct {
	Width, Height int // sensor size
	Scale         int // integer zoom (default 1; lowered when the picture would exceed MaxPicture)
	// Shrink draws blocks of Shrink×Shrink sensor pixels as one picture pixel (before Scale), showing the
	// latest event of the block: 0 picks the least that keeps the picture within MaxPicture.
	Shrink int
	Scheme string // default "okabe"
	Decay  string // default "window"
	Window int64  // µs: the window of DecayWindow (default 10 ms)
	Tau    int64  // µs: the time constant of linear/exponential (default Window)
}

// Renderer keeps, per pixel, the time and polarity of its latest event, and draws them at any time.
// Feed events in time order with Add; Render draws the state at a time. No allocation per event or frame.
type Renderer struct {
	o     Options
	w, h  int // the picture in cells: the sensor divided by Shrink, rounded up
	s     Scheme
	last  []int64
	pol   []uint8
	img   *image.RGBA
	lut   [2][256]color.RGBA // colour per polarity and intensity step
	steps [255]int64         // fade, tabulated (buildFadeSteps)
	fired bool
}

const noEvent = math.MinInt64

// New makes a renderer.
func New(o Options) (*Renderer, error) {
	if o.Width <= 0 || o.Height <= 0 {
		return nil, fmt.Errorf("renderer needs the sensor size")
	}
	if o.Scale <= 0 {
		o.Scale = 1
	}
	if o.Scheme == "" {
		o.Scheme = "okabe"
	}
	if o.Decay == "" {
		o.Decay = DecayWindow
	}
	if o.Window <= 0 {
		o.Window = 10000
	}
	if o.Tau <= 0 {
		o.Tau = o.Window
	}
	s, ok := Schemes[o.Scheme]
	if !ok {
		return nil, fmt.Errorf("unknown colour scheme %q (%s)", o.Scheme, strings.Join(SchemeNames(), ", "))
	}
	switch o.Decay {
	case DecayWindow, DecayLinear, DecayExponential, DecayCumulative:
	default:
		return nil, fmt.Errorf("unknown decay %q (window, linear, exponential, cumulative)", o.Decay)
	}
	if o.Width > 1<<16 || o.Height > 1<<16 {
		return nil, fmt.Errorf("a sensor of %dx%d: 16-bit coordinates reach 65536x65536 at most", o.Width, o.Height)
	}
	o.Scale = min(o.Scale, max(1, MaxPicture/o.Width), max(1, MaxPicture/o.Height))
	if o.Shrink <= 0 {
		o.Shrink = 1
	}
	for ceilDiv(o.Width, o.Shrink)*o.Scale > MaxPicture || ceilDiv(o.Height, o.Shrink)*o.Scale > MaxPicture {
		o.Shrink++
	}
	w, h := ceilDiv(o.Width, o.Shrink), ceilDiv(o.Height, o.Shrink)
	r := &Renderer{o: o, s: s, w: w, h: h, last: make([]int64, w*h), pol: make([]uint8, w*h),
		img: image.NewRGBA(image.Rect(0, 0, w*o.Scale, h*o.Scale))}
	for p, c := range []color.RGBA{s.Off, s.On} {
		for i := 0; i < 256; i++ {
			r.lut[p][i] = mix(s.Background, c, float64(i)/255)
		}
	}
	r.buildFadeSteps()
	r.Reset()
	return r, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Size is the picture's size in pixels.
func (r *Renderer) Size() (w, h int) { return r.w * r.o.Scale, r.h * r.o.Scale }

func mix(a, b color.RGBA, f float64) color.RGBA {
	l := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + (float64(y)-float64(x))*f)) }
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 255}
}

// Options returns the renderer's settings (with defaults filled in).
func (r *Renderer) Options() Options { return r.o }

// Reset forgets every event.
func (r *Renderer) Reset() {
	for i := range r.last {
		r.last[i] = noEvent
	}
	r.fired = false
}

// Add records events (in time order). Events outside the sensor are ignored.
func (r *Renderer) Add(b *events.Batch) {
	w, h, s := r.o.Width, r.o.Height, r.o.Shrink
	for i, t := range b.T {
		x, y := int(b.X[i]), int(b.Y[i])
		if x >= w || y >= h {
			continue
		}
		if s > 1 {
			x, y = x/s, y/s
		}
		r.last[y*r.w+x] = t
		r.pol[y*r.w+x] = b.P[i] & 1
	}
	if b.Len() > 0 {
		r.fired = true
	}
}

// fade is the intensity (0..255) of a pixel whose last event is age µs old, by the decay formula.
func (r *Renderer) fade(age int64) int {
	switch r.o.Decay {
	case DecayWindow:
		if age < r.o.Window {
			return 255
		}
		return 0
	case DecayLinear:
		return int(math.Round(255 * math.Max(0, 1-float64(age)/float64(r.o.Tau))))
	case DecayExponential:
		return int(math.Round(255 * math.Exp(-float64(age)/float64(r.o.Tau))))
	}
	return 255 // cumulative
}

// buildFadeSteps tabulates fade: steps[k−1] is the smallest age whose intensity is below k. Intensity
// falls with age, so a pixel's intensity is the number of steps above its age — the formula's exact
// result for a binary search instead of an exp per pixel.
func (r *Renderer) buildFadeSteps() {
	limit := r.o.Window
	if r.o.Decay == DecayLinear || r.o.Decay == DecayExponential {
		limit = 8 * r.o.Tau // exp(−8) × 255 rounds to 0
	}
	for k := 1; k <= 255; k++ {
		lo, hi := int64(0), limit+1
		for lo < hi {
			mid := lo + (hi-lo)/2
			if r.fade(mid) < k {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		r.steps[k-1] = lo
	}
}

// intensity is a pixel's colour strength (0..255) at time t.
func (r *Renderer) intensity(last, t int64) int {
	if last == noEvent || last > t {
		return 0
	}
	if r.o.Decay == DecayCumulative {
		return 255
	}
	span := events.Span(last, t)
	if span >= math.MaxInt64 {
		return 0
	}
	age := int64(span)
	switch {
	case age >= r.steps[0]:
		return 0
	case age < r.steps[254]:
		return 255
	}
	// steps is non-increasing: count the entries above age.
	lo, hi := 0, 255
	for lo < hi {
		mid := (lo + hi) / 2
		if r.steps[mid] > age {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// Render draws the state at time t (events after t are not shown) and returns the picture, which is
// reused by the next Render.
func (r *Renderer) Render(t int64) *image.RGBA {
	w, h, sc := r.w, r.h, r.o.Scale
	stride := r.img.Stride
	for y := 0; y < h; y++ {
		// Draw the sensor row once, then copy it to the scale − 1 rows below.
		row := r.img.Pix[y*sc*stride : y*sc*stride+w*sc*4]
		last, pol := r.last[y*w:(y+1)*w], r.pol[y*w:(y+1)*w]
		for x, l := range last {
			c := r.lut[pol[x]&1][r.intensity(l, t)]
			px := row[x*sc*4 : (x+1)*sc*4]
			for dx := 0; dx < len(px); dx += 4 {
				px[dx], px[dx+1], px[dx+2], px[dx+3] = c.R, c.G, c.B, 255
			}
		}
		for dy := 1; dy < sc; dy++ {
			copy(r.img.Pix[(y*sc+dy)*stride:], row)
		}
	}
	return r.img
}

// Corner names where an overlay goes.
type Corner int

const (
	TopLeft Corner = iota
	TopRight
	BottomLeft
	BottomRight
)

// Face is the overlay font: 7×13 px basic font.
var Face font.Face = basicfont.Face7x13

// Overlay writes text on img in a corner, on a dark band so it reads on any picture.
func Overlay(img draw.Image, text string, where Corner) {
	if text == "" {
		return
	}
	b := img.Bounds()
	w, h := TextSize([]string{text})
	x, y := b.Min.X, b.Min.Y
	if where == TopRight || where == BottomRight {
		x = b.Max.X - w
	}
	if where == BottomLeft || where == BottomRight {
		y = b.Max.Y - h
	}
	TextBox(img, []string{text}, x, y)
}

const lineHeight, textPad = 13, 2

// TextSize is the size of the band TextBox draws for lines.
func TextSize(lines []string) (w, h int) {
	for _, l := range lines {
		w = max(w, font.MeasureString(Face, l).Ceil())
	}
	return w + 2*textPad, len(lines)*lineHeight + 2*textPad
}

// TextBox writes lines of white text on a translucent dark band whose top-left corner is (x, y), and
// returns the band.
func TextBox(img draw.Image, lines []string, x, y int) image.Rectangle {
	w, h := TextSize(lines)
	band := image.Rect(x, y, x+w, y+h).Intersect(img.Bounds())
	draw.Draw(img, band, image.NewUniform(color.RGBA{0, 0, 0, 160}), image.Point{}, draw.Over)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{255, 255, 255, 255}), Face: Face}
	for i, l := range lines {
		d.Dot = fixed.P(x+textPad, y+textPad+i*lineHeight+11)
		d.DrawString(l)
	}
	return band
}

// SampleLabel is the overlay text of dataset sample i: "#i class" (the class index when there are no
// class names, nothing after the number when the sample has no label).
func SampleLabel(i int, label int32, classes []string) string {
	s := fmt.Sprintf("#%d", i)
	switch {
	case label < 0:
	case int(label) < len(classes):
		s += " " + classes[label]
	default:
		s += fmt.Sprint(" ", label)
	}
	return s
}

// Timecode formats µs as seconds with millisecond precision.
func Timecode(t int64) string {
	return fmt.Sprintf("%.3f s", float64(t)/1e6)
}
