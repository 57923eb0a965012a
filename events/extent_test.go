package events

import "testing"

// ValidateExtent returns the extent Stats would give, in Validate's pass, and Validate's errors.
func TestValidateExtent(t *testing.T) {
	var b Batch
	if ext, err := b.ValidateExtent(Geometry{Width: 4, Height: 4}); err != nil || ext != (Geometry{}) {
		t.Fatalf("no events: %v, %v", ext, err)
	}
	b.Append(1, 3, 0, 1)
	b.Append(2, 0, 7, 0)
	st := NewStats(Geometry{}, false)
	st.Add(&b)
	for _, g := range []Geometry{{}, {Width: 4, Height: 8}} {
		if ext, err := b.ValidateExtent(g); err != nil || ext != st.Extent() || ext != (Geometry{Width: 4, Height: 8}) {
			t.Errorf("on %v: extent %v, %v; Stats says %v", g, ext, err, st.Extent())
		}
	}
	if _, err := b.ValidateExtent(Geometry{Width: 4, Height: 7}); err == nil {
		t.Error("y = 7 on a 4x7 sensor passed")
	}
	b.P[0] = 2
	if _, err := b.ValidateExtent(Geometry{}); err == nil {
		t.Error("polarity 2 passed")
	}
}

// BenchmarkStatsAdd: what `evtool info` spends per event beyond decoding.
func BenchmarkStatsAdd(b *testing.B) {
	var batch Batch
	for i := range 1 << 16 {
		batch.Append(int64(i*7), uint16(i%34), uint16(i/7%34), uint8(i&1))
	}
	st := NewStats(Geometry{}, false)
	b.SetBytes(int64(batch.Len())) // "MB/s" reads as M events/s
	for b.Loop() {
		st.Add(&batch)
	}
}
