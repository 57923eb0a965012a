package synth

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/evtool/evtool/saccade"
)

// Params is everything that shapes a synthetic recording. Every field is listed, with its unit and the
// nmnist preset's value, by ParamDocs (and in docs/synth.md); the CLI sets them by name with --set.
type Params struct {
	// Sensor
	Width, Height int // sensor size, px

	// Scene (package render)
	BlurSigmaPx float64 // Gaussian blur of the image (optics), image px
	BlackLevel  float64 // display black level b: I = b + (1−b)·pixel, fraction of white
	Negative    bool    // show the image as its negative (ink at the black level on a white screen)
	ImageSize   int     // resize the image so its longer side is this many px (0: native size)
	OriginX     float64 // image top-left on the sensor at the rest pose, px (NaN: centre it)
	OriginY     float64 // as OriginX, for y

	// Motion (package saccade)
	Motion        string  // "orchard", "random" or "static"
	LegUs         float64 // orchard: duration of each leg, µs
	BasePx        float64 // orchard: triangle base along x, px
	HeightPx      float64 // orchard: triangle height along y, px
	Easing        string  // leg speed profile: linear, minimum-jerk, cosine
	LegJitter     float64 // orchard: each leg's speed varies uniformly by ± this fraction
	Saccades      int     // random: number of saccades (the last returns to the start)
	AmplitudePx   float64 // random: largest saccade amplitude, px (smallest is a third of it)
	Microsaccades bool    // add fixational drift and microsaccades to the path
	StaticUs      float64 // static: how long the still image is watched, µs

	// Pixel model (docs/synth.md#pixel-model)
	LogMode      string  // "esim": L = ln(ε + I); "linlog": v2e's lin-log on 8-bit values
	LogEps       float64 // ε of the esim log, intensity units
	Cpos, Cneg   float64 // ON / OFF contrast thresholds, ln units
	SigmaC       float64 // per-pixel threshold mismatch (standard deviation), ln units
	Mismatch     string  // "static" (drawn once per sample, v2e) or "per-step" (redrawn every step, ESIM)
	RefractoryUs float64 // refractory period, µs
	LeakHz       float64 // leak event rate per pixel, Hz
	LeakJitter   float64 // per-step jitter of the leak, fraction
	NoiseCov     float64 // log-normal spread of per-pixel leak rates, decades
	ShotHz       float64 // shot-noise rate per pixel (ON+OFF), Hz
	CutoffHz     float64 // photoreceptor low-pass corner frequency, Hz (0: off)
	StepPx       float64 // largest image motion per simulation step, px
	MaxStepUs    float64 // longest simulation step, µs (bounds steps when nothing moves fast)

	Seed uint64 // global seed; sample i uses hash(Seed, i)
}

// param describes one field for docs and --set.
type param struct {
	name, unit, help string
	f                *float64
	i                *int
	s                *string
	b                *bool
	u                *uint64
}

