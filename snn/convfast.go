package snn

// Stride-1 convolution kernels. They work in channel-last layouts so that every inner step is one long
// contiguous run handed to axpyN:
//
//   - forward, sparse input: each active input (ci, iy, ix) adds, for every kernel row ky, the weights
//     wf[ci][ky][kx'][co] (kx' = k−1−kx, so that kx' and the output column run the same way) to the
//     accumulator acc[oy][ox][co]: one run of up to k·C_out values per (input, row);
//   - weight gradient: either input-driven (the same runs, ε in place of the accumulator) or ε-driven
//     (each non-zero ε[co][oy][ox] adds x[iy][ix..ix+k)[ci] to dw[co][ky][kx][ci]), whichever does fewer
//     multiply-adds: after a max-pool only one ε in four is non-zero;
//   - input gradient: ε-driven, each output pixel's non-zero ε[·] summed in registers over the output
//     channels into gIn[iy][ix..ix+k)[ci].
//
// The products are those of the dense definition; only the order in which terms are added differs, and
// it is fixed by the data, never by the worker count.

// forceWeightGrad, in tests, picks the weight-gradient direction: 1 input-driven (sparse input only),
// 2 ε-driven; 0 chooses by cost.
var forceWeightGrad int

// convScratch is one worker's buffers for one convolution layer.
type convScratch struct {
	gen    uint64    // net.gen the weight layouts below were built for
	built  bool      //
	wf     []float32 // [ci][ky][kx'][co], kx' = k−1−kx
	wc     []float32 // [co][ky][kx][ci]
	acc    []float32 // one step's output, [oy][ox][co]
	ecl    []float32 // ε, [t][oy][ox][co]
	xcl    []float32 // input, [t][iy][ix][ci]
	gcl    []float32 // input gradient, [t][iy][ix][ci]
	dw     []float32 // this sample's weight gradient, in the wf or wc layout
	offs   []int32   // term offsets of one axpyN call (input gradient)
	yo, xo []int32   // row offsets for axpyRows
	coef   []float32 // term coefficients of one axpyN call
	// Full windows of the weight gradient listed once per channel (rowSums): base offset, value, row.
	lBase, lRow []int32
	lCoef       []float32
	// The non-zero ε: output channel, pixel and value, grouped by (step, channel) from eOff.
	eCo, eOp, eOff []int32
	eVal           []float32
	// One step's ε bucketed by pixel for the input gradient: counts, then channels and values.
	opCnt, bCo []int32
	bVal       []float32
}

// rowSums adds, for each kernel row ky < k, the listed full windows (sc.lBase/lCoef/lRow) to
// dw[ky·size:][:size], reading x at lBase + ky·step; a window counts for row ky only when its row
// lRow + dir·ky (dir = ±1) lies in [0, rows). Windows are summed in list order, one register-accumulated
// call per row.
func (sc *convScratch) rowSums(dw, x []float32, k, size, step, rows, dir int) int64 {
	var macs int64
	for ky := 0; ky < k; ky++ {
		offs, coef := sc.offs[:0], sc.coef[:0]
		for j, b := range sc.lBase {
			if r := int(sc.lRow[j]) + dir*ky; r >= 0 && r < rows {
				offs = append(offs, b+int32(ky*step))
				coef = append(coef, sc.lCoef[j])
			}
		}
		axpyN(dw[ky*size:(ky+1)*size], x, offs, coef)
		macs += int64(len(offs) * size)
		sc.offs, sc.coef = offs, coef
	}
	return macs
}

// scratch returns the worker's buffers for c with weight layouts current for the net's parameters.
func (c *conv2d) scratch(w *worker) *convScratch {
	if w.conv == nil {
		w.conv = make(map[*conv2d]*convScratch)
	}
	sc := w.conv[c]
	if sc == nil {
		sc = &convScratch{}
		w.conv[c] = sc
	}
	if sc.built && sc.gen == w.net.gen {
		return sc
	}
	k, CI, CO := c.k, c.in.C, c.out.C
	sc.wf = growF(sc.wf, c.wSize)
	sc.wc = growF(sc.wc, c.wSize)
	W := c.w.Data
	for co := 0; co < CO; co++ {
		for ci := 0; ci < CI; ci++ {
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					v := W[((co*CI+ci)*k+ky)*k+kx]
					sc.wf[((ci*k+ky)*k+(k-1-kx))*CO+co] = v
					sc.wc[((co*k+ky)*k+kx)*CI+ci] = v
				}
			}
		}
	}
	sc.gen, sc.built = w.net.gen, true
	return sc
}

