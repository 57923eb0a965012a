package nmnist

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
)

func readFile(t *testing.T, path string) *events.Batch {
	t.Helper()
	r, err := Open(path, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := events.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// Every .bin fixture decodes exactly to EXPECTED.md: counts, ranges, polarity, sums, first and last events.
func TestFixturesMatchExpected(t *testing.T) {
	exp := fixtures.ExpectedEvents(t)
	checked := 0
	for rel, e := range exp {
		if !strings.HasSuffix(rel, ".bin") {
			continue
		}
		b := readFile(t, fixtures.Path(t, rel))
		e.Check(t, b)
		checked++
	}
	// 32 N-MNIST files, tonic's sample and the N-Caltech101 sample.
	if checked != 34 {
		t.Fatalf("checked %d .bin fixtures, want 34", checked)
	}
}

func record(x, y byte, p byte, t uint32) []byte {
	return []byte{x, y, p<<7 | byte(t>>16)&0x7F, byte(t >> 8), byte(t)}
}

// y == 240 records are markers: not events, and each adds 8192 µs to every later timestamp.
func TestOverflowMarkers(t *testing.T) {
	var data []byte
	data = append(data, record(1, 2, 1, 100)...)
	data = append(data, record(9, 240, 1, 555)...) // marker: x, p, t ignored
	data = append(data, record(3, 4, 0, 50)...)
	data = append(data, record(0, 240, 0, 0)...)
	data = append(data, record(0, 240, 0, 0)...)
	data = append(data, record(33, 239, 1, 1<<23-1)...)
	b := events.NewBatch(0)
	if err := Decode(data, "gen.bin", b); err != nil {
		t.Fatal(err)
	}
	want := events.FromEvents(
		events.Event{T: 100, X: 1, Y: 2, P: 1},
		events.Event{T: 50 + 8192, X: 3, Y: 4, P: 0},
		events.Event{T: 1<<23 - 1 + 3*8192, X: 33, Y: 239, P: 1},
	)
	if d := b.FirstDifference(want); d >= 0 {
		t.Fatalf("event %d: got %+v", d, b.At(min(d, b.Len()-1)))
	}
	// The streaming reader agrees and reports the markers.
	r, _ := NewReader(bytes.NewReader(data), "gen.bin", formats.Options{})
	got, err := events.ReadAll(r)
	if err != nil || !got.Equal(want) {
		t.Fatalf("stream: %v, %d events", err, got.Len())
	}
	if m := r.Meta().Extra["overflow_markers"]; m != int64(3) {
		t.Fatalf("overflow_markers = %v, want 3", m)
	}
}

// A truncated file yields every whole record, then one error naming the file and the byte offset.
func TestTruncated(t *testing.T) {
	data := append(record(1, 2, 1, 10), record(3, 4, 0, 20)...)
	data = append(data, 7, 8, 9) // 3 stray bytes
	r, _ := NewReader(bytes.NewReader(data), "cut.bin", formats.Options{})
	b := events.NewBatch(16)
	if err := r.Read(b); err != nil || b.Len() != 2 {
		t.Fatalf("first read: %v, %d events; want the 2 good events and no error", err, b.Len())
	}
	err := r.Read(b)
	var de *events.DecodeError
	if !errors.As(err, &de) || de.Offset != 10 || de.Path != "cut.bin" || !errors.Is(err, events.ErrTruncated) {
		t.Fatalf("second read: %v; want a truncation error at byte 10 of cut.bin", err)
	}
	if err := r.Read(b); err != io.EOF {
		t.Fatalf("after the error: %v, want io.EOF", err)
	}
	if err := Decode(data, "cut.bin", events.NewBatch(0)); !errors.As(err, &de) || de.Offset != 10 {
		t.Fatalf("Decode: %v", err)
	}
}

// Without option overflow-markers, a timestamp that needs a marker is refused, as are unstorable events;
// with it, markers are written within the filler bound and a time beyond it is refused.
func TestWriterRefuses(t *testing.T) {
	markers := formats.Options{Params: map[string]string{ParamOverflowMarkers: "true"}}
	for _, c := range []struct {
		name string
		o    formats.Options
		b    *events.Batch
		want string
	}{
		{"late", formats.Options{}, events.FromEvents(events.Event{T: 1 << 23}), "option overflow-markers"},
		{"marker-row", formats.Options{}, events.FromEvents(events.Event{Y: 240}), "y=240"},
		{"wide", formats.Options{}, events.FromEvents(events.Event{X: 256}), "0..255"},
		{"backwards", formats.Options{}, events.FromEvents(events.Event{T: 9}, events.Event{T: 8}), "time order"},
		{"absolute clock", markers, events.FromEvents(events.Event{T: 1_600_000_000_000_000}), "time-align"},
	} {
		w, _ := NewWriter(io.Discard, "x.bin", events.Meta{}, c.o)
		err := w.Write(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", c.name, err, c.want)
		}
	}
	// Markers cover what the bound allows: 2^23 µs past the first ones needs exactly one more.
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, "x.bin", events.Meta{}, markers)
	if err := w.Write(events.FromEvents(events.Event{T: MaxRawTime + 1})); err != nil || buf.Len() != 0 {
		t.Fatalf("%v, %d bytes before Close", err, buf.Len())
	}
	if err := w.Close(); err != nil || buf.Len() != 2*recordSize {
		t.Fatalf("%v: %d bytes, want one marker and one event", err, buf.Len())
	}
}

// Writing a fixture back reproduces its bytes exactly.
func TestRewriteIsByteIdentical(t *testing.T) {
	path := fixtures.Path(t, "nmnist/Test/7/00001.bin")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "copy.bin")
	w, err := Create(out, events.Meta{}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(readFile(t, path)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, orig) {
		t.Fatal("rewritten file differs from the original")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(record(1, 2, 1, 100))
	f.Add(append(record(0, 240, 0, 0), record(5, 5, 1, 1)...))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		b := events.NewBatch(0)
		err := Decode(data, "fuzz.bin", b)
		if (len(data)%5 != 0) != (err != nil) {
			t.Fatalf("len %d: err = %v", len(data), err)
		}
		// Read in one-byte steps (a record straddles every refill), the stream must agree with Decode.
		r, _ := NewReader(iotest.OneByteReader(bytes.NewReader(data)), "fuzz.bin", formats.Options{})
		got, serr := events.ReadAll(r)
		if !got.Equal(b) || (serr == nil) != (err == nil) {
			t.Fatalf("stream and Decode disagree: %v vs %v", serr, err)
		}
		if b.Len() > len(data)/5 {
			t.Fatal("more events than records")
		}
	})
}

