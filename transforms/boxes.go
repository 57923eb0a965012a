package transforms

import (
	"math"

	"github.com/evtool/evtool/events"
)

// Boxes (labels over time) go through a chain beside the events: the stages that move the picture or the
// clock map them as they map the events — crops shift, clip or drop them, flips and transposes mirror and
// swap them, downsampling scales them, time operations shift, scale, crop or reverse their times (the
// rules are in docs/transforms-semantics.md). Every other stage (noise filters, drops, polarity, masks,
// jitter) leaves them as they are: a box labels an object, not the events that survive.

// boxMapper is implemented by the stages that move boxes. mapBoxes maps boxes in place with this sample's
// state (the crop drawn at Reset, the first event time seen) and returns those kept.
type boxMapper interface {
	mapBoxes(boxes []events.Box) []events.Box
}

// keepBoxes applies f to every box in place and keeps those it returns true for.
func keepBoxes(boxes []events.Box, f func(b *events.Box) bool) []events.Box {
	kept := boxes[:0]
	for _, b := range boxes {
		if f(&b) {
			kept = append(kept, b)
		}
	}
	return kept
}

// MapBoxes maps boxes through every stage, in place, and returns those kept. Call it once the events of
// the boxes' span have gone through Process: the stages map boxes with what they learnt of the sample
// (a random crop's origin, time-align's first event). A chain with a whole-sample stage (HoldsSample)
// learns it only at Flush.
func (s *Stream) MapBoxes(boxes []events.Box) []events.Box {
	for _, st := range s.stages {
		if m, ok := st.f.(boxMapper); ok {
			boxes = m.mapBoxes(boxes)
		}
	}
	return boxes
}

// HoldsSample reports whether a stage holds the whole sample until Flush (time reversal, drops measured
// on the sample's span): boxes can then be mapped only after Flush.
func (s *Stream) HoldsSample() bool {
	for _, st := range s.stages {
		if _, ok := st.f.(interface{ holdsSample() }); ok {
			return true
		}
	}
	return false
}

func (w *wholeSample) holdsSample() {}

// A crop clips boxes to its window and drops those left without area, then shifts them as the events.
func (c *crop) mapBoxes(boxes []events.Box) []events.Box {
	x0, y0 := float32(c.sx), float32(c.sy)
	x1, y1 := float32(c.sx+c.w), float32(c.sy+c.h)
	return keepBoxes(boxes, func(b *events.Box) bool {
		if !b.Clip(x0, y0, x1, y1) {
			return false
		}
		if !c.keepOffset {
			b.X, b.Y = b.X-x0, b.Y-y0
		}
		return true
	})
}

// A flip, rotation or transpose clips boxes to the sensor (events outside it are dropped), then maps
// them as the pixels they cover: a flipped axis of size M takes [v, v+s) to [M−v−s, M−v).
func (tr *transpose) mapBoxes(boxes []events.Box) []events.Box {
	mx, my := float32(tr.w), float32(tr.h)
	if tr.swap {
		mx, my = my, mx
	}
	return keepBoxes(boxes, func(b *events.Box) bool {
		if !b.Clip(0, 0, float32(tr.w), float32(tr.h)) {
			return false
		}
		x, y, w, h := b.X, b.Y, b.W, b.H
		if tr.swap {
			x, y, w, h = y, x, h, w
		}
		if tr.nx != 0 {
			x = mx - x - w
		}
		if tr.ny != 0 {
			y = my - y - h
		}
		b.X, b.Y, b.W, b.H = x, y, w, h
		return true
	})
}

// Downsampling clips boxes to the sensor and scales them by W'/W and H'/H, as x' = x·W'/W scales the pixel
// grid.
func (d *downsample) mapBoxes(boxes []events.Box) []events.Box {
	sx, sy := float64(d.ow)/float64(d.w), float64(d.oh)/float64(d.h)
	return keepBoxes(boxes, func(b *events.Box) bool {
		if !b.Clip(0, 0, float32(d.w), float32(d.h)) {
			return false
		}
		b.X, b.W = float32(float64(b.X)*sx), float32(float64(b.W)*sx)
		b.Y, b.H = float32(float64(b.Y)*sy), float32(float64(b.H)*sy)
		return true
	})
}

// Time operations give boxes the events' clock: time-crop keeps the boxes of its window, time-align,
// time-offset and time-scale move them as the events. Before the first event (no event at all) a
// relative window or an alignment is unknown: time-crop then keeps no box, time-align moves none.
func (o *timeOp) mapBoxes(boxes []events.Box) []events.Box {
	switch o.op {
	case timeCrop:
		lo, hi := o.from, o.to
		if o.relative {
			if !o.haveFirst {
				return boxes[:0]
			}
			lo = o.first + lo
			if hi != math.MaxInt64 {
				hi = o.first + hi
			}
		}
		return keepBoxes(boxes, func(b *events.Box) bool { return b.T >= lo && b.T < hi })
	case timeAlign:
		if o.haveFirst {
			for i := range boxes {
				boxes[i].T -= o.first
			}
		}
	case timeOffset:
		for i := range boxes {
			boxes[i].T += o.offset
		}
	case timeScale:
		for i := range boxes {
			boxes[i].T = int64(math.Round(float64(boxes[i].T)*o.factor + float64(o.offset)))
		}
	}
	return boxes
}

// A time reversal gives boxes t' = t_last − t, back in time order (boxes of one time keep their order),
// when it reversed the sample.
func (r *reversal) mapBoxes(boxes []events.Box) []events.Box {
	if !r.reversed {
		return boxes
	}
	for i := range boxes {
		boxes[i].T = r.last - boxes[i].T
	}
	events.SortBoxes(boxes)
	return boxes
}