// forwardSparse1 is the event-driven forward pass (stride 1, sparse input).
func (c *conv2d) forwardSparse1(w *worker, in, out *Act) {
	sc := c.scratch(w)
	T, k, p, CO := in.T, c.k, c.p, c.out.C
	OH, OW, IW := c.out.H, c.out.W, c.in.W
	OHW, IHW, Nout := OH*OW, c.in.H*c.in.W, c.out.Size()
	out.reset(T, Nout)
	out.gemm = false
	v := growF(out.V, T*Nout)
	out.V, out.HasDense = v, true
	sc.acc = growF(sc.acc, OHW*CO)
	acc := sc.acc
	var macs int64
	for t := 0; t < T; t++ {
		clear(acc)
		for e := in.Off[t]; e < in.Off[t+1]; e++ {
			a, idx := in.entry(e)
			ci, pix := idx/IHW, idx%IHW
			iy, ix := pix/IW, pix%IW
			ox0 := ix + p - (k - 1)
			kx0, kx1 := max(0, -ox0), min(k, OW-ox0)
			if kx0 >= kx1 {
				continue
			}
			n := (kx1 - kx0) * CO
			yo, xo := sc.yo[:0], sc.xo[:0]
			for ky := 0; ky < k; ky++ {
				oy := iy + p - ky
				if oy < 0 || oy >= OH {
					continue
				}
				yo = append(yo, int32((oy*OW+ox0+kx0)*CO))
				xo = append(xo, int32(((ci*k+ky)*k+kx0)*CO))
			}
			axpyRows(acc, sc.wf, yo, xo, n, a)
			macs += int64(len(yo) * n)
			sc.yo, sc.xo = yo, xo
		}
		// To channel-major, four pixels at a time (four contiguous writes per channel).
		o := v[t*Nout : (t+1)*Nout]
		bias := c.b.Data[:CO]
		op := 0
		for ; op+4 <= OHW; op += 4 {
			r0, r1 := acc[op*CO:(op+1)*CO], acc[(op+1)*CO:(op+2)*CO]
			r2, r3 := acc[(op+2)*CO:(op+3)*CO], acc[(op+3)*CO:(op+4)*CO]
			for co, b := range bias {
				d := o[co*OHW+op : co*OHW+op+4]
				d[0], d[1], d[2], d[3] = b+r0[co], b+r1[co], b+r2[co], b+r3[co]
			}
		}
		for ; op < OHW; op++ {
			for co, b := range bias {
				o[co*OHW+op] = b + acc[op*CO+co]
			}
		}
	}
	w.macDone += macs
	w.macDense += int64(T) * int64(Nout) * int64(c.in.C*c.kk)
}