func benchData(b *testing.B) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	ev := events.NewBatch(1 << 20)
	var t int64
	for i := 0; i < 1<<20; i++ {
		t += rng.Int64N(2)
		ev.Append(t, uint16(rng.IntN(34)), uint16(rng.IntN(34)), uint8(rng.IntN(2)))
	}
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, "bench.bin", events.Meta{}, formats.Options{})
	if err := w.Write(ev); err != nil {
		b.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

// BenchmarkDecode measures the hot loop on an in-memory file (target ≥ 500 M events/s on one core).
func BenchmarkDecode(b *testing.B) {
	data := benchData(b)
	dst := events.NewBatch(len(data) / 5)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst.Reset()
		decodeInto(data, dst, 0, 0)
	}
	b.ReportMetric(float64(b.N)*float64(len(data)/5)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}

// BenchmarkReader measures the streaming reader (buffer refills, 64 Ki-event batches) over a file.
func BenchmarkReader(b *testing.B) {
	data := benchData(b)
	path := filepath.Join(b.TempDir(), "bench.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	buf := events.NewBatch(1 << 16)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, _ := Open(path, formats.Options{})
		for r.Read(buf) == nil {
		}
		r.Close()
	}
	b.ReportMetric(float64(b.N)*float64(len(data)/5)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}
