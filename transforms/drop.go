package transforms

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/evtool/evtool/events"
)

// Drops: seeded random removal of events (one by one, an exact count, a time interval, an area, pixels,
// tonic's EventDrop policy) and the deterministic per-pixel decimation.

// --- drop-event: independent Bernoulli(q) per event ---

type dropEvent struct {
	q    float64
	rng  *rand.Rand
	r    uint64 // unused half of the last draw: kept across batches, so splits do not change results
	have int
}

func (d *dropEvent) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	d.rng, d.have = rng, 0
	return in, nil
}

func (d *dropEvent) Process(in, out *events.Batch) error {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	// Two 32-bit draws per 64-bit number: the generator, not the loop, is the cost.
	thr := uint64(d.q * (1 << 32)) // 2^32 when q = 1: every draw is below it
	r, have := d.r, d.have
	for i, t := range in.T {
		if have == 0 {
			r, have = d.rng.Uint64(), 2
		}
		u := r & 0xffffffff
		r >>= 32
		have--
		if u < thr {
			continue
		}
		T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
		j++
	}
	d.r, d.have = r, have
	out.Truncate(start + j)
	return nil
}

func (d *dropEvent) Flush(*events.Batch) error { return nil }

// dropExact drops exactly ⌊q·N + 0.5⌋ events chosen uniformly without replacement (tonic's DropEvent).
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

func init() {
	register(&Def{Name: "drop-event", Help: "drop each event independently with probability prob (seeded per sample); exact: drop exactly ⌊prob·N + 0.5⌋ events chosen uniformly (tonic DropEvent; needs the whole sample)",
		Params: []Param{
			{Name: "prob", Kind: Float, Help: "probability (required, 0..1)"},
			{Name: "exact", Kind: Bool, Default: "false", Help: "drop an exact count instead of independent draws"},
		},
		Filter: func(v Values) (Filter, error) {
			q := v.Float("prob")
			if !v.Set("prob") || q < 0 || q > 1 {
				return nil, fmt.Errorf("prob must be in [0, 1]")
			}
			if v.Bool("exact") {
				return &wholeSample{apply: dropExact(q)}, nil
			}
			return &dropEvent{q: q}, nil
		}})
}

// --- drop-time: one interval of the sample's span ---

// dropTime drops [start, start+len) with len = ⌊ratio·(t_last − t_first)⌋ and start uniform in
// [t_first, t_last − len] (inclusive integers).
func dropTime(ratio float64) func(b, out *events.Batch, rng *rand.Rand) error {
	return func(b, out *events.Batch, rng *rand.Rand) error {
		n := b.Len()
		if n == 0 {
			return nil
		}
		tf, tl := b.T[0], b.T[n-1]
		l := int64(math.Floor(ratio * float64(tl-tf)))
		start := tf + rng.Int64N(tl-l-tf+1)
		for i, t := range b.T {
			if t >= start && t < start+l {
				continue
			}
			out.Append(t, b.X[i], b.Y[i], b.P[i])
		}
		return nil
	}
}

func init() {
	register(&Def{Name: "drop-time", Help: "drop the events of one interval of length ⌊ratio·(t_last − t_first)⌋ starting uniformly in [t_first, t_last − length] (seeded per sample; tonic measures it from 0)",
		Params: []Param{{Name: "ratio", Kind: Float, Help: "interval length as a fraction of the sample's duration (required)"}},
		Filter: func(v Values) (Filter, error) {
			r, err := probParam(v, "ratio")
			if err != nil || !v.Set("ratio") {
				return nil, fmt.Errorf("needs ratio in [0, 1]")
			}
			return &wholeSample{apply: dropTime(r)}, nil
		}})
}

// --- drop-area and drop-pixel: one draw per sample ---

type dropArea struct {
	ratio          float64
	pixelProb      float64 // > 0: drop-pixel mode
	w, h           int
	x0, y0, bw, bh int
	dropped        []bool
}

