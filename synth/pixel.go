package synth

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/evtool/evtool/events"
)

// Pixels is the DVS pixel model of docs/synth.md#pixel-model for a W×H sensor: log intensity, per-pixel threshold
// mismatch, threshold crossings with linearly interpolated timestamps (the ESIM loop), refractory period,
// leak, shot noise and an optional photoreceptor low-pass. Feed it linear-intensity frames in time order:
// Reset with the first, then Step with each next one. All state is per pixel and reused across samples.
type Pixels struct {
	w, h int
	p    Params
	rng  *rand.Rand

	lprev []float64 // log intensity (after the low-pass) at the previous step
	ref   []float64 // memorised log level of the last crossing
	lastT []float64 // time of the last emitted event, µs (−Inf: never fired)
	cp    []float64 // this pixel's ON threshold
	cm    []float64 // this pixel's OFF threshold
	leakR []float64 // this pixel's leak-rate factor 10^(cov·N(0,1))
	iprev []float32 // linear intensity at the previous step (lets still pixels be skipped)
	hiI   []float64 // linear intensity at which the next ON level is reached (a little below)
	loI   []float64 // linear intensity at which the next OFF level is reached (a little above)

	t0     float64 // time of the previous step, µs
	stage  []staged
	keys   []uint64
	linlog bool // LogMode == "linlog", hoisted out of the pixel loop
}

// staged is one event of the current step before the step's events are sorted into the output.
type staged struct {
	t    int64
	x, y uint16
	p    uint8
}

// NewPixels allocates the state for a W×H sensor. p must be valid (Params.Validate).
func NewPixels(w, h int, p Params) *Pixels {
	n := w * h
	return &Pixels{w: w, h: h, p: p,
		lprev: make([]float64, n), ref: make([]float64, n), lastT: make([]float64, n),
		cp: make([]float64, n), cm: make([]float64, n), leakR: make([]float64, n), iprev: make([]float32, n),
		hiI: make([]float64, n), loI: make([]float64, n),
		linlog: p.LogMode == "linlog"}
}

// logIntensity is the log transform of docs/synth.md#log-transform-and-photoreceptor.
func (s *Pixels) logIntensity(i float32) float64 {
	if s.linlog {
		v := 255 * float64(i)
		if v <= 20 {
			return v * (math.Ln2 + math.Log(10)) / 20 // ln(20)/20 per unit: linear, continuous at 20
		}
		return math.Log(v)
	}
	return math.Log(s.p.LogEps + float64(i))
}

// expIntensity inverts logIntensity: the linear intensity whose log is l (≤ 0 when no intensity has it).
func (s *Pixels) expIntensity(l float64) float64 {
	if s.linlog {
		if v := l * 20 / (math.Ln2 + math.Log(10)); v <= 20 {
			return v / 255
		}
		return math.Exp(l) / 255
	}
	return math.Exp(l) - s.p.LogEps
}

// tieTol decides ties: a level that L reaches exactly (a pixel back at its starting brightness after a
// closed path) counts as crossed. Without it float rounding in the memorised level decides, and since
// background pixels can only brighten first, the missed returns bias the ON fraction upwards (v2e rounds
// L to 1e-8 for the same reason).
const tieTol = 1e-9

// gateMargin widens the linear gate so rounding can only send a pixel down the exact (log) path, never
// skip a level; it exceeds tieTol·(ε + I) for any intensity in [0, 1].
const gateMargin = 1e-8

// setGate maps pixel i's next ON and OFF levels to linear intensity.
func (s *Pixels) setGate(i int) {
	s.hiI[i] = s.expIntensity(s.ref[i]+s.cp[i]) - gateMargin
	s.loI[i] = s.expIntensity(s.ref[i]-s.cm[i]) + gateMargin
}

