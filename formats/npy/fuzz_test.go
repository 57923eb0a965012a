package npy

import (
	"errors"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// FuzzDecode: no input panics or allocates beyond its size; a fault is a DecodeError inside the input;
// the streaming Reader agrees with Decode; whatever decodes survives a write and read back unchanged.
func FuzzDecode(f *testing.F) {
	f.Add(npyFile(1, "{'descr': [('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', 'u1')], 'fortran_order': False, 'shape': (1,), }",
		pack(int64(1), uint16(2), uint16(3), uint8(1))), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		o := formats.Options{}
		if mode&1 != 0 {
			o = params("columns", "x,y,p,t", "time-unit", "ms")
		}
		var got events.Batch
		err := Decode(data, "fuzz.npy", o, &got)
		if err != nil {
			var de *events.DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > int64(len(data)) {
				t.Fatalf("error %v is not a DecodeError inside the %d-byte input", err, len(data))
			}
		}
		streamed, serr := readAll(t, data, o)
		if !streamed.Equal(&got) || (serr == nil) != (err == nil) {
			t.Fatalf("Reader gave %d events, %v; Decode %d, %v", streamed.Len(), serr, got.Len(), err)
		}
		var out memFile
		w, err := NewWriter(&out, "rt.npy", events.Meta{}, formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(&got); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var back events.Batch
		if err := Decode(out.data, "rt.npy", formats.Options{}, &back); err != nil || !back.Equal(&got) {
			t.Fatalf("re-encoded events do not decode back: %v", err)
		}
	})
}

// memFile is an in-memory file the writer can patch (fuzzing through real files would spend its time in fsync).
type memFile struct{ data []byte }

func (m *memFile) Write(p []byte) (int, error) {
	m.data = append(m.data, p...)
	return len(p), nil
}

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if need := int(off) + len(p); need > len(m.data) {
		m.data = append(m.data, make([]byte, need-len(m.data))...)
	}
	return copy(m.data[off:], p), nil
}
