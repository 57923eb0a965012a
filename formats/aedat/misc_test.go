package aedat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// failingReader serves data, then fails.
type failingReader struct {
	r   *bytes.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// A read error mid-file is reported after the good events, as a decode error wrapping the cause.
func TestReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, c := range []struct {
		name string
		data []byte
		n    int
	}{{"aedat2", handBuiltDVS128(), 7}, {"aedat31", handBuilt31(), 5}} {
		r, err := newReaderSize(&failingReader{bytes.NewReader(c.data), boom}, "x.aedat", formats.Options{}, 64)
		if err != nil {
			t.Fatal(err)
		}
		got, err := events.ReadAll(r)
		var de *events.DecodeError
		if !errors.Is(err, boom) || !errors.As(err, &de) || got.Len() != c.n {
			t.Fatalf("%s: %d events, %v; want %d events, then the read error", c.name, got.Len(), err, c.n)
		}
	}
}

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

// Streaming runs in constant memory: a whole pass over a file allocates the same small, fixed amount
// whatever the file's length (no per-event or per-packet allocation).
func TestStreamingAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	files := map[string][2][]byte{}
	for _, n := range []int{20000, 100000} {
		ev := randomEvents(rng, n, 128, 128, 0, 5)
		var b3, b2 bytes.Buffer
		w3, _ := NewWriter31(&b3, events.Geometry{Width: 128, Height: 128}, Writer31Options{EventsPerPacket: 512})
		w3.Write(ev)
		w3.Close()
		w2 := NewWriter2(&b2, Chips[0], "x")
		w2.Write(ev)
		w2.Close()
		files[fmt.Sprint(n)] = [2][]byte{b3.Bytes(), b2.Bytes()}
	}
	buf := events.NewBatch(4096)
	for v := 0; v < 2; v++ {
		var allocs []float64
		for _, n := range []string{"20000", "100000"} {
			data := files[n][v]
			allocs = append(allocs, testing.AllocsPerRun(3, func() {
				r, err := NewReader(bytes.NewReader(data), "x", formats.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for r.Read(buf) == nil {
				}
			}))
		}
		if allocs[0] != allocs[1] || allocs[1] > 30 {
			t.Fatalf("version %d: %v allocations for 20k and 100k events; want the same small number", v, allocs)
		}
	}
}
