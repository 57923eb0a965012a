package transforms

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/evtool/evtool/events"
)

// Spatial filters: where an event lies on the sensor — crops, flips and rotations, downsampling (pixel
// masks are in mask.go).

// --- crop, center-crop, random-crop ---

// cropOrigin is how a crop's window is placed.
type cropOrigin int

const (
	cropFixed  cropOrigin = iota // at (x0, y0)
	cropCenter                   // at ((W−w)/2, (H−h)/2)
	cropRandom                   // uniform, one draw per sample
)

type crop struct {
	origin     cropOrigin
	x0, y0     int
	w, h       int
	keepOffset bool
	sx, sy     int // this sample's origin
}

func (c *crop) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	W, H := in.Geometry.Width, in.Geometry.Height
	if c.w <= 0 || c.h <= 0 || c.w > W || c.h > H {
		return in, fmt.Errorf("crop size %dx%d does not fit the %dx%d sensor", c.w, c.h, W, H)
	}
	switch c.origin {
	case cropCenter:
		c.sx, c.sy = (W-c.w)/2, (H-c.h)/2
	case cropRandom:
		c.sx, c.sy = rng.IntN(W-c.w+1), rng.IntN(H-c.h+1)
	default:
		if c.x0 < 0 || c.y0 < 0 || c.x0+c.w > W || c.y0+c.h > H {
			return in, fmt.Errorf("crop [%d,%d)×[%d,%d) lies outside the %dx%d sensor", c.x0, c.x0+c.w, c.y0, c.y0+c.h, W, H)
		}
		c.sx, c.sy = c.x0, c.y0
	}
	if !c.keepOffset {
		in.Geometry = events.Geometry{Width: c.w, Height: c.h}
	}
	return in, nil
}

func (c *crop) Process(in, out *events.Batch) error {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	x0, y0, x1, y1 := c.sx, c.sy, c.sx+c.w, c.sy+c.h
	dx, dy := uint16(x0), uint16(y0)
	if c.keepOffset {
		dx, dy = 0, 0
	}
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x < x0 || x >= x1 || y < y0 || y >= y1 {
			continue
		}
		T[j], X[j], Y[j], P[j] = t, in.X[i]-dx, in.Y[i]-dy, in.P[i]
		j++
	}
	out.Truncate(start + j)
	return nil
}

func (c *crop) Flush(*events.Batch) error { return nil }

func init() {
	register(&Def{Name: "crop", Help: "keep x0 ≤ x < x0+w, y0 ≤ y < y0+h and shift to the origin (keep-offset keeps coordinates and sensor size)",
		Params: []Param{
			{Name: "x0", Kind: Int, Unit: "px", Default: "0"}, {Name: "y0", Kind: Int, Unit: "px", Default: "0"},
			{Name: "w", Kind: Int, Unit: "px", Help: "width (required)"}, {Name: "h", Kind: Int, Unit: "px", Help: "height (required)"},
			{Name: "keep-offset", Kind: Bool, Default: "false", Help: "keep coordinates and the sensor size (a region filter)"},
		},
		Filter: func(v Values) (Filter, error) {
			if !v.Set("w") || !v.Set("h") {
				return nil, fmt.Errorf("needs w and h")
			}
			return &crop{x0: int(v.Int("x0")), y0: int(v.Int("y0")), w: int(v.Int("w")), h: int(v.Int("h")), keepOffset: v.Bool("keep-offset")}, nil
		}})
	register(&Def{Name: "center-crop", Help: "crop a w×h window at ((W−w)/2, (H−h)/2); a window larger than the sensor is an error",
		Params: []Param{{Name: "w", Kind: Int, Unit: "px", Help: "width (required)"}, {Name: "h", Kind: Int, Unit: "px", Help: "height (required)"}},
		Filter: func(v Values) (Filter, error) {
			if !v.Set("w") || !v.Set("h") {
				return nil, fmt.Errorf("needs w and h")
			}
			return &crop{origin: cropCenter, w: int(v.Int("w")), h: int(v.Int("h"))}, nil
		}})
	register(&Def{Name: "random-crop", Help: "crop a w×h window at a uniform origin in {0..W−w}×{0..H−h}, drawn once per sample",
		Params: []Param{{Name: "w", Kind: Int, Unit: "px", Help: "width (required)"}, {Name: "h", Kind: Int, Unit: "px", Help: "height (required)"}},
		Filter: func(v Values) (Filter, error) {
			if !v.Set("w") || !v.Set("h") {
				return nil, fmt.Errorf("needs w and h")
			}
			return &crop{origin: cropRandom, w: int(v.Int("w")), h: int(v.Int("h"))}, nil
		}})
}

// --- transpose and flips ---