func (p *Params) table() []param {
	return []param{
		{name: "width", unit: "px", help: "sensor width", i: &p.Width},
		{name: "height", unit: "px", help: "sensor height", i: &p.Height},
		{name: "blur", unit: "image px", help: "Gaussian blur σ of the image (optics, monitor)", f: &p.BlurSigmaPx},
		{name: "black-level", unit: "fraction of white", help: "display black level b: I = b + (1−b)·pixel; bounds an edge's contrast to ln(1/b)", f: &p.BlackLevel},
		{name: "negative", unit: "bool", help: "show the image as its negative: ink at the black level on a white screen (N-MNIST's edge polarity)", b: &p.Negative},
		{name: "image-size", unit: "px", help: "resize the image so its longer side has this many pixels (0: native)", i: &p.ImageSize},
		{name: "origin-x", unit: "px", help: "image left edge on the sensor at the rest pose (nan: centred)", f: &p.OriginX},
		{name: "origin-y", unit: "px", help: "image top edge on the sensor at the rest pose (nan: centred)", f: &p.OriginY},
		{name: "motion", unit: "", help: "orchard (three-saccade triangle), random (closed-loop random saccades) or static", s: &p.Motion},
		{name: "leg", unit: "µs", help: "orchard: duration of each of the three legs", f: &p.LegUs},
		{name: "base", unit: "px", help: "orchard: triangle base along x", f: &p.BasePx},
		{name: "tri-height", unit: "px", help: "orchard: triangle height along y", f: &p.HeightPx},
		{name: "easing", unit: "", help: "speed profile of each leg: linear, minimum-jerk or cosine", s: &p.Easing},
		{name: "leg-jitter", unit: "fraction", help: "orchard: each leg's speed varies uniformly by ± this fraction", f: &p.LegJitter},
		{name: "saccades", unit: "count", help: "random: number of saccades (the last returns to the start)", i: &p.Saccades},
		{name: "amplitude", unit: "px", help: "random: largest saccade amplitude (smallest: a third of it)", f: &p.AmplitudePx},
		{name: "microsaccades", unit: "bool", help: "add fixational drift (0.5 px/√s) and microsaccades (1.5/s, 0.25–1 px, 25 ms)", b: &p.Microsaccades},
		{name: "static", unit: "µs", help: "static: how long the still image is watched", f: &p.StaticUs},
		{name: "log", unit: "", help: "log transform: esim (ln(ε+I)) or linlog (v2e: linear below 20/255)", s: &p.LogMode},
		{name: "log-eps", unit: "intensity", help: "ε of the esim log transform", f: &p.LogEps},
		{name: "cpos", unit: "ln units", help: "ON contrast threshold C+", f: &p.Cpos},
		{name: "cneg", unit: "ln units", help: "OFF contrast threshold C−", f: &p.Cneg},
		{name: "sigma-c", unit: "ln units", help: "per-pixel threshold mismatch σ_C", f: &p.SigmaC},
		{name: "mismatch", unit: "", help: "static (thresholds drawn once per sample) or per-step (redrawn every step, as ESIM)", s: &p.Mismatch},
		{name: "refractory", unit: "µs", help: "refractory period (suppressed events still move the memorised level)", f: &p.RefractoryUs},
		{name: "leak", unit: "Hz", help: "leak ON-event rate per pixel", f: &p.LeakHz},
		{name: "leak-jitter", unit: "fraction", help: "per-step jitter of the leak", f: &p.LeakJitter},
		{name: "noise-cov", unit: "decades", help: "log-normal spread of per-pixel leak rates", f: &p.NoiseCov},
		{name: "shot", unit: "Hz", help: "shot-noise rate per pixel, ON+OFF (3× more in the dark than in white)", f: &p.ShotHz},
		{name: "cutoff", unit: "Hz", help: "photoreceptor low-pass corner frequency (0: off)", f: &p.CutoffHz},
		{name: "step", unit: "px", help: "largest image motion per simulation step", f: &p.StepPx},
		{name: "max-step", unit: "µs", help: "longest simulation step (bounds steps when nothing moves fast)", f: &p.MaxStepUs},
		{name: "seed", unit: "", help: "global seed; sample i uses hash(seed, i)", u: &p.Seed},
	}
}

// ParamDoc is one row of ParamDocs.
type ParamDoc struct{ Name, Unit, Default, Help string }

// ParamDocs lists every parameter with its unit and its value in p (pass a preset for its defaults).
func ParamDocs(p Params) []ParamDoc {
	var out []ParamDoc
	for _, f := range p.table() {
		out = append(out, ParamDoc{Name: f.name, Unit: f.unit, Default: f.value(), Help: f.help})
	}
	return out
}

func (f param) value() string {
	switch {
	case f.f != nil:
		return strconv.FormatFloat(*f.f, 'g', -1, 64)
	case f.i != nil:
		return strconv.Itoa(*f.i)
	case f.s != nil:
		return *f.s
	case f.b != nil:
		return strconv.FormatBool(*f.b)
	default:
		return strconv.FormatUint(*f.u, 10)
	}
}

// Set changes one parameter by its ParamDocs name ("cpos", "black-level", …). "c" sets both thresholds.
func (p *Params) Set(name, value string) error {
	if name == "c" {
		if err := p.Set("cpos", value); err != nil {
			return err
		}
		return p.Set("cneg", value)
	}
	for _, f := range p.table() {
		if f.name != name {
			continue
		}
		var err error
		want := ""
		switch {
		case f.f != nil:
			*f.f, err = strconv.ParseFloat(value, 64)
			want = "a number"
		case f.i != nil:
			*f.i, err = strconv.Atoi(value)
			want = "an integer"
		case f.s != nil:
			*f.s = value
		case f.b != nil:
			*f.b, err = strconv.ParseBool(value)
			want = "true or false"
		default:
			*f.u, err = strconv.ParseUint(value, 10, 64)
			want = "a non-negative integer"
		}
		if err != nil {
			return fmt.Errorf("synth parameter %s=%q: want %s", name, value, want)
		}
		return nil
	}
	var names []string
	for _, f := range p.table() {
		names = append(names, f.name)
	}
	return fmt.Errorf("unknown synth parameter %q (known: c, %s)", name, strings.Join(names, ", "))
}

