#include "textflag.h"

// func axpyNAVX2(y *float32, n int, x *float32, offs *int32, coef *float32, m int)
//
// y[i] += Σ_j coef[j]·x[offs[j]+i], term by term (VMULPS then VADDPS: no FMA, so the result equals the Go
// loop's). y is walked in blocks of 32, 8, 4 and 1 floats held in registers while the terms stream in.
TEXT ·axpyNAVX2(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ x+16(FP), SI
	MOVQ offs+24(FP), R8
	MOVQ coef+32(FP), R9
	MOVQ m+40(FP), R10

loop32:
	CMPQ CX, $32
	JLT  loop8
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	XORQ R11, R11

terms32:
	MOVLQSX      (R8)(R11*4), AX
	VBROADCASTSS (R9)(R11*4), Y4
	LEAQ         (SI)(AX*4), BX
	VMULPS       (BX), Y4, Y5
	VMULPS       32(BX), Y4, Y6
	VMULPS       64(BX), Y4, Y7
	VMULPS       96(BX), Y4, Y8
	VADDPS       Y5, Y0, Y0
	VADDPS       Y6, Y1, Y1
	VADDPS       Y7, Y2, Y2
	VADDPS       Y8, Y3, Y3
	INCQ         R11
	CMPQ         R11, R10
	JLT          terms32
	VMOVUPS      Y0, (DI)
	VMOVUPS      Y1, 32(DI)
	VMOVUPS      Y2, 64(DI)
	VMOVUPS      Y3, 96(DI)
	ADDQ         $128, DI
	ADDQ         $128, SI
	SUBQ         $32, CX
	JMP          loop32

loop8:
	CMPQ CX, $8
	JLT  loop4
	VMOVUPS (DI), Y0
	XORQ R11, R11

terms8:
	MOVLQSX      (R8)(R11*4), AX
	VBROADCASTSS (R9)(R11*4), Y4
	VMULPS       (SI)(AX*4), Y4, Y5
	VADDPS       Y5, Y0, Y0
	INCQ         R11
	CMPQ         R11, R10
	JLT          terms8
	VMOVUPS      Y0, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	SUBQ         $8, CX
	JMP          loop8

loop4:
	CMPQ CX, $4
	JLT  loop1
	VMOVUPS (DI), X0
	XORQ R11, R11

terms4:
	MOVLQSX      (R8)(R11*4), AX
	VBROADCASTSS (R9)(R11*4), X4
	VMULPS       (SI)(AX*4), X4, X5
	VADDPS       X5, X0, X0
	INCQ         R11
	CMPQ         R11, R10
	JLT          terms4
	VMOVUPS      X0, (DI)
	ADDQ         $16, DI
	ADDQ         $16, SI
	SUBQ         $4, CX
	JMP          loop4

loop1:
	CMPQ CX, $0
	JLE  done
	VMOVSS (DI), X0
	XORQ R11, R11

terms1:
	MOVLQSX (R8)(R11*4), AX
	VMOVSS  (R9)(R11*4), X4
	VMULSS  (SI)(AX*4), X4, X5
	VADDSS  X5, X0, X0
	INCQ    R11
	CMPQ    R11, R10
	JLT     terms1
	VMOVSS  X0, (DI)
	ADDQ    $4, DI
	ADDQ    $4, SI
	DECQ    CX
	JMP     loop1

done:
	VZEROUPPER
	RET

// func axpyRowsAVX2(y *float32, x *float32, yo *int32, xo *int32, rows int, n int, a float32)
//
// For each row r in order: y[yo[r]+i] += a·x[xo[r]+i], i < n (VMULPS then VADDPS, as the Go loop).
TEXT ·axpyRowsAVX2(SB), NOSPLIT, $0-52
	MOVQ         y+0(FP), R12
	MOVQ         x+8(FP), R13
	MOVQ         yo+16(FP), R8
	MOVQ         xo+24(FP), R9
	MOVQ         rows+32(FP), R10
	VBROADCASTSS a+48(FP), Y4
	XORQ         R11, R11

row:
	CMPQ    R11, R10
	JGE     rowsdone
	MOVLQSX (R8)(R11*4), AX
	LEAQ    (R12)(AX*4), DI
	MOVLQSX (R9)(R11*4), AX
	LEAQ    (R13)(AX*4), SI
	MOVQ    n+40(FP), CX

r32:
	CMPQ    CX, $32
	JLT     r8
	VMULPS  (SI), Y4, Y5
	VMULPS  32(SI), Y4, Y6
	VMULPS  64(SI), Y4, Y7
	VMULPS  96(SI), Y4, Y8
	VADDPS  (DI), Y5, Y5
	VADDPS  32(DI), Y6, Y6
	VADDPS  64(DI), Y7, Y7
	VADDPS  96(DI), Y8, Y8
	VMOVUPS Y5, (DI)
	VMOVUPS Y6, 32(DI)
	VMOVUPS Y7, 64(DI)
	VMOVUPS Y8, 96(DI)
	ADDQ    $128, DI
	ADDQ    $128, SI
	SUBQ    $32, CX
	JMP     r32

r8:
	CMPQ    CX, $8
	JLT     r4
	VMULPS  (SI), Y4, Y5
	VADDPS  (DI), Y5, Y5
	VMOVUPS Y5, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     r8

r4:
	CMPQ    CX, $4
	JLT     r1
	VMULPS  (SI), X4, X5
	VADDPS  (DI), X5, X5
	VMOVUPS X5, (DI)
	ADDQ    $16, DI
	ADDQ    $16, SI
	SUBQ    $4, CX
	JMP     r4

r1:
	CMPQ   CX, $0
	JLE    rownext
	VMULSS (SI), X4, X5
	VADDSS (DI), X5, X5
	VMOVSS X5, (DI)
	ADDQ   $4, DI
	ADDQ   $4, SI
	DECQ   CX
	JMP    r1

rownext:
	INCQ R11
	JMP  row

rowsdone:
	VZEROUPPER
	RET

// func adamAVX2(w, m, v, gr *float32, n int, k *adamConst)
//
// Eight values at a time: m = β₁m + (1−β₁)g and v = β₂v + ((1−β₂)g)g in float32, then, four lanes at a
// time in float64, q = (η·c1·m)/(√(c2·v) + ε), rounded to float32, and w −= q + decay·w. Every operation
// rounds as adamGo's (no FMA; square root and division are correctly rounded), so the bits are the same.
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ         w+0(FP), DI
	MOVQ         m+8(FP), SI
	MOVQ         v+16(FP), DX
	MOVQ         gr+24(FP), BX
	MOVQ         n+32(FP), CX
	MOVQ         k+40(FP), AX
	VBROADCASTSD 0(AX), Y8   // η
	VBROADCASTSD 8(AX), Y9   // c1
	VBROADCASTSD 16(AX), Y10 // c2
	VBROADCASTSD 24(AX), Y11 // ε
	VBROADCASTSS 32(AX), Y12 // β₁
	VBROADCASTSS 36(AX), Y13 // 1 − β₁
	VBROADCASTSS 40(AX), Y14 // β₂
	VBROADCASTSS 44(AX), Y15 // 1 − β₂
	VBROADCASTSS 48(AX), Y7  // decay

adam8:
	CMPQ CX, $8
	JLT  adamdone
	VMOVUPS (BX), Y0
	VMULPS  (SI), Y12, Y1
	VMULPS  Y0, Y13, Y2
	VADDPS  Y2, Y1, Y1    // m
	VMOVUPS Y1, (SI)
	VMULPS  (DX), Y14, Y2
	VMULPS  Y0, Y15, Y3
	VMULPS  Y0, Y3, Y3
	VADDPS  Y3, Y2, Y2    // v
	VMOVUPS Y2, (DX)

	VCVTPS2PD  X1, Y3     // low four lanes
	VMULPD     Y9, Y3, Y3 // m̂ = m·c1
	VMULPD     Y3, Y8, Y3 // η·m̂
	VCVTPS2PD  X2, Y4
	VMULPD     Y10, Y4, Y4 // v̂ = v·c2
	VSQRTPD    Y4, Y4
	VADDPD     Y11, Y4, Y4
	VDIVPD     Y4, Y3, Y3
	VCVTPD2PSY Y3, X3

	VEXTRACTF128 $1, Y1, X5 // high four lanes
	VCVTPS2PD    X5, Y5
	VMULPD       Y9, Y5, Y5
	VMULPD       Y5, Y8, Y5
	VEXTRACTF128 $1, Y2, X6
	VCVTPS2PD    X6, Y6
	VMULPD       Y10, Y6, Y6
	VSQRTPD      Y6, Y6
	VADDPD       Y11, Y6, Y6
	VDIVPD       Y6, Y5, Y5
	VCVTPD2PSY   Y5, X5
	VINSERTF128  $1, X5, Y3, Y3

	VMOVUPS (DI), Y4
	VMULPS  Y4, Y7, Y5
	VADDPS  Y5, Y3, Y3
	VSUBPS  Y3, Y4, Y4    // w −= q + decay·w
	VMOVUPS Y4, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, BX
	SUBQ    $8, CX
	JMP     adam8

adamdone:
	VZEROUPPER
	RET
