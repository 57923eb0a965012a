package viewer

import (
	"fmt"
	"image"
	"math"
	"strings"
)

// Number is an element type of a dense frame or tensor: event counts or real values.
type Number interface {
	~uint8 | ~uint16 | ~uint32 | ~int16 | ~int32 | ~int64 | ~float32 | ~float64
}

// RenderTensor draws one dense frame, as time binning produces it, with a colour scheme:
//
//   - shape (H,W) or (1,H,W): positive values in the ON colour, negative ones in the OFF colour;
//   - shape (2,H,W): channel 0 counts OFF, channel 1 counts ON (the events' polarity order), and each
//     pixel shows ON − OFF.
//
// Intensity is |value| / max|value| over the frame, so the strongest pixel gets the full colour and zero
// stays background; an all-zero frame is all background. Values are row-major, scale is an integer zoom.
func RenderTensor[T Number](vals []T, shape []int, scheme string, scale int) (*image.RGBA, error) {
	var p, h, w int
	switch len(shape) {
	case 2:
		p, h, w = 1, shape[0], shape[1]
	case 3:
		p, h, w = shape[0], shape[1], shape[2]
	default:
		return nil, fmt.Errorf("cannot draw a tensor of shape %v: want (H,W) or (P,H,W)", shape)
	}
	if p != 1 && p != 2 {
		return nil, fmt.Errorf("cannot draw a tensor of shape %v: want 1 or 2 polarity channels", shape)
	}
	if h <= 0 || w <= 0 || len(vals) != p*h*w {
		return nil, fmt.Errorf("tensor of shape %v needs %d values, got %d", shape, p*h*w, len(vals))
	}
	if scale <= 0 {
		scale = 1
	}
	if scheme == "" {
		scheme = "okabe"
	}
	s, ok := Schemes[scheme]
	if !ok {
		return nil, fmt.Errorf("unknown colour scheme %q (%s)", scheme, strings.Join(SchemeNames(), ", "))
	}
	if w*scale > MaxPicture || h*scale > MaxPicture {
		return nil, fmt.Errorf("%w: a picture of %dx%d px is larger than %d px on a side: draw it at a smaller scale", ErrTooLarge, w*scale, h*scale, MaxPicture)
	}
	n := h * w
	net := func(k int) float64 {
		if p == 2 {
			return float64(vals[n+k]) - float64(vals[k])
		}
		return float64(vals[k])
	}
	peak := 0.0
	for k := 0; k < n; k++ {
		if a := math.Abs(net(k)); a > peak && !math.IsInf(a, 0) {
			peak = a
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, w*scale, h*scale))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := net(y*w + x)
			c := s.Background
			if peak > 0 && v != 0 && !math.IsNaN(v) {
				f := math.Min(1, math.Abs(v)/peak)
				if v > 0 {
					c = mix(s.Background, s.On, f)
				} else {
					c = mix(s.Background, s.Off, f)
				}
			}
			for dy := 0; dy < scale; dy++ {
				row := img.Pix[(y*scale+dy)*img.Stride+x*scale*4:]
				for dx := 0; dx < scale; dx++ {
					row[dx*4], row[dx*4+1], row[dx*4+2], row[dx*4+3] = c.R, c.G, c.B, 255
				}
			}
		}
	}
	return img, nil
}

// TensorFrames draws every frame of a tensor: shapes (K, P, H, W) and (K, H, W) give K pictures;
// channels=true reads a 3-D shape as one (P, H, W) picture instead (an image's polarity planes).
// Each frame is scaled to its own largest |value|.
func TensorFrames[T Number](vals []T, shape []int, channels bool, scheme string, scale int) ([]*image.RGBA, error) {
	scale = max(scale, 1)
	var frame []int
	switch {
	case len(shape) == 2 || (len(shape) == 3 && channels):
		img, err := RenderTensor(vals, shape, scheme, scale)
		if err != nil {
			return nil, err
		}
		return []*image.RGBA{img}, nil
	case len(shape) == 3 || len(shape) == 4:
		frame = shape[1:]
	default:
		return nil, fmt.Errorf("cannot draw a tensor of shape %v", shape)
	}
	n := 1
	for _, d := range frame {
		n *= d
	}
	if n <= 0 || len(vals) != shape[0]*n {
		return nil, fmt.Errorf("tensor of shape %v needs %d values, got %d", shape, shape[0]*n, len(vals))
	}
	if px := int64(shape[0]) * int64(frame[len(frame)-1]*scale) * int64(frame[len(frame)-2]*scale); px > MaxPixels {
		return nil, fmt.Errorf("%w: %d frames of %dx%d px would exceed %d pixels", ErrTooLarge, shape[0], frame[len(frame)-1]*scale, frame[len(frame)-2]*scale, MaxPixels)
	}
	var out []*image.RGBA
	for k := 0; k < shape[0]; k++ {
		img, err := RenderTensor(vals[k*n:(k+1)*n], frame, scheme, scale)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}
