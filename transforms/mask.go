package transforms

import (
	"fmt"
	"image"
	_ "image/png" // masks may be PNG files
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/npyarray"
)

// Pixel masks: the mask filter (keep the pixels of a mask) and hotpixel's list mode (drop them).

// pixelMask is a W×H set of pixels, from a PNG (non-zero gray), a .npy array (non-zero) or a list.
type pixelMask struct {
	w, h int // 0 for a list, which fits any sensor its pixels lie in
	set  map[int]bool
	bits []bool
}

// loadMask reads a mask file: PNG (a pixel is set when its gray value is not 0) or .npy (H, W).
func loadMask(path string) (*pixelMask, error) {
	if strings.EqualFold(filepath.Ext(path), ".npy") {
		w, h, bits, err := npyarray.ReadMask(path)
		if err != nil {
			return nil, err
		}
		return &pixelMask{w: w, h: h, bits: bits}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("mask %s: want a PNG or .npy file: %w", path, err)
	}
	b := img.Bounds()
	m := &pixelMask{w: b.Dx(), h: b.Dy(), bits: make([]bool, b.Dx()*b.Dy())}
	for y := 0; y < m.h; y++ {
		for x := 0; x < m.w; x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			m.bits[y*m.w+x] = r|g|bl != 0
		}
	}
	return m, nil
}

// parsePixels reads "x:y;x:y;…" (a list), or a mask file path.
func parsePixels(s string) (*pixelMask, error) {
	if !strings.Contains(s, ":") || strings.ContainsAny(s, "/\\") {
		return loadMask(s)
	}
	m := &pixelMask{set: map[int]bool{}}
	for _, item := range strings.Split(s, ";") {
		xs, ys, ok := strings.Cut(strings.TrimSpace(item), ":")
		x, err1 := strconv.Atoi(xs)
		y, err2 := strconv.Atoi(ys)
		if !ok || err1 != nil || err2 != nil || x < 0 || y < 0 || x > 65535 || y > 65535 {
			return nil, fmt.Errorf("pixel %q: want x:y (several joined with ;)", item)
		}
		m.set[y<<16|x] = true
	}
	return m, nil
}

// maskFilter keeps the events whose pixel is in the mask (keep) or not in it (hot-pixel list).
type maskFilter struct {
	m    *pixelMask
	keep bool
	name string
	w, h int
	in   []bool // per pixel of the sensor: in the mask
}

func (f *maskFilter) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	f.w, f.h = in.Geometry.Width, in.Geometry.Height
	if f.m.bits != nil && (f.m.w != f.w || f.m.h != f.h) {
		return in, fmt.Errorf("the %s is %dx%d but the sensor is %s", f.name, f.m.w, f.m.h, in.Geometry)
	}
	if f.in == nil || len(f.in) != f.w*f.h {
		f.in = make([]bool, f.w*f.h)
		if f.m.bits != nil {
			copy(f.in, f.m.bits)
		}
		for k := range f.m.set {
			if x, y := k&0xffff, k>>16; x < f.w && y < f.h {
				f.in[y*f.w+x] = true
			}
		}
	}
	return in, nil
}

func (f *maskFilter) Process(in, out *events.Batch) error {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x >= f.w || y >= f.h || f.in[y*f.w+x] != f.keep {
			continue
		}
		T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
		j++
	}
	out.Truncate(start + j)
	return nil
}

func (f *maskFilter) Flush(*events.Batch) error { return nil }

// hotPixels counts the listed pixels on the sensor (hot-pixel list mode only).
func (f *maskFilter) hotPixels() int {
	if f.keep {
		return 0
	}
	n := 0
	for _, in := range f.in {
		if in {
			n++
		}
	}
	return n
}

func init() {
	register(&Def{Name: "mask", Help: "keep the events whose pixel is non-zero in a mask: a PNG (gray ≠ 0) or .npy (H, W) array the size of the sensor (dv EventMaskFilter)",
		Params: []Param{{Name: "file", Kind: Text, Help: "mask file, .png or .npy (required)"}},
		Filter: func(v Values) (Filter, error) {
			if !v.Set("file") {
				return nil, fmt.Errorf("needs file=mask.png or mask.npy")
			}
			m, err := loadMask(v.String("file"))
			if err != nil {
				return nil, err
			}
			return &maskFilter{m: m, keep: true, name: "mask"}, nil
		}})
}
