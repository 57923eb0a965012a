package transforms

import (
	"math"
	"sort"

	"github.com/evtool/evtool/events"
)

// tonicRanges gives, for frames(compat=tonic), each frame's event index range [start, end) exactly as
// tonic's ToFrame slices (tonic/slicers.py), quirks included:
//   - time window: n = ⌊(t_end − t_start − W)/S⌋ + 1 (⌈…⌉ with include-incomplete), at least 1, where
//     t_end is the last event's time (not + 1), so the last event falls outside when the span is a multiple
//     of the stride; windows [t_start + kS, t_start + kS + W) located by searchsorted(side=left);
//   - event count: count = min(N_e, N), stride N_e − O, n = ⌊(N − count)/stride⌋ + 1 (⌈…⌉);
//   - time bins: window = (t_last − t_first) // B · (1 + r), stride = window·(1 − r), in float64, so
//     bins do not tile the sample when r > 0 and are empty when the span is shorter than B µs;
//   - event bins: count = ⌊N // B · (1 + r)⌋, stride = ⌊count·(1 − r)⌋: the remainder is dropped.
//
// An empty sample gives one zero frame (window, count) or B (bins), as tonic's ToFrame does (tonic's own
// zeros are float64 and (P, W, H)-shaped; ours keep the (P, H, W) layout).
func (f *Frames) tonicRanges(b *events.Batch) [][2]int {
	n := b.Len()
	if n == 0 {
		k := 1
		if f.Mode == ByTimeBins || f.Mode == ByEventBins {
			k = f.Bins
		}
		return make([][2]int, k)
	}
	T := b.T
	first, last := T[0], T[n-1]
	search := func(v float64) int { return sort.Search(n, func(i int) bool { return float64(T[i]) >= v }) }
	var out [][2]int
	switch f.Mode {
	case ByTimeWindow:
		S := f.Window - f.Overlap
		start, end := first, last
		if f.HasStart {
			start = f.Start
		}
		if f.HasEnd {
			end = f.End
		}
		q := float64(end-start-f.Window) / float64(S)
		k := int(math.Floor(q)) + 1
		if f.IncludeIncomplete {
			k = int(math.Ceil(q)) + 1
		}
		for i := 0; i < max(k, 1); i++ {
			s := start + int64(i)*S
			out = append(out, [2]int{search(float64(s)), search(float64(s + f.Window))})
		}
	case ByEventCount:
		count := min(f.Count, n)
		S := f.Count - int(f.Overlap)
		q := float64(n-count) / float64(S)
		k := int(math.Floor(q)) + 1
		if f.IncludeIncomplete {
			k = int(math.Ceil(q)) + 1
		}
		for i := 0; i < k; i++ {
			s := i * S
			out = append(out, [2]int{min(s, n), min(s+count, n)})
		}
	case ByTimeBins:
		window := float64((last-first)/int64(f.Bins)) * (1 + f.OverlapFrac)
		stride := window * (1 - f.OverlapFrac)
		for i := 0; i < f.Bins; i++ {
			s := float64(i)*stride + float64(first)
			out = append(out, [2]int{search(s), search(s + window)})
		}
	case ByEventBins:
		count := int(float64(n/f.Bins) * (1 + f.OverlapFrac))
		stride := int(float64(count) * (1 - f.OverlapFrac))
		for i := 0; i < f.Bins; i++ {
			s := i * stride
			out = append(out, [2]int{min(s, n), min(s+count, n)})
		}
	}
	return out
}

// sjRanges gives each frame's event index range as spikingjelly's frame integration does
// (spikingjelly/datasets/utils.py), without its crashes:
//   - event bins (split_by='number'): d = N // B, frame i = [i·d, (i+1)·d), the last extended to N;
//   - time bins (split_by='time'): dt = (t_last − t_first) // B, frame i = the events of
//     [t_first + i·dt, t_first + (i+1)·dt), the last extended to N (spikingjelly raises IndexError on an
//     empty bin; here it is an empty frame);
//   - window (duration=D): K = ⌈(t_last − t_first)/D⌉ frames, frame i = the events with
//     (t − t_first) // D = i, the last taking all remaining events (spikingjelly crashes when K = 0; here
//     there are no frames).
func (f *Frames) sjRanges(b *events.Batch) [][2]int {
	n := b.Len()
	if n == 0 {
		if f.Mode == ByTimeWindow {
			return nil
		}
		return make([][2]int, f.Bins)
	}
	T := b.T
	first, last := T[0], T[n-1]
	search := func(t int64) int { return sort.Search(n, func(i int) bool { return T[i] >= t }) }
	var out [][2]int
	switch f.Mode {
	case ByEventBins:
		d := n / f.Bins
		for i := 0; i < f.Bins; i++ {
			out = append(out, [2]int{i * d, (i + 1) * d})
		}
	case ByTimeBins:
		dt := (last - first) / int64(f.Bins)
		for i := 0; i < f.Bins; i++ {
			l := first + dt*int64(i)
			out = append(out, [2]int{search(l), search(l + dt)})
		}
	case ByTimeWindow:
		k := int((last - first + f.Window - 1) / f.Window)
		for i := 0; i < k; i++ {
			out = append(out, [2]int{search(first + int64(i)*f.Window), search(first + int64(i+1)*f.Window)})
		}
	}
	if len(out) > 0 {
		out[len(out)-1][1] = n
	}
	return out
}
