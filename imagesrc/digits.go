package imagesrc

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// DefaultDigits is the size of builtin:digits without a count.
const DefaultDigits = 1000

// DigitSize is the side of a built-in digit image, as MNIST's.
const DigitSize = 28

// Digits is the built-in set: handwritten-looking digits drawn procedurally, each a stroke skeleton of the
// digit bent by a random affine map (slant, rotation, squeeze), wobbled point by point and inked with a
// random pen width, anti-aliased, centred in 28×28 like MNIST (the digit fits a 20×20 box). Image i has
// label i mod 10 and depends only on (seed, split, i), so any worker order gives the same set, and no data
// is downloaded.
type Digits struct {
	n     int
	split string
	seed  uint64
}

// NewDigits returns n digits of the given split ("train" or "test" draw different variations).
func NewDigits(n int, split string, seed uint64) *Digits {
	s := splitName(split)
	if s == "" {
		s = "Train"
	}
	return &Digits{n: n, split: s, seed: seed}
}

// Len is the number of images.
func (d *Digits) Len() int { return d.n }

// Classes are "0".."9".
func (d *Digits) Classes() []string {
	return []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
}

// Describe names the set.
func (d *Digits) Describe() string {
	return fmt.Sprintf("builtin:digits:%d (%s, seed %d)", d.n, d.split, d.seed)
}

// Load draws digit i. Its id is "<Split>/<digit>/<1-based index, 5 digits>".
func (d *Digits) Load(i int, dst *Image) error {
	if i < 0 || i >= d.n {
		return fmt.Errorf("builtin digits: image %d out of range (0..%d)", i, d.n-1)
	}
	splitSalt := uint64(0x7261696e)
	if d.split == "Test" {
		splitSalt = 0x74657374
	}
	rng := rand.New(rand.NewPCG(d.seed^splitSalt, uint64(i)))
	digit := i % 10
	px := setGray(dst, DigitSize, DigitSize)
	DrawDigit(digit, rng, px)
	dst.Label = int32(digit)
	dst.ID = fmt.Sprintf("%s/%d/%05d", d.split, digit, i+1)
	return nil
}

// pt is a point of a stroke skeleton in a unit box (x right, y down).
type pt struct{ x, y float64 }

// arc samples an elliptic arc (degrees; y down, so increasing angles turn clockwise on screen).
func arc(cx, cy, rx, ry, from, to float64) []pt {
	n := int(math.Ceil(math.Abs(to-from)/15)) + 1
	out := make([]pt, n)
	for k := range out {
		a := (from + (to-from)*float64(k)/float64(n-1)) * math.Pi / 180
		out[k] = pt{cx + rx*math.Cos(a), cy + ry*math.Sin(a)}
	}
	return out
}

