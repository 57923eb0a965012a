package transforms

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/evtool/evtool/events"
)

// Augmentations: seeded changes that keep a sample's content — Gaussian jitter in space and time, and
// uniform noise events (the drops are in drop.go).

// --- jitter-xy: correlated 2-D Gaussian displacement, rounded to nearest ---

type jitterXY struct {
	sx, sy, rho float64
	clip        bool
	w, h        int
	gauss       gaussian
	z           [128]float64 // normals for 64 events (correlated axes), drawn in a tight loop of their own
	// With ρ = 0 and σ ≤ maxAliasSigma the displacements are drawn already rounded, per axis.
	dx, dy *roundedNormal
}

func (j *jitterXY) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	j.w, j.h = in.Geometry.Width, in.Geometry.Height
	j.gauss.seed(rng)
	return in, nil
}

func (j *jitterXY) Process(in, out *events.Batch) error {
	if j.dx != nil {
		j.independent(in, out)
		return nil
	}
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	// dy = sy·(ρ·z1 + √(1−ρ²)·z2) gives the covariance [[sx², ρ·sx·sy], [ρ·sx·sy, sy²]].
	sx, cy1, cy2 := j.sx, j.sy*j.rho, j.sy*math.Sqrt(1-j.rho*j.rho)
	maxX, maxY := float64(j.w-1), float64(j.h-1)
	n := 0
	for lo := 0; lo < in.Len(); lo += len(j.z) / 2 {
		T0 := in.T[lo:min(lo+len(j.z)/2, in.Len())]
		X0, Y0, P0 := in.X[lo:lo+len(T0)], in.Y[lo:lo+len(T0)], in.P[lo:lo+len(T0)]
		z := j.z[:2*len(T0)]
		j.gauss.fill(z)
		if j.clip {
			for i, t := range T0 {
				x := clamp(float64(X0[i])+sx*z[2*i], maxX)
				y := clamp(float64(Y0[i])+cy1*z[2*i]+cy2*z[2*i+1], maxY)
				T[n], X[n], Y[n], P[n] = t, roundHalfUp(x), roundHalfUp(y), P0[i]
				n++
			}
			continue
		}
		for i, t := range T0 {
			x := float64(X0[i]) + sx*z[2*i]
			y := float64(Y0[i]) + cy1*z[2*i] + cy2*z[2*i+1]
			// Rounded to nearest, halves away from zero: on the sensor when −0.5 < x < W − 0.5 (a NaN
			// from overflowing sigmas is not).
			if !(x > -0.5 && x < maxX+0.5 && y > -0.5 && y < maxY+0.5) {
				continue
			}
			T[n], X[n], Y[n], P[n] = t, roundHalfUp(x), roundHalfUp(y), P0[i]
			n++
		}
	}
	out.Truncate(start + n)
	return nil
}

// independent is Process for uncorrelated axes: d = round(σ·z) per axis from one table look-up each, so
// x + d is rounded already.
func (j *jitterXY) independent(in, out *events.Batch) {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	pcg := &j.gauss.pcg
	nx, cx, dx := j.dx.n, j.dx.coin, j.dx.d
	ny, cy, dy := j.dy.n, j.dy.coin, j.dy.d
	W, H := int32(j.w), int32(j.h)
	clip := j.clip
	X0, Y0, P0 := in.X[:len(in.T)], in.Y[:len(in.T)], in.P[:len(in.T)]
	n := 0
	for i, t := range in.T {
		// roundedNormal.sample for each axis, written out so the tables stay in registers.
		u := pcg.Uint64()
		mx, my := uint64(uint32(u))*nx, u>>32*ny
		ix, iy := mx>>32, my>>32
		x := int32(X0[i]) + dx[ix][b2i(uint32(mx) < cx[ix])]
		y := int32(Y0[i]) + dy[iy][b2i(uint32(my) < cy[iy])]
		if clip {
			x, y = min(max(x, 0), W-1), min(max(y, 0), H-1)
		}
		// Every event writes a slot; one still on the sensor advances n.
		T[n], X[n], Y[n], P[n] = t, uint16(x), uint16(y), P0[i]
		n += b2i(uint32(x) < uint32(W) && uint32(y) < uint32(H))
	}
	out.Truncate(start + n)
}

// clamp limits v to [0, hi]; NaN becomes 0.
func clamp(v, hi float64) float64 {
	if !(v > 0) {
		return 0
	}
	return min(v, hi)
}

// roundHalfUp rounds v in (−0.5, 65535.5) to the nearest integer, halves up: ⌊v + 0.49999999999999994⌋
// (adding 0.5 itself would carry 0.49999999999999994 up to 1), truncated toward zero, which is ⌊·⌋ here
// and takes (−0.5, 0) to 0.
func roundHalfUp(v float64) uint16 { return uint16(int32(v + 0.49999999999999994)) }

func (j *jitterXY) Flush(*events.Batch) error { return nil }

