package aedat

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// Versions and options that cannot be served give one clear error.
func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		data string
		o    formats.Options
		want string
	}{
		{"#!AER-DAT4.0\r\n\x00\x00", formats.Options{}, "aedat4"},
		{"#!AER-DAT9.9\r\n", formats.Options{}, "unsupported AEDAT version"},
		{"#!AER-DAT" + strings.Repeat("x", 2000), formats.Options{}, "version line"},
		{dvs128Header, opts(ParamDavisBit10, "maybe"), "davis-bit10"},
		{hdr31, opts(ParamSource, "zero"), "source"},
	} {
		_, err := decodeAll(t, []byte(c.data), c.o, 1<<10, 16)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.20q: %v, want an error mentioning %q", c.data, err, c.want)
		}
	}
}

// Trigger-only input streams in bounded pieces: one Read never collects more than maxTriggersPerRead.
func TestManyTriggers(t *testing.T) {
	data := []byte(dvs128Header)
	n := maxTriggersPerRead + 10
	for i := 0; i < n; i++ {
		data = be32(data, 0x8000, uint32(i))
	}
	r, err := NewReader(bytes.NewReader(data), "x.aedat", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	buf := events.NewBatch(16)
	total := 0
	for {
		err := r.Read(buf)
		if len(r.Triggers()) > maxTriggersPerRead {
			t.Fatalf("%d triggers in one Read", len(r.Triggers()))
		}
		total += len(r.Triggers())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if total != n {
		t.Fatalf("%d triggers, want %d", total, n)
	}
}
