package transforms

import (
	"math"
	"math/rand/v2"
	"sync"
)

// gaussian draws standard normal values, two from each 64-bit PCG output (one per 32-bit half), with a
// 256-layer ziggurat (Marsaglia and Tsang, 2000): 8 bits choose a layer i and the other 24 are a signed
// position j; x = j·w[i] is returned at once when |j| < k[i] (about 99 % of halves), the rest go
// through the wedge and tail tests with further draws. It serves jitter-xy, which needs two normals per
// event: one draw and two table look-ups, where rand.Rand.NormFloat64 takes a draw each, through the
// Source interface.
type gaussian struct {
	pcg rand.PCG
}

const (
	zigLayers = 256
	// zigR is where the tail starts, the right edge of the base layer: the r for which 256 layers of
	// equal area v = r·f(r) + ∫_r^∞ f close exactly at the top of f(x) = e^(−x²/2) (found by bisection;
	// zigguratTables checks it).
	zigR     = 3.6541528853610088
	zigScale = float64(1 << 23) // positions j are in [−2^23, 2^23)
	zigUnit  = 1 / float64(uint64(1)<<53)
)

// The tables, built at first use: k[i] bounds the positions inside layer i's rectangle under the curve,
// w[i] turns a position into x, f[i] = e^(−x_i²/2) at the layer's right edge.
var zig struct {
	once    sync.Once
	k       [zigLayers]uint32
	w, f    [zigLayers]float64
	closure float64 // how far the top layer's area is from v: 0 but for rounding
}

func zigF(x float64) float64 { return math.Exp(-0.5 * x * x) }

func zigguratTables() {
	d := zigR
	v := d*zigF(d) + math.Sqrt(math.Pi/2)*math.Erfc(d/math.Sqrt2)
	q := v / zigF(d)
	zig.k[0], zig.k[1] = uint32(d/q*zigScale), 0
	zig.w[0], zig.w[zigLayers-1] = q/zigScale, d/zigScale
	zig.f[0], zig.f[zigLayers-1] = 1, zigF(d)
	for i, t := zigLayers-2, d; i >= 1; i-- {
		d = math.Sqrt(-2 * math.Log(v/d+zigF(d)))
		zig.k[i+1] = uint32(d / t * zigScale)
		t = d
		zig.f[i], zig.w[i] = zigF(d), d/zigScale
	}
	zig.closure = d*(1-zigF(d)) - v
}

// seed starts the generator from two draws of a stage's generator.
func (g *gaussian) seed(rng *rand.Rand) {
	zig.once.Do(zigguratTables)
	g.pcg.Seed(rng.Uint64(), rng.Uint64())
}

// fill sets the elements of z to the next standard normal values, in order (len(z) even).
func (g *gaussian) fill(z []float64) {
	k, w := &zig.k, &zig.w
	for n := 0; n+1 < len(z); n += 2 {
		u := g.pcg.Uint64()
		i1, j1 := uint8(u), int32(u)>>8
		i2, j2 := uint8(u>>32), int32(u>>32)>>8
		m1, m2 := j1>>31, j2>>31
		z1, z2 := float64(j1)*w[i1], float64(j2)*w[i2]
		if uint32((j1^m1)-m1) >= k[i1] { // |j1| outside its layer's rectangle
			z1 = g.rare(i1, j1)
		}
		if uint32((j2^m2)-m2) >= k[i2] {
			z2 = g.rare(i2, j2)
		}
		z[n], z[n+1] = z1, z2
	}
}

// uniform is in (0, 1).
func (g *gaussian) uniform() float64 { return (float64(g.pcg.Uint64()>>11) + 0.5) * zigUnit }

// rare handles a position outside its layer's rectangle: in the base layer, a value from the tail beyond
// zigR; elsewhere, x if it lies under the curve in the wedge, else a fresh half.
func (g *gaussian) rare(i uint8, j int32) float64 {
	for {
		if i == 0 {
			for {
				x, y := -math.Log(g.uniform())/zigR, -math.Log(g.uniform())
				if y+y >= x*x {
					if j > 0 {
						return zigR + x
					}
					return -zigR - x
				}
			}
		}
		x := float64(j) * zig.w[i]
		if zig.f[i]+g.uniform()*(zig.f[i-1]-zig.f[i]) < zigF(x) {
			return x
		}
		h := uint32(g.pcg.Uint64())
		i, j = uint8(h), int32(h)>>8
		if m := j >> 31; uint32((j^m)-m) < zig.k[i] {
			return float64(j) * zig.w[i]
		}
	}
}