func (d *dropArea) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	d.w, d.h = in.Geometry.Width, in.Geometry.Height
	if d.pixelProb > 0 {
		if cap(d.dropped) < d.w*d.h {
			d.dropped = make([]bool, d.w*d.h)
		}
		d.dropped = d.dropped[:d.w*d.h]
		for i := range d.dropped {
			d.dropped[i] = rng.Float64() < d.pixelProb
		}
		return in, nil
	}
	d.bw, d.bh = int(math.Floor(float64(d.w)*d.ratio)), int(math.Floor(float64(d.h)*d.ratio))
	d.x0, d.y0 = rng.IntN(d.w-d.bw+1), rng.IntN(d.h-d.bh+1)
	return in, nil
}

func (d *dropArea) Process(in, out *events.Batch) error {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	w, h := d.w, d.h
	if d.pixelProb > 0 {
		dropped := d.dropped
		for i, t := range in.T {
			x, y := int(in.X[i]), int(in.Y[i])
			if x >= w || y >= h || dropped[y*w+x] {
				continue
			}
			T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
			j++
		}
	} else {
		x0, y0, x1, y1 := d.x0, d.y0, d.x0+d.bw, d.y0+d.bh
		for i, t := range in.T {
			x, y := int(in.X[i]), int(in.Y[i])
			if x >= w || y >= h || x >= x0 && x < x1 && y >= y0 && y < y1 {
				continue
			}
			T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
			j++
		}
	}
	out.Truncate(start + j)
	return nil
}

func (d *dropArea) Flush(*events.Batch) error { return nil }

func init() {
	register(&Def{Name: "drop-area", Help: "drop the events in a box of ⌊W·ratio⌋ × ⌊H·ratio⌋ at a uniform position (half-open, seeded per sample)",
		Params: []Param{{Name: "ratio", Kind: Float, Help: "box size as a fraction of the sensor (required)"}},
		Filter: func(v Values) (Filter, error) {
			r, err := probParam(v, "ratio")
			if err != nil || !v.Set("ratio") {
				return nil, fmt.Errorf("needs ratio in [0, 1]")
			}
			return &dropArea{ratio: r}, nil
		}})
	register(&Def{Name: "drop-pixel", Help: "drop every event of each pixel chosen with probability prob (one draw per pixel per sample)",
		Params: []Param{{Name: "prob", Kind: Float, Help: "probability (required)"}},
		Filter: func(v Values) (Filter, error) {
			q, err := probParam(v, "prob")
			if err != nil || !v.Set("prob") || q == 0 {
				return nil, fmt.Errorf("needs prob in (0, 1]")
			}
			return &dropArea{pixelProb: q}, nil
		}})
}

// --- event-drop: tonic's EventDrop policy ---

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
	register(&Def{Name: "event-drop", Help: "tonic's EventDrop: per sample, one of nothing, drop-time (ratio U{1..9}/10), drop-area (ratio U{1..5}/20) or exact drop-event (prob U{1..9}/10), uniformly; needs the whole sample",
		Filter: func(v Values) (Filter, error) { return &eventDrop{}, nil }})
}

// --- decimate: every n-th event of each pixel ---

type decimate struct {
	n     int
	w, h  int
	count []int32
}

func (d *decimate) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	d.w, d.h = in.Geometry.Width, in.Geometry.Height
	if cap(d.count) < d.w*d.h {
		d.count = make([]int32, d.w*d.h)
	}
	d.count = d.count[:d.w*d.h]
	clear(d.count)
	return in, nil
}

func (d *decimate) Process(in, out *events.Batch) error {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	n := int32(d.n)
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x >= d.w || y >= d.h {
			continue
		}
		k := y*d.w + x
		d.count[k]++
		if d.count[k] == n {
			d.count[k] = 0
			T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
			j++
		}
	}
	out.Truncate(start + j)
	return nil
}

func (d *decimate) Flush(*events.Batch) error { return nil }

func init() {
	register(&Def{Name: "decimate", Help: "keep the n-th, 2n-th, … event of each pixel",
		Params: []Param{{Name: "n", Kind: Int, Help: "keep one event in n per pixel (required, ≥ 1)"}},
		Filter: func(v Values) (Filter, error) {
			if v.Int("n") < 1 {
				return nil, fmt.Errorf("needs n ≥ 1")
			}
			return &decimate{n: int(v.Int("n"))}, nil
		}})
}
