// Package slicer cuts a long recording into samples (docs/transforms-semantics.md#slicing-recordings-into-samples): fixed time windows, fixed event
// counts, or listed intervals (with labels, as DVSGesture's CSV files give them). It streams: events are
// held only from the oldest slice still open, so a recording of any length is cut in bounded memory.
package slicer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
)

// Interval is one listed slice: events with Start <= t < End, and its label (events.NoLabel if none).
type Interval struct {
	Start, End int64
	Label      int32
}

// Spec says how to cut. Exactly one of Window, Count or Intervals is set.
type Spec struct {
	// Window > 0: slices [t0 + k·S, t0 + k·S + Window) with stride S = Window − Overlap (µs);
	// t0 = Start when HasStart, else the first event; windows end before End when HasEnd.
	Window, Overlap int64
	// Count > 0: slices of events [k·S, k·S + Count), S = Count − CountOverlap.
	Count, CountOverlap int
	// IncludeIncomplete keeps a last window (or count) cut short by the end of the recording.
	IncludeIncomplete bool
	Start, End        int64
	HasStart, HasEnd  bool
	// Intervals, sorted by Start (they may overlap).
	Intervals []Interval
	// Rebase subtracts each slice's own start time from its events.
	Rebase bool
}

// Slice is one emitted sample.
type Slice struct {
	Index      int   // 0, 1, …
	Start, End int64 // time bounds (End exclusive); for count slices, the first and last event time + 1
	First      int64 // index of the slice's first event in the recording
	Label      int32
	// Boxes are the recording's boxes with Start ≤ t < End (given with AddBoxes), rebased like the events;
	// valid during the emit call.
	Boxes []events.Box
}

// MaxWindows bounds the time windows one recording is cut into: a gap of years between two timestamps
// (a clock jump, a hostile file) would otherwise ask for billions of empty samples.
const MaxWindows = 1 << 24

// Slicer consumes a recording's batches in time order and emits slices.
type Slicer struct {
	s       Spec
	buf     events.Batch // events from bufFirst on
	bufBase int64        // recording index of buf's first event
	seen    int64        // events consumed
	started bool
	t0      int64
	k       int // next slice
	next    int // next interval
	out     events.Batch
	lastT   int64
	err     error // what emit returned
	// Boxes given with AddBoxes, from the oldest open slice on, and the rebased copy of a slice's.
	boxes    []events.Box
	outBoxes []events.Box
	lastBox  int64
	anyBox   bool
}

// AddBoxes gives the slicer the recording's boxes (labels over time), in time order: each slice carries
// those of its time span. Give them no later than the events at or after their time (as an
// events.BoxReader hands them out): a slice goes out once an event at or after its end has arrived.
func (sl *Slicer) AddBoxes(boxes []events.Box) error {
	if len(boxes) == 0 {
		return nil
	}
	if err := events.CheckBoxes(boxes); err != nil {
		return err
	}
	if sl.anyBox && boxes[0].T < sl.lastBox {
		return fmt.Errorf("box at %d µs goes back in time (after %d µs): slicing needs boxes in time order", boxes[0].T, sl.lastBox)
	}
	sl.anyBox, sl.lastBox = true, boxes[len(boxes)-1].T
	sl.boxes = append(sl.boxes, boxes...)
	return nil
}

// New checks the spec and returns a slicer.
func New(s Spec) (*Slicer, error) {
	modes := 0
	if s.Window > 0 {
		modes++
		if s.Overlap < 0 || s.Overlap >= s.Window {
			return nil, fmt.Errorf("slice overlap %d µs: want 0 ≤ overlap < window (%d µs)", s.Overlap, s.Window)
		}
	}
	if s.Count > 0 {
		modes++
		if s.CountOverlap < 0 || s.CountOverlap >= s.Count {
			return nil, fmt.Errorf("slice overlap %d events: want 0 ≤ overlap < count (%d)", s.CountOverlap, s.Count)
		}
	}
	if len(s.Intervals) > 0 {
		modes++
		if !sort.SliceIsSorted(s.Intervals, func(i, j int) bool { return s.Intervals[i].Start < s.Intervals[j].Start }) {
			return nil, errors.New("slice intervals must be sorted by start time")
		}
		for i, iv := range s.Intervals {
			if iv.End <= iv.Start {
				return nil, fmt.Errorf("slice interval %d: end %d µs is not after start %d µs", i+1, iv.End, iv.Start)
			}
		}
	}
	if modes != 1 {
		return nil, errors.New("slice by exactly one of: a time window, an event count, or a list of intervals")
	}
	if s.HasStart && s.HasEnd && s.End <= s.Start {
		return nil, errors.New("slice end must be after its start")
	}
	sl := &Slicer{s: s}
	if s.HasStart {
		sl.t0, sl.started = s.Start, true
	}
	return sl, nil
}

