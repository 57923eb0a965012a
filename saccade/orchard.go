package saccade

import (
	"fmt"
	"math/rand/v2"
)

// N-MNIST's recording path (docs/synth.md#motion-the-saccade-protocol, from the stabilisation constants of Orchard's code): three
// straight 105 ms legs over an isosceles triangle with a 7 px base along x and a 7 px height along y.
const (
	OrchardLegUs    = 105000.0
	OrchardBasePx   = 7.0
	OrchardHeightPx = 7.0
)

// OrchardOptions shapes the three-saccade triangle. The zero value is not useful; start from
// DefaultOrchard().
type OrchardOptions struct {
	LegUs        float64 // duration of each of the three legs, µs (105,000)
	BasePx       float64 // triangle base along x, px (7)
	HeightPx     float64 // triangle height along y, px (7)
	RestX, RestY float64 // where the path starts and ends, px (0, 0)
	Easing       Easing  // speed profile of each leg (Linear)
	// LegSpeedJitter varies each leg's speed by a uniform factor in [1−j, 1+j] (0: none). The real pan-tilt
	// unit did not repeat its timing exactly; 0.05 widens the spread of event counts like the recordings.
	LegSpeedJitter float64
}

// DefaultOrchard returns the N-MNIST numbers: 105 ms legs, 7 × 7 px triangle, linear legs, no jitter.
func DefaultOrchard() OrchardOptions {
	return OrchardOptions{LegUs: OrchardLegUs, BasePx: OrchardBasePx, HeightPx: OrchardHeightPx}
}

// Orchard builds the closed triangle (0,0) → (base/2, height) → (base, 0) → (0,0), shifted by the rest
// position. The image content moves along it (the sensor moved in the recordings; the content moves the
// opposite way, which is what these numbers describe). rng draws the leg-speed jitter; it may be nil when
// LegSpeedJitter is 0.
func Orchard(o OrchardOptions, rng *rand.Rand) (*Polyline, error) {
	if o.LegSpeedJitter < 0 || o.LegSpeedJitter >= 1 {
		return nil, fmt.Errorf("orchard: leg speed jitter %g: want 0 <= j < 1", o.LegSpeedJitter)
	}
	if o.LegSpeedJitter > 0 && rng == nil {
		return nil, fmt.Errorf("orchard: leg speed jitter needs a random source")
	}
	pts := []Pose{
		{DX: o.RestX, DY: o.RestY},
		{DX: o.RestX + o.BasePx/2, DY: o.RestY + o.HeightPx},
		{DX: o.RestX + o.BasePx, DY: o.RestY},
		{DX: o.RestX, DY: o.RestY},
	}
	legs := []float64{o.LegUs, o.LegUs, o.LegUs}
	if o.LegSpeedJitter > 0 {
		for i := range legs {
			legs[i] /= 1 + o.LegSpeedJitter*(2*rng.Float64()-1)
		}
	}
	return NewPolyline(pts, legs, o.Easing)
}
