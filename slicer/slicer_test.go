package slicer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/fixtures"
)

// got is a slice as a test sees it: bounds, label and event times.
type got struct {
	start, end int64
	first      int64
	label      int32
	t          []int64
}

func (g got) String() string {
	return fmt.Sprintf("[%d,%d)#%d l%d %v", g.start, g.end, g.first, g.label, g.t)
}

// run slices b fed in batches of the given sizes (the rest in one batch).
func run(t *testing.T, s Spec, b *events.Batch, sizes ...int) []got {
	t.Helper()
	sl, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	var out []got
	emit := func(x Slice, ev *events.Batch) error {
		if x.Index != len(out) {
			t.Fatalf("slice index %d, want %d", x.Index, len(out))
		}
		out = append(out, got{x.Start, x.End, x.First, x.Label, append([]int64{}, ev.T...)})
		return nil
	}
	i := 0
	for _, n := range append(sizes, b.Len()) {
		n = min(n, b.Len()-i)
		v := b.Slice(i, i+n)
		if err := sl.Add(&v, emit); err != nil {
			t.Fatal(err)
		}
		i += n
	}
	if err := sl.Finish(emit); err != nil {
		t.Fatal(err)
	}
	return out
}

func times(ts ...int64) *events.Batch {
	b := events.NewBatch(0)
	for _, t := range ts {
		b.Append(t, uint16(t%7), uint16(t%5), uint8(t%2))
	}
	return b
}

func check(t *testing.T, name string, have []got, want string) {
	t.Helper()
	var parts []string
	for _, g := range have {
		parts = append(parts, g.String())
	}
	if s := strings.Join(parts, " "); s != want {
		t.Fatalf("%s:\n got %s\nwant %s", name, s, want)
	}
}

func TestTimeWindows(t *testing.T) {
	b := times(0, 5, 10, 19, 20, 25) // span [0, 26): D = 26
	// An event exactly on a window edge (10, 20) belongs to the window it opens.
	check(t, "W=10", run(t, Spec{Window: 10}, b), "[0,10)#0 l-1 [0 5] [10,20)#2 l-1 [10 19]")
	check(t, "W=10 incomplete", run(t, Spec{Window: 10, IncludeIncomplete: true}, b),
		"[0,10)#0 l-1 [0 5] [10,20)#2 l-1 [10 19] [20,26)#4 l-1 [20 25]")
	check(t, "W=10 O=5", run(t, Spec{Window: 10, Overlap: 5}, b),
		"[0,10)#0 l-1 [0 5] [5,15)#1 l-1 [5 10] [10,20)#2 l-1 [10 19] [15,25)#3 l-1 [19 20]")
	check(t, "W=10 O=5 incomplete", run(t, Spec{Window: 10, Overlap: 5, IncludeIncomplete: true}, b),
		"[0,10)#0 l-1 [0 5] [5,15)#1 l-1 [5 10] [10,20)#2 l-1 [10 19] [15,25)#3 l-1 [19 20] [20,26)#4 l-1 [20 25]")
	// An explicit span: windows tile [start, end), empty ones included; events outside are left out.
	check(t, "start/end", run(t, Spec{Window: 10, Start: 5, HasStart: true, End: 35, HasEnd: true}, b),
		"[5,15)#1 l-1 [5 10] [15,25)#3 l-1 [19 20] [25,35)#5 l-1 [25]")
	check(t, "empty with span", run(t, Spec{Window: 10, Start: 0, HasStart: true, End: 30, HasEnd: true}, times()),
		"[0,10)#0 l-1 [] [10,20)#0 l-1 [] [20,30)#0 l-1 []")
	check(t, "empty", run(t, Spec{Window: 10, IncludeIncomplete: true}, times()), "")
	check(t, "single event", run(t, Spec{Window: 10, IncludeIncomplete: true}, times(7)), "[7,8)#0 l-1 [7]")
	check(t, "single event, whole windows", run(t, Spec{Window: 10}, times(7)), "")
	// Rebase: each slice's times start from its own start.
	check(t, "rebase", run(t, Spec{Window: 10, Overlap: 5, Rebase: true}, times(0, 5, 10, 19, 20, 25)),
		"[0,10)#0 l-1 [0 5] [5,15)#1 l-1 [0 5] [10,20)#2 l-1 [0 9] [15,25)#3 l-1 [4 5]")
}

