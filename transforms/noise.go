package transforms

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/evtool/evtool/events"
)

// Noise filters: per-pixel rules that drop the events a sensor makes without a scene change —
// background activity (denoise, in two modes), refractory periods, hot pixels and saturated arbiter lines.

// --- denoise, background-activity mode ---

// denoiseNever marks a pixel that never fired: far enough in the past that t − denoiseNever exceeds any dt
// without overflowing (timestamps are ≥ −2^62), so the neighbour test needs one comparison.
const denoiseNever = math.MinInt64 / 2

// denoise keeps its state with a one-pixel border of "never" around the sensor, so every event tests a
// fixed list of neighbour offsets without bounds checks.
type denoise struct {
	dt    int64
	eight bool
	tonic bool // compat=tonic: pixels start as if they fired at t = 0
	w, h  int
	last  []int64 // (w+2)×(h+2): a border of never-fired pixels spares the bounds tests
}

func (d *denoise) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	d.w, d.h = in.Geometry.Width, in.Geometry.Height
	pw := d.w + 2
	d.last = growInt64(d.last, pw*(d.h+2))
	fill(d.last, denoiseNever)
	if d.tonic {
		// tonic's Denoise initialises its memory to filter_time (= last fired at 0), so every event before
		// dt passes; pixels outside the sensor stay "never".
		for y := 1; y <= d.h; y++ {
			fill(d.last[y*pw+1:y*pw+1+d.w], 0)
		}
	}
	return in, nil
}

func (d *denoise) Process(in, out *events.Batch) error {
	w, h, dt, last := d.w, d.h, d.dt, d.last
	pw := w + 2
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x >= w || y >= h {
			continue // outside the sensor: dropped
		}
		k := (y+1)*pw + x + 1
		// t − l < dt ⇔ l > t − dt (denoiseNever is far below any t − dt). The newest neighbour decides,
		// found without branches: the early-exit loop mispredicts on noisy data.
		up, mid, down := last[k-pw-1:k-pw+2], last[k-1:k+2], last[k+pw-1:k+pw+2]
		newest := max(up[1], mid[0], mid[2], down[1])
		if d.eight {
			newest = max(newest, up[0], up[2], down[0], down[2])
		}
		support := newest > t-dt
		last[k] = t // every event updates the state, kept or not
		if support {
			T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
			j++
		}
	}
	out.Truncate(start + j)
	return nil
}

func (d *denoise) Flush(*events.Batch) error { return nil }

// --- denoise, fast-decay mode (dv-processing's FastDecayNoiseFilter) ---

type fastDecay struct {
	halfLife  float64
	sub       int
	threshold float64
	w, h      int
	v         []float64
	last      []int64
	xCell     []int32 // x/sub and (y/sub)·(cells per row), tabulated: two divisions per event cost more
	yCell     []int   // than the rest of the work
	decay     []uint64
	started   bool
}

func (f *fastDecay) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	f.w, f.h = in.Geometry.Width, in.Geometry.Height
	cw := f.w/f.sub + 1
	n := (f.h/f.sub + 1) * cw
	if len(f.v) != n {
		f.v, f.last = make([]float64, n), make([]int64, n)
	}
	clear(f.v)
	f.xCell, f.yCell = f.xCell[:0], f.yCell[:0]
	for x := 0; x < f.w; x++ {
		f.xCell = append(f.xCell, int32(x/f.sub))
	}
	for y := 0; y < f.h; y++ {
		f.yCell = append(f.yCell, y/f.sub*cw)
	}
	f.decay = decayTable(f.halfLife)
	f.started = false
	return in, nil
}

