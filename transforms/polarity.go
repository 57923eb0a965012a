package transforms

import (
	"math/rand/v2"

	"github.com/evtool/evtool/events"
)

// polarityMode is what the polarity filter does.
type polarityMode int

const (
	keepOn     polarityMode = iota // keep p ≠ 0
	keepOff                        // keep p = 0
	merge                          // p := 0, one channel left
	invert                         // p := 1 − p
	randomFlip                     // invert a whole sample with probability prob
)

var polarityModes = map[string]polarityMode{"keep-on": keepOn, "keep-off": keepOff, "merge": merge, "invert": invert, "random-flip": randomFlip}

type polarity struct {
	mode polarityMode
	prob float64
	flip bool // random-flip: this sample's draw
}

func (p *polarity) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	switch p.mode {
	case merge:
		in.Polarities = 1
	case randomFlip:
		p.flip = rng.Float64() < p.prob
	}
	return in, nil
}

func (p *polarity) Process(in, out *events.Batch) error {
	mode := p.mode
	if mode == randomFlip {
		if !p.flip {
			out.AppendBatch(in)
			return nil
		}
		mode = invert
	}
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	switch mode {
	case keepOn, keepOff:
		on := mode == keepOn
		for i, t := range in.T {
			if (in.P[i] != 0) != on {
				continue
			}
			T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
			j++
		}
	case merge:
		copy(T, in.T)
		copy(X, in.X)
		copy(Y, in.Y)
		clear(P)
		j = in.Len()
	case invert:
		copy(T, in.T)
		copy(X, in.X)
		copy(Y, in.Y)
		for i, pol := range in.P {
			P[i] = 1 - pol&1
		}
		j = in.Len()
	}
	out.Truncate(start + j)
	return nil
}

func (p *polarity) Flush(*events.Batch) error { return nil }

func init() {
	register(&Def{Name: "polarity", Help: "keep only ON or OFF events, merge both into one channel (p := 0), invert, or flip a random sample's polarity",
		Params: []Param{
			{Name: "mode", Kind: Choice, Default: "merge", Choices: []string{"keep-on", "keep-off", "merge", "invert", "random-flip"}, Help: "what to do"},
			{Name: "prob", Kind: Float, Default: "0.5", Help: "random-flip: probability that a sample's polarities are inverted (one draw per sample)"},
		},
		Filter: func(v Values) (Filter, error) {
			return &polarity{mode: polarityModes[v.String("mode")], prob: v.Float("prob")}, nil
		}})
}