// action is one of the eight symmetries of the picture (as displayed, y down).
type action int

const (
	identity action = iota
	flipLR
	flipUD
	rot180
	rot90CW
	rot90CCW
	transposeXY
	antitranspose
)

// actionNames are the spec names of the actions other than identity, in action order.
var actionNames = []string{"flip-lr", "flip-ud", "rot180", "rot90cw", "rot90ccw", "transpose", "antitranspose"}

func parseAction(name string) action {
	for i, n := range actionNames {
		if n == name {
			return action(i + 1)
		}
	}
	return identity
}

// swapsAxes reports whether the action turns a W×H sensor into H×W.
func (a action) swapsAxes() bool { return a >= rot90CW }

// mapping returns the action on a W×H sensor as: swap x and y or not, then per axis v' = (v ^ n) + a in
// uint16 arithmetic, which is v (n = 0, a = 0) or M − 1 − v (n = 0xFFFF, a = M, since v ^ 0xFFFF = −v − 1):
// two loops serve all eight, with no per-event switch or multiplication.
func (a action) mapping(W, H int) (swap bool, nx, ax, ny, ay uint16) {
	const flip = 0xFFFF
	w, h := uint16(W), uint16(H)
	switch a {
	case flipLR:
		return false, flip, w, 0, 0
	case flipUD:
		return false, 0, 0, flip, h
	case rot180:
		return false, flip, w, flip, h
	case rot90CW: // (H−1−y, x)
		return true, flip, h, 0, 0
	case rot90CCW: // (y, W−1−x)
		return true, 0, 0, flip, w
	case transposeXY: // (y, x)
		return true, 0, 0, 0, 0
	case antitranspose: // (H−1−y, W−1−x)
		return true, flip, h, flip, w
	}
	return false, 0, 0, 0, 0
}

type transpose struct {
	action action
	random bool    // random-flip-lr/ud: apply action with probability prob, one draw per sample
	prob   float64 // random-flip-lr/ud
	w, h   int
	// This sample's map (see mapping).
	swap           bool
	nx, ax, ny, ay uint16
}

func (tr *transpose) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	tr.w, tr.h = in.Geometry.Width, in.Geometry.Height
	active := tr.action
	if tr.random && !(rng.Float64() < tr.prob) {
		active = identity
	}
	tr.swap, tr.nx, tr.ax, tr.ny, tr.ay = active.mapping(tr.w, tr.h)
	if active.swapsAxes() {
		in.Geometry = events.Geometry{Width: tr.h, Height: tr.w}
	}
	return in, nil
}

func (tr *transpose) Process(in, out *events.Batch) error {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	X, Y, P = X[:len(T)], Y[:len(T)], P[:len(T)] // one bounds check covers the four
	j := 0
	W, H := uint16(tr.w), uint16(tr.h)
	nx, ax, ny, ay := tr.nx, tr.ax, tr.ny, tr.ay
	X0, Y0, P0 := in.X[:len(in.T)], in.Y[:len(in.T)], in.P[:len(in.T)]
	if tr.swap {
		for i, t := range in.T {
			x, y := X0[i], Y0[i]
			if x >= W || y >= H {
				continue
			}
			T[j], X[j], Y[j], P[j] = t, y^nx+ax, x^ny+ay, P0[i]
			j++
		}
	} else {
		for i, t := range in.T {
			x, y := X0[i], Y0[i]
			if x >= W || y >= H {
				continue
			}
			T[j], X[j], Y[j], P[j] = t, x^nx+ax, y^ny+ay, P0[i]
			j++
		}
	}
	out.Truncate(start + j)
	return nil
}

func (tr *transpose) Flush(*events.Batch) error { return nil }

func init() {
	register(&Def{Name: "transpose", Help: "flip, rotate or transpose the picture as displayed with y down (rotations and transposes swap W and H)",
		Params: []Param{{Name: "action", Kind: Choice, Choices: actionNames, Help: "flip-lr: x' = W−1−x; flip-ud: y' = H−1−y; rot180; rot90cw: (H−1−y, x); rot90ccw: (y, W−1−x); transpose: (y, x); antitranspose: (H−1−y, W−1−x)"}},
		Filter: func(v Values) (Filter, error) {
			if !v.Set("action") {
				return nil, fmt.Errorf("needs action=%v", actionNames)
			}
			return &transpose{action: parseAction(v.String("action"))}, nil
		}})
	for name, a := range map[string]action{"random-flip-lr": flipLR, "random-flip-ud": flipUD} {
		register(&Def{Name: name, Help: "flip the whole sample with probability prob (one draw per sample)",
			Params: []Param{{Name: "prob", Kind: Float, Default: "0.5", Help: "probability of flipping"}},
			Filter: func(v Values) (Filter, error) {
				if p := v.Float("prob"); p < 0 || p > 1 {
					return nil, fmt.Errorf("prob must be in [0, 1]")
				}
				return &transpose{action: a, random: true, prob: v.Float("prob")}, nil
			}})
	}
}