func (f *fastDecay) Process(in, out *events.Batch) error {
	if in.Len() > 0 && !f.started {
		// Every cell starts at the stream's first event time (dv-processing's initial state).
		fill(f.last, in.T[0])
		f.started = true
	}
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	X, Y, P = X[:len(T)], Y[:len(T)], P[:len(T)] // one bounds check covers the four
	j := 0
	inv := 1 / f.halfLife
	w, h, v, last, xCell, yCell, decay, threshold := f.w, f.h, f.v, f.last, f.xCell, f.yCell, f.decay, f.threshold
	// In chunks: first every event's verdict, then the kept events packed. Emitting as each verdict
	// comes makes every event wait for the previous one's decay look-up (the output index depends on
	// it), or mispredict when kept and dropped events mix.
	var keep [256]uint8
	for lo := 0; lo < len(in.T); lo += len(keep) {
		T0 := in.T[lo:min(lo+len(keep), len(in.T))]
		X0, Y0, P0 := in.X[lo:lo+len(T0)], in.Y[lo:lo+len(T0)], in.P[lo:lo+len(T0)]
		for i, t := range T0 {
			x, y := int(X0[i]), int(Y0[i])
			if x >= w || y >= h {
				keep[i] = 0
				continue
			}
			c := yCell[y] + int(xCell[x])
			dt := t - last[c]
			// 2^(−Δt/half-life), remembered per Δt: math.Exp2 costs more than everything else here.
			var e float64
			if uint64(dt) < uint64(len(decay)) {
				if bits := atomic.LoadUint64(&decay[dt]); bits != 0 {
					e = math.Float64frombits(bits)
				} else {
					e = math.Exp2(-float64(dt) * inv)
					atomic.StoreUint64(&decay[dt], math.Float64bits(e))
				}
			} else {
				e = math.Exp2(-float64(dt) * inv)
			}
			vc := v[c]*e + 1
			v[c], last[c] = vc, t
			keep[i] = uint8(b2i(vc > threshold))
		}
		for i, t := range T0 {
			T[j], X[j], Y[j], P[j] = t, X0[i], Y0[i], P0[i]
			j += int(keep[i])
		}
	}
	out.Truncate(start + j)
	return nil
}

func (f *fastDecay) Flush(*events.Batch) error { return nil }

// decayTables holds, per half-life, 2^(−Δt/half-life) for Δt < 2^16 µs as float64 bits, filled as the
// values are first needed (0: not yet) and shared by every stream, so short samples profit as much as long
// recordings. Each is 512 KiB; a few half-lives at most get one.
var decayTables = struct {
	sync.Mutex
	m map[float64][]uint64
}{m: map[float64][]uint64{}}

const maxDecayTables = 8

// decayTable returns the shared table of a half-life, or nil when too many half-lives have one.
func decayTable(halfLife float64) []uint64 {
	decayTables.Lock()
	defer decayTables.Unlock()
	t, ok := decayTables.m[halfLife]
	if !ok && len(decayTables.m) < maxDecayTables {
		t = make([]uint64, 1<<16)
		decayTables.m[halfLife] = t
	}
	return t
}

func init() {
	register(&Def{Name: "denoise", Help: "ba (default), background activity: keep an event when one of its neighbours fired less than dt before (8 neighbours by default), every event updating its pixel's time; fast-decay (dv-processing): per s×s cell v = v·2^(−Δt/half-life) + 1, keep when v > threshold",
		Params: []Param{
			{Name: "mode", Kind: Choice, Default: "ba", Choices: []string{"ba", "fast-decay"}, Help: "background-activity or fast-decay filter"},
			{Name: "dt", Kind: Duration, Unit: "µs", Default: "2000us", Help: "ba: support window (strict: t − last < dt)"},
			{Name: "neighbours", Kind: Choice, Default: "8", Choices: []string{"8", "4"}, Help: "ba: 8 surrounding pixels, or the 4 edge neighbours"},
			{Name: "half-life", Kind: Duration, Unit: "µs", Default: "10ms", Help: "fast-decay: half-life of a cell's count"},
			{Name: "subdivision", Kind: Int, Unit: "px", Default: "4", Help: "fast-decay: cell size s (cells (H/s+1)×(W/s+1)); only the event's own cell counts"},
			{Name: "threshold", Kind: Float, Default: "6", Help: "fast-decay: keep when the decayed count (including the event) exceeds it"},
			{Name: "compat", Kind: Choice, Default: "none", Choices: []string{"none", "tonic"}, Help: "ba: tonic's Denoise exactly (4 neighbours, every event before dt passes)"},
		},
		Filter: func(v Values) (Filter, error) {
			if v.String("mode") == "fast-decay" {
				if v.Set("dt") || v.Set("neighbours") || v.Set("compat") {
					return nil, fmt.Errorf("dt, neighbours and compat belong to mode=ba")
				}
				if v.Int("half-life") <= 0 || v.Int("subdivision") < 1 {
					return nil, fmt.Errorf("want half-life > 0 and subdivision ≥ 1")
				}
				return &fastDecay{halfLife: float64(v.Int("half-life")), sub: int(v.Int("subdivision")),
					threshold: v.Float("threshold")}, nil
			}
			if v.Set("half-life") || v.Set("subdivision") || v.Set("threshold") {
				return nil, fmt.Errorf("half-life, subdivision and threshold belong to mode=fast-decay")
			}
			if v.Int("dt") <= 0 {
				return nil, fmt.Errorf("dt must be positive")
			}
			if v.String("compat") == "tonic" {
				if v.Set("neighbours") && v.String("neighbours") != "4" {
					return nil, fmt.Errorf("compat=tonic uses tonic's 4 neighbours")
				}
				return &denoise{dt: v.Int("dt"), tonic: true}, nil
			}
			return &denoise{dt: v.Int("dt"), eight: v.String("neighbours") == "8"}, nil
		}})
}

