package snn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The assembly kernel and the Go loop give the same bits for every length, offset and term count.
func TestAxpyNMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 600)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for trial := 0; trial < 2000; trial++ {
		n := 1 + rng.IntN(120)
		m := 1 + rng.IntN(9)
		offs := make([]int32, m)
		coef := make([]float32, m)
		for j := range offs {
			offs[j] = int32(rng.IntN(len(x) - n + 1))
			coef[j] = float32(rng.NormFloat64())
		}
		y0 := make([]float32, n)
		for i := range y0 {
			y0[i] = float32(rng.NormFloat64())
		}
		a, b := append([]float32(nil), y0...), append([]float32(nil), y0...)
		axpyN(a, x, offs, coef)
		axpyNGo(b, x, offs, coef)
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("n %d m %d: y[%d] = %v, Go loop %v", n, m, i, a[i], b[i])
			}
		}
		c := append([]float32(nil), y0...)
		axpy1(c, x[offs[0]:], coef[0])
		d := append([]float32(nil), y0...)
		axpyNGo(d, x, offs[:1], coef[:1])
		for i := range c {
			if c[i] != d[i] {
				t.Fatalf("axpy1 n %d: y[%d] = %v, want %v", n, i, c[i], d[i])
			}
		}
	}
	// axpyRows: the same as one axpy1 per row.
	for trial := 0; trial < 500; trial++ {
		n := 1 + rng.IntN(70)
		rows := 1 + rng.IntN(6)
		y := make([]float32, 400)
		for i := range y {
			y[i] = float32(rng.NormFloat64())
		}
		want := append([]float32(nil), y...)
		yo, xo := make([]int32, rows), make([]int32, rows)
		a := float32(rng.NormFloat64())
		for r := range yo {
			yo[r], xo[r] = int32(rng.IntN(len(y)-n+1)), int32(rng.IntN(len(x)-n+1))
			ys, xs := want[yo[r]:int(yo[r])+n], x[xo[r]:int(xo[r])+n]
			for i, v := range xs {
				ys[i] += float32(a * v)
			}
		}
		axpyRows(y, x, yo, xo, n, a)
		for i := range y {
			if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
				t.Fatalf("axpyRows n %d rows %d: y[%d] = %v, want %v", n, rows, i, y[i], want[i])
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a window past the end of x did not panic")
		}
	}()
	axpyN(make([]float32, 4), x, []int32{int32(len(x) - 3)}, []float32{1})
}

// The AVX2 Adam step gives adamGo's bits for every length, step, learning rate and decay, on gradients
// and moments that span many magnitudes (zeros and signed zeros included).
func TestAdamMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	val := func() float32 {
		switch rng.IntN(8) {
		case 0:
			return 0
		case 1:
			return float32(math.Copysign(0, -1))
		default:
			return float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-8)))
		}
	}
	for trial := 0; trial < 3000; trial++ {
		n := 1 + rng.IntN(70)
		w, m, v, g := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range w {
			w[i], m[i], g[i] = val(), val(), val()
			v[i] = float32(math.Abs(float64(val())))
		}
		a := &adam{m: [][]float32{append([]float32(nil), m...)}, v: [][]float32{append([]float32(nil), v...)}, step: 1 + rng.IntN(5000)}
		p := &Param{Data: append([]float32(nil), w...), decay: rng.IntN(2) == 0}
		lr, wd := math.Pow(10, -1-3*rng.Float64()), 0.0
		if rng.IntN(2) == 0 {
			wd = 0.05 * rng.Float64()
		}
		lo := rng.IntN(n)
		a.updateRange([]*Param{p}, [][]float32{g}, lr, wd, 0, lo, n)
		k := adamConst{lr: lr, c1: 1 / (1 - math.Pow(adamB1, float64(a.step))), c2: 1 / (1 - math.Pow(adamB2, float64(a.step))),
			eps: adamEps, b1: adamB1, ib1: 1 - adamB1, b2: adamB2, ib2: 1 - adamB2}
		if p.decay {
			k.decay = float32(lr * wd)
		}
		adamGo(w[lo:], m[lo:], v[lo:], g[lo:], &k)
		for i := range w {
			for _, c := range [][2]float32{{p.Data[i], w[i]}, {a.m[0][i], m[i]}, {a.v[0][i], v[i]}} {
				if math.Float32bits(c[0]) != math.Float32bits(c[1]) {
					t.Fatalf("n %d, value %d: %v, Go %v (w %v %v, m %v %v, v %v %v)", n, i, c[0], c[1], p.Data[i], w[i], a.m[0][i], m[i], a.v[0][i], v[i])
				}
			}
		}
	}
}
