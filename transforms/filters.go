package transforms

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/evtool/evtool/events"
)

// never marks a pixel that has not fired: it gives no support and no refractory dead time.
const never = math.MinInt64

func needGeometry(in Shape) error {
	if !in.Geometry.Known() {
		return fmt.Errorf("needs the sensor size (pass --sensor)")
	}
	return nil
}

func fill(s []int64, v int64) {
	for i := range s {
		s[i] = v
	}
}

func growInt64(s []int64, n int) []int64 {
	if cap(s) < n {
		return make([]int64, n)
	}
	return s[:n]
}

// --- denoise: background-activity filter (§2.1) ---

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

// --- refractory (§2.3) ---

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

// --- polarity (§2.6) ---

type polarity struct {
	mode string
	prob float64
	flip bool // random-flip: this sample's draw
}

func (p *polarity) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	switch p.mode {
	case "merge":
		in.Polarities = 1
	case "random-flip":
		p.flip = rng.Float64() < p.prob
	}
	return in, nil
}

func (p *polarity) Process(in, out *events.Batch) error {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	for i, t := range in.T {
		pol := in.P[i]
		switch p.mode {
		case "keep-on":
			if pol == 0 {
				continue
			}
		case "keep-off":
			if pol != 0 {
				continue
			}
		case "merge":
			pol = 0
		case "invert":
			pol = 1 - pol&1
		case "random-flip":
			if p.flip {
				pol = 1 - pol&1
			}
		}
		T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], pol
		j++
	}
	out.Truncate(start + j)
	return nil
}

func (p *polarity) Flush(*events.Batch) error { return nil }

// --- crop, center-crop, random-crop (§3.1) ---

type crop struct {
	mode       string // fixed, center, random
	x0, y0     int
	w, h       int
	keepOffset bool
	sx, sy     int // this sample's origin
}

func (c *crop) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	W, H := in.Geometry.Width, in.Geometry.Height
	if c.w <= 0 || c.h <= 0 || c.w > W || c.h > H {
		return in, fmt.Errorf("crop size %dx%d does not fit the %dx%d sensor", c.w, c.h, W, H)
	}
	switch c.mode {
	case "center":
		c.sx, c.sy = (W-c.w)/2, (H-c.h)/2
	case "random":
		c.sx, c.sy = rng.IntN(W-c.w+1), rng.IntN(H-c.h+1)
	default:
		if c.x0 < 0 || c.y0 < 0 || c.x0+c.w > W || c.y0+c.h > H {
			return in, fmt.Errorf("crop [%d,%d)×[%d,%d) lies outside the %dx%d sensor", c.x0, c.x0+c.w, c.y0, c.y0+c.h, W, H)
		}
		c.sx, c.sy = c.x0, c.y0
	}
	if !c.keepOffset {
		in.Geometry = events.Geometry{Width: c.w, Height: c.h}
	}
	return in, nil
}

func (c *crop) Process(in, out *events.Batch) error {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	x0, y0, x1, y1 := c.sx, c.sy, c.sx+c.w, c.sy+c.h
	dx, dy := uint16(x0), uint16(y0)
	if c.keepOffset {
		dx, dy = 0, 0
	}
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x < x0 || x >= x1 || y < y0 || y >= y1 {
			continue
		}
		T[j], X[j], Y[j], P[j] = t, in.X[i]-dx, in.Y[i]-dy, in.P[i]
		j++
	}
	out.Truncate(start + j)
	return nil
}

func (c *crop) Flush(*events.Batch) error { return nil }

// --- transpose and flips (§3.2) ---

type transpose struct {
	action string
	prob   float64 // random-flip-lr/ud
	active string  // this sample's action ("" = identity)
	w, h   int
}

var transposeActions = []string{"flip-lr", "flip-ud", "rot180", "rot90cw", "rot90ccw", "transpose", "antitranspose"}

func (tr *transpose) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	tr.w, tr.h = in.Geometry.Width, in.Geometry.Height
	tr.active = tr.action
	switch tr.action {
	case "random-flip-lr", "random-flip-ud":
		tr.active = ""
		if rng.Float64() < tr.prob {
			tr.active = tr.action[len("random-"):]
		}
	}
	switch tr.active {
	case "rot90cw", "rot90ccw", "transpose", "antitranspose":
		in.Geometry = events.Geometry{Width: tr.h, Height: tr.w}
	}
	return in, nil
}

