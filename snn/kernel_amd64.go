package snn

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly kernels; without AVX2 the Go versions compute the same bits.
var useAVX2 = cpu.X86.HasAVX2

// axpyNAVX2 is axpyN on raw pointers (kernel_amd64.s); the caller has checked every window.
//
//go:noescape
func axpyNAVX2(y *float32, n int, x *float32, offs *int32, coef *float32, m int)

// axpyRowsAVX2 is axpyRows on raw pointers; the caller has checked every row.
//
//go:noescape
func axpyRowsAVX2(y *float32, x *float32, yo *int32, xo *int32, rows int, n int, a float32)

// adamAVX2 is adamGo on the first n values (a multiple of 8) of raw slices the caller has checked.
//
//go:noescape
func adamAVX2(w, m, v, gr *float32, n int, k *adamConst)
