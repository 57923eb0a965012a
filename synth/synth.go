// Package synth turns static images into event recordings by moving them in front of a simulated event
// camera, the way N-MNIST and N-Caltech101 were recorded (Orchard et al. 2015; docs/synth.md).
//
// Three parts, each replaceable: the motion (package saccade), the scene seen at a pose (package
// synth/render: bilinear, sub-pixel) and the DVS pixel model (Pixels: log intensity, threshold mismatch,
// interpolated crossings, refractory period, leak, shot noise, photoreceptor low-pass). The time step
// follows the trajectory's top speed, so fast motion loses no crossings. Every sample has its own PRNG
// seeded from hash(global seed, sample index): results are the same for any number of workers.
// The nmnist preset reproduces the real recordings' statistics (docs/synth.md#calibration-against-n-mnist).
package synth

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/saccade"
	"github.com/evtool/evtool/synth/render"
)

// Synth makes samples with one set of parameters. It reuses its buffers between samples and is not safe
// for concurrent use: give each worker its own.
type Synth struct {
	p      Params
	easing saccade.Easing
	scene  render.Scene
	pix    *Pixels
	frame  []float32
}

// New checks p and prepares a synthesiser.
func New(p Params) (*Synth, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	e, _ := saccade.ParseEasing(p.Easing) // checked by Validate
	return &Synth{p: p, easing: e, pix: NewPixels(p.Width, p.Height, p), frame: make([]float32, p.Width*p.Height)}, nil
}

// Geometry is the sensor size.
func (s *Synth) Geometry() events.Geometry {
	return events.Geometry{Width: s.p.Width, Height: s.p.Height}
}

// SampleSeed derives sample index's PRNG seed from the global seed (SplitMix64 finaliser over both), so
// neighbouring indices get unrelated streams and no sample depends on which worker made it.
func SampleSeed(global, index uint64) uint64 {
	return mix(mix(global) ^ (index + 0x9e3779b97f4a7c15))
}

func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Sample synthesises the recording of image img as sample number index into dst (reset first): events
// sorted by (t, y, x), t in integer µs from the start of the motion. The result depends only on the
// parameters, the image and index.
func (s *Synth) Sample(img *image.Gray, index uint64, dst *events.Batch) error {
	rng := rand.New(rand.NewPCG(SampleSeed(s.p.Seed, index), 0x5eed))
	if err := s.setScene(img); err != nil {
		return err
	}
	traj, err := s.trajectory(rng)
	if err != nil {
		return err
	}
	s.placeScene(traj)
	return s.Simulate(traj, rng, dst)
}

// setScene prepares the image with the parameters' blur, black level and size; the origin is set later,
// once the motion is known.
func (s *Synth) setScene(img *image.Gray) error {
	o := render.Options{BlurSigmaPx: s.p.BlurSigmaPx, BlackLevel: s.p.BlackLevel, Negative: s.p.Negative}
	if n := s.p.ImageSize; n > 0 && img != nil {
		iw, ih := img.Rect.Dx(), img.Rect.Dy()
		if iw >= ih {
			o.Width, o.Height = n, max(1, int(math.Round(float64(ih)*float64(n)/float64(iw))))
		} else {
			o.Width, o.Height = max(1, int(math.Round(float64(iw)*float64(n)/float64(ih)))), n
		}
	}
	return s.scene.Set(img, o)
}

// placeScene puts the image's top-left corner at (OriginX, OriginY); NaN centres the area the image
// sweeps during the motion on the sensor.
func (s *Synth) placeScene(traj saccade.Trajectory) {
	ox, oy := s.p.OriginX, s.p.OriginY
	if math.IsNaN(ox) || math.IsNaN(oy) {
		w, h := s.scene.Size()
		minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		const probes = 64
		for k := 0; k <= probes; k++ {
			p := traj.At(traj.DurationUs() * float64(k) / probes)
			minX, maxX = min(minX, p.DX), max(maxX, p.DX)
			minY, maxY = min(minY, p.DY), max(maxY, p.DY)
		}
		if math.IsNaN(ox) {
			ox = (float64(s.p.Width-w) - minX - maxX) / 2
		}
		if math.IsNaN(oy) {
			oy = (float64(s.p.Height-h) - minY - maxY) / 2
		}
	}
	s.scene.SetOrigin(ox, oy)
}

