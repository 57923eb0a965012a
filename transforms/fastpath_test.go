package transforms

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/evtool/evtool/events"
)

// The filters tuned for speed (branch-free iaf, the shared decay table of fastdecay, hotpixel's windows
// decided in place) are checked against plain implementations of their definitions, written here event by
// event over the whole sample, on random data of several sensor sizes and parameters.

func refIAF(b *events.Batch, w, h, ow, oh int, theta float64, zero bool) *events.Batch {
	v := make([]float64, ow*oh)
	out := events.NewBatch(0)
	for i, t := range b.T {
		x, y := int(b.X[i]), int(b.Y[i])
		if x >= w || y >= h {
			continue
		}
		xo, yo := x*ow/w, y*oh/h
		k := yo*ow + xo
		if b.P[i] != 0 {
			v[k]++
		} else {
			v[k]--
		}
		switch {
		case v[k] >= theta:
			out.Append(t, uint16(xo), uint16(yo), 1)
			v[k] -= theta
		case v[k] <= -theta:
			out.Append(t, uint16(xo), uint16(yo), 0)
			v[k] += theta
		default:
			continue
		}
		if zero {
			v[k] = 0
		}
	}
	return out
}

func refFastDecay(b *events.Batch, w, h, sub int, halfLife, threshold float64) *events.Batch {
	cw := w/sub + 1
	v := make([]float64, (h/sub+1)*cw)
	last := make([]int64, len(v))
	out := events.NewBatch(0)
	for i, t := range b.T {
		if i == 0 {
			fill(last, t)
		}
		x, y := int(b.X[i]), int(b.Y[i])
		if x >= w || y >= h {
			continue
		}
		c := y/sub*cw + x/sub
		v[c] = v[c]*math.Exp2(-float64(t-last[c])/halfLife) + 1
		last[c] = t
		if v[c] > threshold {
			out.Append(t, b.X[i], b.Y[i], b.P[i])
		}
	}
	return out
}

func refHotRelative(b *events.Batch, w, h int, r float64, window int64) *events.Batch {
	out := events.NewBatch(0)
	count := func(x, y int, win []int) int {
		if x < 0 || y < 0 || x >= w || y >= h {
			return 0
		}
		n := 0
		for _, i := range win {
			if int(b.X[i]) == x && int(b.Y[i]) == y {
				n++
			}
		}
		return n
	}
	for i := 0; i < b.Len(); {
		// The window [t0 + kD, t0 + (k+1)D) of event i.
		k := (b.T[i] - b.T[0]) / window
		var win []int
		for ; i < b.Len() && (b.T[i]-b.T[0])/window == k; i++ {
			win = append(win, i)
		}
		for _, e := range win {
			x, y := int(b.X[e]), int(b.Y[e])
			if x >= w || y >= h {
				continue
			}
			nb := 1 + max(count(x-1, y, win), count(x+1, y, win), count(x, y-1, win), count(x, y+1, win))
			if float64(1+count(x, y, win)) < r*float64(nb) {
				out.Append(b.T[e], b.X[e], b.Y[e], b.P[e])
			}
		}
	}
	return out
}

// sample makes n events on a w×h sensor, gap µs apart on average, a few of them off the sensor.
func sample(seed uint64, n, w, h int, gap int64) *events.Batch {
	rng := rand.New(rand.NewPCG(seed, 77))
	b := events.NewBatch(n)
	t := rng.Int64N(1000)
	for range n {
		t += rng.Int64N(2*gap + 1)
		x, y := uint16(rng.IntN(w)), uint16(rng.IntN(h))
		if rng.IntN(100) == 0 {
			x = uint16(w + rng.IntN(3))
		}
		b.Append(t, x, y, uint8(rng.IntN(2)))
	}
	return b
}