// --- downsample ---

// downsampleMode is what happens to the events that land on one target pixel.
type downsampleMode int

const (
	dsFloor downsampleMode = iota // every event kept at its target pixel
	dsMerge                       // an event within merge-us of the last output at its (x', y', p) is dropped
	dsIAF                         // integrate ±1 per target pixel, fire at ±threshold
)

var downsampleModes = map[string]downsampleMode{"floor": dsFloor, "merge": dsMerge, "iaf": dsIAF}

type downsample struct {
	mode         downsampleMode
	factor       int
	tw, th       int
	mergeUs      int64
	theta        float64
	tau          float64
	zeroReset    bool
	w, h, ow, oh int
	lastOut      []int64   // merge: last output time per (x', y', p)
	v            []float64 // iaf potential per target pixel
	lastT        []int64   // iaf: last update per target pixel
	xMap, yMap   []uint16  // x·W'/W and y·H'/H, tabulated: two divisions per event cost more than the rest
}

func (d *downsample) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	d.w, d.h = in.Geometry.Width, in.Geometry.Height
	if d.factor > 0 {
		if d.w%d.factor != 0 || d.h%d.factor != 0 {
			return in, fmt.Errorf("factor %d does not divide the %dx%d sensor; use to=WxH", d.factor, d.w, d.h)
		}
		d.ow, d.oh = d.w/d.factor, d.h/d.factor
	} else {
		d.ow, d.oh = d.tw, d.th
	}
	if d.ow <= 0 || d.oh <= 0 || d.ow > d.w || d.oh > d.h {
		return in, fmt.Errorf("target %dx%d must be at least 1x1 and at most the %dx%d sensor", d.ow, d.oh, d.w, d.h)
	}
	d.xMap, d.yMap = d.xMap[:0], d.yMap[:0]
	for x := 0; x < d.w; x++ {
		d.xMap = append(d.xMap, uint16(x*d.ow/d.w))
	}
	for y := 0; y < d.h; y++ {
		d.yMap = append(d.yMap, uint16(y*d.oh/d.h))
	}
	n := d.ow * d.oh
	switch d.mode {
	case dsMerge:
		d.lastOut = growInt64(d.lastOut, 2*n)
		fill(d.lastOut, never)
	case dsIAF:
		if cap(d.v) < n {
			d.v = make([]float64, n)
		}
		d.v = d.v[:n]
		clear(d.v)
		d.lastT = growInt64(d.lastT, n)
		fill(d.lastT, never)
	}
	in.Geometry = events.Geometry{Width: d.ow, Height: d.oh}
	return in, nil
}

func (d *downsample) Process(in, out *events.Batch) error {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	var j int
	switch d.mode {
	case dsMerge:
		j = d.merge(in, T, X, Y, P)
	case dsIAF:
		j = d.iaf(in, T, X, Y, P)
	default:
		j = d.floor(in, T, X, Y, P)
	}
	out.Truncate(start + j)
	return nil
}

func (d *downsample) floor(in *events.Batch, T []int64, X, Y []uint16, P []uint8) int {
	j := 0
	w, h, xMap, yMap := d.w, d.h, d.xMap, d.yMap
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x >= w || y >= h {
			continue
		}
		T[j], X[j], Y[j], P[j] = t, xMap[x], yMap[y], in.P[i]
		j++
	}
	return j
}

func (d *downsample) merge(in *events.Batch, T []int64, X, Y []uint16, P []uint8) int {
	j := 0
	w, h, ow, oh, xMap, yMap, lastOut := d.w, d.h, d.ow, d.oh, d.xMap, d.yMap, d.lastOut
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x >= w || y >= h {
			continue
		}
		xo, yo, p := xMap[x], yMap[y], in.P[i]
		k := (int(p&1)*oh+int(yo))*ow + int(xo)
		if l := lastOut[k]; l != never && l >= t-d.mergeUs {
			continue
		}
		lastOut[k] = t
		T[j], X[j], Y[j], P[j] = t, xo, yo, p
		j++
	}
	return j
}

