package transforms

import (
	"fmt"
	"math"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/tensors"
)

// Image is one (P, H, W) frame of event counts over the whole sample (tonic's ToImage).
type Image struct{ Binary bool }

// FixedShape: (P, H, W) for every sample.
func (im *Image) FixedShape() bool { return true }

// Compute counts every event of the sample (uint16, saturating; 1 with Binary).
func (im *Image) Compute(b *events.Batch, in Shape) (*tensors.Tensor, error) {
	if !in.Geometry.Known() {
		return nil, fmt.Errorf("image needs the sensor size")
	}
	P, H, W := max(in.Polarities, 1), in.Geometry.Height, in.Geometry.Width
	out := &tensors.Tensor{Shape: []int{P, H, W}, U16: make([]uint16, P*H*W)}
	for i := range b.T {
		x, y, p := int(b.X[i]), int(b.Y[i]), min(int(b.P[i]), P-1)
		if x >= W || y >= H {
			continue
		}
		c := &out.U16[(p*H+y)*W+x]
		if im.Binary {
			*c = 1
		} else if *c < math.MaxUint16 {
			*c++
		}
	}
	return out, nil
}

func init() {
	register(&Def{Name: "image", Help: "one (P, H, W) frame of event counts over the whole sample (tonic ToImage); empty input gives zeros",
		Params: []Param{{Name: "binary", Kind: Bool, Default: "false", Help: "clamp counts to 1"}},
		Rep: func(v Values) (Representation, error) {
			return &Image{Binary: v.Bool("binary")}, nil
		}})
}

// Voxel is the voxel grid of Zhu et al. 2019 (e2vid normalisation): float32 (B, H, W); each event adds
// its sign ±1 times max(0, 1 − |τ − k|) to the bins k around τ = (B−1)(t − t_first)/(t_last − t_first).
type Voxel struct{ Bins int }

// FixedShape: (B, H, W) for every sample.
func (v *Voxel) FixedShape() bool { return true }

// Compute makes the voxel grid of one sample.
func (v *Voxel) Compute(b *events.Batch, in Shape) (*tensors.Tensor, error) {
	if !in.Geometry.Known() {
		return nil, fmt.Errorf("voxel needs the sensor size")
	}
	B, H, W := v.Bins, in.Geometry.Height, in.Geometry.Width
	out := &tensors.Tensor{Shape: []int{B, H, W}, F32: make([]float32, B*H*W)}
	n := b.Len()
	if n == 0 {
		return out, nil
	}
	tf, tl := b.T[0], b.T[n-1]
	for i := 0; i < n; i++ {
		x, y := int(b.X[i]), int(b.Y[i])
		if x >= W || y >= H {
			continue
		}
		tau := 0.0
		if tl != tf {
			tau = float64(B-1) * float64(b.T[i]-tf) / float64(tl-tf)
		}
		s := -1.0
		if b.P[i] != 0 {
			s = 1
		}
		k0 := int(math.Floor(tau))
		for k := k0; k <= k0+1; k++ {
			if k < 0 || k >= B {
				continue
			}
			if w := 1 - math.Abs(tau-float64(k)); w > 0 {
				out.F32[(k*H+y)*W+x] += float32(s * w)
			}
		}
	}
	return out, nil
}

func init() {
	register(&Def{Name: "voxel", Help: "voxel grid (B, H, W) float32: each event adds ±max(0, 1−|τ−k|) to bins k around τ = (B−1)(t−t_first)/(t_last−t_first)",
		Params: []Param{{Name: "bins", Kind: Int, Default: "5", Help: "B"}},
		Rep: func(v Values) (Representation, error) {
			if v.Int("bins") < 1 {
				return nil, fmt.Errorf("bins must be at least 1")
			}
			return &Voxel{Bins: int(v.Int("bins"))}, nil
		}})
}

// windowsOf is the number of windows of W µs that cover a sample from its first event, the last one
// possibly partial (frames by window with include-incomplete), and the first event's time.
func windowsOf(b *events.Batch, W int64) (K int, t0 int64) {
	n := b.Len()
	if n == 0 {
		return 0, 0
	}
	t0 = b.T[0]
	D := b.T[n-1] + 1 - t0
	return int((max(D-W, 0)+W-1)/W + 1), t0
}