func join(parts ...[]pt) []pt {
	var out []pt
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// skeletons holds each digit's strokes (polylines) in the unit box.
var skeletons = [10][][]pt{
	0: {arc(0.5, 0.5, 0.32, 0.48, -90, 275)},
	1: {{{0.32, 0.2}, {0.55, 0.02}, {0.52, 0.98}}},
	2: {join(arc(0.48, 0.3, 0.32, 0.27, 200, 395), []pt{{0.1, 0.97}, {0.92, 0.96}})},
	3: {arc(0.48, 0.27, 0.3, 0.25, 200, 450), arc(0.46, 0.72, 0.36, 0.27, 260, 520)},
	4: {{{0.62, 0.98}, {0.64, 0.02}, {0.08, 0.68}, {0.94, 0.66}}},
	5: {join([]pt{{0.84, 0.03}, {0.28, 0.04}, {0.22, 0.45}}, arc(0.5, 0.69, 0.34, 0.29, 230, 515))},
	6: {join([]pt{{0.74, 0.02}, {0.44, 0.2}, {0.24, 0.48}}, arc(0.5, 0.72, 0.3, 0.26, 195, 555))},
	7: {{{0.08, 0.04}, {0.92, 0.03}, {0.38, 0.98}}, {{0.3, 0.52}, {0.76, 0.5}}},
	8: {arc(0.5, 0.27, 0.26, 0.24, 90, 450), arc(0.5, 0.73, 0.32, 0.26, -90, 270)},
	9: {arc(0.5, 0.3, 0.3, 0.27, 0, 360), {{0.8, 0.28}, {0.74, 0.6}, {0.62, 0.98}}},
}

// DrawDigit inks digit (0..9) into a 28×28 buffer (row-major, 0 = background, 255 = full ink) with the
// random variation drawn from rng.
func DrawDigit(digit int, rng *rand.Rand, px []byte) {
	const box = 20.0
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	rot := u(-0.2, 0.2)
	shear := u(-0.35, 0.2) // handwriting slants right more often than left
	sx, sy := u(0.7, 1.0), u(0.85, 1.0)
	if digit == 1 {
		sx = u(0.3, 0.6)
	}
	cos, sin := math.Cos(rot), math.Sin(rot)
	// A smooth random warp (two low-frequency waves) bends the strokes as a hand does; independent
	// per-point noise would make arcs zigzag.
	wob := u(0.015, 0.045)
	fx, fy, phx, phy := u(2, 5), u(2, 5), u(0, 2*math.Pi), u(0, 2*math.Pi)
	pen := u(1.0, 1.6) // pen radius, px
	// Map the skeleton to pixels and collect segments.
	type seg struct{ ax, ay, bx, by float64 }
	var segs []seg
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, stroke := range skeletons[digit] {
		var prev pt
		for k, p := range stroke {
			x := p.x - 0.5 + wob*math.Sin(fx*p.y+phx)
			y := p.y - 0.5 + wob*math.Sin(fy*p.x+phy)
			x, y = sx*(x+shear*y), sy*y
			x, y = cos*x-sin*y, sin*x+cos*y
			q := pt{x * box, y * box}
			minX, maxX = min(minX, q.x), max(maxX, q.x)
			minY, maxY = min(minY, q.y), max(maxY, q.y)
			if k > 0 {
				segs = append(segs, seg{prev.x, prev.y, q.x, q.y})
			}
			prev = q
		}
	}
	// Centre the bounding box in the image, with a little jitter, and fit it in the 20×20 box.
	fit := min(1, box/math.Max(maxX-minX+2*pen, maxY-minY+2*pen))
	offX := DigitSize/2 - fit*(minX+maxX)/2 + u(-1, 1)
	offY := DigitSize/2 - fit*(minY+maxY)/2 + u(-1, 1)
	for k := range segs {
		s := &segs[k]
		s.ax, s.ay = s.ax*fit+offX, s.ay*fit+offY
		s.bx, s.by = s.bx*fit+offX, s.by*fit+offY
	}
	// Squared distance from each pixel centre to the nearest stroke; each segment only visits the pixels
	// its inked band can reach.
	var d2 [DigitSize * DigitSize]float64
	for i := range d2 {
		d2[i] = math.Inf(1)
	}
	reach := pen + 0.75 + 0.5
	for _, s := range segs {
		x0 := max(0, int(math.Floor(math.Min(s.ax, s.bx)-reach)))
		x1 := min(DigitSize-1, int(math.Ceil(math.Max(s.ax, s.bx)+reach)))
		y0 := max(0, int(math.Floor(math.Min(s.ay, s.by)-reach)))
		y1 := min(DigitSize-1, int(math.Ceil(math.Max(s.ay, s.by)+reach)))
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				if d := segDist2(float64(x)+0.5, float64(y)+0.5, s.ax, s.ay, s.bx, s.by); d < d2[y*DigitSize+x] {
					d2[y*DigitSize+x] = d
				}
			}
		}
	}
	for i, d := range d2 {
		// Soft pen edge about 1.5 px wide, like MNIST's anti-aliased scans.
		v := math.Max(0, math.Min(1, (pen+0.75-math.Sqrt(d))/1.5))
		px[i] = uint8(math.Round(255 * v))
	}
}

// segDist2 is the squared distance from (px, py) to the segment a–b.
func segDist2(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, ((px-ax)*dx+(py-ay)*dy)/l2))
	}
	ex, ey := px-(ax+t*dx), py-(ay+t*dy)
	return ex*ex + ey*ey
}