func (d *downsample) iaf(in *events.Batch, T []int64, X, Y []uint16, P []uint8) int {
	if d.tau > 0 {
		return d.iafLeaky(in, T, X, Y, P)
	}
	// Without a leak the potential is a sum of ±1 and ±θ steps, and which way an event moves it and whether
	// it fires are coin flips on noisy data: computed without branches, so nothing mispredicts. Every event
	// writes an output slot; a firing one advances j past it.
	j := 0
	w, h, ow, xMap, yMap, v, theta := d.w, d.h, d.ow, d.xMap, d.yMap, d.v, d.theta
	step := [2]float64{-1, 1} // OFF, ON
	zeroReset := d.zeroReset
	X0, Y0, P0 := in.X[:len(in.T)], in.Y[:len(in.T)], in.P[:len(in.T)]
	for i, t := range in.T {
		x, y := int(X0[i]), int(Y0[i])
		if x >= w || y >= h {
			continue
		}
		xo, yo := xMap[x], yMap[y]
		k := int(yo)*ow + int(xo)
		vk := v[k] + step[b2i(P0[i] != 0)] // v ± 1, as v++ or v-- gives it
		up, down := b2i(vk >= theta), b2i(vk <= -theta)
		if zeroReset {
			// v := 0 after a spike: clear the bits (an exact +0).
			vk = math.Float64frombits(math.Float64bits(vk) & (uint64(up|down) - 1))
		} else {
			// v − θ after an ON spike, v + θ after an OFF one, v − 0 = v otherwise: exact in each case.
			vk -= theta * float64(up-down)
		}
		v[k] = vk
		T[j], X[j], Y[j], P[j] = t, xo, yo, uint8(up)
		j += up | down
	}
	return j
}

// iafLeaky is iaf with the leak v·e^(−Δt/τ) since the target pixel's last event.
func (d *downsample) iafLeaky(in *events.Batch, T []int64, X, Y []uint16, P []uint8) int {
	j := 0
	w, h, ow, xMap, yMap := d.w, d.h, d.ow, d.xMap, d.yMap
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x >= w || y >= h {
			continue
		}
		xo, yo := xMap[x], yMap[y]
		k := int(yo)*ow + int(xo)
		v := d.v[k]
		if d.lastT[k] != never {
			v *= math.Exp(-float64(t-d.lastT[k]) / d.tau)
		}
		d.lastT[k] = t
		if in.P[i] != 0 {
			v++
		} else {
			v--
		}
		if v >= d.theta {
			T[j], X[j], Y[j], P[j] = t, xo, yo, 1
			j++
			v -= d.theta
			if d.zeroReset {
				v = 0
			}
		} else if v <= -d.theta {
			T[j], X[j], Y[j], P[j] = t, xo, yo, 0
			j++
			v += d.theta
			if d.zeroReset {
				v = 0
			}
		}
		d.v[k] = v
	}
	return j
}

// b2i is 1 for true: the compiler makes it a flag move, not a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (d *downsample) Flush(*events.Batch) error { return nil }

func init() {
	register(&Def{Name: "downsample", Help: "map x' = x·W'/W, y' = y·H'/H (integer division); floor keeps every event, merge drops an event when the previous output at the same (x', y', p) is at most merge-us older, iaf integrates ±1 per event and fires at ±threshold",
		Params: []Param{
			{Name: "factor", Kind: Int, Help: "divide both sizes by this (must divide them exactly)"},
			{Name: "to", Kind: Size, Unit: "px", Help: "target size WxH (instead of factor)"},
			{Name: "mode", Kind: Choice, Default: "floor", Choices: []string{"floor", "merge", "iaf"}},
			{Name: "merge-us", Kind: Duration, Unit: "µs", Default: "0us", Help: "merge: window within which duplicates collapse"},
			{Name: "threshold", Kind: Float, Help: "iaf: firing threshold θ ≥ 1 (required for iaf)"},
			{Name: "tau", Kind: Duration, Unit: "µs", Default: "0us", Help: "iaf: leak time constant (0: no leak)"},
			{Name: "reset", Kind: Choice, Default: "subtract", Choices: []string{"subtract", "zero"}, Help: "iaf: V − θ after a spike, or 0 (tonic)"},
		},
		Filter: func(v Values) (Filter, error) {
			d := &downsample{mode: downsampleModes[v.String("mode")], mergeUs: v.Int("merge-us"), theta: v.Float("threshold"),
				tau: float64(v.Int("tau")), zeroReset: v.String("reset") == "zero"}
			switch {
			case v.Set("factor") == v.Set("to"):
				return nil, fmt.Errorf("give exactly one of factor and to")
			case v.Set("factor"):
				if v.Int("factor") < 1 {
					return nil, fmt.Errorf("factor must be at least 1")
				}
				d.factor = int(v.Int("factor"))
			default:
				d.tw, d.th = v.Size("to")
			}
			if d.mode == dsIAF && d.theta < 1 {
				return nil, fmt.Errorf("iaf needs threshold ≥ 1")
			}
			return d, nil
		}})
}