func TestCountWindows(t *testing.T) {
	b := times(0, 1, 2, 3, 4, 5)
	check(t, "N=2", run(t, Spec{Count: 2}, b), "[0,2)#0 l-1 [0 1] [2,4)#2 l-1 [2 3] [4,6)#4 l-1 [4 5]")
	check(t, "N=4", run(t, Spec{Count: 4}, b), "[0,4)#0 l-1 [0 1 2 3]")
	check(t, "N=4 incomplete", run(t, Spec{Count: 4, IncludeIncomplete: true}, b), "[0,4)#0 l-1 [0 1 2 3] [4,6)#4 l-1 [4 5]")
	check(t, "N=3 O=1", run(t, Spec{Count: 3, CountOverlap: 1}, b), "[0,3)#0 l-1 [0 1 2] [2,5)#2 l-1 [2 3 4]")
	check(t, "N=3 O=1 incomplete", run(t, Spec{Count: 3, CountOverlap: 1, IncludeIncomplete: true}, b),
		"[0,3)#0 l-1 [0 1 2] [2,5)#2 l-1 [2 3 4] [4,6)#4 l-1 [4 5]")
	check(t, "N=10 incomplete", run(t, Spec{Count: 10, IncludeIncomplete: true}, b), "[0,6)#0 l-1 [0 1 2 3 4 5]")
	check(t, "empty", run(t, Spec{Count: 10, IncludeIncomplete: true}, times()), "")
}

func TestIntervals(t *testing.T) {
	b := times(0, 5, 10, 19, 20, 25)
	ivs := []Interval{{Start: 3, End: 11, Label: 2}, {Start: 5, End: 6, Label: 0}, {Start: 19, End: 40, Label: 1}}
	check(t, "intervals", run(t, Spec{Intervals: ivs}, b),
		"[3,11)#1 l2 [5 10] [5,6)#1 l0 [5] [19,40)#3 l1 [19 20 25]")
}

