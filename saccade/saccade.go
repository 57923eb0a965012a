// Package saccade describes motion only: how a static image moves across a sensor over time.
//
// A Trajectory maps a time (µs from the start of a sample) to a Pose, the image→sensor transform at that
// instant, with sub-pixel precision. Implementations: Orchard's three-saccade triangle used to record
// N-MNIST and N-Caltech101 (Orchard et al. 2015), general polylines with easing, seeded random saccades
// and fixational microsaccades that can be added to any other trajectory (Sum). Rendering and the pixel
// model live in package synth; nothing here knows about images or events.
package saccade

import (
	"fmt"
	"math"
	"sort"
)

// Pose is the image→sensor transform at one instant: the image content is scaled by Scale and rotated by
// Theta about its centre, then shifted by (DX, DY) sensor pixels (x right, y down). The zero Pose is the
// identity: a Scale of 0 means 1, so poses built from literals need not spell it out.
type Pose struct {
	DX, DY float64 // displacement of the image content, sensor px
	Theta  float64 // rotation, radians, clockwise on screen (y points down)
	Scale  float64 // magnification; 0 means 1
}

// ScaleOrOne returns the magnification, reading 0 as 1.
func (p Pose) ScaleOrOne() float64 {
	if p.Scale == 0 {
		return 1
	}
	return p.Scale
}

// IsTranslation reports whether the pose only shifts the image (the renderer's fast path).
func (p Pose) IsTranslation() bool { return p.Theta == 0 && (p.Scale == 0 || p.Scale == 1) }

// Add composes two poses additively (displacements and angles add, magnifications multiply). This is
// how a microsaccade jitter rides on a base path.
func (p Pose) Add(q Pose) Pose {
	return Pose{DX: p.DX + q.DX, DY: p.DY + q.DY, Theta: p.Theta + q.Theta, Scale: p.ScaleOrOne() * q.ScaleOrOne()}
}

// lerp interpolates poses component-wise (u in [0, 1]).
func lerp(a, b Pose, u float64) Pose {
	sa, sb := a.ScaleOrOne(), b.ScaleOrOne()
	return Pose{DX: a.DX + (b.DX-a.DX)*u, DY: a.DY + (b.DY-a.DY)*u, Theta: a.Theta + (b.Theta-a.Theta)*u, Scale: sa + (sb-sa)*u}
}

// Trajectory is a pose as a function of time.
type Trajectory interface {
	// At returns the pose at tUs microseconds from the start; times outside [0, DurationUs] clamp.
	At(tUs float64) Pose
	// DurationUs is the length of the motion in µs.
	DurationUs() float64
	// MaxSpeedPxPerUs bounds how fast the displacement (DX, DY) changes, in sensor px per µs; the
	// simulator derives its time step from it. Rotation and magnification speeds are not included
	// (the simulator checks those itself, from the poses).
	MaxSpeedPxPerUs() float64
}

// Easing shapes the progress along one leg of a polyline: real pan-tilt units and eyes accelerate and
// brake rather than jump to a constant velocity.
type Easing int

const (
	// Linear moves at constant velocity (Orchard's idealised path; the default).
	Linear Easing = iota
	// MinimumJerk is the smooth 10u³−15u⁴+6u⁵ profile of human reaching and saccades.
	MinimumJerk
	// Cosine is the half-cosine profile (1−cos πu)/2.
	Cosine
)

// ParseEasing reads "linear", "minimum-jerk" (or "minjerk") and "cosine".
func ParseEasing(s string) (Easing, error) {
	switch s {
	case "", "linear":
		return Linear, nil
	case "minimum-jerk", "minjerk", "min-jerk":
		return MinimumJerk, nil
	case "cosine":
		return Cosine, nil
	}
	return Linear, fmt.Errorf("easing %q: want linear, minimum-jerk or cosine", s)
}

func (e Easing) String() string {
	switch e {
	case MinimumJerk:
		return "minimum-jerk"
	case Cosine:
		return "cosine"
	}
	return "linear"
}