// Emit receives a slice and its events (valid during the call).
type Emit func(sl Slice, ev *events.Batch) error

// Add consumes a batch, emitting every slice it completes.
func (sl *Slicer) Add(b *events.Batch, emit Emit) error {
	if b.Len() == 0 {
		return nil
	}
	if sl.seen > 0 && b.T[0] < sl.lastT {
		return fmt.Errorf("event %d goes back in time (%d µs after %d µs): slicing needs time order", sl.seen, b.T[0], sl.lastT)
	}
	if i := b.CheckMonotonic(); i >= 0 {
		return fmt.Errorf("event %d goes back in time (%d µs after %d µs): slicing needs time order", sl.seen+int64(i), b.T[i], b.T[i-1])
	}
	if !sl.started {
		sl.t0, sl.started = b.T[0], true
	}
	sl.buf.AppendBatch(b)
	sl.seen += int64(b.Len())
	sl.lastT = b.T[b.Len()-1]
	if W := sl.s.Window; W > 0 {
		if n := events.Span(sl.t0, sl.lastT) / uint64(W-sl.s.Overlap); n >= MaxWindows {
			return fmt.Errorf("event %d at %d µs lies %d windows of %d µs after the first window's start (%d µs): more than %d windows; "+
				"check the timestamps, or slice a part of the recording (a start and an end)", sl.seen-1, sl.lastT, n, W, sl.t0, MaxWindows)
		}
	}
	return sl.emitReady(emit, false)
}

// Finish emits what the end of the recording completes (a last partial window with IncludeIncomplete,
// listed intervals that reach past the last event).
func (sl *Slicer) Finish(emit Emit) error {
	return sl.emitReady(emit, true)
}

func (sl *Slicer) emitReady(emit Emit, final bool) error {
	switch {
	case sl.s.Window > 0:
		return sl.windows(emit, final)
	case sl.s.Count > 0:
		return sl.counts(emit, final)
	}
	return sl.intervals(emit, final)
}

// endTime is the exclusive end of the recording's span: End, or the last event + 1.
func (sl *Slicer) endTime() int64 {
	if sl.s.HasEnd {
		return sl.s.End
	}
	return events.AddTime(sl.lastT, 1)
}

// windowStart is where window k starts (saturated at the end of time).
func (sl *Slicer) windowStart(k int64) int64 {
	hi, off := bits.Mul64(uint64(k), uint64(sl.s.Window-sl.s.Overlap))
	if hi != 0 || off > events.Span(sl.t0, math.MaxInt64) {
		return math.MaxInt64
	}
	return int64(uint64(sl.t0) + off)
}

// windowCount is K, the number of windows of the span from t0 to t1.
func (sl *Slicer) windowCount(t1 int64) int64 {
	return spanCount(events.Span(sl.t0, t1), sl.s.Window, sl.s.Window-sl.s.Overlap, sl.s.IncludeIncomplete)
}

// windows emits time windows. While streaming, a window goes out once an event at or after its end has
// arrived; at the end, the count K of docs/transforms-semantics.md#a-by-time-window decides which remain, clipped at t1.
func (sl *Slicer) windows(emit Emit, final bool) error {
	if !sl.started {
		return nil
	}
	W := sl.s.Window
	K := int64(-1) // unknown until the span's end is
	t1 := sl.endTime()
	if final || sl.s.HasEnd {
		K = sl.windowCount(t1)
	}
	for {
		k := int64(sl.k)
		if K >= 0 && k >= K {
			return nil
		}
		start := sl.windowStart(k)
		end := events.AddTime(start, W)
		if !final && (sl.seen == 0 || sl.lastT < end) {
			return nil
		}
		if K >= 0 {
			end = min(end, t1)
		}
		if err := sl.emitTime(emit, start, end, events.NoLabel); err != nil {
			return err
		}
		sl.k++
		sl.drop(sl.windowStart(int64(sl.k)))
	}
}