func (tr *transpose) Process(in, out *events.Batch) error {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	W, H := uint16(tr.w), uint16(tr.h)
	for i, t := range in.T {
		x, y := in.X[i], in.Y[i]
		if x >= W || y >= H {
			continue
		}
		switch tr.active {
		case "flip-lr":
			x = W - 1 - x
		case "flip-ud":
			y = H - 1 - y
		case "rot180":
			x, y = W-1-x, H-1-y
		case "rot90cw":
			x, y = H-1-y, x
		case "rot90ccw":
			x, y = y, W-1-x
		case "transpose":
			x, y = y, x
		case "antitranspose":
			x, y = H-1-y, W-1-x
		}
		T[j], X[j], Y[j], P[j] = t, x, y, in.P[i]
		j++
	}
	out.Truncate(start + j)
	return nil
}

func (tr *transpose) Flush(*events.Batch) error { return nil }

// --- downsample (§3.3) ---

type downsample struct {
	factor       int
	tw, th       int
	mode         string
	mergeUs      int64
	theta        float64
	tau          float64
	zeroReset    bool
	w, h, ow, oh int
	lastOut      []int64   // merge: last output time per (x', y', p)
	v            []float64 // iaf potential per target pixel
	lastT        []int64   // iaf: last update per target pixel
	xMap, yMap   []uint16  // x·W'/W and y·H'/H, tabulated: two divisions per event cost more than the rest
	kind         int       // mode as a number, for the per-event switch
}

const (
	dsFloor = iota
	dsMerge
	dsIAF
)

func (d *downsample) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	d.w, d.h = in.Geometry.Width, in.Geometry.Height
	if d.factor > 0 {
		if d.w%d.factor != 0 || d.h%d.factor != 0 {
			return in, fmt.Errorf("factor %d does not divide the %dx%d sensor; use to=WxH", d.factor, d.w, d.h)
		}
		d.ow, d.oh = d.w/d.factor, d.h/d.factor
	} else {
		d.ow, d.oh = d.tw, d.th
	}
	if d.ow <= 0 || d.oh <= 0 || d.ow > d.w || d.oh > d.h {
		return in, fmt.Errorf("target %dx%d must be at least 1x1 and at most the %dx%d sensor", d.ow, d.oh, d.w, d.h)
	}
	d.kind = map[string]int{"floor": dsFloor, "merge": dsMerge, "iaf": dsIAF}[d.mode]
	d.xMap, d.yMap = d.xMap[:0], d.yMap[:0]
	for x := 0; x < d.w; x++ {
		d.xMap = append(d.xMap, uint16(x*d.ow/d.w))
	}
	for y := 0; y < d.h; y++ {
		d.yMap = append(d.yMap, uint16(y*d.oh/d.h))
	}
	n := d.ow * d.oh
	switch d.mode {
	case "merge":
		d.lastOut = growInt64(d.lastOut, 2*n)
		fill(d.lastOut, never)
	case "iaf":
		if cap(d.v) < n {
			d.v = make([]float64, n)
		}
		d.v = d.v[:n]
		clear(d.v)
		d.lastT = growInt64(d.lastT, n)
		fill(d.lastT, never)
	}
	in.Geometry = events.Geometry{Width: d.ow, Height: d.oh}
	return in, nil
}

func (d *downsample) Process(in, out *events.Batch) error {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	w, h, ow, oh := d.w, d.h, d.ow, d.oh
	xMap, yMap := d.xMap, d.yMap
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x >= w || y >= h {
			continue
		}
		xo, yo := int(xMap[x]), int(yMap[y])
		p := in.P[i]
		switch d.kind {
		case dsFloor:
			T[j], X[j], Y[j], P[j] = t, uint16(xo), uint16(yo), p
			j++
		case dsMerge:
			k := (int(p&1)*oh+yo)*ow + xo
			if l := d.lastOut[k]; l != never && l >= t-d.mergeUs {
				continue
			}
			d.lastOut[k] = t
			T[j], X[j], Y[j], P[j] = t, uint16(xo), uint16(yo), p
			j++
		case dsIAF:
			k := yo*ow + xo
			v := d.v[k]
			if d.tau > 0 && d.lastT[k] != never {
				v *= math.Exp(-float64(t-d.lastT[k]) / d.tau)
			}
			d.lastT[k] = t
			if p != 0 {
				v++
			} else {
				v--
			}
			if v >= d.theta {
				T[j], X[j], Y[j], P[j] = t, uint16(xo), uint16(yo), 1
				j++
				v -= d.theta
				if d.zeroReset {
					v = 0
				}
			} else if v <= -d.theta {
				T[j], X[j], Y[j], P[j] = t, uint16(xo), uint16(yo), 0
				j++
				v += d.theta
				if d.zeroReset {
					v = 0
				}
			}
			d.v[k] = v
		}
	}
	out.Truncate(start + j)
	return nil
}

