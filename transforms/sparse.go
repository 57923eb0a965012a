package transforms

import (
	"fmt"
	"math"

	"github.com/evtool/evtool/events"
)

// SparseCount is one non-zero element of a (P, H, W) frame: its flat index (p·H + y)·W + x, channel 0 OFF,
// and its event count (saturating at 65535).
type SparseCount struct {
	Index int32
	Count uint16
}

// SparseTimeBins is frames(bins=B) in sparse form, for spiking networks that feed one time step at a
// time: it returns, per bin k, the non-zero counts of frame k in order of first occurrence. The bins are
// those of TRANSFORMS.md §5.1(c) with no overlap over the span [first event, last event + 1), so the result
// equals Frames{Mode: "time-bins", Bins: B}.Compute restricted to its non-zero elements. dst and scratch
// are reused when large enough (pass the previous results back in to avoid allocation); scratch holds P·H·W
// counters and is left all zero. b must be time-ordered.
func SparseTimeBins(b *events.Batch, in Shape, bins int, dst [][]SparseCount, scratch []uint16) ([][]SparseCount, []uint16, error) {
	if !in.Geometry.Known() {
		return dst, scratch, fmt.Errorf("sparse time bins need the sensor size")
	}
	if bins < 1 {
		return dst, scratch, fmt.Errorf("sparse time bins need bins ≥ 1, got %d", bins)
	}
	P := max(in.Polarities, 1)
	H, W := in.Geometry.Height, in.Geometry.Width
	if cap(scratch) < P*H*W {
		scratch = make([]uint16, P*H*W)
	}
	scratch = scratch[:P*H*W]
	if cap(dst) < bins {
		dst = append(dst[:cap(dst)], make([][]SparseCount, bins-cap(dst))...)
	}
	dst = dst[:bins]
	for k := range dst {
		dst[k] = dst[k][:0]
	}
	n := b.Len()
	if n == 0 {
		return dst, scratch, nil
	}
	if i := b.CheckMonotonic(); i >= 0 {
		return dst, scratch, fmt.Errorf("sparse time bins: event %d goes back in time (%d after %d µs)", i, b.T[i], b.T[i-1])
	}
	t0, B := b.T[0], int64(bins)
	D := b.T[n-1] + 1 - t0
	i := 0
	for i < n {
		// Events are time-ordered, so bin k is a contiguous run; count it in scratch, then list and clear.
		k := ((b.T[i]-t0+1)*B+D-1)/D - 1
		end := t0 + (k+1)*D/B
		list := dst[k]
		first := len(list)
		for ; i < n && b.T[i] < end; i++ {
			x, y, p := int(b.X[i]), int(b.Y[i]), min(int(b.P[i]), P-1)
			if x >= W || y >= H {
				continue
			}
			idx := (p*H+y)*W + x
			c := scratch[idx]
			if c == 0 {
				list = append(list, SparseCount{Index: int32(idx)})
			}
			if c < math.MaxUint16 {
				scratch[idx] = c + 1
			}
		}
		for j := first; j < len(list); j++ {
			list[j].Count = scratch[list[j].Index]
			scratch[list[j].Index] = 0
		}
		dst[k] = list
	}
	return dst, scratch, nil
}