// --- refractory ---

type refractory struct {
	period      int64
	perPolarity bool
	tonic       bool // compat=tonic
	w, h        int
	last        []int64
}

func (r *refractory) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	r.w, r.h = in.Geometry.Width, in.Geometry.Height
	n := r.w * r.h
	if r.perPolarity {
		n *= 2
	}
	r.last = growInt64(r.last, n)
	fill(r.last, never)
	return in, nil
}

func (r *refractory) Process(in, out *events.Batch) error {
	w, h, last := r.w, r.h, r.last
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x >= w || y >= h {
			continue
		}
		k := y*w + x
		if r.perPolarity {
			k += int(in.P[i]&1) * w * h
		}
		l := last[k]
		last[k] = t
		if r.tonic {
			// tonic RefractoryPeriod: memory starts at −period and the test is strict, so an event at
			// exactly t = 0 is dropped.
			if l == never {
				l = -r.period
			}
			if t-l > r.period {
				T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
				j++
			}
			continue
		}
		if l == never || t-l >= r.period {
			T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
			j++
		}
	}
	out.Truncate(start + j)
	return nil
}

func (r *refractory) Flush(*events.Batch) error { return nil }

func init() {
	register(&Def{Name: "refractory", Help: "keep an event when its pixel never fired or fired at least period before; every event restarts the period",
		Params: []Param{
			{Name: "period", Kind: Duration, Unit: "µs", Default: "250us", Help: "refractory period (t − last ≥ period passes)"},
			{Name: "per-polarity", Kind: Bool, Default: "false", Help: "separate state for ON and OFF"},
			{Name: "compat", Kind: Choice, Default: "none", Choices: []string{"none", "tonic"}, Help: "tonic's RefractoryPeriod exactly (strict t − last > period, memory starting at −period)"},
		},
		Filter: func(v Values) (Filter, error) {
			if v.Int("period") < 0 {
				return nil, fmt.Errorf("period must not be negative")
			}
			return &refractory{period: v.Int("period"), perPolarity: v.Bool("per-polarity"), tonic: v.String("compat") == "tonic"}, nil
		}})
}

// --- hotpixel, rate mode: a pixel firing above a rate over a learning window ---

type hotPixel struct {
	rateHz  float64
	learnUs int64 // 0: the whole sample
	w, h    int
	held    events.Batch
	count   []int32
	hot     []bool
	decided bool
	first   int64
	started bool
	nHot    int
}

func (hp *hotPixel) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	hp.w, hp.h = in.Geometry.Width, in.Geometry.Height
	n := hp.w * hp.h
	if cap(hp.count) < n {
		hp.count, hp.hot = make([]int32, n), make([]bool, n)
	}
	hp.count, hp.hot = hp.count[:n], hp.hot[:n]
	clear(hp.count)
	clear(hp.hot)
	hp.held.Reset()
	hp.decided, hp.started, hp.nHot = false, false, 0
	return in, nil
}

// decide marks the hot pixels from the counts over a window of L µs and releases the held events.
func (hp *hotPixel) decide(L int64, out *events.Batch) {
	limit := hp.rateHz * float64(L) * 1e-6
	for k, c := range hp.count {
		if float64(c) > limit {
			hp.hot[k] = true
			hp.nHot++
		}
	}
	hp.decided = true
	hp.emit(&hp.held, out)
	hp.held.Reset()
}

