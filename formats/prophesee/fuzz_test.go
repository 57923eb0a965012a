package prophesee

import (
	"bytes"
	"errors"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/formattest"
)

// FuzzRaw: no input panics or hangs; every event lies inside the declared sensor and times never go back;
// a failure is a DecodeError or a header error.
func FuzzRaw(f *testing.F) {
	f.Add([]byte("% evt 3.0\n\x01\x80\x05\x60\x07\x00\x64\x38\x05\x49\x81\x50\x01\xa3"), uint8(3), false)
	f.Add([]byte("% evt 2.0\n\xff\xff\xff\x8f\xff\xff\xff\x1f"), uint8(2), true)
	f.Fuzz(func(t *testing.T, data []byte, v uint8, big bool) {
		o := formats.Options{Sensor: events.Geometry{Width: 100, Height: 50}}
		if big {
			o.Params = map[string]string{"endian": "big"}
		}
		o = o.WithDefault(ParamEVT, []string{"2", "3"}[v&1])
		r, err := NewRawReader(bytes.NewReader(data), "fuzz.raw", o)
		if err != nil {
			return
		}
		b, _, err := formattest.ReadAll(t, r, 1000)
		var de *events.DecodeError
		if err != nil && !errors.As(err, &de) && b.Len() > 0 {
			t.Fatalf("events with a non-decode error: %v", err)
		}
		if i := b.CheckMonotonic(); i >= 0 {
			t.Fatalf("time goes back at event %d", i)
		}
		if err := b.Validate(r.Meta().Geometry); err != nil {
			t.Fatalf("an event outside the declared %v sensor: %v", r.Meta().Geometry, err)
		}
	})
}

func FuzzDAT(f *testing.F) {
	f.Add([]byte("% Data file containing Event2D events.\n% Version 2\n\x00\x08\x05\x00\x00\x00\x01\x40\x00\x10"), false)
	f.Add([]byte("% Version 1\n% Width 3\n% Height 3\n\x0c\x08\x05\x00\x00\x00\x01\x02\x02\x00\xff"), true)
	f.Fuzz(func(t *testing.T, data []byte, sensor bool) {
		o := formats.Options{}
		if sensor {
			o.Sensor = events.Geometry{Width: 20, Height: 20}
		}
		b := events.NewBatch(0)
		_ = DecodeDAT(data, "fuzz.dat", o, b)
		if i := b.CheckMonotonic(); i >= 0 {
			t.Fatalf("time goes back at event %d", i)
		}
		if err := b.Validate(o.Sensor); err != nil {
			t.Fatal(err)
		}
	})
}
