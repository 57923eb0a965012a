package transforms

import (
	"fmt"
	"math"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/tensors"
)

// FrameMode is how frames divide a sample.
type FrameMode int

const (
	ByTimeWindow FrameMode = iota + 1 // frames of Window µs every Window − Overlap µs
	ByEventCount                      // frames of Count events every Count − Overlap events
	ByTimeBins                        // Bins frames tiling the span in time
	ByEventBins                       // Bins frames tiling the events by index
)

// FrameCompat makes frames slice a sample exactly as a peer library does (frames_compat.go).
type FrameCompat int

const (
	CompatNone         FrameCompat = iota
	CompatTonic                    // tonic's ToFrame
	CompatSpikingJelly             // spikingjelly's frame integration
)

// Frames bins events into count frames: shape (K, P, H, W), uint16 saturating counts, channel p = the
// event's polarity (0 = OFF first), or one channel after merging. Frames tile the span [t0, t1): t0 is
// Start or the first event, t1 is End or the last event + 1, so no event is dropped.
//   - ByTimeWindow: frame k covers [t0 + k·S, t0 + k·S + W) with S = W − Overlap, K = ⌊(D − W)/S⌋ + 1
//     (⌈…⌉ + 1 with IncludeIncomplete, keeping a last partial frame), D = t1 − t0;
//   - ByEventCount: the same over event indices with Count events per frame;
//   - ByTimeBins: bin k covers [t0 + ⌊k·D/B⌋, t0 + ⌊(k+1+OverlapFrac)·D/B⌋) (timebins.go without overlap);
//   - ByEventBins: bin k holds events [⌊k·N/B⌋, ⌊(k+1+OverlapFrac)·N/B⌋) of the N in the span.
type Frames struct {
	Mode              FrameMode
	Window            int64 // ByTimeWindow: W_t µs
	Count             int   // ByEventCount: N_e
	Bins              int   // ByTimeBins, ByEventBins: B
	Overlap           int64 // ByTimeWindow: µs; ByEventCount: events
	OverlapFrac       float64
	IncludeIncomplete bool
	Start, End        int64 // span; valid when HasStart / HasEnd
	HasStart, HasEnd  bool
	Binary            bool
	Compat            FrameCompat
}

// span returns t0, t1 and the index range of the events inside [t0, t1).
func (f *Frames) span(b *events.Batch) (t0, t1 int64, i0, i1 int) {
	n := b.Len()
	switch {
	case f.HasStart:
		t0 = f.Start
	case n > 0:
		t0 = b.T[0]
	}
	switch {
	case f.HasEnd:
		t1 = f.End
	case n > 0:
		t1 = b.T[n-1] + 1
	default:
		t1 = t0
	}
	i0 = b.SearchTime(t0)
	i1 = b.SearchTime(t1)
	if i1 < i0 {
		i1 = i0
	}
	return
}