// backward1 is the backward pass for stride 1 (any input density): bias, weight and input gradients.
// It visits only the non-zero ε: those a max pool above routed gradient to (w.gHint), or else those
// found by scanning.
func (c *conv2d) backward1(w *worker, in, out *Act, gOut, gIn []float32, grads [][]float32) {
	sc := c.scratch(w)
	T, k, p, CI, CO := in.T, c.k, c.p, c.in.C, c.out.C
	OH, OW, IH, IW := c.out.H, c.out.W, c.in.H, c.in.W
	OHW, IHW, Nout, Nin := OH*OW, IH*IW, c.out.Size(), c.in.Size()
	dW, db := grads[0], grads[1]
	dense := int64(T) * int64(Nout) * int64(CI*k*k)

	// The non-zero ε of every step as (co, op, value), grouped by output channel: eOff[t·CO+co] is where
	// channel co of step t starts.
	sc.eOff = growI(sc.eOff, T*CO+1)
	sc.eCo, sc.eOp, sc.eVal = sc.eCo[:0], sc.eOp[:0], sc.eVal[:0]
	if h := w.gHint; h.idx != nil && h.n%CO == 0 && len(h.idx) >= T*h.n {
		per := h.n / CO // pooled outputs per channel
		for t := 0; t < T; t++ {
			for co := 0; co < CO; co++ {
				sc.eOff[t*CO+co] = int32(len(sc.eOp))
				base := t*h.n + co*per
				var s float32
				for i, v := range h.val[base : base+per] {
					s += v
					if v != 0 {
						sc.eCo = append(sc.eCo, int32(co))
						sc.eOp = append(sc.eOp, h.idx[base+i]-int32(co*OHW))
						sc.eVal = append(sc.eVal, v)
					}
				}
				db[co] += s
			}
		}
	} else {
		for t := 0; t < T; t++ {
			for co := 0; co < CO; co++ {
				sc.eOff[t*CO+co] = int32(len(sc.eOp))
				var s float32
				for op, v := range gOut[t*Nout+co*OHW : t*Nout+(co+1)*OHW] {
					s += v
					if v != 0 {
						sc.eCo = append(sc.eCo, int32(co))
						sc.eOp = append(sc.eOp, int32(op))
						sc.eVal = append(sc.eVal, v)
					}
				}
				db[co] += s
			}
		}
	}
	sc.eOff[T*CO] = int32(len(sc.eOp))
	nnz := len(sc.eOp)

	// Weight gradient, in whichever direction does fewer multiply-adds.
	active := T * Nin
	if in.HasSparse {
		active = in.activeCount()
	}
	inputDriven := in.HasSparse && active*CO <= nnz*CI
	if forceWeightGrad != 0 {
		inputDriven = in.HasSparse && forceWeightGrad == 1
	}
	sc.dw = growF(sc.dw, c.wSize)
	dw := sc.dw
	clear(dw)
	var macs int64
	if inputDriven {
		// ε channel-last, [t][op][co], for runs over (ox, co).
		sc.ecl = growF(sc.ecl, T*OHW*CO)
		ecl := sc.ecl
		clear(ecl)
		for t := 0; t < T; t++ {
			for j := sc.eOff[t*CO]; j < sc.eOff[(t+1)*CO]; j++ {
				ecl[(t*OHW+int(sc.eOp[j]))*CO+int(sc.eCo[j])] = sc.eVal[j]
			}
		}
		// Inputs whose k outputs all lie inside the image add a full run of k·C_out values to
		// dw[ci][ky], read from ε at base − ky·OW·C_out: they are listed once per input channel and
		// summed per kernel row in one call, y held in registers. Clipped runs (the borders) are added
		// at once.
		for ci := 0; ci < CI; ci++ {
			sc.lBase, sc.lCoef, sc.lRow = sc.lBase[:0], sc.lCoef[:0], sc.lRow[:0]
			for t := 0; t < T; t++ {
				for e := in.Off[t]; e < in.Off[t+1]; e++ {
					a, idx := in.entry(e)
					if idx/IHW != ci {
						continue
					}
					pix := idx % IHW
					iy, ix := pix/IW, pix%IW
					ox0 := ix + p - (k - 1)
					kx0, kx1 := max(0, -ox0), min(k, OW-ox0)
					if kx1-kx0 == k {
						sc.lBase = append(sc.lBase, int32((t*OHW+(iy+p)*OW+ox0)*CO))
						sc.lCoef = append(sc.lCoef, a)
						sc.lRow = append(sc.lRow, int32(iy+p))
						continue
					}
					for ky := 0; ky < k && kx0 < kx1; ky++ {
						if oy := iy + p - ky; oy >= 0 && oy < OH {
							n, d, src := (kx1-kx0)*CO, ((ci*k+ky)*k+kx0)*CO, (t*OHW+oy*OW+ox0+kx0)*CO
							axpy1(dw[d:d+n], ecl[src:src+n], a)
							macs += int64(n)
						}
					}
				}
			}
			macs += sc.rowSums(dw[ci*k*k*CO:], ecl, k, k*CO, -OW*CO, OH, -1) // output row iy + p − ky
		}
		for ci := 0; ci < CI; ci++ {
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					src := dw[((ci*k+ky)*k+(k-1-kx))*CO:]
					for co := 0; co < CO; co++ {
						dW[((co*CI+ci)*k+ky)*k+kx] += src[co]
					}
				}
			}
		}
	} else {
		xcl := c.channelLastInput(sc, in)
		// Per output channel, one pass over its non-zero ε fills a bucket of full windows per kernel
		// row (each summed in one call); clipped windows are added at once.
		// Each non-zero ε[co] adds the input window at base + ky·IW·C_in to dw[co][ky]: listed once per
		// output channel, summed per kernel row in one call; clipped windows are added at once.
		for co := 0; co < CO; co++ {
			sc.lBase, sc.lCoef, sc.lRow = sc.lBase[:0], sc.lCoef[:0], sc.lRow[:0]
			for t := 0; t < T; t++ {
				for j := sc.eOff[t*CO+co]; j < sc.eOff[t*CO+co+1]; j++ {
					op := int(sc.eOp[j])
					oy, ox := op/OW, op%OW
					ix0 := ox - p
					kx0, kx1 := max(0, -ix0), min(k, IW-ix0)
					if kx1-kx0 == k {
						sc.lBase = append(sc.lBase, int32((t*IHW+(oy-p)*IW+ix0)*CI))
						sc.lCoef = append(sc.lCoef, sc.eVal[j])
						sc.lRow = append(sc.lRow, int32(oy-p))
						continue
					}
					for ky := 0; ky < k && kx0 < kx1; ky++ {
						if iy := oy + ky - p; iy >= 0 && iy < IH {
							n, d, src := (kx1-kx0)*CI, ((co*k+ky)*k+kx0)*CI, (t*IHW+iy*IW+ix0+kx0)*CI
							axpy1(dw[d:d+n], xcl[src:src+n], sc.eVal[j])
							macs += int64(n)
						}
					}
				}
			}
			macs += sc.rowSums(dw[co*k*k*CI:], xcl, k, k*CI, IW*CI, IH, +1) // input row oy − p + ky
		}
		for co := 0; co < CO; co++ {
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					src := dw[((co*k+ky)*k+kx)*CI:]
					for ci := 0; ci < CI; ci++ {
						dW[((co*CI+ci)*k+ky)*k+kx] += src[ci]
					}
				}
			}
		}
	}
	w.macDone += macs
	w.macDense += dense
	if gIn == nil {
		return
	}

	// Input gradient: for each output pixel with any non-zero ε, its channels' kernels summed (in
	// channel order) into the k rows of input pixels it reaches. The step's ε are bucketed by pixel.
	sc.gcl = growF(sc.gcl, T*IHW*CI)
	gcl := sc.gcl
	clear(gcl)
	macs = 0
	sc.opCnt = growI(sc.opCnt, OHW+1)
	for t := 0; t < T; t++ {
		lo, hi := int(sc.eOff[t*CO]), int(sc.eOff[(t+1)*CO])
		if lo == hi {
			continue
		}
		cnt := sc.opCnt
		clear(cnt)
		for _, op := range sc.eOp[lo:hi] {
			cnt[op+1]++
		}
		for op := 1; op <= OHW; op++ {
			cnt[op] += cnt[op-1]
		}
		sc.bCo = growI(sc.bCo, hi-lo)
		sc.bVal = growF(sc.bVal, hi-lo)
		for j := lo; j < hi; j++ {
			op := sc.eOp[j]
			pos := cnt[op]
			cnt[op]++
			sc.bCo[pos], sc.bVal[pos] = sc.eCo[j], sc.eVal[j]
		}
		// cnt[op] is now the end of pixel op's bucket (and the start of op+1's).
		start := 0
		for op := 0; op < OHW; op++ {
			end := int(cnt[op])
			if end == start {
				continue
			}
			cos, coef := sc.bCo[start:end], sc.bVal[start:end]
			start = end
			oy, ox := op/OW, op%OW
			ix0 := ox - p
			kx0, kx1 := max(0, -ix0), min(k, IW-ix0)
			if kx0 >= kx1 {
				continue
			}
			n := (kx1 - kx0) * CI
			sc.offs = sc.offs[:0]
			for _, co := range cos {
				sc.offs = append(sc.offs, int32((int(co)*k*k+kx0)*CI-k*CI)) // row −1; moved on per ky
			}
			for ky := 0; ky < k; ky++ {
				for j := range sc.offs {
					sc.offs[j] += int32(k * CI)
				}
				iy := oy + ky - p
				if iy < 0 || iy >= IH {
					continue
				}
				d := (t*IHW + iy*IW + ix0 + kx0) * CI
				axpyN(gcl[d:d+n], sc.wc, sc.offs, coef)
				macs += int64(len(cos) * n)
			}
		}
	}
	for t := 0; t < T; t++ {
		g := gIn[t*Nin : (t+1)*Nin]
		src := gcl[t*IHW*CI : (t+1)*IHW*CI]
		for ci := 0; ci < CI; ci++ {
			dst := g[ci*IHW : (ci+1)*IHW]
			for pix := range dst {
				dst[pix] = src[pix*CI+ci]
			}
		}
	}
	w.macDone += macs
	w.macDense += dense
}

// channelLastInput returns the layer's input as [t][iy][ix][ci] in sc.xcl.
func (c *conv2d) channelLastInput(sc *convScratch, in *Act) []float32 {
	T, CI, IHW, Nin := in.T, c.in.C, c.in.H*c.in.W, c.in.Size()
	sc.xcl = growF(sc.xcl, T*IHW*CI)
	xcl := sc.xcl
	if in.HasSparse {
		clear(xcl)
		for t := 0; t < T; t++ {
			for e := in.Off[t]; e < in.Off[t+1]; e++ {
				a, idx := in.entry(e)
				xcl[(t*IHW+idx%IHW)*CI+idx/IHW] = a
			}
		}
		return xcl
	}
	for t := 0; t < T; t++ {
		x := in.V[t*Nin : (t+1)*Nin]
		for ci := 0; ci < CI; ci++ {
			for pix, v := range x[ci*IHW : (ci+1)*IHW] {
				xcl[(t*IHW+pix)*CI+ci] = v
			}
		}
	}
	return xcl
}