// Reset starts a sample: it draws this sample's per-pixel thresholds (and leak rates) from rng, which the
// model keeps for its noise draws, and memorises the first frame at time tUs.
func (s *Pixels) Reset(frame []float32, tUs float64, rng *rand.Rand) {
	s.rng = rng
	s.t0 = tUs
	s.drawThresholds()
	leak := s.p.LeakHz > 0
	for i := range s.ref {
		l := s.logIntensity(frame[i])
		s.lprev[i], s.ref[i], s.iprev[i] = l, l, frame[i]
		s.lastT[i] = math.Inf(-1)
		if leak {
			s.leakR[i] = math.Pow(10, s.p.NoiseCov*rng.NormFloat64())
		}
		s.setGate(i)
	}
}

// drawThresholds draws Cp, Cm = max(0.01, N(C±, σ_C)) for every pixel (docs/synth.md#threshold-mismatch).
func (s *Pixels) drawThresholds() {
	cpos, cneg, sig := s.p.Cpos, s.p.Cneg, s.p.SigmaC
	if sig == 0 {
		for i := range s.cp {
			s.cp[i], s.cm[i] = cpos, cneg
		}
		return
	}
	for i := range s.cp {
		s.cp[i] = max(0.01, cpos+sig*s.rng.NormFloat64())
		s.cm[i] = max(0.01, cneg+sig*s.rng.NormFloat64())
	}
}

// Step advances the model to time t1 (µs, > the previous step) with the frame seen then, and appends the
// events of the interval to dst in (t, y, x) order with integer-µs timestamps. Events of consecutive steps
// can share a rounded timestamp at the boundary; SortEvents fixes the order of a whole sample cheaply.
func (s *Pixels) Step(frame []float32, t1 float64, dst *events.Batch) {
	t0 := s.t0
	dt := t1 - t0
	s.t0 = t1
	if !(dt > 0) {
		return
	}
	p := &s.p
	if p.Mismatch == "per-step" {
		s.drawThresholds()
	}
	lowpass := p.CutoffHz > 0
	leak := p.LeakHz > 0
	shot := p.ShotHz > 0
	// A pixel whose intensity did not change makes no event unless something else moves its state.
	skipStill := !lowpass && !leak && !shot && p.Mismatch != "per-step"
	dtS := dt * 1e-6
	var lpGain float64 // Δt/τ of the low-pass
	if lowpass {
		lpGain = dtS * 2 * math.Pi * p.CutoffHz
	}
	refr := p.RefractoryUs
	stage := s.stage[:0]
	w := s.w
	hiI, loI := s.hiI, s.loI
	for i, in := range frame[:len(s.ref)] {
		var a float64
		if skipStill {
			// Most pixels reach no level in a step. Comparing the linear intensity with the pixel's
			// next levels mapped back to linear intensity (hiI, loI) finds them without a logarithm.
			if in == s.iprev[i] {
				continue
			}
			if v := float64(in); v < hiI[i] && v > loI[i] {
				s.iprev[i] = in
				continue
			}
			a = s.logIntensity(s.iprev[i])
		} else {
			a = s.lprev[i]
		}
		s.iprev[i] = in
		b := s.logIntensity(in)
		var inten float64 // v2e's brightness factor, only needed by the low-pass and shot noise
		if lowpass || shot {
			inten = (255*float64(in) + 20) / 275
		}
		if lowpass {
			// first-order, intensity-dependent photoreceptor (docs/synth.md#log-transform-and-photoreceptor): dark pixels follow slowly.
			eps := min(1, inten*lpGain)
			b = a + eps*(b-a)
		}
		s.lprev[i] = b
		ref := s.ref[i]
		if leak {
			ref -= dtS * p.LeakHz * s.leakR[i] * (1 - p.LeakJitter*s.rng.NormFloat64()) * s.cp[i]
		}
		x, y := uint16(i%w), uint16(i/w)
		// The ESIM loop (docs/synth.md#crossings-the-esim-loop): walk the crossed levels; each gets the time at which L, linear in time over
		// the step, reaches it. A level already passed at the step's start (leak moved ref) fires at t0.
		if cp := s.cp[i]; b-ref >= cp-tieTol {
			for level := ref + cp; level <= b+tieTol; level = ref + cp {
				te := t0 + dt*crossing(a, b, level)
				ref = level
				if te-s.lastT[i] >= refr {
					s.lastT[i] = te
					stage = append(stage, staged{t: int64(math.Round(te)), x: x, y: y, p: 1})
				}
			}
		} else if cm := s.cm[i]; ref-b >= cm-tieTol {
			for level := ref - cm; level >= b-tieTol; level = ref - cm {
				te := t0 + dt*crossing(a, b, level)
				ref = level
				if te-s.lastT[i] >= refr {
					s.lastT[i] = te
					stage = append(stage, staged{t: int64(math.Round(te)), x: x, y: y, p: 0})
				}
			}
		}
		if shot {
			// v2e's shot noise (docs/synth.md#leak-and-shot-noise): rarer in bright pixels, scaled by the pixel's threshold deviation;
			// the event resets the pixel's memorised level to the present one.
			f := p.ShotHz / 2 * dtS * ((0.25-1)*inten + 1)
			pOn, pOff := f*p.Cpos/s.cp[i], f*p.Cneg/s.cm[i]
			u := s.rng.Float64()
			if u > 1-pOn || u < pOff {
				pol := uint8(0)
				if u > 1-pOn {
					pol = 1
				}
				te := t0 + dt*s.rng.Float64()
				stage = append(stage, staged{t: int64(math.Round(te)), x: x, y: y, p: pol})
				ref = b
			}
		}
		s.ref[i] = ref
		if skipStill {
			s.setGate(i)
		}
	}
	// Events were staged in (y, x) order, so a stable sort by time yields (t, y, x). The sort key packs
	// the time (relative to the step) above the staging index, which makes every key unique and the
	// plain integer sort stable.
	dst.Grow(len(stage))
	if len(stage) > 0 {
		keys := s.keys[:0]
		base := int64(math.Floor(t0))
		sorted := true
		for i, e := range stage {
			keys = append(keys, uint64(e.t-base)<<32|uint64(i))
			sorted = sorted && (i == 0 || e.t >= stage[i-1].t)
		}
		if sorted {
			for _, e := range stage {
				dst.Append(e.t, e.x, e.y, e.p)
			}
		} else {
			slices.Sort(keys)
			for _, k := range keys {
				e := stage[uint32(k)]
				dst.Append(e.t, e.x, e.y, e.p)
			}
		}
		s.keys = keys
	}
	s.stage = stage
}

