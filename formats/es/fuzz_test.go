package es

import (
	"bytes"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// FuzzDecode: no panic or hang; events lie inside the sensor; Scan agrees on DVS/ATIS event counts.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("Event Stream\x02\x00\x00\x01\x0a\x00\x08\x00\x07\x01\x00\x02\x00\xff\xfe\x06\x09\x00\x07\x00"), false)
	f.Add([]byte("Event Stream\x02\x00\x00\x02\x0a\x00\x08\x00\x0e\x01\x00\x02\x00\xfd\xfc\x05\x09\x00\x07\x00"), true)
	f.Add([]byte("Event Stream\x02\x00\x00\x00\x05\x05hello\xff\x00\x81\x01xy"), false)
	f.Add([]byte("Event Stream\x02\x00\x00\x04\x0a\x00\x08\x00\x03\x01\x00\x02\x00\x10\x20\x30"), false)
	f.Fuzz(func(t *testing.T, data []byte, flip bool) {
		o := formats.Options{Params: map[string]string{"es-origin": "top"}}
		if flip {
			o.Params = nil
		}
		b := events.NewBatch(0)
		err := Decode(data, "fuzz.es", o, b)
		if i := b.CheckMonotonic(); i >= 0 {
			t.Fatalf("time goes back at event %d", i)
		}
		if r, oerr := NewReader(bytes.NewReader(data), "fuzz.es", o); oerr == nil {
			if g := r.Meta().Geometry; g.Known() {
				if verr := b.Validate(g); verr != nil {
					t.Fatalf("an event outside the %s sensor of the header: %v", g, verr)
				}
			}
		}
		s, serr := ScanReader(bytes.NewReader(data), "fuzz.es")
		if err == nil && serr == nil && b.Len() > 0 && s.Events < int64(b.Len()) {
			t.Fatalf("scan counts %d events, reader %d", s.Events, b.Len())
		}
	})
}