// --- jitter-t: t' = t + round(N(0, σ)), stable re-sort ---

// jitterT re-sorts through a reorder buffer: the jitter is clamped to ±⌈6σ⌉, so once the input has
// reached time t, every pending event jittered below t − ⌈6σ⌉ is final and can be emitted in order.
type jitterT struct {
	sigma   float64
	bound   int64 // ⌈6σ⌉: the jitter is clamped to ±bound, so a reorder buffer of that much time suffices
	clipNeg bool
	src     *rand.PCG
	norm    libNormals   // rng.NormFloat64's values, drawn without a call per value through rng's Source
	pend    events.Batch // jittered events not yet emitted, in arrival order
	rest    events.Batch // scratch for compaction
	order   []timeIndex
	scratch []timeIndex // sortTimeIndex's
}

// timeIndex orders held events by (t, arrival): an unstable sort on it is a stable sort on t.
type timeIndex struct {
	t int64
	i int32
}

func (j *jitterT) useSource(src *rand.PCG) { j.src = src }

func (j *jitterT) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	j.norm.reset(rng, j.src)
	j.pend.Reset()
	j.bound = int64(math.Ceil(6 * j.sigma))
	return in, nil
}

func (j *jitterT) Process(in, out *events.Batch) error {
	start := j.pend.Len()
	T, X, Y, P := j.pend.Extend(in.Len())
	n := 0
	for i, t := range in.T {
		d := int64(math.Round(j.sigma * j.norm.next()))
		t += min(max(d, -j.bound), j.bound)
		if t < 0 {
			if !j.clipNeg {
				continue
			}
			t = 0
		}
		T[n], X[n], Y[n], P[n] = t, in.X[i], in.Y[i], in.P[i]
		n++
	}
	j.pend.Truncate(start + n)
	if in.Len() > 0 {
		// Every later input has t ≥ this batch's last, so its jittered time is ≥ last − bound: whatever
		// lies below that is final.
		j.emit(out, in.T[in.Len()-1]-j.bound)
	}
	return nil
}

// emit sends, in (t, arrival) order, the pending events with t < limit, and keeps the others.
func (j *jitterT) emit(out *events.Batch, limit int64) {
	p := &j.pend
	j.order = j.order[:0]
	j.rest.Reset()
	for i, t := range p.T {
		if t < limit {
			j.order = append(j.order, timeIndex{t, int32(i)})
		} else {
			j.rest.Append(t, p.X[i], p.Y[i], p.P[i])
		}
	}
	if len(j.order) == 0 {
		return
	}
	sortTimeIndex(j.order, &j.scratch)
	start := out.Len()
	T, X, Y, P := out.Extend(len(j.order))
	for k, o := range j.order {
		T[k], X[k], Y[k], P[k] = o.t, p.X[o.i], p.Y[o.i], p.P[o.i]
	}
	out.Truncate(start + len(j.order))
	j.pend, j.rest = j.rest, j.pend
}

func (j *jitterT) Flush(out *events.Batch) error {
	j.emit(out, math.MaxInt64)
	return nil
}

func init() {
	register(&Def{Name: "jitter-xy", Help: "move each event by a 2-D Gaussian (covariance [[sx², rho·sx·sy], [rho·sx·sy, sy²]]) rounded to nearest; events leaving the sensor are dropped, or clamped with clip",
		Params: []Param{
			{Name: "sigma-x", Kind: Float, Unit: "px", Help: "standard deviation along x (required)"},
			{Name: "sigma-y", Kind: Float, Unit: "px", Help: "standard deviation along y (required)"},
			{Name: "rho", Kind: Float, Default: "0", Help: "correlation of the x and y displacements, in [−1, 1]"},
			{Name: "clip", Kind: Bool, Default: "false", Help: "clamp to the sensor instead of dropping"},
		},
		Filter: func(v Values) (Filter, error) {
			sx, sy, rho := v.Float("sigma-x"), v.Float("sigma-y"), v.Float("rho")
			if !v.Set("sigma-x") || !v.Set("sigma-y") || sx < 0 || sy < 0 {
				return nil, fmt.Errorf("needs sigma-x ≥ 0 and sigma-y ≥ 0")
			}
			if rho < -1 || rho > 1 {
				return nil, fmt.Errorf("rho must be in [−1, 1]")
			}
			j := &jitterXY{sx: sx, sy: sy, rho: rho, clip: v.Bool("clip")}
			if rho == 0 && sx <= maxAliasSigma && sy <= maxAliasSigma {
				j.dx, j.dy = roundedNormalOf(sx), roundedNormalOf(sy)
			}
			return j, nil
		}})
	register(&Def{Name: "jitter-t", Help: "t' = t + round(N(0, sigma)) clamped to ±⌈6·sigma⌉, then a stable re-sort on t through a reorder buffer of ⌈6·sigma⌉ µs (streams in bounded memory); negative times are dropped, or set to 0 with clip-negative",
		Params: []Param{
			{Name: "sigma", Kind: Duration, Unit: "µs", Help: "standard deviation (required)"},
			{Name: "clip-negative", Kind: Bool, Default: "false", Help: "set negative times to 0 instead of dropping"},
		},
		Filter: func(v Values) (Filter, error) {
			if !v.Set("sigma") || v.Int("sigma") < 0 {
				return nil, fmt.Errorf("needs sigma ≥ 0")
			}
			return &jitterT{sigma: float64(v.Int("sigma")), clipNeg: v.Bool("clip-negative")}, nil
		}})
}