// stream runs spec over b in batches of at most split events.
func stream(t *testing.T, spec string, in Shape, b *events.Batch, split int) *events.Batch {
	t.Helper()
	out, err := runSplit(spec, in, b, split)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runSplit(spec string, in Shape, b *events.Batch, split int) (*events.Batch, error) {
	c, err := Parse(spec)
	if err != nil {
		return nil, err
	}
	st, err := c.NewStream(in, 0, "")
	if err != nil {
		return nil, err
	}
	out := events.NewBatch(0)
	for off := 0; off < b.Len(); off += split {
		part := b.Slice(off, min(b.Len(), off+split))
		if err := st.Process(&part, out); err != nil {
			return nil, err
		}
	}
	return out, st.Flush(out)
}

func TestFastPathsMatchDefinitions(t *testing.T) {
	for trial, s := range []struct{ w, h, ow, oh int }{{34, 34, 17, 17}, {7, 5, 3, 2}, {40, 9, 40, 9}, {64, 48, 1, 1}} {
		in := Shape{Geometry: events.Geometry{Width: s.w, Height: s.h}, Polarities: 2}
		b := sample(uint64(trial), 20000, s.w, s.h, 40)
		for _, theta := range []float64{1, 2, 2.5, 7} {
			for _, zero := range []bool{false, true} {
				spec := fmt.Sprintf("downsample(to=%dx%d, mode=iaf, threshold=%g, reset=%s)", s.ow, s.oh, theta, map[bool]string{false: "subtract", true: "zero"}[zero])
				if d := stream(t, spec, in, b, 999).FirstDifference(refIAF(b, s.w, s.h, s.ow, s.oh, theta, zero)); d >= 0 {
					t.Fatalf("%s on %dx%d: differs from the definition at event %d", spec, s.w, s.h, d)
				}
			}
		}
		for _, p := range []struct {
			sub             int
			half, threshold float64
		}{{4, 10000, 6}, {1, 300, 1.5}, {3, 1e6, 20}, {5, 20, 1.01}} {
			spec := fmt.Sprintf("denoise(mode=fastdecay, subdivision=%d, half-life=%gus, threshold=%g)", p.sub, p.half, p.threshold)
			if d := stream(t, spec, in, b, 777).FirstDifference(refFastDecay(b, s.w, s.h, p.sub, p.half, p.threshold)); d >= 0 {
				t.Fatalf("%s on %dx%d: differs from the definition at event %d", spec, s.w, s.h, d)
			}
		}
		for _, p := range []struct {
			r      float64
			window int64
		}{{2, 10000}, {1.5, 300}, {1, 50}, {3.5, 100000}} {
			spec := fmt.Sprintf("hotpixel(relative=%g, window=%dus)", p.r, p.window)
			small := b.Slice(0, 4000) // the reference is quadratic per window
			if d := stream(t, spec, in, &small, 333).FirstDifference(refHotRelative(&small, s.w, s.h, p.r, p.window)); d >= 0 {
				t.Fatalf("%s on %dx%d: differs from the definition at event %d", spec, s.w, s.h, d)
			}
		}
	}
}

// Streams of one half-life share fastdecay's decay table, filling it as they go: concurrent streams still
// give exactly the definition's result.
func TestFastDecaySharedTable(t *testing.T) {
	b := sample(9, 30000, 34, 34, 60)
	const spec = "denoise(mode=fastdecay, half-life=7777us, threshold=3)"
	want := refFastDecay(b, 34, 34, 4, 7777, 3)
	var wg sync.WaitGroup
	diffs, errs := make([]int, 8), make([]error, 8)
	for g := range diffs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got *events.Batch
			if got, errs[g] = runSplit(spec, g34, b, 100+g*1000); errs[g] == nil {
				diffs[g] = got.FirstDifference(want)
			}
		}()
	}
	wg.Wait()
	for g, d := range diffs {
		if errs[g] != nil || d >= 0 {
			t.Fatalf("stream %d: %v, differs at event %d", g, errs[g], d)
		}
	}
}