func (hp *hotPixel) emit(in, out *events.Batch) {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x >= hp.w || y >= hp.h || hp.hot[y*hp.w+x] {
			continue
		}
		T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
		j++
	}
	out.Truncate(start + j)
}

func (hp *hotPixel) Process(in, out *events.Batch) error {
	if hp.decided {
		hp.emit(in, out)
		return nil
	}
	for i, t := range in.T {
		if !hp.started {
			hp.first, hp.started = t, true
		}
		if hp.learnUs > 0 && t >= hp.first+hp.learnUs {
			hp.decide(hp.learnUs, out)
			rest := in.Slice(i, in.Len())
			hp.emit(&rest, out)
			return nil
		}
		x, y := int(in.X[i]), int(in.Y[i])
		if x < hp.w && y < hp.h {
			hp.count[y*hp.w+x]++
		}
		hp.held.Append(t, in.X[i], in.Y[i], in.P[i])
	}
	return nil
}

func (hp *hotPixel) hotPixels() int { return hp.nHot }

func (hp *hotPixel) Flush(out *events.Batch) error {
	if hp.decided {
		return nil
	}
	L := hp.learnUs
	if L == 0 && hp.held.Len() > 0 {
		L = hp.held.T[hp.held.Len()-1] - hp.first // tonic's DropPixel: the sample's duration
	}
	hp.decide(L, out)
	return nil
}

// --- hotpixel, relative mode: faery's neighbour rule in fixed time windows ---

type hotRelative struct {
	r      float64
	window int64
	w, h   int
	held   events.Batch
	// px is per pixel of the current window, with a border of zeros standing for the off-sensor
	// neighbours ((w+2)×(h+2)), and one more cell that off-sensor events count in: the event count in
	// the low 32 bits, bit 32 set once the pixel's hot pixels are counted; forgetting a pixel is one
	// store.
	px []uint64
	// The px index of every event held, and of every event of the batch being processed: worked out
	// once, when counting.
	heldAt, at []int32
	t0         int64
	k          int64
	started    bool
	hot        int // hot (pixel, window) pairs seen
}

func (f *hotRelative) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	f.w, f.h = in.Geometry.Width, in.Geometry.Height
	n := (f.w+2)*(f.h+2) + 1
	if len(f.px) != n {
		f.px = make([]uint64, n)
	}
	clear(f.px)
	f.held.Reset()
	f.heldAt = f.heldAt[:0]
	f.started, f.hot = false, 0
	return in, nil
}

// decide emits the events of b, part of the window being closed, whose pixel is not hot there: a pixel is
// hot when 1 + its count ≥ r · max(1 + each 4-neighbour's count), off-sensor neighbours counting 1. The
// verdict is made at the pixel's first event and kept for the rest of the window. at holds the events'
// px indices.
func (f *hotRelative) decide(b *events.Batch, at []int32, out *events.Batch) {
	pw, px, r := f.w+2, f.px, f.r
	off := int32(len(px) - 1) // the off-sensor cell
	start := out.Len()
	T, X, Y, P := out.Extend(b.Len())
	X, Y, P = X[:len(T)], Y[:len(T)], P[:len(T)] // one bounds check covers the four
	j, hot := 0, 0
	X0, Y0, P0, at := b.X[:len(b.T)], b.Y[:len(b.T)], b.P[:len(b.T)], at[:len(b.T)]
	for i, t := range b.T {
		if at[i] == off {
			continue // outside the sensor: dropped
		}
		k := int(at[i])
		s := px[k]
		// The counts are final, so the verdict is the same at each of the pixel's events: computed every
		// time, without a branch; the pixel's first event (no verdict yet) counts a hot pixel.
		m := 1 + int64(max(uint32(px[k-1]), uint32(px[k+1]), uint32(px[k-pw]), uint32(px[k+pw])))
		isHot := b2i(!(float64(1+int64(uint32(s))) < r*float64(m)))
		hot += isHot & b2i(s>>32 == 0)
		px[k] = s | 1<<32 // decided
		// Hot or not is a coin flip on noisy data: every event writes a slot, a kept one advances j.
		T[j], X[j], Y[j], P[j] = t, X0[i], Y0[i], P0[i]
		j += 1 - isHot
	}
	f.hot += hot
	out.Truncate(start + j)
}

