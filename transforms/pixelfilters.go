package transforms

import (
	"fmt"
	"image"
	_ "image/png" // masks may be PNG files
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/npy"
)

// --- masks: mask (§3.1) and hotpixel's static list (§2.4 mode 1) ---

// pixelMask is a W×H set of pixels, from a PNG (non-zero gray), a .npy array (non-zero) or a list.
type pixelMask struct {
	w, h int // 0 for a list, which fits any sensor its pixels lie in
	set  map[int]bool
	bits []bool
}

// loadMask reads a mask file: PNG (a pixel is set when its gray value is not 0) or .npy (H, W).
func loadMask(path string) (*pixelMask, error) {
	if strings.EqualFold(filepath.Ext(path), ".npy") {
		w, h, bits, err := npy.ReadMask(path)
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

// --- hotpixel, relative mode (§2.4 mode 3, faery's rule in fixed time windows) ---

type hotRelative struct {
	r       float64
	window  int64
	w, h    int
	held    events.Batch
	count   []int32 // (w+2)×(h+2): a border of zero counts stands for the off-sensor neighbours
	verdict []int8  // per pixel in the current window: 0 undecided, 1 keep, 2 hot
	t0      int64
	k       int64
	started bool
	hot     int // hot (pixel, window) pairs seen
}

func (f *hotRelative) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	f.w, f.h = in.Geometry.Width, in.Geometry.Height
	n := (f.w + 2) * (f.h + 2)
	if len(f.count) != n {
		f.count, f.verdict = make([]int32, n), make([]int8, n)
	}
	clear(f.count)
	clear(f.verdict)
	f.held.Reset()
	f.started, f.hot = false, 0
	return in, nil
}

// close decides the held window: a pixel is hot when 1 + its count ≥ r · max(1 + each 4-neighbour's
// count), off-sensor neighbours counting 1; its events in the window are dropped.
func (f *hotRelative) close(out *events.Batch) {
	pw := f.w + 2
	cnt := f.count
	held := &f.held
	start := out.Len()
	T, X, Y, P := out.Extend(held.Len())
	j := 0
	for i, t := range held.T {
		x, y := int(held.X[i]), int(held.Y[i])
		if x >= f.w || y >= f.h {
			continue // outside the sensor: dropped
		}
		k := (y+1)*pw + x + 1
		if f.verdict[k] == 0 {
			nb := 1 + max(cnt[k-1], cnt[k+1], cnt[k-pw], cnt[k+pw])
			f.verdict[k] = 1
			if !(float64(1+cnt[k]) < f.r*float64(nb)) {
				f.verdict[k] = 2
				f.hot++
			}
		}
		if f.verdict[k] == 2 {
			continue
		}
		T[j], X[j], Y[j], P[j] = t, held.X[i], held.Y[i], held.P[i]
		j++
	}
	out.Truncate(start + j)
	for i := range held.T {
		if x, y := int(held.X[i]), int(held.Y[i]); x < f.w && y < f.h {
			k := (y+1)*pw + x + 1
			cnt[k], f.verdict[k] = 0, 0
		}
	}
	held.Reset()
}

func (f *hotRelative) Process(in, out *events.Batch) error {
	n := in.Len()
	if n > 0 && !f.started {
		f.t0, f.k, f.started = in.T[0], 0, true
	}
	for i := 0; i < n; {
		// The run of events in the current window: counted, then held as one slice.
		end := f.t0 + (f.k+1)*f.window
		j := i
		for j < n && in.T[j] < end {
			x, y := int(in.X[j]), int(in.Y[j])
			if x < f.w && y < f.h {
				f.count[(y+1)*(f.w+2)+x+1]++
			}
			j++
		}
		run := in.Slice(i, j)
		f.held.AppendBatch(&run)
		if j < n {
			f.close(out)
			f.k = (in.T[j] - f.t0) / f.window
		}
		i = j
	}
	return nil
}

// hotPixels counts hot (pixel, window) pairs.
func (f *hotRelative) hotPixels() int { return f.hot }

func (f *hotRelative) Flush(out *events.Batch) error {
	f.close(out)
	return nil
}

// --- denoise, fast-decay mode (§2.2, dv-processing's FastDecayNoiseFilter) ---

type fastDecay struct {
	halfLife  float64
	sub       int
	threshold float64
	cw        int
	v         []float64
	last      []int64
	w, h      int
	started   bool
}

func (f *fastDecay) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	f.w, f.h = in.Geometry.Width, in.Geometry.Height
	f.cw = f.w/f.sub + 1
	n := (f.h/f.sub + 1) * f.cw
	if len(f.v) != n {
		f.v, f.last = make([]float64, n), make([]int64, n)
	}
	clear(f.v)
	f.started = false
	return in, nil
}

