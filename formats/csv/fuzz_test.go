package csv

import (
	"bytes"
	"errors"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// fuzzOptions picks reader options from a byte, so the fuzzer explores separators, units and columns.
func fuzzOptions(mode uint8) formats.Options {
	o := formats.Options{Params: map[string]string{}}
	switch mode % 4 {
	case 1:
		o.Params["sep"] = "space"
	case 2:
		o.Params["sep"] = ";"
	case 3:
		o.Params["columns"] = "p,-,y,x,t"
	}
	o.Params["time-unit"] = []string{"us", "ms", "s", "ns"}[mode/4%4]
	if mode&16 != 0 {
		o.Params["header"] = "false"
	}
	return o
}

// FuzzDecode: no input panics; a fault is a DecodeError inside the input; whatever decodes survives a
// write and read back unchanged.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("t,x,y,p\n1,2,3,1\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		var got events.Batch
		err := Decode(data, "fuzz.csv", fuzzOptions(mode), &got)
		if err != nil {
			var de *events.DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > int64(len(data)) {
				t.Fatalf("error %v is not a DecodeError inside the %d-byte input", err, len(data))
			}
		}
		var buf bytes.Buffer
		w, _ := NewWriter(&buf, "out.csv", events.Meta{}, formats.Options{})
		if err := w.Write(&got); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var back events.Batch
		if err := Decode(buf.Bytes(), "out.csv", formats.Options{}, &back); err != nil || !back.Equal(&got) {
			t.Fatalf("re-encoded events do not decode back: %v", err)
		}
	})
}