// Streaming: any split into batches gives the slices of the whole recording.
func TestStreamingEqualsWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	b := events.NewBatch(0)
	var tm int64
	for i := 0; i < 3000; i++ {
		tm += int64(rng.IntN(40))
		b.Append(tm, uint16(rng.IntN(30)), uint16(rng.IntN(20)), uint8(rng.IntN(2)))
	}
	specs := []Spec{
		{Window: 1000}, {Window: 1000, Overlap: 300, IncludeIncomplete: true}, {Count: 128, CountOverlap: 17},
		{Count: 100, IncludeIncomplete: true}, {Window: 777, Start: 500, HasStart: true, End: 40000, HasEnd: true, Rebase: true},
		{Intervals: []Interval{{Start: 0, End: 5000, Label: 1}, {Start: 2000, End: 2100, Label: 2}, {Start: 30000, End: 90000, Label: 3}}},
	}
	for si, s := range specs {
		whole := run(t, s, b)
		if len(whole) == 0 {
			t.Fatalf("spec %d made no slices", si)
		}
		for trial := 0; trial < 20; trial++ {
			var sizes []int
			for n := 0; n < b.Len(); {
				k := 1 + rng.IntN(400)
				sizes = append(sizes, k)
				n += k
			}
			split := run(t, s, b, sizes...)
			if fmt.Sprint(split) != fmt.Sprint(whole) {
				t.Fatalf("spec %d, split %v: slices differ from the whole recording's", si, sizes[:min(5, len(sizes))])
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	for _, s := range []Spec{{}, {Window: 10, Count: 5}, {Window: 10, Overlap: 10}, {Count: 3, CountOverlap: -1},
		{Intervals: []Interval{{Start: 5, End: 6}, {Start: 1, End: 2}}}, {Intervals: []Interval{{Start: 5, End: 5}}}} {
		if _, err := New(s); err == nil {
			t.Errorf("spec %+v accepted", s)
		}
	}
	sl, _ := New(Spec{Window: 10})
	emit := func(Slice, *events.Batch) error { return nil }
	if err := sl.Add(times(5, 9), emit); err != nil {
		t.Fatal(err)
	}
	if err := sl.Add(times(3), emit); err == nil || !strings.Contains(err.Error(), "back in time") {
		t.Fatalf("out-of-order batch: %v", err)
	}
}

// DVSGesture's label files read as labelled intervals (fixture figures from EXPECTED.md).
func TestReadDVSGestureLabels(t *testing.T) {
	ivs, err := ReadIntervals(fixtures.Path(t, "dvsgesture/user01_natural_labels.csv"), true)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, iv := range ivs {
		labels = append(labels, fmt.Sprint(iv.Label))
	}
	if len(ivs) != 12 || strings.Join(labels, ",") != "1,2,3,5,4,6,7,8,8,9,10,11" ||
		ivs[0] != (Interval{53036986, 59508469, 1}) || ivs[11] != (Interval{171367247, 177991967, 11}) {
		t.Fatalf("%d intervals, labels %s, first %+v, last %+v", len(ivs), strings.Join(labels, ","), ivs[0], ivs[len(ivs)-1])
	}
}

// sliceBoxes slices b with boxes, feeding each batch's boxes before it as an events.BoxReader hands them
// out (those up to the batch's last event; the rest at the end), and returns each slice's box times.
func sliceBoxes(t *testing.T, s Spec, b *events.Batch, boxes []events.Box, size int) []string {
	t.Helper()
	sl, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	emit := func(x Slice, ev *events.Batch) error {
		var ts []string
		for _, bx := range x.Boxes {
			ts = append(ts, fmt.Sprintf("%d/%d", bx.T, bx.Track))
		}
		out = append(out, fmt.Sprintf("[%d,%d) %v", x.Start, x.End, ts))
		return nil
	}
	for i := 0; i < b.Len(); i += size {
		v := b.Slice(i, min(i+size, b.Len()))
		n := len(events.BoxesInTime(boxes, -1<<62, v.T[v.Len()-1]+1))
		if err := sl.AddBoxes(boxes[:n]); err != nil {
			t.Fatal(err)
		}
		boxes = boxes[n:]
		if err := sl.Add(&v, emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := sl.AddBoxes(boxes); err != nil {
		t.Fatal(err)
	}
	if err := sl.Finish(emit); err != nil {
		t.Fatal(err)
	}
	return out
}

// Slices carry the boxes of their half-open time span, rebased like the events, whatever the batch sizes.
func TestSliceBoxes(t *testing.T) {
	b := times(0, 10, 20, 30, 40, 50, 60, 70, 80, 90)
	var boxes []events.Box
	for i, bt := range []int64{-5, 0, 9, 10, 10, 35, 59, 60, 95, 200} {
		boxes = append(boxes, events.Box{T: bt, W: 1, H: 1, Track: uint32(i)})
	}
	for _, size := range []int{1, 3, 10} {
		// Windows of 30 µs, stride 20, from the first event; the last one cut at the last event + 1.
		got := sliceBoxes(t, Spec{Window: 30, Overlap: 10, IncludeIncomplete: true}, b, boxes, size)
		want := "[[0,30) [0/1 9/2 10/3 10/4] [20,50) [35/5] [40,70) [59/6 60/7] [60,90) [60/7] [80,91) []]"
		if fmt.Sprint(got) != want {
			t.Fatalf("windows, batches of %d:\n got %v\nwant %s", size, got, want)
		}
		got = sliceBoxes(t, Spec{Window: 30, Rebase: true}, b, boxes, size)
		want = "[[0,30) [0/1 9/2 10/3 10/4] [30,60) [5/5 29/6] [60,90) [0/7]]"
		if fmt.Sprint(got) != want {
			t.Fatalf("rebased windows, batches of %d:\n got %v\nwant %s", size, got, want)
		}
		// Counts of 4 events: [0,31), [40,71); the last two events make no whole slice.
		got = sliceBoxes(t, Spec{Count: 4}, b, boxes, size)
		want = "[[0,31) [0/1 9/2 10/3 10/4] [40,71) [59/6 60/7]]"
		if fmt.Sprint(got) != want {
			t.Fatalf("counts, batches of %d:\n got %v\nwant %s", size, got, want)
		}
		got = sliceBoxes(t, Spec{Intervals: []Interval{{Start: -10, End: 10}, {Start: 5, End: 100}, {Start: 90, End: 300}}}, b, boxes, size)
		want = "[[-10,10) [-5/0 0/1 9/2] [5,100) [9/2 10/3 10/4 35/5 59/6 60/7 95/8] [90,300) [95/8 200/9]]"
		if fmt.Sprint(got) != want {
			t.Fatalf("intervals, batches of %d:\n got %v\nwant %s", size, got, want)
		}
	}
	sl, _ := New(Spec{Count: 2})
	sl.AddBoxes([]events.Box{{T: 5}})
	if err := sl.AddBoxes([]events.Box{{T: 4}}); err == nil {
		t.Fatal("boxes going back in time were accepted")
	}
}

// The events after the last whole window or count are counted (LeftOut), unless the last part is kept.
func TestLeftOut(t *testing.T) {
	b := times(0, 10, 20, 30, 40, 50, 60, 70)
	for _, c := range []struct {
		spec Spec
		want int64
	}{
		{Spec{Window: 30}, 2},                                // [0,30) [30,60): 60 and 70 left out
		{Spec{Window: 30, IncludeIncomplete: true}, 0},       // [60,71) kept
		{Spec{Window: 30, Overlap: 10}, 1},                   // [0,30) [20,50) [40,70): 70 left out
		{Spec{Window: 100}, 8},                               // no whole window
		{Spec{Window: 30, HasEnd: true, End: 65}, 1},         // up to 65 only: 60 left out, 70 outside on purpose
		{Spec{Count: 3}, 2},                                  // 3 + 3, then 2
		{Spec{Count: 3, CountOverlap: 1}, 1},                 // [0,3) [2,5) [4,7): 1 left
		{Spec{Count: 3, IncludeIncomplete: true}, 0},         //
		{Spec{Intervals: []Interval{{Start: 0, End: 5}}}, 0}, // outside intervals: on purpose
	} {
		sl, err := New(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		emit := func(Slice, *events.Batch) error { return nil }
		if err := sl.Add(b, emit); err != nil {
			t.Fatal(err)
		}
		if err := sl.Finish(emit); err != nil {
			t.Fatal(err)
		}
		if got := sl.LeftOut(); got != c.want {
			t.Errorf("%+v: LeftOut = %d; want %d", c.spec, got, c.want)
		}
	}
}

// Times at the ends of int64 neither overflow nor ask for billions of empty windows: the slicer refuses
// more than MaxWindows windows at once.
func TestExtremeTimes(t *testing.T) {
	sl, _ := New(Spec{Window: 100_000})
	err := sl.Add(times(math.MinInt64, 0, math.MaxInt64), func(Slice, *events.Batch) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "windows") {
		t.Fatalf("a span of 2^64 µs in 100 ms windows: %v", err)
	}
	// Counts and intervals do not depend on the span.
	var n int
	sl, _ = New(Spec{Count: 2, IncludeIncomplete: true})
	emit := func(Slice, *events.Batch) error { n++; return nil }
	if err := sl.Add(times(math.MinInt64, 0, math.MaxInt64), emit); err != nil {
		t.Fatal(err)
	}
	if err := sl.Finish(emit); err != nil || n != 2 {
		t.Fatalf("counts: %d slices, %v", n, err)
	}
	// Windows as long as half the range: two, no overflow, the last event left out (it ends the span).
	sl, _ = New(Spec{Window: math.MaxInt64})
	n = 0
	if err := sl.Add(times(math.MinInt64, -5, math.MaxInt64-1), emit); err != nil {
		t.Fatal(err)
	}
	if err := sl.Finish(emit); err != nil || n != 2 || sl.LeftOut() != 1 {
		t.Fatalf("huge windows: %d slices, %d left out, %v", n, sl.LeftOut(), err)
	}
}