// forget clears the counts and verdicts of the pixels at for the next window.
func (f *hotRelative) forget(at []int32) {
	px := f.px
	for _, k := range at {
		px[k] = 0
	}
}

func (f *hotRelative) Process(in, out *events.Batch) error {
	n := in.Len()
	if n > 0 && !f.started {
		f.t0, f.k, f.started = in.T[0], 0, true
	}
	pw, w, h, px := f.w+2, f.w, f.h, f.px
	off := int32(len(px) - 1)
	if cap(f.at) < n {
		f.at = make([]int32, n)
	}
	at := f.at[:n]
	X0, Y0 := in.X[:n], in.Y[:n]
	for i := 0; i < n; {
		// The run of events in the current window is counted; a window that closes inside this batch is
		// decided straight from it, and only the open window at the batch's end is held.
		end := f.t0 + (f.k+1)*f.window
		j := i
		for ; j < n && in.T[j] < end; j++ {
			k := off
			if x, y := int(X0[j]), int(Y0[j]); x < w && y < h {
				k = int32((y+1)*pw + x + 1)
			}
			at[j] = k
			px[k]++ // the count: 2^32 events of one pixel in one window cannot be held in memory
		}
		run := in.Slice(i, j)
		if j == n {
			f.held.AppendBatch(&run)
			f.heldAt = append(f.heldAt, at[i:j]...)
			break
		}
		if f.held.Len() > 0 { // the window's start came in an earlier batch
			f.decide(&f.held, f.heldAt, out)
		}
		f.decide(&run, at[i:j], out)
		if f.held.Len() > 0 {
			f.forget(f.heldAt)
			f.held.Reset()
			f.heldAt = f.heldAt[:0]
		}
		f.forget(at[i:j])
		f.k = (in.T[j] - f.t0) / f.window
		i = j
	}
	return nil
}

// hotPixels counts hot (pixel, window) pairs.
func (f *hotRelative) hotPixels() int { return f.hot }

func (f *hotRelative) Flush(out *events.Batch) error {
	f.decide(&f.held, f.heldAt, out)
	f.forget(f.heldAt)
	f.held.Reset()
	f.heldAt = f.heldAt[:0]
	return nil
}

func init() {
	register(&Def{Name: "hotpixel", Help: "drop the events of hot pixels, by one of: rate — count over the learning window > rate·window (buffered; without learn the whole sample); pixels — a list x:y;x:y or a PNG/.npy mask (non-zero = hot); relative — in fixed windows, a pixel whose 1+count ≥ r·max(1+count of its 4 neighbours) (faery's rule, off-sensor neighbours 1)",
		Params: []Param{
			{Name: "rate", Kind: Float, Unit: "Hz", Help: "rate mode: event rate above which a pixel is hot"},
			{Name: "learn", Kind: Duration, Unit: "µs", Default: "0us", Help: "rate mode: learning window from the first event (0: the whole sample)"},
			{Name: "pixels", Kind: Text, Help: "list mode: x:y;x:y… or a mask file (.png, .npy)"},
			{Name: "relative", Kind: Float, Help: "relative mode: the ratio r"},
			{Name: "window", Kind: Duration, Unit: "µs", Default: "10ms", Help: "relative mode: window length D (windows [t0 + kD, t0 + (k+1)D))"},
		},
		Filter: func(v Values) (Filter, error) {
			modes := 0
			for _, m := range []string{"rate", "pixels", "relative"} {
				if v.Set(m) {
					modes++
				}
			}
			if modes != 1 {
				return nil, fmt.Errorf("give exactly one of rate, pixels and relative")
			}
			switch {
			case v.Set("pixels"):
				m, err := parsePixels(v.String("pixels"))
				if err != nil {
					return nil, err
				}
				return &maskFilter{m: m, keep: false, name: "hot-pixel mask"}, nil
			case v.Set("relative"):
				if v.Float("relative") <= 0 || v.Int("window") <= 0 {
					return nil, fmt.Errorf("want relative > 0 and window > 0")
				}
				return &hotRelative{r: v.Float("relative"), window: v.Int("window")}, nil
			}
			if v.Float("rate") <= 0 {
				return nil, fmt.Errorf("needs rate > 0")
			}
			return &hotPixel{rateHz: v.Float("rate"), learnUs: v.Int("learn")}, nil
		}})
}

// --- arbiter saturation lines ---

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
}