// String lists every parameter as name=value, space-separated (recorded in the output's metadata).
func (p Params) String() string {
	var parts []string
	for _, f := range p.table() {
		parts = append(parts, f.name+"="+f.value())
	}
	return strings.Join(parts, " ")
}

// Validate reports the first parameter out of its range.
func (p *Params) Validate() error {
	bad := func(name, want string) error { return fmt.Errorf("synth parameter %s: want %s", name, want) }
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case p.Width < 1 || p.Height < 1 || p.Width > 4096 || p.Height > 4096:
		return bad("width/height", "1..4096 px")
	case !(p.BlackLevel >= 0 && p.BlackLevel < 1):
		return bad("black-level", "0 <= b < 1")
	case !(p.BlurSigmaPx >= 0 && p.BlurSigmaPx <= 50):
		return bad("blur", "0..50 px")
	case p.ImageSize < 0 || p.ImageSize > 4096:
		return bad("image-size", "0..4096 px")
	case !(p.Cpos >= 0.01 && p.Cpos < 10) || !(p.Cneg >= 0.01 && p.Cneg < 10):
		return bad("cpos/cneg", "0.01 <= C < 10 ln units")
	case !(p.SigmaC >= 0 && p.SigmaC < 1):
		return bad("sigma-c", "0 <= σ < 1")
	case !(p.LogEps > 0 && p.LogEps < 1):
		return bad("log-eps", "0 < ε < 1")
	case !(p.StepPx >= 0.01 && p.StepPx <= 4):
		return bad("step", "0.01..4 px")
	case !(p.MaxStepUs >= 1 && p.MaxStepUs <= 1e6):
		return bad("max-step", "1..1,000,000 µs")
	case !(p.RefractoryUs >= 0 && finite(p.RefractoryUs)):
		return bad("refractory", "a non-negative time")
	case !(p.LeakHz >= 0 && p.LeakHz <= 1e4) || !(p.ShotHz >= 0 && p.ShotHz <= 1e4):
		return bad("leak/shot", "0..10,000 Hz")
	case !(p.LeakJitter >= 0 && p.LeakJitter <= 1) || !(p.NoiseCov >= 0 && p.NoiseCov <= 3):
		return bad("leak-jitter/noise-cov", "0..1 and 0..3")
	case !(p.CutoffHz >= 0 && p.CutoffHz <= 1e6):
		return bad("cutoff", "0..1e6 Hz")
	case p.LogMode != "esim" && p.LogMode != "linlog":
		return bad("log", "esim or linlog")
	case p.Mismatch != "static" && p.Mismatch != "per-step":
		return bad("mismatch", "static or per-step")
	case !(math.IsNaN(p.OriginX) || finite(p.OriginX)) || !(math.IsNaN(p.OriginY) || finite(p.OriginY)):
		return bad("origin-x/origin-y", "finite values or nan")
	}
	switch p.Motion {
	case "orchard":
		if !(p.LegUs >= 1000 && p.LegUs <= 1e8) || !finite(p.BasePx) || !finite(p.HeightPx) || !(p.LegJitter >= 0 && p.LegJitter < 1) {
			return bad("leg/base/tri-height/leg-jitter", "legs of 1 ms..100 s, finite sizes, 0 <= jitter < 1")
		}
	case "random":
		if p.Saccades < 1 || p.Saccades > 1000 || !(p.AmplitudePx > 0 && p.AmplitudePx < 1000) || !(p.LegUs >= 1000 && p.LegUs <= 1e8) {
			return bad("saccades/amplitude/leg", "1..1000 saccades of 0..1000 px, legs of 1 ms..100 s")
		}
	case "static":
		if !(p.StaticUs >= 1 && p.StaticUs <= 1e9) {
			return bad("static", "1 µs..1000 s")
		}
	default:
		return bad("motion", "orchard, random or static")
	}
	if _, err := saccade.ParseEasing(p.Easing); err != nil {
		return err
	}
	return nil
}

// Presets by name.
var presets = map[string]func() Params{
	"nmnist":    NMNIST,
	"v2e-clean": V2EClean,
	"v2e-noisy": V2ENoisy,
	"dvs128":    DVS128,
}