// roundedNormal samples d = round(σ·z) for a standard normal z — what jitter-xy adds to a coordinate when
// the two axes are independent — straight from 32 random bits, with no floating point per draw: an alias
// table (Vose) over d ∈ [−K, K], K = ⌈9σ⌉ + 1 (the mass beyond is below 10^−18).
// P(d = k) = Φ((k + ½)/σ) − Φ((k − ½)/σ), computed from erfc so the tails keep their precision.
type roundedNormal struct {
	n    uint64
	coin []uint32   // entry i gives d[i][1] = i − K when the coin is below coin[i],
	d    [][2]int32 // else d[i][0], its alias: picked by index, no branch on the coin
}

// maxAliasSigma bounds the tables (2·(9σ+1)+1 entries); wider jitters use the ziggurat.
const maxAliasSigma = 64

func newRoundedNormal(sigma float64) *roundedNormal {
	k := int32(math.Ceil(9*sigma)) + 1
	if sigma == 0 {
		k = 0
	}
	n := int(2*k + 1)
	r := &roundedNormal{n: uint64(n), coin: make([]uint32, n), d: make([][2]int32, n)}
	for i := range r.d {
		r.d[i] = [2]int32{int32(i) - k, int32(i) - k}
	}
	p := make([]float64, n)
	tail := func(a float64) float64 { return 0.5 * math.Erfc(a/(sigma*math.Sqrt2)) } // P(σz > a)
	sum := 0.0
	for i := range p {
		d := float64(int32(i) - k)
		switch {
		case sigma == 0:
			p[i] = 1
		case d == 0:
			p[i] = 1 - 2*tail(0.5)
		default:
			p[i] = tail(math.Abs(d)-0.5) - tail(math.Abs(d)+0.5)
		}
		sum += p[i]
	}
	// Vose's alias method: scaled probabilities split into those below and above 1.
	var small, large []int
	for i := range p {
		p[i] *= float64(n) / sum
		if p[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		r.coin[s], r.d[s][0] = uint32(math.Min(p[s]*(1<<32), math.MaxUint32)), int32(l)-k
		p[l] -= 1 - p[s]
		if p[l] < 1 {
			large, small = large[:len(large)-1], append(small, l)
		}
	}
	for _, i := range append(small, large...) { // 1 but for rounding: always itself
		r.coin[i] = math.MaxUint32
	}
	return r
}

// sample turns 32 random bits into d: the high part of h·n picks an entry, the low part is its coin
// (uniform to within n/2^32).
func (r *roundedNormal) sample(h uint32) int32 {
	m := uint64(h) * r.n
	i := m >> 32
	return r.d[i][b2i(uint32(m) < r.coin[i])]
}

// roundedNormals caches the tables by σ: a stream is built per sample, and the table of a wide σ takes
// longer to build than a small sample takes to jitter. A few σ at most are kept.
var roundedNormals = struct {
	sync.Mutex
	m map[float64]*roundedNormal
}{m: map[float64]*roundedNormal{}}

func roundedNormalOf(sigma float64) *roundedNormal {
	roundedNormals.Lock()
	defer roundedNormals.Unlock()
	r, ok := roundedNormals.m[sigma]
	if !ok {
		r = newRoundedNormal(sigma)
		if len(roundedNormals.m) < 16 {
			roundedNormals.m[sigma] = r
		}
	}
	return r
}

// libNormals draws exactly the values rand.Rand.NormFloat64 draws from the same PCG source, without an
// interface call per draw, so jitter-t keeps the library's stream at a lower cost. The library's ziggurat
// takes one 64-bit draw u, with j = int32(u) and layer i = u>>32 & 127, and returns j·w[i] whenever
// |j| < k[i] (97 % of draws). libNormals does that step itself, with k and w read back from the library
// once by probing NormFloat64 with chosen draws, and hands any other draw, already taken, to NormFloat64
// itself through a source that replays it. Should the library ever compute its common case differently,
// the check after probing fails and every draw goes to the library: slower, still exact.
type libNormals struct {
	rng    *rand.Rand // the stage's generator
	src    *rand.PCG  // its source, or nil: every draw through rng
	lib    *libZiggurat
	replay replaySource
	slow   *rand.Rand // NormFloat64 over replay
}

// replaySource gives back one draw already taken, then continues the PCG.
type replaySource struct {
	src  *rand.PCG
	u    uint64
	have bool
}

func (r *replaySource) Uint64() uint64 {
	if r.have {
		r.have = false
		return r.u
	}
	return r.src.Uint64()
}

// reset binds the normals to a stage's generator rng and its source src (see sourced).
func (n *libNormals) reset(rng *rand.Rand, src *rand.PCG) {
	n.rng, n.src, n.lib = rng, src, probedZiggurat()
	n.replay = replaySource{src: src}
	if n.slow == nil {
		n.slow = rand.New(&n.replay)
	}
}

// next is the next value rng.NormFloat64 would return.
func (n *libNormals) next() float64 {
	if n.src == nil {
		return n.rng.NormFloat64()
	}
	u := n.src.Uint64()
	j := int32(u)
	m := j >> 31
	if i := u >> 32 & 0x7f; uint32((j^m)-m) < n.lib.k[i] { // |j|, with |−2^31| = 2^31 as the library has it
		return float64(j) * n.lib.w[i]
	}
	n.replay.u, n.replay.have = u, true
	return n.slow.NormFloat64()
}

// libZiggurat is the library's layer bounds k and widths w (as float64); k[i] = 0 leaves layer i to it.
type libZiggurat struct {
	k [128]uint32
	w [128]float64
}

var libZig struct {
	once sync.Once
	t    libZiggurat
	ok   bool // the probed tables reproduced the library on every check
}

func probedZiggurat() *libZiggurat {
	libZig.once.Do(func() { libZig.t, libZig.ok = probeLibZiggurat() })
	return &libZig.t
}

// probeSource returns a chosen first draw, then draws that end NormFloat64 at once (layer 2, j = 0), and
// counts the draws taken: one draw means the common case.
type probeSource struct {
	first uint64
	calls int
}

func (p *probeSource) Uint64() uint64 {
	if p.calls++; p.calls == 1 {
		return p.first
	}
	return 2 << 32
}

// probeLibZiggurat reads k and w back from rand.Rand.NormFloat64 and checks them on the edges of every
// layer and on random draws. On a mismatch it returns empty tables (every draw then goes to the library).
func probeLibZiggurat() (libZiggurat, bool) {
	src := &probeSource{}
	lib := rand.New(src)
	draw := func(u uint64) (float64, bool) {
		src.first, src.calls = u, 0
		x := lib.NormFloat64()
		return x, src.calls == 1
	}
	var t libZiggurat
	for i := range t.k {
		base := uint64(i) << 32
		w, common := draw(base | 1)
		if !common {
			continue // k[i] ≤ 1: the layer stays with the library
		}
		// The common case holds for 0 ≤ j < k[i]: find k[i] by bisection.
		lo, hi := uint64(1), uint64(1)<<31
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			if _, c := draw(base | mid); c {
				lo = mid
			} else {
				hi = mid
			}
		}
		t.k[i], t.w[i] = uint32(hi), w
	}
	check := func(u uint64) bool {
		x, common := draw(u)
		j, i := int32(u), u>>32&0x7f
		m := j >> 31
		ours := uint32((j^m)-m) < t.k[i]
		return ours == common && (!ours || x == float64(j)*t.w[i])
	}
	for i := range uint64(128) {
		for _, j := range []int64{0, 1, -1, int64(t.k[i]) - 1, int64(t.k[i]), -int64(t.k[i]) + 1, -int64(t.k[i]), 1<<31 - 1, -1 << 31} {
			if !check(i<<32 | uint64(uint32(j))) {
				return libZiggurat{}, false
			}
		}
	}
	rng := rand.NewPCG(1, 2)
	for range 20000 {
		if !check(rng.Uint64()) {
			return libZiggurat{}, false
		}
	}
	return t, true
}