// NumFrames is K for a sample.
func (f *Frames) NumFrames(b *events.Batch) int {
	t0, t1, i0, i1 := f.span(b)
	D, N := t1-t0, int64(i1-i0)
	switch f.Mode {
	case ByTimeWindow:
		if b.Len() == 0 && !(f.HasStart && f.HasEnd) {
			return 0
		}
		W, S := f.Window, f.Window-f.Overlap
		if f.IncludeIncomplete {
			if D <= 0 {
				return 0
			}
			return int(ceilDiv(max(D-W, 0), S) + 1)
		}
		if D < W {
			return 0
		}
		return int((D-W)/S + 1)
	case ByEventCount:
		Ne, S := int64(f.Count), int64(f.Count)-f.Overlap
		if f.IncludeIncomplete {
			if N <= 0 {
				return 0
			}
			return int(ceilDiv(max(N-Ne, 0), S) + 1)
		}
		if N < Ne {
			return 0
		}
		return int((N-Ne)/S + 1)
	}
	return f.Bins
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// FixedShape: bins and event-bins give B frames for every sample; windows and counts do not.
func (f *Frames) FixedShape() bool { return f.Mode == ByTimeBins || f.Mode == ByEventBins }

// Compute makes the frames of one sample in a new tensor.
func (f *Frames) Compute(b *events.Batch, in Shape) (*tensors.Tensor, error) {
	out := &tensors.Tensor{}
	return out, f.ComputeInto(b, in, out)
}

// ComputeInto makes the frames of one sample in out, reusing its buffer (training loops call this per
// sample).
func (f *Frames) ComputeInto(b *events.Batch, in Shape, out *tensors.Tensor) error {
	if !in.Geometry.Known() {
		return fmt.Errorf("frames need the sensor size")
	}
	P := max(in.Polarities, 1)
	H, W := in.Geometry.Height, in.Geometry.Width
	if f.Mode < ByTimeWindow || f.Mode > ByEventBins {
		return fmt.Errorf("frames: unknown mode %d", f.Mode)
	}
	if f.Compat != CompatNone {
		ranges := f.tonicRanges(b)
		if f.Compat == CompatSpikingJelly {
			ranges = f.sjRanges(b)
		}
		plane := P * H * W
		out.Shape = append(out.Shape[:0], len(ranges), P, H, W)
		out.F32 = nil
		out.U16 = make([]uint16, len(ranges)*plane)
		for k, r := range ranges {
			frame := out.U16[k*plane : (k+1)*plane]
			for i := r[0]; i < r[1]; i++ {
				x, y, p := int(b.X[i]), int(b.Y[i]), min(int(b.P[i]), P-1)
				if x >= W || y >= H {
					continue
				}
				if c := &frame[(p*H+y)*W+x]; f.Binary {
					*c = 1
				} else if *c < math.MaxUint16 {
					*c++
				}
			}
		}
		return nil
	}
	K := f.NumFrames(b)
	plane := P * H * W
	out.Shape = append(out.Shape[:0], K, P, H, W)
	out.F32 = nil
	if cap(out.U16) < K*plane {
		out.U16 = make([]uint16, K*plane)
	}
	out.U16 = out.U16[:K*plane]
	clear(out.U16)
	t0, t1, i0, i1 := f.span(b)
	D := t1 - t0
	add := func(k, i int) {
		x, y, p := int(b.X[i]), int(b.Y[i]), int(b.P[i])
		if x >= W || y >= H || k < 0 || k >= K {
			return
		}
		if p >= P {
			p = P - 1
		}
		c := &out.U16[k*plane+(p*H+y)*W+x]
		if f.Binary {
			*c = 1
		} else if *c < math.MaxUint16 {
			*c++
		}
	}
	switch f.Mode {
	case ByTimeWindow:
		Wt, S := f.Window, f.Window-f.Overlap
		if S == Wt {
			// No overlap: an event is in frame ⌊u/S⌋ alone, worked out when the events enter a frame.
			lo, hi, k := int64(1), int64(0), int64(0) // the frame [lo, hi) of the last event: none yet
			for i := i0; i < i1; i++ {
				if t := b.T[i]; t < lo || t >= hi {
					k = (t - t0) / S
					lo = t0 + k*S
					hi = lo + S
				}
				add(int(k), i)
			}
			break
		}
		for i := i0; i < i1; i++ {
			u := b.T[i] - t0
			// frames k with k·S ≤ u < k·S + W_t
			kLo := int64(0)
			if u-Wt+1 > 0 {
				kLo = ceilDiv(u-Wt+1, S)
			}
			for k := u / S; k >= kLo; k-- {
				add(int(k), i)
			}
		}
	case ByEventCount:
		Ne, S := int64(f.Count), int64(f.Count)-f.Overlap
		for i := i0; i < i1; i++ {
			j := int64(i - i0)
			kLo := int64(0)
			if j-Ne+1 > 0 {
				kLo = ceilDiv(j-Ne+1, S)
			}
			for k := j / S; k >= kLo; k-- {
				add(int(k), i)
			}
		}
	case ByTimeBins:
		if D <= 0 {
			break
		}
		if f.OverlapFrac == 0 {
			// Every event lies in exactly one bin: evtool's one time binning (timebins.go).
			c := BinCounter{TimeBins: TimeBins{Start: t0, End: t1, Bins: f.Bins}, Width: W, Height: H, Polarities: P,
				Binary: f.Binary, ClampPolarity: true}
			in := b.Slice(i0, i1)
			c.Count(&in, out.U16)
			break
		}
		// Overlapping bins: the last bin whose start ⌊k·D/B⌋ ≤ u, then the earlier bins whose stretched end
		// still covers u.
		B := int64(f.Bins)
		for i := i0; i < i1; i++ {
			u := b.T[i] - t0
			for k := ((u+1)*B+D-1)/D - 1; k >= 0; k-- {
				end := int64(math.Floor((float64(k) + 1 + f.OverlapFrac) * float64(D) / float64(B)))
				if u >= min(end, D) {
					break
				}
				add(int(k), i)
			}
		}
	case ByEventBins:
		B, N := int64(f.Bins), int64(i1-i0)
		if N == 0 {
			break
		}
		for k := int64(0); k < B; k++ {
			lo := k * N / B
			hi := (k + 1) * N / B
			if f.OverlapFrac > 0 {
				hi = int64(math.Floor((float64(k) + 1 + f.OverlapFrac) * float64(N) / float64(B)))
			}
			hi = min(hi, N)
			for j := lo; j < hi; j++ {
				add(int(k), i0+int(j))
			}
		}
	}
	return nil
}

var frameCompats = map[string]FrameCompat{"none": CompatNone, "tonic": CompatTonic, "spikingjelly": CompatSpikingJelly}

func init() {
	register(&Def{Name: "frames", Help: "event counts per frame, shape (K, P, H, W): exactly one of window, count, bins, event-bins; frames tile [start, end) with end = last event + 1 by default, so no event is dropped",
		Params: []Param{
			{Name: "window", Kind: Duration, Unit: "µs", Help: "frames by time window W_t"},
			{Name: "count", Kind: Int, Unit: "events", Help: "frames by event count N_e"},
			{Name: "bins", Kind: Int, Help: "B frames by time: bin k covers [t0 + ⌊k·D/B⌋, t0 + ⌊(k+1+overlap)·D/B⌋)"},
			{Name: "event-bins", Kind: Int, Help: "B frames by event index: bin k holds events [⌊k·N/B⌋, ⌊(k+1+overlap)·N/B⌋)"},
			{Name: "overlap", Kind: Amount, Default: "0", Help: "window: a duration (us, ms, s; a bare number is µs); count: events; bins and event-bins: a fraction in [0, 1)"},
			{Name: "include-incomplete", Kind: Bool, Default: "false", Help: "window/count: keep a last partial frame"},
			{Name: "start", Kind: Duration, Unit: "µs", Help: "span start t0 (default: the first event)"},
			{Name: "end", Kind: Duration, Unit: "µs", Help: "span end t1, exclusive (default: the last event + 1)"},
			{Name: "binary", Kind: Bool, Default: "false", Help: "clamp counts to 1"},
			{Name: "compat", Kind: Choice, Default: "none", Choices: []string{"none", "tonic", "spikingjelly"}, Help: "tonic: slice exactly as tonic's ToFrame (its dropped last event, non-tiling bins and remainders included); spikingjelly: as its frame integration (bins = split_by time, event-bins = number, window = duration; last frame takes the rest)"},
		},
		Rep: func(v Values) (Representation, error) {
			f := &Frames{IncludeIncomplete: v.Bool("include-incomplete"), Binary: v.Bool("binary"),
				Start: v.Int("start"), HasStart: v.Set("start"), End: v.Int("end"), HasEnd: v.Set("end"),
				Compat: frameCompats[v.String("compat")]}
			modes := 0
			ov := v.Float("overlap")
			if v.Set("window") {
				modes++
				f.Mode, f.Window, f.Overlap = ByTimeWindow, v.Int("window"), int64(ov)
				if f.Window <= 0 || ov < 0 || float64(int64(ov)) != ov || f.Overlap >= f.Window {
					return nil, fmt.Errorf("want window > 0 and a whole number of µs 0 ≤ overlap < window")
				}
			}
			if v.Timed("overlap") && !v.Set("window") {
				return nil, fmt.Errorf("overlap=%gus is a duration, which only frames by window take (count: events; bins and event-bins: a fraction)", ov)
			}
			if v.Set("count") {
				modes++
				f.Mode, f.Count, f.Overlap = ByEventCount, int(v.Int("count")), int64(ov)
				if f.Count <= 0 || ov < 0 || float64(int64(ov)) != ov || f.Overlap >= int64(f.Count) {
					return nil, fmt.Errorf("want count > 0 and a whole number of events 0 ≤ overlap < count")
				}
			}
			for _, m := range []struct {
				name string
				mode FrameMode
			}{{"bins", ByTimeBins}, {"event-bins", ByEventBins}} {
				if v.Set(m.name) {
					modes++
					f.Mode, f.Bins, f.OverlapFrac = m.mode, int(v.Int(m.name)), ov
					if f.Bins < 1 || ov < 0 || ov >= 1 {
						return nil, fmt.Errorf("want %s ≥ 1 and 0 ≤ overlap < 1", m.name)
					}
				}
			}
			if modes != 1 {
				return nil, fmt.Errorf("give exactly one of window, count, bins, event-bins")
			}
			if f.HasStart && f.HasEnd && f.End <= f.Start {
				return nil, fmt.Errorf("end must be after start")
			}
			if f.Compat == CompatSpikingJelly && (f.Mode == ByEventCount || ov != 0 || f.IncludeIncomplete || f.HasStart || f.HasEnd) {
				return nil, fmt.Errorf("compat=spikingjelly has bins, event-bins and window only, without overlap, include-incomplete, start or end")
			}
			return f, nil
		}})
}