// sortTimeIndex sorts by (t, arrival), stably by t, using scratch (grown as needed). The input was
// time-ordered and each event moved by a few σ, so the keys are nearly sorted: insertion sort is close to
// linear. Once its moves add up to more than 8 per event (a σ wide against the event spacing, or noise
// spread over the sample), a radix sort finishes the job in a few passes over the data.
func sortTimeIndex(o []timeIndex, scratch *[]timeIndex) {
	budget := 8 * len(o)
	for i := 1; i < len(o); i++ {
		v := o[i]
		k := i
		for k > 0 && o[k-1].t > v.t { // strict: equal times keep arrival order
			o[k] = o[k-1]
			k--
		}
		o[k] = v
		if budget -= i - k; budget < 0 {
			radixSortTimeIndex(o, scratch)
			return
		}
	}
}

// radixSortTimeIndex sorts stably by t: least significant 11 bits of t − min first, each pass a stable
// counting sort, as many passes as the span of times needs.
func radixSortTimeIndex(o []timeIndex, scratch *[]timeIndex) {
	lo, hi := o[0].t, o[0].t
	for _, v := range o {
		lo, hi = min(lo, v.t), max(hi, v.t)
	}
	if cap(*scratch) < len(o) {
		*scratch = make([]timeIndex, len(o))
	}
	src, dst := o, (*scratch)[:len(o)]
	span := uint64(hi) - uint64(lo)
	for shift := uint(0); shift < 64 && span>>shift != 0; shift += 11 {
		var start [1 << 11]int
		for _, v := range src {
			start[(uint64(v.t)-uint64(lo))>>shift&(1<<11-1)]++
		}
		sum := 0
		for d, c := range start {
			start[d], sum = sum, sum+c
		}
		for _, v := range src {
			d := (uint64(v.t) - uint64(lo)) >> shift & (1<<11 - 1)
			dst[start[d]] = v
			start[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &o[0] {
		copy(o, src)
	}
}

// --- uniform-noise ---

// uniformNoise adds n events with x, y, p uniform on the sensor and t uniform in [t_first, t_last]
// (inclusive integers), merged by time with the sample's own events first on ties. It needs the
// whole sample; an empty sample stays empty (there is no time range to draw from).
type uniformNoise struct {
	n       int
	g       events.Geometry
	rng     *rand.Rand
	held    events.Batch
	order   []timeIndex
	scratch []timeIndex // sortTimeIndex's
}

func (u *uniformNoise) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	u.g, u.rng = in.Geometry, rng
	u.held.Reset()
	return in, nil
}

func (u *uniformNoise) Process(in, _ *events.Batch) error { u.held.AppendBatch(in); return nil }

func (u *uniformNoise) Flush(out *events.Batch) error {
	h := &u.held
	if h.Len() == 0 {
		return nil
	}
	tf, tl := h.T[0], h.T[h.Len()-1]

	for k := 0; k < u.n; k++ {
		h.Append(tf+u.rng.Int64N(tl-tf+1), uint16(u.rng.IntN(u.g.Width)), uint16(u.rng.IntN(u.g.Height)), uint8(u.rng.IntN(2)))
	}
	// (t, index) order: originals (lower indices) come first among equal times.
	u.order = u.order[:0]
	for i, t := range h.T {
		u.order = append(u.order, timeIndex{t, int32(i)})
	}
	sortTimeIndex(u.order, &u.scratch)
	start := out.Len()
	T, X, Y, P := out.Extend(h.Len())
	for k, o := range u.order {
		T[k], X[k], Y[k], P[k] = o.t, h.X[o.i], h.Y[o.i], h.P[o.i]
	}
	out.Truncate(start + h.Len())

	h.Reset()
	return nil
}

func init() {
	register(&Def{Name: "uniform-noise", Help: "add n events uniform in x, y, p and t ∈ [t_first, t_last], merged by time (the sample's events first on ties); needs the whole sample; an empty sample stays empty",
		Params: []Param{{Name: "n", Kind: Int, Help: "number of events to add (required)"}},
		Filter: func(v Values) (Filter, error) {
			if !v.Set("n") || v.Int("n") < 0 {
				return nil, fmt.Errorf("needs n ≥ 0")
			}
			return &uniformNoise{n: int(v.Int("n"))}, nil
		}})
}
