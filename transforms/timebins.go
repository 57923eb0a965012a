package transforms

import (
	"math"
	"math/bits"

	"github.com/evtool/evtool/events"
)

// TimeBins is evtool's one time binning: frames(bins=B) without overlap, and the spiking-network input
// (package snn) both count through it. Over the span [Start, End), D = End − Start µs, bin k covers
// [Start + ⌊k·D/B⌋, Start + ⌊(k+1)·D/B⌋): the bins tile the span, so every event in it lies in exactly one
// bin, the largest k with ⌊k·D/B⌋ ≤ t − Start (with D < B some bins are empty). The arithmetic is exact
// for any span and bin count: k·D is formed in 128 bits.
type TimeBins struct {
	Start, End int64
	Bins       int
}

// valid reports whether the span is non-empty and there is at least one bin.
func (tb TimeBins) valid() bool { return tb.End > tb.Start && tb.Bins >= 1 }

// span is D = End − Start, exact even when it exceeds math.MaxInt64.
func (tb TimeBins) span() uint64 { return uint64(tb.End) - uint64(tb.Start) }

// Edge is the start of bin k, Start + ⌊k·D/B⌋, for 0 ≤ k ≤ Bins (Edge(Bins) = End).
func (tb TimeBins) Edge(k int) int64 {
	hi, lo := bits.Mul64(uint64(k), tb.span())
	q, _ := bits.Div64(hi, lo, uint64(tb.Bins)) // hi < Bins because k ≤ Bins
	return int64(uint64(tb.Start) + q)
}

// Bin is the bin of time t, or −1 when t is outside the span (or the span is empty).
func (tb TimeBins) Bin(t int64) int {
	if !tb.valid() || t < tb.Start || t >= tb.End {
		return -1
	}
	// The largest k with k·D < (u+1)·B, u = t − Start: k = ⌊((u+1)·B − 1)/D⌋.
	u := uint64(t) - uint64(tb.Start)
	hi, lo := bits.Mul64(u+1, uint64(tb.Bins))
	lo, borrow := bits.Sub64(lo, 1, 0)
	hi -= borrow
	k, _ := bits.Div64(hi, lo, tb.span()) // hi < D because u + 1 ≤ D
	return int(k)
}

// BinCounter counts events into time bins: a (Bins, Polarities, Height, Width) grid of uint16 counts that
// saturate at 65535, channel p = the event's polarity (0 = OFF first).
type BinCounter struct {
	TimeBins
	Width, Height, Polarities int
	Binary                    bool // a count stops at 1
	// ClampPolarity counts an event whose polarity is ≥ Polarities in the last channel (frames);
	// without it such an event is skipped (snn).
	ClampPolarity bool
}

// Count adds the events of b to counts, which must hold Bins·Polarities·Height·Width values. Events
// outside the span or the sensor are skipped. b need not be time-ordered, but a time-ordered batch finds
// each event's bin with two comparisons, computing a bin only when the events enter it.
func (c *BinCounter) Count(b *events.Batch, counts []uint16) {
	if !c.valid() || c.Polarities < 1 {
		return
	}
	W, H, P := c.Width, c.Height, c.Polarities
	plane := P * H * W
	counts = counts[:c.Bins*plane]
	binary, clamp := c.Binary, c.ClampPolarity
	lo, hi := int64(1), int64(0) // the current bin's [lo, hi): none yet
	var bin []uint16
	for i, t := range b.T {
		if t < lo || t >= hi {
			k := c.Bin(t)
			if k < 0 {
				continue
			}
			lo, hi = c.Edge(k), c.Edge(k+1)
			bin = counts[k*plane : (k+1)*plane]
		}
		x, y, p := int(b.X[i]), int(b.Y[i]), int(b.P[i])
		if x >= W || y >= H {
			continue
		}
		if p >= P {
			if !clamp {
				continue
			}
			p = P - 1
		}
		n := &bin[(p*H+y)*W+x]
		if binary {
			*n = 1
		} else if *n < math.MaxUint16 {
			*n++
		}
	}
}