func (d *downsample) Flush(*events.Batch) error { return nil }

// --- time operations (§3.4) ---

type timeOp struct {
	op        string // crop, align, offset, scale
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
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	if in.Len() > 0 && !o.haveFirst {
		o.first, o.haveFirst = in.T[0], true
	}
	for i, t := range in.T {
		switch o.op {
		case "crop":
			lo, hi := o.from, o.to
			if o.relative {
				lo = o.first + lo
				if hi != math.MaxInt64 {
					hi = o.first + hi
				}
			}
			if t < lo || t >= hi {
				continue
			}
		case "align":
			t -= o.first
		case "offset":
			t += o.offset
		case "scale":
			t = int64(math.Round(float64(t)*o.factor + float64(o.offset)))
		}
		if t < 0 && o.op != "crop" {
			out.Truncate(start + j)
			return fmt.Errorf("event at %d µs would get the negative time %d µs", in.T[i], t)
		}
		T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
		j++
	}
	out.Truncate(start + j)
	return nil
}

func (o *timeOp) Flush(*events.Batch) error { return nil }

// --- decimate (§3.5) ---

type decimate struct {
	n     int
	w, h  int
	count []int32
}

func (d *decimate) Reset(in Shape, _ *rand.Rand) (Shape, error) {
	if err := needGeometry(in); err != nil {
		return in, err
	}
	d.w, d.h = in.Geometry.Width, in.Geometry.Height
	if cap(d.count) < d.w*d.h {
		d.count = make([]int32, d.w*d.h)
	}
	d.count = d.count[:d.w*d.h]
	clear(d.count)
	return in, nil
}

func (d *decimate) Process(in, out *events.Batch) error {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	n := int32(d.n)
	for i, t := range in.T {
		x, y := int(in.X[i]), int(in.Y[i])
		if x >= d.w || y >= d.h {
			continue
		}
		k := y*d.w + x
		d.count[k]++
		if d.count[k] == n {
			d.count[k] = 0
			T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
			j++
		}
	}
	out.Truncate(start + j)
	return nil
}

func (d *decimate) Flush(*events.Batch) error { return nil }

// --- drop-event (§4): independent Bernoulli(q) per event ---

type dropEvent struct {
	q    float64
	rng  *rand.Rand
	r    uint64 // unused half of the last draw: kept across batches, so splits do not change results
	have int
}

func (d *dropEvent) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	d.rng, d.have = rng, 0
	return in, nil
}

func (d *dropEvent) Process(in, out *events.Batch) error {
	start := out.Len()
	T, X, Y, P := out.Extend(in.Len())
	j := 0
	// Two 32-bit draws per 64-bit number: the generator, not the loop, is the cost.
	thr := uint64(d.q * (1 << 32)) // 2^32 when q = 1: every draw is below it
	r, have := d.r, d.have
	for i, t := range in.T {
		if have == 0 {
			r, have = d.rng.Uint64(), 2
		}
		u := r & 0xffffffff
		r >>= 32
		have--
		if u < thr {
			continue
		}
		T[j], X[j], Y[j], P[j] = t, in.X[i], in.Y[i], in.P[i]
		j++
	}
	d.r, d.have = r, have
	out.Truncate(start + j)
	return nil
}

func (d *dropEvent) Flush(*events.Batch) error { return nil }

// --- hotpixel, rate mode (§2.4 mode 2) ---

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

// --- registry ---

