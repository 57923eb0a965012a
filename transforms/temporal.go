package transforms

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/evtool/evtool/events"
)

// Temporal filters: time crop, align, offset, scale, and time reversal.

// timeOpKind is what a time operation does.
type timeOpKind int

const (
	timeCrop   timeOpKind = iota // keep from ≤ t < to
	timeAlign                    // t − t_first
	timeOffset                   // t + offset
	timeScale                    // round(t·factor + offset)
)

type timeOp struct {
	op        timeOpKind
	from, to  int64
	relative  bool
	offset    int64
	factor    float64
	first     int64
	haveFirst bool
}

func (o *timeOp) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	o.haveFirst = false
	return in, nil
}

func (o *timeOp) Process(in, out *events.Batch) error {
	if in.Len() > 0 && !o.haveFirst {
		o.first, o.haveFirst = in.T[0], true
	}
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	if o.op == timeCrop {
		lo, hi := o.from, o.to
		if o.relative {
			lo = o.first + lo
			if hi != math.MaxInt64 {
				hi = o.first + hi
			}
		}
		j := 0
		for i, t := range in.T {
			if t < lo || t >= hi {
				continue
			}
			T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
			j++
		}
		out.Truncate(start + j)
		return nil
	}
	var sign int64 // OR of every new time: negative when one of them is
	switch o.op {
	case timeAlign:
		for i, t := range in.T {
			T[i] = t - o.first
			sign |= T[i]
		}
	case timeOffset:
		for i, t := range in.T {
			T[i] = t + o.offset
			sign |= T[i]
		}
	case timeScale:
		for i, t := range in.T {
			T[i] = int64(math.Round(float64(t)*o.factor + float64(o.offset)))
			sign |= T[i]
		}
	}
	copy(X, in.X)
	copy(Y, in.Y)
	copy(P, in.P)
	if sign < 0 {
		for i, t := range T {
			if t < 0 {
				out.Truncate(start + i)
				return fmt.Errorf("event at %d µs would get the negative time %d µs", in.T[i], t)
			}
		}
	}
	return nil
}

func (o *timeOp) Flush(*events.Batch) error { return nil }

func init() {
	register(&Def{Name: "time-crop", Help: "keep from ≤ t < to (relative: measured from the sample's first event)",
		Params: []Param{
			{Name: "from", Kind: Duration, Unit: "µs", Default: "0us"},
			{Name: "to", Kind: Duration, Unit: "µs", Help: "exclusive end (default: none)"},
			{Name: "relative", Kind: Bool, Default: "false"},
		},
		Filter: func(v Values) (Filter, error) {
			to := int64(math.MaxInt64)
			if v.Set("to") {
				to = v.Int("to")
			}
			return &timeOp{op: timeCrop, from: v.Int("from"), to: to, relative: v.Bool("relative")}, nil
		}})
	register(&Def{Name: "time-align", Help: "t' = t − t_first (the sample's first event at 0)",
		Filter: func(v Values) (Filter, error) { return &timeOp{op: timeAlign}, nil }})
	register(&Def{Name: "time-offset", Help: "t' = t + us (a negative result is an error)",
		Params: []Param{{Name: "us", Kind: Duration, Unit: "µs", Help: "offset (required)"}},
		Filter: func(v Values) (Filter, error) {
			if !v.Set("us") {
				return nil, fmt.Errorf("needs us")
			}
			return &timeOp{op: timeOffset, offset: v.Int("us")}, nil
		}})
	register(&Def{Name: "time-scale", Help: "t' = round(t·factor + offset), factor > 0",
		Params: []Param{{Name: "factor", Kind: Float, Help: "scale (required)"}, {Name: "offset", Kind: Duration, Unit: "µs", Default: "0us"}},
		Filter: func(v Values) (Filter, error) {
			if v.Float("factor") <= 0 {
				return nil, fmt.Errorf("factor must be positive")
			}
			return &timeOp{op: timeScale, factor: v.Float("factor"), offset: v.Int("offset")}, nil
		}})
}

// --- time reversal (whole-sample stages) ---

// reversal is time-reverse and random-reverse: t' = t_last − t, order reversed, polarity inverted unless
// keepPolarity; with prob < 1 it reverses a sample with that probability (one draw per sample). It
// remembers what it did, for the sample's boxes.
type reversal struct {
	wholeSample
	keepPolarity bool
	prob         float64
	reversed     bool
	last         int64
}

func newReversal(keepPolarity bool, prob float64) *reversal {
	r := &reversal{keepPolarity: keepPolarity, prob: prob}
	r.apply = r.run
	return r
}

func (r *reversal) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	r.reversed = false
	return r.wholeSample.Reset(in, rng)
}

func (r *reversal) run(b, out *events.Batch, rng *rand.Rand) error {
	n := b.Len()
	if n == 0 {
		return nil
	}
	if r.prob < 1 && rng.Float64() >= r.prob {
		out.AppendBatch(b)
		return nil
	}
	last := b.T[n-1]
	r.reversed, r.last = true, last
	T, X, Y, P := out.Extend(n)
	for i := 0; i < n; i++ {
		k := n - 1 - i
		T[i], X[i], Y[i] = last-b.T[k], b.X[k], b.Y[k]
		P[i] = b.P[k]
		if !r.keepPolarity {
			P[i] = 1 - b.P[k]&1
		}
	}
	return nil
}

func init() {
	register(&Def{Name: "time-reverse", Help: "t' = t_last − t with the event order reversed and polarity inverted (a reversed brightness change has the other sign); needs the whole sample",
		Params: []Param{{Name: "keep-polarity", Kind: Bool, Default: "false"}},
		Filter: func(v Values) (Filter, error) {
			return newReversal(v.Bool("keep-polarity"), 1), nil
		}})
	register(&Def{Name: "random-reverse", Help: "time-reverse a sample with probability prob (one draw per sample)",
		Params: []Param{{Name: "prob", Kind: Float, Default: "0.5"}, {Name: "keep-polarity", Kind: Bool, Default: "false"}},
		Filter: func(v Values) (Filter, error) {
			q, err := probParam(v, "prob")
			if err != nil {
				return nil, err
			}
			return newReversal(v.Bool("keep-polarity"), q), nil
		}})
}
