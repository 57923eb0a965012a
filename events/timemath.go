package events

import "math"

// Timestamps may lie anywhere in the int64 range (absolute camera clocks near 10^15 µs, and the extremes a
// hostile file holds), so code that adds durations to them or measures spans uses these helpers instead of
// plain arithmetic, which wraps around.

// AddTime returns t + d, saturated to the int64 range.
func AddTime(t, d int64) int64 {
	s := t + d
	switch {
	case d > 0 && s < t:
		return math.MaxInt64
	case d < 0 && s > t:
		return math.MinInt64
	}
	return s
}

// Span returns last − first, the length of the interval from first to last, as a uint64: exact for every
// first ≤ last (MaxInt64 − MinInt64 does not fit an int64); 0 when last < first.
func Span(first, last int64) uint64 {
	if last < first {
		return 0
	}
	return uint64(last) - uint64(first)
}
