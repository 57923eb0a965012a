//go:build !amd64

package snn

const useAVX2 = false

func axpyNAVX2(y *float32, n int, x *float32, offs *int32, coef *float32, m int) {
	panic("unreachable")
}

func axpyRowsAVX2(y *float32, x *float32, yo *int32, xo *int32, rows int, n int, a float32) {
	panic("unreachable")
}

func adamAVX2(w, m, v, gr *float32, n int, k *adamConst) {
	panic("unreachable")
}