// Decay is how a representation's values fade with time; each representation says which it takes.
type Decay int

const (
	DecayNone   Decay = iota // no decay (Accumulate)
	DecayExp                 // e^(−Δ/τ)
	DecayLin                 // linear down to 0 (TimeSurface, HATS), or towards neutral (Accumulate)
	DecayWindow              // 1 while Δ < τ, then 0 (TimeSurface)
	DecayStep                // back to neutral at every frame (Accumulate)
)

// decayFunc is a time-surface kernel: the value of an event Δ µs old.
type decayFunc func(age float64) float64

func surfaceDecay(d Decay, tau float64) (decayFunc, error) {
	switch d {
	case DecayExp:
		return func(a float64) float64 { return math.Exp(-a / tau) }, nil
	case DecayLin:
		return func(a float64) float64 { return max(0, 1-a/tau) }, nil
	case DecayWindow:
		return func(a float64) float64 {
			if a < tau {
				return 1
			}
			return 0
		}, nil
	}
	return nil, fmt.Errorf("time surfaces decay by DecayExp, DecayLin or DecayWindow, not %d", d)
}

// TimeSurface is, per (polarity, pixel), the time of the latest event, seen through a decay.
//   - Global (Every > 0): K surfaces, sampled at s_k = t0 + (k+1)·Every after every event with t < s_k,
//     K = ⌈max(D − Every, 0)/Every⌉ + 1 (frames by window with include-incomplete); (K, P, H, W).
//   - Local (Radius > 0, HOTS): for every Stride-th event, the (2R+1)² patch of its polarity's surface
//     around it at its own time (its pixel = 1; off-sensor cells 0); (N', 2R+1, 2R+1).
//
// A pixel that never fired is 0. Output float32.
type TimeSurface struct {
	Every  int64
	Radius int
	Stride int
	Tau    int64
	Decay  Decay // DecayExp, DecayLin (max(0, 1 − Δ/τ)) or DecayWindow
}

// FixedShape: the number of surfaces (or patches) follows the sample.
func (ts *TimeSurface) FixedShape() bool { return false }

// Compute makes the surfaces of one sample.
func (ts *TimeSurface) Compute(b *events.Batch, in Shape) (*tensors.Tensor, error) {
	if !in.Geometry.Known() {
		return nil, fmt.Errorf("timesurface needs the sensor size")
	}
	f, err := surfaceDecay(ts.Decay, float64(ts.Tau))
	if err != nil {
		return nil, err
	}
	P, H, W := max(in.Polarities, 1), in.Geometry.Height, in.Geometry.Width
	const never = math.MinInt64
	last := make([]int64, P*H*W)
	for i := range last {
		last[i] = never
	}
	value := func(l, at int64) float32 {
		if l == never {
			return 0
		}
		return float32(f(float64(at - l)))
	}
	n := b.Len()
	if ts.Radius > 0 {
		R, side := ts.Radius, 2*ts.Radius+1
		stride := max(ts.Stride, 1)
		out := &tensors.Tensor{Shape: []int{0, side, side}}
		for i := 0; i < n; i++ {
			x, y, p := int(b.X[i]), int(b.Y[i]), min(int(b.P[i]), P-1)
			if x >= W || y >= H {
				continue
			}
			t := b.T[i]
			plane := last[p*H*W : (p+1)*H*W]
			plane[y*W+x] = t
			if i%stride != 0 {
				continue
			}
			for dy := -R; dy <= R; dy++ {
				for dx := -R; dx <= R; dx++ {
					var v float32
					if xx, yy := x+dx, y+dy; xx >= 0 && xx < W && yy >= 0 && yy < H {
						v = value(plane[yy*W+xx], t)
					}
					out.F32 = append(out.F32, v)
				}
			}
			out.Shape[0]++
		}
		if out.F32 == nil {
			out.F32 = []float32{}
		}
		return out, nil
	}
	K, t0 := windowsOf(b, ts.Every)
	plane := P * H * W
	out := &tensors.Tensor{Shape: []int{K, P, H, W}, F32: make([]float32, K*plane)}
	i := 0
	for k := 0; k < K; k++ {
		s := t0 + int64(k+1)*ts.Every
		for ; i < n && b.T[i] < s; i++ {
			x, y, p := int(b.X[i]), int(b.Y[i]), min(int(b.P[i]), P-1)
			if x < W && y < H {
				last[(p*H+y)*W+x] = b.T[i]
			}
		}
		dst := out.F32[k*plane : (k+1)*plane]
		for j, l := range last {
			dst[j] = value(l, s)
		}
	}
	return out, nil
}