// Seen is the number of events given to Add.
func (sl *Slicer) Seen() int64 { return sl.seen }

// LeftOut is, after Finish, the number of events no slice took because they lie after the last whole
// window or count (IncludeIncomplete keeps that last part as a slice of its own): events before a given
// start, after a given end or outside listed intervals were left out on purpose and are not counted.
func (sl *Slicer) LeftOut() int64 {
	if sl.s.IncludeIncomplete || !sl.started || sl.seen == 0 {
		return 0
	}
	switch {
	case sl.s.Count > 0:
		N, S := int64(sl.s.Count), int64(sl.s.Count-sl.s.CountOverlap)
		K := spanCount(uint64(sl.seen), N, S, false)
		if K == 0 {
			return sl.seen
		}
		return sl.seen - ((K-1)*S + N)
	case sl.s.Window > 0:
		t1 := sl.endTime()
		K := sl.windowCount(t1)
		lastEnd := sl.t0
		if K > 0 {
			lastEnd = events.AddTime(sl.windowStart(K-1), sl.s.Window)
		}
		v := sl.buf.TimeSlice(lastEnd, t1)
		n := int64(v.Len())
		if !sl.s.HasEnd && t1 == math.MaxInt64 && sl.lastT == math.MaxInt64 {
			n += int64(sl.buf.Len() - sl.buf.SearchTime(math.MaxInt64)) // at the very end of time: no t1 lies past it
		}
		return n
	}
	return 0
}

// spanCount is K of frames (a) and (b) in docs/transforms-semantics.md#frames for a span (or event count)
// D, window W and stride S (a span may reach 2^64 − 1 µs: the whole int64 range).
func spanCount(D uint64, W, S int64, incomplete bool) int64 {
	w, s := uint64(W), uint64(S)
	switch {
	case D == 0:
		return 0
	case incomplete:
		return int64((max(D, w)-w+s-1)/s + 1)
	case D >= w:
		return int64((D-w)/s + 1)
	}
	return 0
}

// counts emits windows of Count events; the last, cut short, only with IncludeIncomplete.
func (sl *Slicer) counts(emit Emit, final bool) error {
	N, S := int64(sl.s.Count), int64(sl.s.Count-sl.s.CountOverlap)
	K := int64(-1)
	if final {
		K = spanCount(uint64(sl.seen), N, S, sl.s.IncludeIncomplete)
	}
	for {
		k := int64(sl.k)
		if K >= 0 && k >= K {
			return nil
		}
		first, last := k*S, k*S+N
		if !final && sl.seen < last {
			return nil
		}
		last = min(last, sl.seen)
		v := sl.buf.Slice(int(first-sl.bufBase), int(last-sl.bufBase))
		sl.emitEvents(emit, Slice{Index: sl.k, Start: v.T[0], End: v.T[v.Len()-1] + 1, First: first, Label: events.NoLabel}, &v)
		if err := sl.err; err != nil {
			return err
		}
		sl.k++
		sl.dropIndex(int64(sl.k) * S)
		if sl.buf.Len() > 0 {
			sl.dropBoxes(sl.buf.T[0])
		}
	}
}

func (sl *Slicer) intervals(emit Emit, final bool) error {
	for sl.next < len(sl.s.Intervals) {
		iv := sl.s.Intervals[sl.next]
		if !final && (sl.seen == 0 || sl.lastT < iv.End) {
			return nil
		}
		if err := sl.emitTime(emit, iv.Start, iv.End, iv.Label); err != nil {
			return err
		}
		sl.next++
		sl.k++
		if sl.next < len(sl.s.Intervals) {
			sl.drop(sl.s.Intervals[sl.next].Start)
		}
	}
	return nil
}

