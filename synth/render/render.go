// Package render samples a static image as a sensor sees it at a given pose: the image is prepared once
// as linear float32 intensity (gray, optional Gaussian blur for the optics, display black level), then
// every simulation step bilinearly samples it at a sub-pixel pose into a caller-owned W×H frame, with no
// allocation per step.
package render

import (
	"fmt"
	"image"
	"math"

	"github.com/evtool/evtool/saccade"
)

// Options prepare a scene.
type Options struct {
	// BlurSigmaPx is the standard deviation of the Gaussian blur applied to the image, in image px
	// (0: none). It stands for the optics and the monitor: N-MNIST calibrates at 0.5.
	BlurSigmaPx float64
	// BlackLevel is the intensity the display shows for a black pixel, as a fraction of white (0..1):
	// I = b + (1−b)·pixel. It bounds the contrast of any edge to ln(1/b). Outside the image is black.
	BlackLevel float64
	// Negative shows the image as its negative: ink at the black level on a white screen (and white
	// around the image). Real N-MNIST recordings have this edge polarity (see synth.NMNIST).
	Negative bool
	// Width and Height resize the image (bilinear, area-averaged when shrinking) before anything else;
	// 0 keeps the native size.
	Width, Height int
	// OriginX, OriginY place the image's top-left corner on the sensor at the zero pose, sensor px.
	OriginX, OriginY float64
}

// Scene is a prepared image. Render may be called from one goroutine at a time (it reuses index buffers);
// use one Scene per worker.
type Scene struct {
	w, h       int       // image size
	pad        []float32 // (w+2)×(h+2) intensity with a one-pixel border of background
	background float32
	originX    float64
	originY    float64
	col0, col1 []int32 // per sensor column: padded column index of the left/right sample
	row0, row1 []int32 // per sensor row: padded offset of the upper/lower sample row
	tmp        []float32
	src        []float32
}

// Set prepares img with o, reusing the scene's buffers (no allocation once they are large enough).
func (s *Scene) Set(img *image.Gray, o Options) error {
	if img == nil || img.Rect.Dx() <= 0 || img.Rect.Dy() <= 0 {
		return fmt.Errorf("render: empty image")
	}
	if o.BlackLevel < 0 || o.BlackLevel >= 1 || o.BlurSigmaPx < 0 || o.BlurSigmaPx > 50 || o.Width < 0 || o.Height < 0 {
		return fmt.Errorf("render: want 0 <= black level < 1, 0 <= blur <= 50 px and non-negative sizes")
	}
	iw, ih := img.Rect.Dx(), img.Rect.Dy()
	s.src = grow(s.src, iw*ih)
	for y := 0; y < ih; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+iw]
		for x, v := range row {
			s.src[y*iw+x] = float32(v) * (1.0 / 255)
		}
	}
	w, h := iw, ih
	img32 := s.src
	if (o.Width > 0 && o.Width != iw) || (o.Height > 0 && o.Height != ih) {
		w, h = o.Width, o.Height
		if w == 0 {
			w = iw
		}
		if h == 0 {
			h = ih
		}
		s.tmp = grow(s.tmp, w*h)
		resize(s.src, iw, ih, s.tmp, w, h)
		img32 = s.tmp
	}
	s.w, s.h = w, h
	s.pad = grow(s.pad, (w+2)*(h+2))
	if o.BlurSigmaPx > 0 {
		blur(img32, w, h, o.BlurSigmaPx)
	}
	// Ink v in [0, 1] maps to b + (1−b)·v, or for a negative to 1 − (1−b)·v; blur works on ink, so both
	// keep the same edge contrast ln(1/b).
	b := float32(o.BlackLevel)
	base, gain := b, 1-b
	if o.Negative {
		base, gain = 1, b-1
	}
	s.background = base
	pw := w + 2
	for i := range s.pad {
		s.pad[i] = base
	}
	for y := 0; y < h; y++ {
		dst := s.pad[(y+1)*pw+1 : (y+1)*pw+1+w]
		for x, v := range img32[y*w : y*w+w] {
			dst[x] = base + gain*v
		}
	}
	s.originX, s.originY = o.OriginX, o.OriginY
	return nil
}

// Size is the (possibly resized) image size.
func (s *Scene) Size() (w, h int) { return s.w, s.h }

// Background is the intensity outside the image (the black level, or white for a negative).
func (s *Scene) Background() float32 { return s.background }

// Render writes the linear intensity seen by a W×H sensor at pose p into dst (len ≥ W·H, row-major).
// Pure translations take a fast path: every pixel shares the same bilinear weights.
func (s *Scene) Render(p saccade.Pose, dst []float32, W, H int) {
	if p.IsTranslation() {
		s.renderShift(p.DX+s.originX, p.DY+s.originY, dst, W, H)
		return
	}
	s.renderAffine(p, dst, W, H)
}

// renderShift samples the image shifted by (ox, oy): sensor pixel x sees image coordinate x − ox.
func (s *Scene) renderShift(ox, oy float64, dst []float32, W, H int) {
	u0, v0 := -ox, -oy
	fu, fv := math.Floor(u0), math.Floor(v0)
	ax, ay := float32(u0-fu), float32(v0-fv) // weight of the right / lower neighbour
	iu, iv := int(fu), int(fv)
	pw := s.w + 2
	s.col0, s.col1 = growI(s.col0, W), growI(s.col1, W)
	s.row0, s.row1 = growI(s.row0, H), growI(s.row1, H)
	for x := 0; x < W; x++ {
		s.col0[x] = int32(clampPad(x+iu, s.w))
		s.col1[x] = int32(clampPad(x+iu+1, s.w))
	}
	for y := 0; y < H; y++ {
		s.row0[y] = int32(clampPad(y+iv, s.h) * pw)
		s.row1[y] = int32(clampPad(y+iv+1, s.h) * pw)
	}
	w00, w01 := (1-ax)*(1-ay), ax*(1-ay)
	w10, w11 := (1-ax)*ay, ax*ay
	pad := s.pad
	c0, c1 := s.col0[:W], s.col1[:W]
	for y := 0; y < H; y++ {
		r0, r1 := pad[s.row0[y]:], pad[s.row1[y]:]
		out := dst[y*W : y*W+W]
		for x := range out {
			a, b := c0[x], c1[x]
			out[x] = w00*r0[a] + w01*r0[b] + w10*r1[a] + w11*r1[b]
		}
	}
}