func init() {
	register(&Def{Name: "timesurface", Help: "time surfaces, float32: global (every=dt): (K, P, H, W) sampled at t0 + (k+1)·dt after the events before it, K = ⌈max(D − dt, 0)/dt⌉ + 1; local (radius=R): (N, 2R+1, 2R+1) patches of the event's polarity around every stride-th event at its time (centre 1, off-sensor 0); a pixel that never fired is 0; empty input gives K = N = 0",
		Params: []Param{
			{Name: "every", Kind: Duration, Unit: "µs", Help: "global surfaces every dt"},
			{Name: "radius", Kind: Int, Unit: "px", Help: "local patches of radius R (HOTS)"},
			{Name: "stride", Kind: Int, Default: "1", Help: "local: a patch for every stride-th event"},
			{Name: "tau", Kind: Duration, Unit: "µs", Default: "5ms", Help: "time constant τ (the window for decay=window)"},
			{Name: "decay", Kind: Choice, Default: "exp", Choices: []string{"exp", "lin", "window"}, Help: "e^(−Δ/τ), max(0, 1 − Δ/τ), or Δ < τ ? 1 : 0"},
		},
		Rep: func(v Values) (Representation, error) {
			ts := &TimeSurface{Every: v.Int("every"), Radius: int(v.Int("radius")), Stride: int(v.Int("stride")),
				Tau: v.Int("tau"), Decay: map[string]Decay{"exp": DecayExp, "lin": DecayLin, "window": DecayWindow}[v.String("decay")]}
			if v.Set("every") == v.Set("radius") {
				return nil, fmt.Errorf("give exactly one of every (global surfaces) and radius (local patches)")
			}
			if v.Set("every") && ts.Every <= 0 || v.Set("radius") && (ts.Radius < 1 || ts.Radius > 64) {
				return nil, fmt.Errorf("want every > 0, or 1 ≤ radius ≤ 64")
			}
			if ts.Tau <= 0 || ts.Stride < 1 {
				return nil, fmt.Errorf("want tau > 0 and stride ≥ 1")
			}
			return ts, nil
		}})
}

// HATS is Sironi et al. 2018: per cell and polarity, the average over its events of their local
// time surfaces built from the earlier events of the same cell and polarity within Window, (n_cells, P,
// S, S) with cells ⌈W/C⌉ × ⌈H/C⌉ in row-major order.
type HATS struct {
	Cell, Surface int
	Window, Tau   int64
	Decay         Decay // DecayExp: e^(−Δt/τ) (also the zero value); DecayLin: max(0, 1 − Δt/(3τ))
}

// FixedShape: (cells, P, S, S) for every sample.
func (h *HATS) FixedShape() bool { return true }

type hatsEvent struct {
	t    int64
	x, y int32
}

