package snn

// axpyN adds a weighted sum of equal-length windows of x to y:
//
//	y[i] += coef[0]·x[offs[0]+i] + coef[1]·x[offs[1]+i] + …   (added term by term, in order)
//
// for every i < len(y). Each product is rounded to float32 before it is added (no fused multiply-add), so
// the assembly version (AVX2 on amd64, y held in registers across the terms) and the Go version give
// bit-identical results on every machine. It panics, as a slice index would, when a window falls outside x.
func axpyN(y, x []float32, offs []int32, coef []float32) {
	n := len(y)
	if n == 0 || len(offs) == 0 {
		return
	}
	coef = coef[:len(offs)]
	for _, o := range offs {
		if o < 0 || int(o)+n > len(x) {
			panic("snn: axpyN window outside x")
		}
	}
	if useAVX2 {
		axpyNAVX2(&y[0], n, &x[0], &offs[0], &coef[0], len(offs))
		return
	}
	axpyNGo(y, x, offs, coef)
}

// axpy1 is axpyN with one term: y += a·x[:len(y)].
func axpy1(y, x []float32, a float32) {
	n := len(y)
	if n == 0 {
		return
	}
	x = x[:n]
	if useAVX2 {
		off := int32(0)
		axpyNAVX2(&y[0], n, &x[0], &off, &a, 1)
		return
	}
	for i, v := range x {
		y[i] += float32(a * v)
	}
}

func axpyNGo(y, x []float32, offs []int32, coef []float32) {
	for j, o := range offs {
		c := coef[j]
		for i, v := range x[o : int(o)+len(y)] {
			y[i] += float32(c * v) // the conversion forbids fusing into an FMA (Go spec)
		}
	}
}

// axpyRows adds a·x[xo[r]:xo[r]+n] to y[yo[r]:yo[r]+n] for every row r, in order: many short axpys
// with one call (the scatter of one input event into the k output rows it reaches).
func axpyRows(y, x []float32, yo, xo []int32, n int, a float32) {
	if n <= 0 || len(yo) == 0 {
		return
	}
	xo = xo[:len(yo)]
	for r, o := range yo {
		if o < 0 || int(o)+n > len(y) || xo[r] < 0 || int(xo[r])+n > len(x) {
			panic("snn: axpyRows row outside its slice")
		}
	}
	if useAVX2 {
		axpyRowsAVX2(&y[0], &x[0], &yo[0], &xo[0], len(yo), n, a)
		return
	}
	for r, o := range yo {
		ys, xs := y[o:int(o)+n], x[xo[r]:int(xo[r])+n]
		for i, v := range xs {
			ys[i] += float32(a * v)
		}
	}
}
