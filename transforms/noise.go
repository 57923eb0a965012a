package transforms

import (
	"fmt"
	"math/rand/v2"

	"github.com/evtool/evtool/events"
)

// uniformNoise adds n events with x, y, p uniform on the sensor and t uniform in [t_first, t_last]
// (inclusive integers), merged by time with the sample's own events first on ties (§4). It needs the
// whole sample; an empty sample stays empty (there is no time range to draw from).
type uniformNoise struct {
	n     int
	g     events.Geometry
	rng   *rand.Rand
	held  events.Batch
	order []timeIndex
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
	sortTimeIndex(u.order)
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
