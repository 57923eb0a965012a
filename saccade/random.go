package saccade

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// RandomSaccades is a seeded sequence of straight saccades separated by fixations, in random directions.
type RandomSaccades struct {
	N           int     // number of saccades (≥ 1); with CloseLoop the last one returns to the start
	MinAmpPx    float64 // smallest saccade amplitude, px
	MaxAmpPx    float64 // largest saccade amplitude, px
	SaccadeUs   float64 // duration of each saccade, µs
	FixationUs  float64 // pause before each saccade, µs (0: none)
	MaxOffsetPx float64 // keep the content within this distance of the start, px (0: unbounded)
	Easing      Easing  // speed profile of each saccade
	CloseLoop   bool    // end where it started: every pixel returns to its start brightness, so ON ≈ OFF
}

// DefaultRandomSaccades returns four closed-loop saccades of 2–6 px, 80 ms each, with 20 ms fixations,
// within 7 px of the start: an N-MNIST-sized budget of motion in random directions.
func DefaultRandomSaccades() RandomSaccades {
	return RandomSaccades{N: 4, MinAmpPx: 2, MaxAmpPx: 6, SaccadeUs: 80000, FixationUs: 20000, MaxOffsetPx: 7,
		Easing: MinimumJerk, CloseLoop: true}
}

// Build draws one path.
func (r RandomSaccades) Build(rng *rand.Rand) (*Polyline, error) {
	if r.N < 1 || !(r.SaccadeUs > 0) || r.FixationUs < 0 || r.MinAmpPx < 0 || r.MaxAmpPx < r.MinAmpPx {
		return nil, fmt.Errorf("random saccades: want N >= 1, SaccadeUs > 0, FixationUs >= 0 and 0 <= MinAmpPx <= MaxAmpPx")
	}
	pts := []Pose{{}}
	var legs []float64
	cur := Pose{}
	for i := 0; i < r.N; i++ {
		var next Pose
		if r.CloseLoop && i == r.N-1 {
			next = Pose{}
		} else {
			next = r.draw(cur, rng)
		}
		if r.FixationUs > 0 {
			pts = append(pts, cur)
			legs = append(legs, r.FixationUs)
		}
		pts = append(pts, next)
		legs = append(legs, r.SaccadeUs)
		cur = next
	}
	return NewPolyline(pts, legs, r.Easing)
}

// draw picks the next fixation point; directions that would leave the MaxOffsetPx disc are redrawn a few
// times, then the amplitude is shortened to stay inside.
func (r RandomSaccades) draw(cur Pose, rng *rand.Rand) Pose {
	var next Pose
	for try := 0; try < 8; try++ {
		amp := r.MinAmpPx + (r.MaxAmpPx-r.MinAmpPx)*rng.Float64()
		a := 2 * math.Pi * rng.Float64()
		next = Pose{DX: cur.DX + amp*math.Cos(a), DY: cur.DY + amp*math.Sin(a)}
		if r.MaxOffsetPx <= 0 || math.Hypot(next.DX, next.DY) <= r.MaxOffsetPx {
			return next
		}
	}
	if d := math.Hypot(next.DX, next.DY); d > r.MaxOffsetPx {
		next.DX *= r.MaxOffsetPx / d
		next.DY *= r.MaxOffsetPx / d
	}
	return next
}

// Microsaccades is fixational eye motion: a slow random-walk drift plus small, quick jumps at random
// times. Build it for a duration and add it to another trajectory with Sum. The defaults are typical
// physiology figures, not fitted to any dataset.
type Microsaccades struct {
	DriftPxPerSqrtS float64 // drift random-walk strength: standard deviation after 1 s, px (0.5)
	RateHz          float64 // mean number of jumps per second (1.5)
	MinAmpPx        float64 // smallest jump, px (0.25)
	MaxAmpPx        float64 // largest jump, px (1)
	DurationUs      float64 // duration of one jump, µs (25,000)
	SampleUs        float64 // the drift is sampled every SampleUs, µs (2,000)
}

// DefaultMicrosaccades returns the typical values listed on the fields.
func DefaultMicrosaccades() Microsaccades {
	return Microsaccades{DriftPxPerSqrtS: 0.5, RateHz: 1.5, MinAmpPx: 0.25, MaxAmpPx: 1, DurationUs: 25000, SampleUs: 2000}
}

// Build draws the jitter for a motion of durationUs. The result starts at the zero pose.
func (m Microsaccades) Build(durationUs float64, rng *rand.Rand) (*Polyline, error) {
	if !(durationUs > 0) || !(m.SampleUs > 0) || m.DriftPxPerSqrtS < 0 || m.RateHz < 0 || m.MaxAmpPx < m.MinAmpPx {
		return nil, fmt.Errorf("microsaccades: want a positive duration and sample interval, non-negative drift and rate, MinAmpPx <= MaxAmpPx")
	}
	n := int(math.Ceil(durationUs / m.SampleUs))
	if n > 1<<20 {
		return nil, fmt.Errorf("microsaccades: %d samples is too many; raise SampleUs", n)
	}
	dt := durationUs / float64(n)
	// Jump onsets: a Poisson process at RateHz.
	var onsets []float64
	if m.RateHz > 0 {
		for t := rng.ExpFloat64() / m.RateHz * 1e6; t < durationUs; t += rng.ExpFloat64() / m.RateHz * 1e6 {
			onsets = append(onsets, t)
		}
	}
	type jump struct{ t0, dx, dy float64 }
	jumps := make([]jump, len(onsets))
	for i, t := range onsets {
		amp := m.MinAmpPx + (m.MaxAmpPx-m.MinAmpPx)*rng.Float64()
		a := 2 * math.Pi * rng.Float64()
		jumps[i] = jump{t, amp * math.Cos(a), amp * math.Sin(a)}
	}
	sigma := m.DriftPxPerSqrtS * math.Sqrt(dt/1e6)
	pts := make([]Pose, n+1)
	legs := make([]float64, n)
	var driftX, driftY float64
	for k := 1; k <= n; k++ {
		driftX += sigma * rng.NormFloat64()
		driftY += sigma * rng.NormFloat64()
		t := float64(k) * dt
		p := Pose{DX: driftX, DY: driftY}
		for _, j := range jumps {
			if t <= j.t0 {
				break
			}
			u := 1.0
			if m.DurationUs > 0 {
				u = MinimumJerk.Apply(min(1, (t-j.t0)/m.DurationUs))
			}
			p.DX += u * j.dx
			p.DY += u * j.dy
		}
		pts[k] = p
		legs[k-1] = dt
	}
	return NewPolyline(pts, legs, Linear)
}