func (f *fastDecay) Process(in, out *events.Batch) error {
	if in.Len() > 0 && !f.started {
		// Every cell starts at the stream's first event time (dv-processing's initial state).
		fill(f.last, in.T[0])
		f.started = true
	}
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	inv := 1 / f.halfLife
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x >= f.w || y >= f.h {
			continue
		}
		c := (y/f.sub)*f.cw + x/f.sub
		v := f.v[c]*math.Exp2(-float64(t-f.last[c])*inv) + 1
		f.v[c], f.last[c] = v, t
		if v <= f.threshold {
			continue
		}
		T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
		j++
	}
	out.Truncate(start + j)
	return nil
}

func (f *fastDecay) Flush(*events.Batch) error { return nil }

// --- drop-event exact (§4, tonic's DropEvent) and event-drop (tonic's EventDrop) ---

// dropExact drops exactly ⌊q·N + 0.5⌋ events chosen uniformly without replacement.
func dropExact(q float64) func(b, out *events.Batch, rng *rand.Rand) error {
	var drop []bool // reused across samples (one filter instance serves one stream at a time)
	var idx []int32
	return func(b, out *events.Batch, rng *rand.Rand) error {
		n := b.Len()
		m := int(math.Floor(q*float64(n) + 0.5))
		if cap(drop) < n {
			drop, idx = make([]bool, n), make([]int32, n)
		}
		drop, idx = drop[:n], idx[:n]
		clear(drop)
		for i := range idx {
			idx[i] = int32(i)
		}
		// The first m positions of a partial Fisher–Yates shuffle are a uniform m-subset.
		for i := 0; i < m; i++ {
			j := i + rng.IntN(n-i)
			idx[i], idx[j] = idx[j], idx[i]
			drop[idx[i]] = true
		}
		start := out.Len()
		T, X, Y, P := out.Extend(n - m)
		k := 0
		for i, t := range b.T {
			if drop[i] {
				continue
			}
			T[k], X[k], Y[k], P[k] = t, b.X[i], b.Y[i], b.P[i]
			k++
		}
		out.Truncate(start + k)
		return nil
	}
}

// eventDrop draws, once per sample, one of: nothing, drop-time with ratio U{1..9}/10, drop-area with
// ratio U{1..5}/20, or drop-event (exact) with q U{1..9}/10 — tonic's EventDrop policy.
type eventDrop struct {
	wholeSample
	shape Shape
}

func (e *eventDrop) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	e.shape = in
	e.apply = func(b, out *events.Batch, rng *rand.Rand) error {
		switch rng.IntN(4) {
		case 0:
			out.AppendBatch(b)
			return nil
		case 1:
			return dropTime(float64(1+rng.IntN(9))/10)(b, out, rng)
		case 2:
			a := &dropArea{ratio: float64(1+rng.IntN(5)) / 20}
			if _, err := a.Reset(e.shape, rng); err != nil {
				return err
			}
			return a.Process(b, out)
		}
		return dropExact(float64(1+rng.IntN(9))/10)(b, out, rng)
	}
	return e.wholeSample.Reset(in, rng)
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
	register(&Def{Name: "event-drop", Help: "tonic's EventDrop: per sample, one of nothing, drop-time (ratio U{1..9}/10), drop-area (ratio U{1..5}/20) or exact drop-event (prob U{1..9}/10), uniformly; needs the whole sample",
		Filter: func(v Values) (Filter, error) { return &eventDrop{}, nil }})
}