func init() {
	register(&Def{Name: "denoise", Help: "ba (default), background activity: keep an event when one of its neighbours fired less than dt before (8 neighbours by default), every event updating its pixel's time; fastdecay (dv-processing): per s×s cell v = v·2^(−Δt/half-life) + 1, keep when v > threshold",
		Params: []Param{
			{Name: "mode", Kind: Choice, Default: "ba", Choices: []string{"ba", "fastdecay"}, Help: "background-activity or fast-decay filter"},
			{Name: "dt", Kind: Duration, Unit: "µs", Default: "2000us", Help: "ba: support window (strict: t − last < dt)"},
			{Name: "neighbours", Kind: Choice, Default: "8", Choices: []string{"8", "4"}, Help: "ba: 8 surrounding pixels, or the 4 edge neighbours"},
			{Name: "half-life", Kind: Duration, Unit: "µs", Default: "10ms", Help: "fastdecay: half-life of a cell's count"},
			{Name: "subdivision", Kind: Int, Unit: "px", Default: "4", Help: "fastdecay: cell size s (cells (H/s+1)×(W/s+1)); only the event's own cell counts"},
			{Name: "threshold", Kind: Float, Default: "6", Help: "fastdecay: keep when the decayed count (including the event) exceeds it"},
			{Name: "compat", Kind: Choice, Default: "none", Choices: []string{"none", "tonic"}, Help: "ba: tonic's Denoise exactly (4 neighbours, every event before dt passes)"},
		},
		Filter: func(v Values) (Filter, error) {
			if v.String("mode") == "fastdecay" {
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
				return nil, fmt.Errorf("half-life, subdivision and threshold belong to mode=fastdecay")
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
	register(&Def{Name: "polarity", Help: "keep only ON or OFF events, merge both into one channel (p := 0), invert, or flip a random sample's polarity",
		Params: []Param{
			{Name: "mode", Kind: Choice, Default: "merge", Choices: []string{"keep-on", "keep-off", "merge", "invert", "random-flip"}, Help: "what to do"},
			{Name: "prob", Kind: Float, Default: "0.5", Help: "random-flip: probability that a sample's polarities are inverted (one draw per sample)"},
		},
		Filter: func(v Values) (Filter, error) {
			return &polarity{mode: v.String("mode"), prob: v.Float("prob")}, nil
		}})
	register(&Def{Name: "crop", Help: "keep x0 ≤ x < x0+w, y0 ≤ y < y0+h and shift to the origin (keep-offset keeps coordinates and sensor size)",
		Params: []Param{
			{Name: "x0", Kind: Int, Unit: "px", Default: "0"}, {Name: "y0", Kind: Int, Unit: "px", Default: "0"},
			{Name: "w", Kind: Int, Unit: "px", Help: "width (required)"}, {Name: "h", Kind: Int, Unit: "px", Help: "height (required)"},
			{Name: "keep-offset", Kind: Bool, Default: "false", Help: "keep coordinates and the sensor size (a region filter)"},
		},
		Filter: func(v Values) (Filter, error) {
			if !v.Set("w") || !v.Set("h") {
				return nil, fmt.Errorf("needs w and h")
			}
			return &crop{x0: int(v.Int("x0")), y0: int(v.Int("y0")), w: int(v.Int("w")), h: int(v.Int("h")), keepOffset: v.Bool("keep-offset")}, nil
		}})
	register(&Def{Name: "center-crop", Help: "crop a w×h window at ((W−w)/2, (H−h)/2); a window larger than the sensor is an error",
		Params: []Param{{Name: "w", Kind: Int, Unit: "px", Help: "width (required)"}, {Name: "h", Kind: Int, Unit: "px", Help: "height (required)"}},
		Filter: func(v Values) (Filter, error) {
			if !v.Set("w") || !v.Set("h") {
				return nil, fmt.Errorf("needs w and h")
			}
			return &crop{mode: "center", w: int(v.Int("w")), h: int(v.Int("h"))}, nil
		}})
	register(&Def{Name: "random-crop", Help: "crop a w×h window at a uniform origin in {0..W−w}×{0..H−h}, drawn once per sample",
		Params: []Param{{Name: "w", Kind: Int, Unit: "px", Help: "width (required)"}, {Name: "h", Kind: Int, Unit: "px", Help: "height (required)"}},
		Filter: func(v Values) (Filter, error) {
			if !v.Set("w") || !v.Set("h") {
				return nil, fmt.Errorf("needs w and h")
			}
			return &crop{mode: "random", w: int(v.Int("w")), h: int(v.Int("h"))}, nil
		}})
	register(&Def{Name: "transpose", Help: "flip, rotate or transpose the picture as displayed with y down (rotations and transposes swap W and H)",
		Params: []Param{{Name: "action", Kind: Choice, Choices: transposeActions, Help: "flip-lr: x' = W−1−x; flip-ud: y' = H−1−y; rot180; rot90cw: (H−1−y, x); rot90ccw: (y, W−1−x); transpose: (y, x); antitranspose: (H−1−y, W−1−x)"}},
		Filter: func(v Values) (Filter, error) {
			if !v.Set("action") {
				return nil, fmt.Errorf("needs action=%v", transposeActions)
			}
			return &transpose{action: v.String("action")}, nil
		}})
	for _, name := range []string{"random-flip-lr", "random-flip-ud"} {
		name := name
		register(&Def{Name: name, Help: "flip the whole sample with probability prob (one draw per sample)",
			Params: []Param{{Name: "prob", Kind: Float, Default: "0.5", Help: "probability of flipping"}},
			Filter: func(v Values) (Filter, error) {
				if p := v.Float("prob"); p < 0 || p > 1 {
					return nil, fmt.Errorf("prob must be in [0, 1]")
				}
				return &transpose{action: name, prob: v.Float("prob")}, nil
			}})
	}
	register(&Def{Name: "downsample", Help: "map x' = x·W'/W, y' = y·H'/H (integer division); floor keeps every event, merge drops an event when the previous output at the same (x', y', p) is at most merge-us older, iaf integrates ±1 per event and fires at ±threshold",
		Params: []Param{
			{Name: "factor", Kind: Int, Help: "divide both sizes by this (must divide them exactly)"},
			{Name: "to", Kind: Size, Unit: "px", Help: "target size WxH (instead of factor)"},
			{Name: "mode", Kind: Choice, Default: "floor", Choices: []string{"floor", "merge", "iaf"}},
			{Name: "merge-us", Kind: Duration, Unit: "µs", Default: "0us", Help: "merge: window within which duplicates collapse"},
			{Name: "threshold", Kind: Float, Help: "iaf: firing threshold θ ≥ 1 (required for iaf)"},
			{Name: "tau", Kind: Duration, Unit: "µs", Default: "0us", Help: "iaf: leak time constant (0: no leak)"},
			{Name: "reset", Kind: Choice, Default: "subtract", Choices: []string{"subtract", "zero"}, Help: "iaf: V − θ after a spike, or 0 (tonic)"},
		},
		Filter: func(v Values) (Filter, error) {
			d := &downsample{mode: v.String("mode"), mergeUs: v.Int("merge-us"), theta: v.Float("threshold"),
				tau: float64(v.Int("tau")), zeroReset: v.String("reset") == "zero"}
			switch {
			case v.Set("factor") == v.Set("to"):
				return nil, fmt.Errorf("give exactly one of factor and to")
			case v.Set("factor"):
				if v.Int("factor") < 1 {
					return nil, fmt.Errorf("factor must be at least 1")
				}
				d.factor = int(v.Int("factor"))
			default:
				d.tw, d.th = v.Size("to")
			}
			if d.mode == "iaf" && d.theta < 1 {
				return nil, fmt.Errorf("iaf needs threshold ≥ 1")
			}
			return d, nil
		}})
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
			return &timeOp{op: "crop", from: v.Int("from"), to: to, relative: v.Bool("relative")}, nil
		}})
	register(&Def{Name: "time-align", Help: "t' = t − t_first (the sample's first event at 0)",
		Filter: func(v Values) (Filter, error) { return &timeOp{op: "align"}, nil }})
	register(&Def{Name: "time-offset", Help: "t' = t + us (a negative result is an error)",
		Params: []Param{{Name: "us", Kind: Duration, Unit: "µs", Help: "offset (required)"}},
		Filter: func(v Values) (Filter, error) {
			if !v.Set("us") {
				return nil, fmt.Errorf("needs us")
			}
			return &timeOp{op: "offset", offset: v.Int("us")}, nil
		}})
	register(&Def{Name: "time-scale", Help: "t' = round(t·factor + offset), factor > 0",
		Params: []Param{{Name: "factor", Kind: Float, Help: "scale (required)"}, {Name: "offset", Kind: Duration, Unit: "µs", Default: "0us"}},
		Filter: func(v Values) (Filter, error) {
			if v.Float("factor") <= 0 {
				return nil, fmt.Errorf("factor must be positive")
			}
			return &timeOp{op: "scale", factor: v.Float("factor"), offset: v.Int("offset")}, nil
		}})
	register(&Def{Name: "decimate", Help: "keep the n-th, 2n-th, … event of each pixel",
		Params: []Param{{Name: "n", Kind: Int, Help: "keep one event in n per pixel (required, ≥ 1)"}},
		Filter: func(v Values) (Filter, error) {
			if v.Int("n") < 1 {
				return nil, fmt.Errorf("needs n ≥ 1")
			}
			return &decimate{n: int(v.Int("n"))}, nil
		}})
	register(&Def{Name: "drop-event", Help: "drop each event independently with probability prob (seeded per sample); exact: drop exactly ⌊prob·N + 0.5⌋ events chosen uniformly (tonic DropEvent; needs the whole sample)",
		Params: []Param{
			{Name: "prob", Kind: Float, Help: "probability (required, 0..1)"},
			{Name: "exact", Kind: Bool, Default: "false", Help: "drop an exact count instead of independent draws"},
		},
		Filter: func(v Values) (Filter, error) {
			q := v.Float("prob")
			if !v.Set("prob") || q < 0 || q > 1 {
				return nil, fmt.Errorf("prob must be in [0, 1]")
			}
			if v.Bool("exact") {
				return &wholeSample{apply: dropExact(q)}, nil
			}
			return &dropEvent{q: q}, nil
		}})
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