// Apply maps linear progress u ∈ [0, 1] to eased progress.
func (e Easing) Apply(u float64) float64 {
	switch e {
	case MinimumJerk:
		return u * u * u * (10 + u*(-15+6*u))
	case Cosine:
		return (1 - math.Cos(math.Pi*u)) / 2
	}
	return u
}

// PeakRate is the largest slope of Apply: the peak speed relative to the leg's mean speed.
func (e Easing) PeakRate() float64 {
	switch e {
	case MinimumJerk:
		return 15.0 / 8
	case Cosine:
		return math.Pi / 2
	}
	return 1
}

// Polyline visits Points in order; leg i goes from Points[i] to Points[i+1] in LegsUs[i] µs with the
// given easing. A leg whose end equals its start is a fixation (the pose holds).
type Polyline struct {
	Points []Pose
	LegsUs []float64
	Easing Easing
	ends   []float64 // cumulative end time of each leg
	vmax   float64
}

// NewPolyline checks and prepares a polyline: len(legsUs) must be len(points)−1, every leg > 0 µs.
func NewPolyline(points []Pose, legsUs []float64, easing Easing) (*Polyline, error) {
	if len(points) < 1 || len(legsUs) != len(points)-1 {
		return nil, fmt.Errorf("polyline: %d points need %d leg durations, got %d", len(points), max(len(points)-1, 0), len(legsUs))
	}
	p := &Polyline{Points: points, LegsUs: legsUs, Easing: easing, ends: make([]float64, len(legsUs))}
	var t float64
	for i, d := range legsUs {
		if !(d > 0) || math.IsInf(d, 0) {
			return nil, fmt.Errorf("polyline: leg %d lasts %g µs; want a positive duration", i, d)
		}
		t += d
		p.ends[i] = t
		dist := math.Hypot(points[i+1].DX-points[i].DX, points[i+1].DY-points[i].DY)
		p.vmax = max(p.vmax, dist/d*easing.PeakRate())
	}
	return p, nil
}

// At returns the pose at tUs (binary search over the legs, so long polylines such as microsaccade drift
// stay cheap).
func (p *Polyline) At(tUs float64) Pose {
	if len(p.ends) == 0 || tUs <= 0 {
		return p.Points[0]
	}
	i := sort.SearchFloat64s(p.ends, tUs)
	if i >= len(p.ends) {
		return p.Points[len(p.Points)-1]
	}
	start := 0.0
	if i > 0 {
		start = p.ends[i-1]
	}
	u := (tUs - start) / p.LegsUs[i]
	return lerp(p.Points[i], p.Points[i+1], p.Easing.Apply(u))
}

// DurationUs is the sum of the leg durations.
func (p *Polyline) DurationUs() float64 {
	if len(p.ends) == 0 {
		return 0
	}
	return p.ends[len(p.ends)-1]
}

// MaxSpeedPxPerUs is the fastest leg's peak displacement speed.
func (p *Polyline) MaxSpeedPxPerUs() float64 { return p.vmax }

// Static holds one pose for a duration (a fixation; used to test that a still scene makes no events).
type Static struct {
	Pose     Pose
	Duration float64 // µs
}

func (s Static) At(float64) Pose          { return s.Pose }
func (s Static) DurationUs() float64      { return s.Duration }
func (s Static) MaxSpeedPxPerUs() float64 { return 0 }

// Sum adds the poses of several trajectories at each instant (Pose.Add); its duration is the longest
// one's. Typical use: a saccade path plus Microsaccades.
type Sum []Trajectory

func (s Sum) At(tUs float64) Pose {
	var p Pose
	for _, t := range s {
		p = p.Add(t.At(tUs))
	}
	return p
}

func (s Sum) DurationUs() float64 {
	var d float64
	for _, t := range s {
		d = max(d, t.DurationUs())
	}
	return d
}

func (s Sum) MaxSpeedPxPerUs() float64 {
	var v float64
	for _, t := range s {
		v += t.MaxSpeedPxPerUs()
	}
	return v
}
