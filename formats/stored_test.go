package formats

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/evtool/evtool/tensors"
)

// AppendStored writes counts as little-endian int16 or uint16 alike, and refuses for int16 a count
// beyond 32767 (naming its index) without leaving a partial tensor in dst.
func TestAppendStored(t *testing.T) {
	prefix := []byte{9, 9, 9}
	vals := []uint16{0, 1, 255, 256, 32767, 7}
	tn := &tensors.Tensor{U16: vals}
	for _, dt := range []tensors.DType{tensors.Int16, tensors.Uint16} {
		got, err := AppendStored(append([]byte(nil), prefix...), tn, dt)
		if err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
		if len(got) != len(prefix)+2*len(vals) || string(got[:3]) != string(prefix) {
			t.Fatalf("%s: %d bytes", dt, len(got))
		}
		for i, v := range vals {
			if g := binary.LittleEndian.Uint16(got[3+2*i:]); g != v {
				t.Errorf("%s: value %d stored as %d, want %d", dt, i, g, v)
			}
		}
	}
	big := &tensors.Tensor{U16: []uint16{3, 2, 40000, 1}}
	got, err := AppendStored(append([]byte(nil), prefix...), big, tensors.Int16)
	if err == nil || !strings.Contains(err.Error(), "value 2 is a count of 40000") {
		t.Fatalf("a count of 40000 as int16: %v", err)
	}
	if string(got) != string(prefix) {
		t.Fatalf("after the error dst holds %v, want the prefix alone", got)
	}
	if _, err := AppendStored(nil, big, tensors.Uint16); err != nil {
		t.Fatalf("a count of 40000 as uint16: %v", err)
	}
}
