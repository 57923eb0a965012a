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