// trajectory builds this sample's motion from the parameters (drawing any jitter from rng).
func (s *Synth) trajectory(rng *rand.Rand) (saccade.Trajectory, error) {
	p := &s.p
	var base saccade.Trajectory
	switch p.Motion {
	case "orchard":
		o := saccade.DefaultOrchard()
		o.LegUs, o.BasePx, o.HeightPx, o.Easing, o.LegSpeedJitter = p.LegUs, p.BasePx, p.HeightPx, s.easing, p.LegJitter
		t, err := saccade.Orchard(o, rng)
		if err != nil {
			return nil, err
		}
		base = t
	case "random":
		r := saccade.RandomSaccades{N: p.Saccades, MinAmpPx: p.AmplitudePx / 3, MaxAmpPx: p.AmplitudePx,
			SaccadeUs: p.LegUs, MaxOffsetPx: p.AmplitudePx, Easing: s.easing, CloseLoop: true}
		t, err := r.Build(rng)
		if err != nil {
			return nil, err
		}
		base = t
	default:
		base = saccade.Static{Duration: p.StaticUs}
	}
	if !p.Microsaccades {
		return base, nil
	}
	m, err := saccade.DefaultMicrosaccades().Build(base.DurationUs(), rng)
	if err != nil {
		return nil, err
	}
	return saccade.Sum{base, m}, nil
}

// Simulate runs the pixel model over the scene (set by Sample, or by SetScene for custom runs) moving
// along traj, and writes the events to dst (reset first).
//
// Steps adapt to the motion: each is as long as possible while no image point moves more than StepPx
// (checked on the poses themselves, so easing, rotation and magnification are covered), capped at
// MaxStepUs and, with the photoreceptor low-pass on, short enough for its update to stay stable. Fast
// legs get fine steps and fixations coarse ones, so no crossing is lost and no time is wasted.
func (s *Synth) Simulate(traj saccade.Trajectory, rng *rand.Rand, dst *events.Batch) error {
	dst.Reset()
	p := &s.p
	dur := traj.DurationUs()
	maxDt := p.MaxStepUs
	if p.CutoffHz > 0 {
		// keep the low-pass update gain Δt/τ ≤ 0.3 (v2e warns above that); inten ≤ 1.
		maxDt = min(maxDt, 0.3/(2*math.Pi*p.CutoffHz)*1e6)
	}
	// The smallest step the top speed could require; no step is ever shorter.
	minDt := maxDt
	if v := traj.MaxSpeedPxPerUs(); v > 0 {
		minDt = min(minDt, p.StepPx/v)
	}
	minDt = max(minDt, 1e-3)
	if dur/maxDt > MaxSteps || !(dur >= 0) || math.IsInf(dur, 0) {
		return fmt.Errorf("a motion of %g µs in steps of at most %g µs needs more than %d steps; raise max-step", dur, maxDt, MaxSteps)
	}
	if dur/minDt > MaxSteps {
		return fmt.Errorf("a motion of %g µs at up to %.3g px/µs in %g px steps needs more than %d steps; raise step",
			dur, traj.MaxSpeedPxPerUs(), p.StepPx, MaxSteps)
	}
	W, H := p.Width, p.Height
	pose := traj.At(0)
	s.scene.Render(pose, s.frame, W, H)
	s.pix.Reset(s.frame, 0, rng)
	t0, dt := 0.0, minDt
	for t0 < dur {
		// Grow the step while the motion allows, shrink it where it does not.
		dt = min(2*dt, maxDt)
		var t1 float64
		var next saccade.Pose
		for {
			t1 = min(t0+dt, dur)
			next = traj.At(t1)
			shift := s.shift(pose, next)
			if shift <= p.StepPx || dt <= minDt {
				break
			}
			dt = max(minDt, dt*0.9*p.StepPx/shift)
		}
		if dur-t1 < 0.25*minDt { // do not leave a sliver of a step at the end
			t1, next = dur, traj.At(dur)
		}
		s.scene.Render(next, s.frame, W, H)
		s.pix.Step(s.frame, t1, dst)
		pose, t0 = next, t1
		if dst.Len() > MaxEventsPerSample {
			return fmt.Errorf("a sample made more than %d events; raise the thresholds or lower the noise", MaxEventsPerSample)
		}
	}
	SortEvents(dst)
	return nil
}

// Limits that turn a runaway parameter choice into a clear error instead of hours of work or all memory.
const (
	MaxSteps           = 10_000_000  // simulation steps per sample
	MaxEventsPerSample = 100_000_000 // events per sample (1.3 GB of columns)
)

// shift is how far any image point moves between two poses, px.
func (s *Synth) shift(a, b saccade.Pose) float64 {
	if a.IsTranslation() && b.IsTranslation() {
		return math.Hypot(b.DX-a.DX, b.DY-a.DY)
	}
	return s.cornerShift(a, b)
}

// cornerShift is how far the farthest image corner moves between two poses, px.
func (s *Synth) cornerShift(a, b saccade.Pose) float64 {
	ca, cb := s.scene.Corners(a), s.scene.Corners(b)
	var d float64
	for i := range ca {
		d = max(d, math.Hypot(cb[i][0]-ca[i][0], cb[i][1]-ca[i][1]))
	}
	return d
}

// SetScene prepares img with the parameters' blur, black level, size and origin, for Simulate with a
// trajectory of the caller's choosing (Sample does this itself).
func (s *Synth) SetScene(img *image.Gray, traj saccade.Trajectory) error {
	if err := s.setScene(img); err != nil {
		return err
	}
	s.placeScene(traj)
	return nil
}