// emitTime emits the buffered events of [start, end).
func (sl *Slicer) emitTime(emit Emit, start, end int64, label int32) error {
	v := sl.buf.TimeSlice(start, end)
	first := sl.bufBase + int64(sl.buf.SearchTime(start))
	sl.emitEvents(emit, Slice{Index: sl.k, Start: start, End: end, First: first, Label: label}, &v)
	return sl.err
}

func (sl *Slicer) emitEvents(emit Emit, s Slice, v *events.Batch) {
	sl.err = nil
	ev := v
	s.Boxes = events.BoxesInTime(sl.boxes, s.Start, s.End)
	if sl.s.Rebase {
		sl.out.Reset()
		sl.out.AppendBatch(v)
		for i := range sl.out.T {
			sl.out.T[i] -= s.Start
		}
		ev = &sl.out
		sl.outBoxes = append(sl.outBoxes[:0], s.Boxes...)
		for i := range sl.outBoxes {
			sl.outBoxes[i].T -= s.Start
		}
		s.Boxes = sl.outBoxes
	}
	if err := emit(s, ev); err != nil {
		sl.err = err
	}
}

// drop forgets the buffered events and boxes before t.
func (sl *Slicer) drop(t int64) {
	sl.dropIndex(sl.bufBase + int64(sl.buf.SearchTime(t)))
	sl.dropBoxes(t)
}

// dropBoxes forgets the boxes before t.
func (sl *Slicer) dropBoxes(t int64) {
	n := len(events.BoxesInTime(sl.boxes, math.MinInt64, t))
	if n == 0 {
		return
	}
	sl.boxes = append(sl.boxes[:0], sl.boxes[n:]...)
}

// dropIndex forgets the buffered events before recording index i (compacting when half the buffer is dead).
func (sl *Slicer) dropIndex(i int64) {
	n := int(min(max(i-sl.bufBase, 0), int64(sl.buf.Len())))
	if n == 0 {
		return
	}
	rest := sl.buf.Slice(n, sl.buf.Len())
	var keep events.Batch
	keep.T, keep.X, keep.Y, keep.P = sl.buf.T[:0], sl.buf.X[:0], sl.buf.Y[:0], sl.buf.P[:0]
	// copy within the same arrays: rest lies after the destination, so forward copy is safe
	keep.T = append(keep.T, rest.T...)
	keep.X = append(keep.X, rest.X...)
	keep.Y = append(keep.Y, rest.Y...)
	keep.P = append(keep.P, rest.P...)
	sl.buf = keep
	sl.bufBase += int64(n)
}

// ReadIntervals reads a CSV of intervals: rows "start,end" (µs), or "label,start,end" when labelled is
// true (DVSGesture's class,startTime_usec,endTime_usec). A first line that is not numeric is a header.
// Rows are sorted by start.
func ReadIntervals(path string, labelled bool) ([]Interval, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var out []Interval
	want := 2
	if labelled {
		want = 3
	}
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) < want {
			return nil, fmt.Errorf("%s line %d: want %d columns (%s), got %d", path, line, want, columnsText(labelled), len(rec))
		}
		nums := make([]int64, want)
		bad := false
		for i := 0; i < want; i++ {
			v, err := strconv.ParseInt(strings.TrimSpace(rec[i]), 10, 64)
			if err != nil {
				bad = true
				break
			}
			nums[i] = v
		}
		if bad {
			if line == 1 {
				continue // header
			}
			return nil, fmt.Errorf("%s line %d: want integers (%s), got %q", path, line, columnsText(labelled), strings.Join(rec, ","))
		}
		iv := Interval{Label: events.NoLabel}
		if labelled {
			if nums[0] < 0 || nums[0] > 1<<30 {
				return nil, fmt.Errorf("%s line %d: label %d out of range", path, line, nums[0])
			}
			iv.Label, nums = int32(nums[0]), nums[1:]
		}
		iv.Start, iv.End = nums[0], nums[1]
		if iv.End <= iv.Start {
			return nil, fmt.Errorf("%s line %d: end %d µs is not after start %d µs", path, line, iv.End, iv.Start)
		}
		out = append(out, iv)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no intervals", path)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out, nil
}

func columnsText(labelled bool) string {
	if labelled {
		return "label,start_us,end_us"
	}
	return "start_us,end_us"
}