// crossing returns where in the step (0..1) a signal going linearly from a to b reaches level, clamped to
// the step (levels passed before the step started, by leak, fire at its start).
func crossing(a, b, level float64) float64 {
	if b == a {
		return 1
	}
	return min(1, max(0, (level-a)/(b-a)))
}

// SortEvents restores (t, y, x) order in a batch that is already nearly sorted (per-step runs that overlap
// only at their boundary µs) by a stable insertion pass: O(n) plus the few misplaced events.
func SortEvents(b *events.Batch) {
	T, X, Y, P := b.T, b.X, b.Y, b.P
	less := func(i, j int) bool {
		if T[i] != T[j] {
			return T[i] < T[j]
		}
		if Y[i] != Y[j] {
			return Y[i] < Y[j]
		}
		return X[i] < X[j]
	}
	for i := 1; i < len(T); i++ {
		if !less(i, i-1) {
			continue
		}
		t, x, y, p := T[i], X[i], Y[i], P[i]
		j := i
		for j > 0 && (t < T[j-1] || t == T[j-1] && (y < Y[j-1] || y == Y[j-1] && x < X[j-1])) {
			T[j], X[j], Y[j], P[j] = T[j-1], X[j-1], Y[j-1], P[j-1]
			j--
		}
		T[j], X[j], Y[j], P[j] = t, x, y, p
	}
}
