package events

import "math"

// Stats accumulates the summary `evtool info` prints. Add batches as they stream by; memory is constant
// apart from the optional per-pixel counts.
type Stats struct {
	Count  int64
	On     int64
	Off    int64
	TFirst int64 // first event's timestamp (stream order)
	TLast  int64 // last event's timestamp (stream order)
	TMin   int64
	TMax   int64
	XMax   uint16
	YMax   uint16
	XMin   uint16
	YMin   uint16
	// NonMonotonic counts events whose timestamp is smaller than their predecessor's.
	NonMonotonic int64

	// PixelCounts, when non-nil, receives per-pixel event counts (index y*Width+x) for a sensor of
	// Geometry; events outside it are counted in OutOfRange.
	PixelCounts []uint32
	Geometry    Geometry
	OutOfRange  int64
}

// NewStats returns empty stats. With withPixels, per-pixel counts are kept for geometry g.
func NewStats(g Geometry, withPixels bool) *Stats {
	s := &Stats{Geometry: g}
	if withPixels && g.Width > 0 && g.Height > 0 {
		s.PixelCounts = make([]uint32, g.Width*g.Height)
	}
	s.Reset()
	return s
}

// Reset clears the counters and keeps the pixel buffer.
func (s *Stats) Reset() {
	pc, g := s.PixelCounts, s.Geometry
	clear(pc)
	*s = Stats{PixelCounts: pc, Geometry: g, TMin: math.MaxInt64, TMax: math.MinInt64, XMin: math.MaxUint16, YMin: math.MaxUint16}
}

// Add folds a batch into the stats.
func (s *Stats) Add(b *Batch) {
	n := b.Len()
	if n == 0 {
		return
	}
	if s.Count == 0 {
		s.TFirst = b.T[0]
	} else if b.T[0] < s.TLast {
		s.NonMonotonic++
	}
	s.TLast = b.T[n-1]
	var on int64
	tmin, tmax := s.TMin, s.TMax
	xmin, xmax, ymin, ymax := s.XMin, s.XMax, s.YMin, s.YMax
	for i := 0; i < n; i++ {
		t := b.T[i]
		if t < tmin {
			tmin = t
		}
		if t > tmax {
			tmax = t
		}
		if i > 0 && t < b.T[i-1] {
			s.NonMonotonic++
		}
		x, y := b.X[i], b.Y[i]
		xmin, xmax = min(xmin, x), max(xmax, x)
		ymin, ymax = min(ymin, y), max(ymax, y)
		on += int64(b.P[i] & 1)
	}
	s.TMin, s.TMax, s.XMin, s.XMax, s.YMin, s.YMax = tmin, tmax, xmin, xmax, ymin, ymax
	s.On += on
	s.Off += int64(n) - on
	s.Count += int64(n)
	if s.PixelCounts != nil {
		w, h := s.Geometry.Width, s.Geometry.Height
		for i := 0; i < n; i++ {
			x, y := int(b.X[i]), int(b.Y[i])
			if x >= w || y >= h {
				s.OutOfRange++
				continue
			}
			s.PixelCounts[y*w+x]++
		}
	}
}

// Merge folds other stats (of a later part of the same stream) into s.
func (s *Stats) Merge(o *Stats) {
	if o.Count == 0 {
		return
	}
	if s.Count == 0 {
		s.TFirst = o.TFirst
	} else if o.TFirst < s.TLast {
		s.NonMonotonic++
	}
	s.TLast = o.TLast
	s.Count += o.Count
	s.On += o.On
	s.Off += o.Off
	s.NonMonotonic += o.NonMonotonic
	s.TMin, s.TMax = min(s.TMin, o.TMin), max(s.TMax, o.TMax)
	s.XMin, s.XMax = min(s.XMin, o.XMin), max(s.XMax, o.XMax)
	s.YMin, s.YMax = min(s.YMin, o.YMin), max(s.YMax, o.YMax)
	s.OutOfRange += o.OutOfRange
	if s.PixelCounts != nil && len(o.PixelCounts) == len(s.PixelCounts) {
		for i, c := range o.PixelCounts {
			s.PixelCounts[i] += c
		}
	}
}

// Extent returns (max x + 1, max y + 1), the smallest geometry holding every event seen, or zero when empty.
func (s *Stats) Extent() Geometry {
	if s.Count == 0 {
		return Geometry{}
	}
	return Geometry{Width: int(s.XMax) + 1, Height: int(s.YMax) + 1}
}