// Compute makes the averaged surfaces. Each (cell, polarity) keeps a queue of its events newer than
// t − Window, so the cost is O(N · events in the window) rather than tonic's O(N²) per cell.
func (h *HATS) Compute(b *events.Batch, in Shape) (*tensors.Tensor, error) {
	if !in.Geometry.Known() {
		return nil, fmt.Errorf("hats needs the sensor size")
	}
	tau := float64(h.Tau)
	k := func(a float64) float64 { return math.Exp(-a / tau) }
	if h.Decay == DecayLin {
		k = func(a float64) float64 { return max(0, 1-a/(3*tau)) }
	}
	P, H, W := max(in.Polarities, 1), in.Geometry.Height, in.Geometry.Width
	C, S := h.Cell, h.Surface
	rho := S / 2
	cw, ch := (W+C-1)/C, (H+C-1)/C
	cells := cw * ch
	out := &tensors.Tensor{Shape: []int{cells, P, S, S}, F32: make([]float32, cells*P*S*S)}
	acc := make([]float64, len(out.F32))
	counts := make([]int, cells*P)
	queues := make([][]hatsEvent, cells*P)
	heads := make([]int, cells*P)
	for i := range b.T {
		x, y, p := int(b.X[i]), int(b.Y[i]), min(int(b.P[i]), P-1)
		if x >= W || y >= H {
			continue
		}
		t := b.T[i]
		q := (y/C*cw+x/C)*P + p
		surf := acc[q*S*S : (q+1)*S*S]
		// Forget what left the window [t − Δ, t], then add every remaining neighbour's kernel.
		for heads[q] < len(queues[q]) && queues[q][heads[q]].t < t-h.Window {
			heads[q]++
		}
		for _, e := range queues[q][heads[q]:] {
			dx, dy := int(e.x)-x, int(e.y)-y
			if dx < -rho || dx > rho || dy < -rho || dy > rho {
				continue
			}
			surf[(dy+rho)*S+dx+rho] += k(float64(t - e.t))
		}
		surf[rho*S+rho]++
		counts[q]++
		if heads[q] > 64 && heads[q] > len(queues[q])/2 {
			queues[q] = append(queues[q][:0], queues[q][heads[q]:]...)
			heads[q] = 0
		}
		queues[q] = append(queues[q], hatsEvent{t, int32(x), int32(y)})
	}
	for q, n := range counts {
		if n == 0 {
			continue
		}
		for j := q * S * S; j < (q+1)*S*S; j++ {
			out.F32[j] = float32(acc[j] / float64(n))
		}
	}
	return out, nil
}

func init() {
	register(&Def{Name: "hats", Help: "histograms of averaged time surfaces (Sironi 2018), float32 (cells, P, S, S) over ⌈W/C⌉×⌈H/C⌉ cells: each event's S×S surface sums k(t − t') of the earlier same-cell, same-polarity events within the window (plus 1 at its centre), averaged per cell and polarity; empty input gives zeros",
		Params: []Param{
			{Name: "cell", Kind: Int, Unit: "px", Default: "10", Help: "cell size C"},
			{Name: "surface", Kind: Int, Unit: "px", Default: "7", Help: "surface size S (odd, ≤ C)"},
			{Name: "window", Kind: Duration, Unit: "µs", Default: "500ms", Help: "Δ: earlier events with t − Δ ≤ t' ≤ t count"},
			{Name: "tau", Kind: Duration, Unit: "µs", Default: "5ms", Help: "time constant τ"},
			{Name: "decay", Kind: Choice, Default: "lin", Choices: []string{"lin", "exp"}, Help: "max(0, 1 − Δt/(3τ)) (clamped, unlike tonic) or e^(−Δt/τ)"},
		},
		Rep: func(v Values) (Representation, error) {
			h := &HATS{Cell: int(v.Int("cell")), Surface: int(v.Int("surface")), Window: v.Int("window"),
				Tau: v.Int("tau"), Decay: map[string]Decay{"lin": DecayLin, "exp": DecayExp}[v.String("decay")]}
			if h.Cell < 1 || h.Surface < 1 || h.Surface%2 == 0 || h.Surface > h.Cell {
				return nil, fmt.Errorf("want cell ≥ 1 and an odd surface ≤ cell")
			}
			if h.Window < 0 || h.Tau <= 0 {
				return nil, fmt.Errorf("want window ≥ 0 and tau > 0")
			}
			return h, nil
		}})
}

// Accumulate is dv-processing's Accumulator (faery's render): a per-pixel potential
// v, starting at Neutral, that each event moves by +Contribution (ON) or −Contribution (OFF; + for both
// with Rectify, or when the polarities were merged), clamped to [Min, Max] after every event. Between
// frames of Window µs it decays towards Neutral: none; linear, |v − Neutral| shrinking by Slope per
// second; exponential, (v − Neutral)·e^(−Window/Tau); step, back to Neutral. Frame k holds the potential
// after the events of [t0 + k·Window, t0 + (k+1)·Window); K = ⌈max(D − Window, 0)/Window⌉ + 1 frames
// (none for an empty sample). Output float32 (K, H, W).
type Accumulate struct {
	Window, Tau                            int64
	Decay                                  Decay // DecayNone, DecayLin, DecayExp or DecayStep
	Slope, Contribution, Neutral, Min, Max float64
	Rectify                                bool
}

