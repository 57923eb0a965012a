package safetensors

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := []Tensor{
		{Name: "layers.1.weight", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, -6.5}},
		{Name: "layers.1.bias", Shape: []int{2}, Data: []float32{0.25, -0}},
		{Name: "scalar", Shape: []int{}, Data: []float32{7}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, in, map[string]string{"format": "pt", "k": `{"a":1}`}); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	n := binary.LittleEndian.Uint64(raw)
	if n%8 != 0 || !strings.HasPrefix(string(raw[8:]), "{") {
		t.Fatalf("header length %d not 8-aligned or not JSON", n)
	}
	if len(raw) != 8+int(n)+4*(6+2+1) {
		t.Fatalf("file is %d bytes", len(raw))
	}
	f, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["format"] != "pt" || f.Metadata["k"] != `{"a":1}` {
		t.Fatalf("metadata %v", f.Metadata)
	}
	for _, want := range in {
		got, ok := f.Tensors[want.Name]
		if !ok || len(got.Shape) != len(want.Shape) || len(got.Data) != len(want.Data) {
			t.Fatalf("%s: got %+v", want.Name, got)
		}
		for i := range want.Data {
			if got.Data[i] != want.Data[i] {
				t.Fatalf("%s[%d] = %v, want %v", want.Name, i, got.Data[i], want.Data[i])
			}
		}
	}
	// Tensors are laid out in the order given: the first tensor's data starts at offset 0.
	if !strings.Contains(string(raw[8:8+n]), `"layers.1.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}`) {
		t.Fatalf("header %s", raw[8:8+n])
	}
}

func TestWriteRejectsBadShape(t *testing.T) {
	err := Write(&bytes.Buffer{}, []Tensor{{Name: "a", Shape: []int{3}, Data: []float32{1}}}, nil)
	if err == nil {
		t.Fatal("shape/data mismatch accepted")
	}
}

func TestDecodeErrors(t *testing.T) {
	mk := func(header string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
		b = append(b, header...)
		return append(b, make([]byte, data)...)
	}
	for name, c := range map[string]struct {
		in   []byte
		want string
	}{
		"short":        {[]byte{1, 2}, "too short"},
		"huge header":  {binary.LittleEndian.AppendUint64(nil, 1<<40), "exceeds"},
		"bad json":     {mk("{", 0), "not valid JSON"},
		"dtype":        {mk(`{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`, 2), "only F32"},
		"offsets":      {mk(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4), "do not match"},
		"past the end": {mk(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4), "do not match"},
		"negative dim": {mk(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), "invalid shape"},
		"bad metadata": {mk(`{"__metadata__":{"a":1}}`, 0), "strings to strings"},
		"huge shape":   {mk(`{"a":{"dtype":"F32","shape":[100000,100000,100000],"data_offsets":[0,4]}}`, 4), "invalid shape"},
	} {
		_, err := Decode(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	Write(&buf, []Tensor{{Name: "w", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}}, map[string]string{"m": "x"})
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		f, err := Decode(data)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes and decodes to the same tensors.
		var ts []Tensor
		for _, n := range f.Names() {
			ts = append(ts, f.Tensors[n])
		}
		var out bytes.Buffer
		if err := Write(&out, ts, f.Metadata); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		g, err := Decode(out.Bytes())
		if err != nil || len(g.Tensors) != len(f.Tensors) {
			t.Fatalf("re-decode: %v", err)
		}
	})
}
