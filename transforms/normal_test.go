package transforms

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Φ is the standard normal CDF.
func Φ(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// The ziggurat's values follow the standard normal law: moments, the Kolmogorov–Smirnov distance, the
// mass of the tail it draws separately, and no correlation within a pair. Seeds are fixed, so the bounds
// (about 5 standard errors) make the test deterministic, not flaky.
func TestGaussianLaw(t *testing.T) {
	if zigguratTables(); math.Abs(zig.closure) > 1e-12 {
		t.Fatalf("the 256 layers do not close at the top (%g): zigR is not the root", zig.closure)
	}
	const N = 1 << 21
	var g gaussian
	g.seed(rand.New(rand.NewPCG(3, 4)))
	z := make([]float64, N)
	g.fill(z)
	var s1, s2, s4, cross float64
	tail := 0
	for i, v := range z {
		s1, s2, s4 = s1+v, s2+v*v, s4+v*v*v*v
		if math.Abs(v) > zigR {
			tail++
		}
		if i%2 == 1 {
			cross += z[i-1] * v
		}
	}
	mean, variance, kurt := s1/N, s2/N, s4/N
	if math.Abs(mean) > 5/math.Sqrt(N) || math.Abs(variance-1) > 5*math.Sqrt(2.0/N) || math.Abs(kurt-3) > 5*math.Sqrt(96.0/N) {
		t.Fatalf("mean %g, variance %g, E[z⁴] %g; want 0, 1, 3", mean, variance, kurt)
	}
	if r := cross / (N / 2); math.Abs(r) > 5/math.Sqrt(N/2) {
		t.Fatalf("the two values of a pair correlate: %g", r)
	}
	if want := N * math.Erfc(zigR/math.Sqrt2); math.Abs(float64(tail)-want) > 5*math.Sqrt(want) {
		t.Fatalf("%d values beyond ±%.3f, want %.0f", tail, zigR, want)
	}
	slices.Sort(z)
	d := 0.0
	for i, v := range z {
		d = max(d, math.Abs(float64(i+1)/N-Φ(v)), math.Abs(float64(i)/N-Φ(v)))
	}
	if d > 1.95/math.Sqrt(N) { // the 0.1 % critical value
		t.Fatalf("Kolmogorov–Smirnov distance %g", d)
	}
}

// roundedNormal gives d = round(σ·z) with P(d = k) = Φ((k + ½)/σ) − Φ((k − ½)/σ): every value's count
// is within 5 standard errors of its expectation.
func TestRoundedNormalLaw(t *testing.T) {
	const N = 1 << 21
	rng := rand.NewPCG(5, 6)
	for _, sigma := range []float64{0, 0.3, 1, 2.5, 17, 64} {
		r := newRoundedNormal(sigma)
		counts := map[int32]int{}
		for range N / 2 {
			u := rng.Uint64()
			counts[r.sample(uint32(u))]++
			counts[r.sample(uint32(u>>32))]++
		}
		if sigma == 0 {
			if counts[0] != N {
				t.Fatalf("σ = 0: %v", counts)
			}
			continue
		}
		k := int32(math.Ceil(9*sigma)) + 1
		for d := -k; d <= k; d++ {
			hi, lo := math.Abs(float64(d))+0.5, math.Abs(float64(d))-0.5
			p := Φ(hi/sigma) - Φ(lo/sigma)
			if d == 0 {
				p = Φ(0.5/sigma) - Φ(-0.5/sigma)
			}
			want := N * p
			if math.Abs(float64(counts[d])-want) > 5*math.Sqrt(want*(1-p))+1 {
				t.Fatalf("σ = %g: %d draws of %d, want %.1f", sigma, counts[d], d, want)
			}
			delete(counts, d)
		}
		if len(counts) > 0 {
			t.Fatalf("σ = %g: values outside ±%d: %v", sigma, k, counts)
		}
	}
}

// libNormals gives exactly rand.Rand.NormFloat64's values from the same source (jitter-t's stream), with
// the library's tables read back (if a Go release changed NormFloat64's common case, every draw would go
// to the library: still exact, and this test says so); without a source it draws through the generator.
func TestLibNormalsAreTheLibrarys(t *testing.T) {
	var n libNormals
	src := rand.NewPCG(5, 6)
	n.reset(rand.New(src), src)
	if !libZig.ok {
		t.Error("the probed ziggurat does not reproduce rand.Rand.NormFloat64: every draw goes to the library")
	}
	ref := rand.New(rand.NewPCG(5, 6))
	for i := range 2_000_000 {
		if a, b := n.next(), ref.NormFloat64(); a != b {
			t.Fatalf("draw %d: %v, the library %v", i, a, b)
		}
	}
	var m libNormals
	m.reset(rand.New(rand.NewPCG(7, 8)), nil)
	ref = rand.New(rand.NewPCG(7, 8))
	for i := range 1000 {
		if a, b := m.next(), ref.NormFloat64(); a != b {
			t.Fatalf("without a source, draw %d: %v, the library %v", i, a, b)
		}
	}
}