// clampPad maps an image index to the padded array: −1 and w land on the background border, anything
// further out clamps to it.
func clampPad(i, n int) int {
	if i < -1 {
		i = -1
	} else if i > n {
		i = n
	}
	return i + 1
}

// renderAffine handles rotation and magnification about the image centre: each sensor pixel is mapped
// back into the image and sampled bilinearly.
func (s *Scene) renderAffine(p saccade.Pose, dst []float32, W, H int) {
	cx, cy := float64(s.w-1)/2, float64(s.h-1)/2
	sc := p.ScaleOrOne()
	cos, sin := math.Cos(p.Theta)/sc, math.Sin(p.Theta)/sc
	// sensor (x, y) = origin + d + c + S·R·(u − c); invert: u = c + R⁻¹·(x − origin − d − c)/S.
	tx, ty := s.originX+p.DX+cx, s.originY+p.DY+cy
	pw := s.w + 2
	for y := 0; y < H; y++ {
		ry := float64(y) - ty
		for x := 0; x < W; x++ {
			rx := float64(x) - tx
			u := cx + cos*rx + sin*ry
			v := cy - sin*rx + cos*ry
			fu, fv := math.Floor(u), math.Floor(v)
			ax, ay := float32(u-fu), float32(v-fv)
			a, b := clampPad(int(fu), s.w), clampPad(int(fu)+1, s.w)
			r0, r1 := clampPad(int(fv), s.h)*pw, clampPad(int(fv)+1, s.h)*pw
			dst[y*W+x] = (1-ay)*((1-ax)*s.pad[r0+a]+ax*s.pad[r0+b]) + ay*((1-ax)*s.pad[r1+a]+ax*s.pad[r1+b])
		}
	}
}

// Corners returns the sensor positions of the image's four corners at pose p, so a caller can bound how
// far any image point moved between two poses.
func (s *Scene) Corners(p saccade.Pose) [4][2]float64 {
	cx, cy := float64(s.w-1)/2, float64(s.h-1)/2
	sc := p.ScaleOrOne()
	cos, sin := math.Cos(p.Theta)*sc, math.Sin(p.Theta)*sc
	var out [4][2]float64
	for i, c := range [4][2]float64{{0, 0}, {float64(s.w - 1), 0}, {0, float64(s.h - 1)}, {float64(s.w - 1), float64(s.h - 1)}} {
		rx, ry := c[0]-cx, c[1]-cy
		out[i] = [2]float64{s.originX + p.DX + cx + cos*rx - sin*ry, s.originY + p.DY + cy + sin*rx + cos*ry}
	}
	return out
}

// blur applies a separable Gaussian of standard deviation sigma in place (edges replicate the black
// surround: values outside the image count as 0 ink).
func blur(img []float32, w, h int, sigma float64) {
	r := int(math.Ceil(3 * sigma))
	k := make([]float32, 2*r+1)
	var sum float64
	for i := -r; i <= r; i++ {
		v := math.Exp(-float64(i*i) / (2 * sigma * sigma))
		k[i+r] = float32(v)
		sum += v
	}
	for i := range k {
		k[i] /= float32(sum)
	}
	line := make([]float32, max(w, h))
	for y := 0; y < h; y++ {
		row := img[y*w : y*w+w]
		copy(line, row)
		for x := 0; x < w; x++ {
			var acc float32
			for j := max(0, x-r); j <= min(w-1, x+r); j++ {
				acc += k[j-x+r] * line[j]
			}
			row[x] = acc
		}
	}
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			line[y] = img[y*w+x]
		}
		for y := 0; y < h; y++ {
			var acc float32
			for j := max(0, y-r); j <= min(h-1, y+r); j++ {
				acc += k[j-y+r] * line[j]
			}
			img[y*w+x] = acc
		}
	}
}

// resize scales src (sw×sh) to dst (dw×dh): each destination pixel averages the source area it covers
// (exact box filter), which is the right thing when shrinking and bilinear-like when enlarging.
func resize(src []float32, sw, sh int, dst []float32, dw, dh int) {
	sx, sy := float64(sw)/float64(dw), float64(sh)/float64(dh)
	for y := 0; y < dh; y++ {
		y0, y1 := float64(y)*sy, float64(y+1)*sy
		for x := 0; x < dw; x++ {
			x0, x1 := float64(x)*sx, float64(x+1)*sx
			var acc, area float64
			for j := int(y0); j < sh && float64(j) < y1; j++ {
				wy := math.Min(y1, float64(j+1)) - math.Max(y0, float64(j))
				for i := int(x0); i < sw && float64(i) < x1; i++ {
					wx := math.Min(x1, float64(i+1)) - math.Max(x0, float64(i))
					acc += wx * wy * float64(src[j*sw+i])
					area += wx * wy
				}
			}
			if area > 0 {
				acc /= area
			}
			dst[y*dw+x] = float32(acc)
		}
	}
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func growI(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}

// SetOrigin moves the image's top-left corner to (x, y) sensor px at the zero pose.
func (s *Scene) SetOrigin(x, y float64) { s.originX, s.originY = x, y }
