package transforms

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/evtool/evtool/events"
)

// --- arbiter saturation lines (§2.5) ---

// arbiter drops runs of consecutive events on one row (column) longer than round(ratio·W) (·H). The run
// in progress is held until an event on another line arrives or the stream ends (Flush emits or drops
// it), so the last run is never lost (faery never yields it).
type arbiter struct {
	ratio   float64
	column  bool
	maxSpan int64 // 0: no time condition
	limit   int
	run     events.Batch
	line    int
}

func (a *arbiter) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	n := in.Geometry.Width
	if a.column {
		n = in.Geometry.Height
	}
	a.limit = int(math.Round(a.ratio * float64(n)))
	a.run.Reset()
	a.line = -1
	return in, nil
}

func (a *arbiter) endRun(out *events.Batch) {
	n := a.run.Len()
	drop := n > a.limit
	if drop && a.maxSpan > 0 && a.run.T[n-1]-a.run.T[0] > a.maxSpan {
		drop = false
	}
	if !drop {
		out.AppendBatch(&a.run)
	}
	a.run.Reset()
}

func (a *arbiter) Process(in, out *events.Batch) error {
	for i, t := range in.T {
		line := int(in.Y[i])
		if a.column {
			line = int(in.X[i])
		}
		if line != a.line && a.run.Len() > 0 {
			a.endRun(out)
		}
		a.line = line
		a.run.Append(t, in.X[i], in.Y[i], in.P[i])
	}
	return nil
}

func (a *arbiter) Flush(out *events.Batch) error {
	if a.run.Len() > 0 {
		a.endRun(out)
	}
	return nil
}

// --- whole-sample stages: time reversal (§3.4), drop by time (§4) ---

// wholeSample buffers a sample and transforms it at Flush.
type wholeSample struct {
	held  events.Batch
	apply func(b *events.Batch, out *events.Batch, rng *rand.Rand) error
	rng   *rand.Rand
}

func (w *wholeSample) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	w.held.Reset()
	w.rng = rng
	return in, nil
}

func (w *wholeSample) Process(in, _ *events.Batch) error { w.held.AppendBatch(in); return nil }

func (w *wholeSample) Flush(out *events.Batch) error { return w.apply(&w.held, out, w.rng) }

// reverse: t' = t_last − t, order reversed, polarity inverted unless keepPolarity; with prob < 1 it is
// random-reverse (one draw per sample).
func reverse(keepPolarity bool, prob float64) func(b, out *events.Batch, rng *rand.Rand) error {
	return func(b, out *events.Batch, rng *rand.Rand) error {
		n := b.Len()
		if n == 0 {
			return nil
		}
		if prob < 1 && rng.Float64() >= prob {
			out.AppendBatch(b)
			return nil
		}
		last := b.T[n-1]
		T, X, Y, P := out.Extend(n)
		for i := 0; i < n; i++ {
			k := n - 1 - i
			T[i], X[i], Y[i] = last-b.T[k], b.X[k], b.Y[k]
			P[i] = b.P[k]
			if !keepPolarity {
				P[i] = 1 - b.P[k]&1
			}
		}
		return nil
	}
}

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

// --- drop by area and by pixel (§4): one draw per sample ---

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
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x >= d.w || y >= d.h {
			continue
		}
		if d.pixelProb > 0 {
			if d.dropped[y*d.w+x] {
				continue
			}
		} else if x >= d.x0 && x < d.x0+d.bw && y >= d.y0 && y < d.y0+d.bh {
			continue
		}
		T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
		j++
	}
	out.Truncate(start + j)
	return nil
}

func (d *dropArea) Flush(*events.Batch) error { return nil }

func probParam(v Values, name string) (float64, error) {
	q := v.Float(name)
	if q < 0 || q > 1 {
		return 0, fmt.Errorf("%s must be in [0, 1]", name)
	}
	return q, nil
}

func init() {
	register(&Def{Name: "arbiter", Help: "drop runs of consecutive events on one row (column) longer than round(ratio·W) (·H), as a saturated arbiter makes; the last run is kept or dropped at the end of the stream",
		Params: []Param{
			{Name: "ratio", Kind: Float, Help: "run length limit as a fraction of the line (required, 0..1)"},
			{Name: "orientation", Kind: Choice, Default: "row", Choices: []string{"row", "column"}},
			{Name: "max-span", Kind: Duration, Unit: "µs", Default: "0us", Help: "only drop runs spanning at most this long (0: any span)"},
		},
		Filter: func(v Values) (Filter, error) {
			r, err := probParam(v, "ratio")
			if err != nil || !v.Set("ratio") {
				return nil, fmt.Errorf("needs ratio in [0, 1]")
			}
			return &arbiter{ratio: r, column: v.String("orientation") == "column", maxSpan: v.Int("max-span")}, nil
		}})
	register(&Def{Name: "time-reverse", Help: "t' = t_last − t with the event order reversed and polarity inverted (a reversed brightness change has the other sign); needs the whole sample",
		Params: []Param{{Name: "keep-polarity", Kind: Bool, Default: "false"}},
		Filter: func(v Values) (Filter, error) {
			return &wholeSample{apply: reverse(v.Bool("keep-polarity"), 1)}, nil
		}})
	register(&Def{Name: "random-reverse", Help: "time-reverse a sample with probability prob (one draw per sample)",
		Params: []Param{{Name: "prob", Kind: Float, Default: "0.5"}, {Name: "keep-polarity", Kind: Bool, Default: "false"}},
		Filter: func(v Values) (Filter, error) {
			q, err := probParam(v, "prob")
			if err != nil {
				return nil, err
			}
			return &wholeSample{apply: reverse(v.Bool("keep-polarity"), q)}, nil
		}})
	register(&Def{Name: "drop-time", Help: "drop the events of one interval of length ⌊ratio·(t_last − t_first)⌋ starting uniformly in [t_first, t_last − length] (seeded per sample; tonic measures it from 0)",
		Params: []Param{{Name: "ratio", Kind: Float, Help: "interval length as a fraction of the sample's duration (required)"}},
		Filter: func(v Values) (Filter, error) {
			r, err := probParam(v, "ratio")
			if err != nil || !v.Set("ratio") {
				return nil, fmt.Errorf("needs ratio in [0, 1]")
			}
			return &wholeSample{apply: dropTime(r)}, nil
		}})
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