// PresetNames lists the presets.
func PresetNames() []string {
	var names []string
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns a named preset.
func Preset(name string) (Params, error) {
	f, ok := presets[name]
	if !ok {
		return Params{}, fmt.Errorf("unknown synth preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return f(), nil
}

// NMNIST is the preset calibrated against the real N-MNIST recordings (docs/synth.md#calibrated-parameters): 34×34 sensor, the
// 28×28 digit at the top-left at rest, Orchard's triangle with 105 ms legs, the digit shown as a negative
// (dark ink on a white screen), C+ = 0.345 / C− = 0.36, σ_C = 0.03, black level 0.1, blur 0.5 px, 0.5 px
// steps, no refractory period and no noise.
//
// Negative: in the real recordings the ON events of each saccade lie behind the OFF events along the
// motion (their centroids differ by the opposite of the content's displacement in all three legs); a
// bright digit on a dark screen gives the reverse, and models trained on such data classify real
// recordings at chance level. Reversing the path instead mirrors the digit's position on the sensor (the
// per-pixel event-map correlation with the recordings falls from 0.96 to 0.31), so the display is what
// differs. With the negative, the thresholds that reproduce the recordings' counts are lower than
// the 0.45 that bright digits need (docs/synth.md#calibrated-parameters): C = 0.35 on average gives a mean of 4,075
// events against 4,108. They are split C+ < C− because with threshold mismatch a pixel that changes and
// returns fires one event fewer of the second polarity whenever its thresholds differ; the split gives
// the recordings' ON fraction of 0.498 without changing the counts.
//
// The legs use minimum-jerk easing rather than constant speed: the real recordings' event rate rises
// from near zero at each saccade's start, peaks mid-leg and falls before the next, as a pan-tilt unit
// that accelerates and brakes would make. Against the 1,100 real samples the rate-over-time correlation
// is 0.93 with it and 0.50 with linear legs; the counts are unchanged (the path is the same). Each leg's
// speed also varies by ±5 %, which spreads the sample durations over 299–329 ms like the recordings'
// 297–336 ms (0.5 % of constant legs: 309–315 ms).
func NMNIST() Params {
	return Params{
		Width: 34, Height: 34,
		BlurSigmaPx: 0.5, BlackLevel: 0.1, Negative: true,
		Motion: "orchard", LegUs: 105000, BasePx: 7, HeightPx: 7, Easing: "minimum-jerk", LegJitter: 0.05,
		Saccades: 4, AmplitudePx: 6, StaticUs: 300000,
		LogMode: "esim", LogEps: 1e-3,
		Cpos: 0.345, Cneg: 0.36, SigmaC: 0.03, Mismatch: "static",
		LeakJitter: 0.1, NoiseCov: 0.1,
		StepPx: 0.5, MaxStepUs: 10000,
	}
}

// V2EClean follows v2e's `--dvs_params clean`: C± = 0.2, σ_C = 0.02, no noise, no low-pass, on the
// N-MNIST canvas and path. Expect about twice N-MNIST's event count (docs/synth.md#presets: counts scale with
// ln(1/b)/C).
func V2EClean() Params {
	p := NMNIST()
	p.Cpos, p.Cneg, p.SigmaC = 0.2, 0.2, 0.02
	return p
}

// V2ENoisy follows v2e's `--dvs_params noisy`: C± = 0.2, σ_C = 0.05, photoreceptor corner 30 Hz, leak
// 0.1 Hz and shot noise 5 Hz per pixel.
func V2ENoisy() Params {
	p := V2EClean()
	p.SigmaC, p.CutoffHz, p.LeakHz, p.ShotHz = 0.05, 30, 0.1, 5
	return p
}

// DVS128 is a 128×128 sensor watching the image enlarged to 96 px and centred, moved by Orchard's
// triangle scaled ×3.5 (base and height 24.5 px, so an enlarged digit moves as far in its own pixels
// as in N-MNIST), C± = 0.2, σ_C = 0.03, black level 0.1, a 0.5 ms refractory period and 0.1 Hz shot noise.
func DVS128() Params {
	p := NMNIST()
	p.Width, p.Height, p.ImageSize = 128, 128, 96
	p.OriginX, p.OriginY = math.NaN(), math.NaN()
	p.BasePx, p.HeightPx = 24.5, 24.5
	p.BlurSigmaPx = 0.5
	p.Cpos, p.Cneg = 0.2, 0.2
	p.RefractoryUs, p.ShotHz = 500, 0.1
	return p
}