// FixedShape: the number of frames follows the sample's duration.
func (a *Accumulate) FixedShape() bool { return false }

// Compute accumulates one sample.
func (a *Accumulate) Compute(b *events.Batch, in Shape) (*tensors.Tensor, error) {
	if !in.Geometry.Known() {
		return nil, fmt.Errorf("accumulate needs the sensor size")
	}
	H, W := in.Geometry.Height, in.Geometry.Width
	n := b.Len()
	K, t0 := windowsOf(b, a.Window)
	out := &tensors.Tensor{Shape: []int{K, H, W}, F32: make([]float32, K*H*W)}
	v := make([]float64, H*W)
	for i := range v {
		v[i] = a.Neutral
	}
	rectify := a.Rectify || in.Polarities == 1
	expFactor := math.Exp(-float64(a.Window) / float64(a.Tau))
	step := a.Slope * float64(a.Window) / 1e6
	i := 0
	for k := 0; k < K; k++ {
		if k > 0 {
			switch a.Decay {
			case DecayLin:
				for j, x := range v {
					d := x - a.Neutral
					v[j] = a.Neutral + math.Copysign(max(0, math.Abs(d)-step), d)
				}
			case DecayExp:
				for j, x := range v {
					v[j] = a.Neutral + (x-a.Neutral)*expFactor
				}
			case DecayStep:
				for j := range v {
					v[j] = a.Neutral
				}
			}
		}
		end := t0 + int64(k+1)*a.Window
		for ; i < n && b.T[i] < end; i++ {
			x, y := int(b.X[i]), int(b.Y[i])
			if x >= W || y >= H {
				continue
			}
			c := a.Contribution
			if !rectify && b.P[i] == 0 {
				c = -c
			}
			p := &v[y*W+x]
			*p = min(max(*p+c, a.Min), a.Max)
		}
		dst := out.F32[k*H*W : (k+1)*H*W]
		for j, x := range v {
			dst[j] = float32(x)
		}
	}
	return out, nil
}

var accumulateDecays = map[string]Decay{"none": DecayNone, "linear": DecayLin, "exponential": DecayExp, "step": DecayStep}

func init() {
	register(&Def{Name: "accumulate", Help: "decaying per-pixel potential, float32 (K, H, W), one frame per window: events add ±contribution (clamped to [min, max]), between frames the potential decays towards neutral (none, linear, exponential, step); K = ⌈max(D − window, 0)/window⌉ + 1, none for an empty sample",
		Params: []Param{
			{Name: "window", Kind: Duration, Unit: "µs", Help: "frame period (required)"},
			{Name: "decay", Kind: Choice, Default: "exponential", Choices: []string{"none", "linear", "exponential", "step"}, Help: "decay between frames"},
			{Name: "tau", Kind: Duration, Unit: "µs", Help: "exponential: time constant (default: the window)"},
			{Name: "slope", Kind: Float, Unit: "1/s", Default: "1", Help: "linear: potential lost per second"},
			{Name: "contribution", Kind: Float, Default: "0.15", Help: "potential added by an ON event (subtracted by OFF)"},
			{Name: "neutral", Kind: Float, Default: "0", Help: "resting potential"},
			{Name: "min", Kind: Float, Default: "-1", Help: "lower bound"},
			{Name: "max", Kind: Float, Default: "1", Help: "upper bound"},
			{Name: "rectify", Kind: Bool, Default: "false", Help: "OFF events add too"},
		},
		Rep: func(v Values) (Representation, error) {
			a := &Accumulate{Window: v.Int("window"), Tau: v.Int("tau"), Decay: accumulateDecays[v.String("decay")], Slope: v.Float("slope"),
				Contribution: v.Float("contribution"), Neutral: v.Float("neutral"), Min: v.Float("min"), Max: v.Float("max"),
				Rectify: v.Bool("rectify")}
			if a.Window <= 0 {
				return nil, fmt.Errorf("needs window > 0")
			}
			if !v.Set("tau") {
				a.Tau = a.Window
			}
			if a.Tau <= 0 || a.Slope < 0 || a.Min > a.Max || a.Neutral < a.Min || a.Neutral > a.Max {
				return nil, fmt.Errorf("want tau > 0, slope ≥ 0 and min ≤ neutral ≤ max")
			}
			return a, nil
		}})
}
