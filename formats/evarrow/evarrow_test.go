package evarrow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/nmnist"
	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/tensors"
)

func randomEvents(rng *rand.Rand, n int) *events.Batch {
	b := events.NewBatch(n)
	t := rng.Int64N(1 << 40)
	for i := 0; i < n; i++ {
		t += rng.Int64N(100)
		b.Append(t, uint16(rng.IntN(65536)), uint16(rng.IntN(65536)), uint8(rng.IntN(2)))
	}
	return b
}

func TestRecordingRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	dir := t.TempDir()
	for _, comp := range []string{"zstd", "lz4", "none"} {
		for _, n := range []int{0, 1, 1000, 70000} {
			want := randomEvents(rng, n)
			path := filepath.Join(dir, comp+".arrow")
			meta := events.Meta{Geometry: events.Geometry{Width: 65536, Height: 65536}, Source: "gen", Transforms: "x"}
			w, err := CreateRecording(path, meta, Options{Compression: comp, BatchEvents: 4096})
			if err != nil {
				t.Fatal(err)
			}
			// Write in uneven pieces so batches straddle Write calls.
			for off := 0; off < n; off += 3001 {
				part := want.Slice(off, min(n, off+3001))
				if err := w.Write(&part); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := OpenRecording(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := events.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			m := r.Meta()
			r.Close()
			if d := got.FirstDifference(want); d >= 0 {
				t.Fatalf("%s n=%d: first difference at %d", comp, n, d)
			}
			if m.Kind != events.KindRecording || m.Geometry != meta.Geometry || m.Source != "gen" || m.Transforms != "x" {
				t.Fatalf("meta = %+v", m)
			}
		}
	}
}

func TestDatasetRandomAccess(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var samples []events.Sample
	for i := 0; i < 23; i++ {
		label := int32(rng.IntN(3))
		if i%7 == 0 {
			label = events.NoLabel
		}
		samples = append(samples, events.Sample{Label: label, ID: "s" + string(rune('a'+i)), Events: *randomEvents(rng, rng.IntN(300))})
	}
	samples[4].Events = events.Batch{} // an empty sample
	path := filepath.Join(t.TempDir(), "d.arrow")
	meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 65536, Height: 65536}, Classes: []string{"a", "b", "c"}}
	w, err := CreateDataset(path, meta, Options{BatchSamples: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range samples {
		if err := w.WriteSample(&samples[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.NumSamples() != len(samples) {
		t.Fatalf("NumSamples = %d", d.NumSamples())
	}
	if got := d.Meta().Classes; strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("classes = %v", got)
	}
	var s events.Sample
	for _, i := range rng.Perm(len(samples)) {
		if err := d.ReadSample(i, &s); err != nil {
			t.Fatal(err)
		}
		want := &samples[i]
		if s.Label != want.Label || s.ID != want.ID || !s.Events.Equal(&want.Events) {
			t.Fatalf("sample %d differs: label %d/%d id %q/%q", i, s.Label, want.Label, s.ID, want.ID)
		}
	}
	if err := d.ReadSample(len(samples), &s); err == nil {
		t.Fatal("reading past the end should fail")
	}
}

func TestLabelOutOfRangeRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.arrow")
	w, err := CreateDataset(path, events.Meta{Kind: events.KindDataset, Classes: []string{"a"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.WriteSample(&events.Sample{Label: 1}); err == nil {
		t.Fatal("label 1 of 1 class accepted")
	}
}

// Corrupt, cut or foreign files give an error — a truncation for a cut file — never a panic.
func TestCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.arrow")
	w, _ := CreateRecording(good, events.Meta{}, Options{})
	w.Write(randomEvents(rand.New(rand.NewPCG(1, 1)), 5000))
	w.Close()
	data, _ := os.ReadFile(good)
	for _, c := range []struct {
		name      string
		mutate    func([]byte) []byte
		truncated bool
	}{
		{"half", func(b []byte) []byte { return b[:len(b)/2] }, true},
		{"ten bytes", func(b []byte) []byte { return b[:10] }, true},
		{"trailing magic damaged", func(b []byte) []byte { c := bytes.Clone(b); c[len(c)-1] = 'X'; return c }, true},
		{"leading magic damaged", func(b []byte) []byte { c := bytes.Clone(b); c[0] = 'X'; return c }, false},
		{"footer length past the file", func(b []byte) []byte {
			c := bytes.Clone(b)
			copy(c[len(c)-10:], []byte{0xFF, 0xFF, 0xFF, 0x7F})
			return c
		}, false},
		{"footer garbled", func(b []byte) []byte {
			c := bytes.Clone(b)
			for i := len(c) - 60; i < len(c)-10; i++ {
				c[i] ^= 0xA5
			}
			return c
		}, false},
	} {
		p := filepath.Join(dir, "bad.arrow")
		os.WriteFile(p, c.mutate(data), 0o644)
		src, err := Open(p, formats.Options{})
		if err == nil {
			if src.Events == nil {
				src.Close()
				t.Fatalf("%s: opened as a dataset", c.name)
			}
			_, err = events.ReadAll(src.Events)
			src.Close()
		}
		var de *events.DecodeError
		if err == nil || !errors.As(err, &de) || errors.Is(err, events.ErrTruncated) != c.truncated {
			t.Errorf("%s: %v; want a decode error (truncated: %v)", c.name, err, c.truncated)
		}
	}
}

func FuzzOpen(f *testing.F) {
	dir := f.TempDir() // one folder: every TempDir call makes a new one
	w, _ := CreateRecording(filepath.Join(dir, "seed.arrow"), events.Meta{}, Options{Compression: "none"})
	w.Write(events.FromEvents(events.Event{T: 1, X: 2, Y: 3, P: 1}))
	w.Close()
	seed, _ := os.ReadFile(filepath.Join(dir, "seed.arrow"))
	f.Add(seed)
	for i, spec := range []tensors.Spec{{DType: tensors.Uint16, Shape: []int{2, 1, 2}}, {DType: tensors.Float32, Shape: []int{-1, 2}}} {
		path := filepath.Join(dir, fmt.Sprintf("t%d.arrow", i))
		tw, err := CreateTensors(path, events.Meta{Classes: []string{"a"}}, spec, Options{Compression: "none"})
		if err != nil {
			f.Fatal(err)
		}
		tw.Write(&tensors.Sample{ID: "s", Label: 0, Tensor: tensors.Tensor{Shape: []int{2, 1, 2}, U16: []uint16{1, 2, 3, 4}}})
		tw.Write(&tensors.Sample{ID: "t", Label: -1, Tensor: tensors.Tensor{Shape: []int{1, 2}, F32: []float32{0.5, -1}}})
		tw.Close()
		b, _ := os.ReadFile(path)
		f.Add(b)
	}
	f.Add([]byte("ARROW1\x00\x00garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := openReader("fuzz.arrow", io.NewSectionReader(bytes.NewReader(data), 0, int64(len(data))), nil, formats.Options{})
		if err != nil {
			return
		}
		if fl.meta.Kind == events.KindTensors {
			tr, err := newTensorReader(fl)
			if err != nil {
				return
			}
			var s tensors.Sample
			for i := 0; i < tr.NumSamples() && i < 100; i++ {
				if err := tr.ReadSample(i, &s); err != nil {
					break
				}
			}
			tr.Close()
			return
		}
		fl.close()
		src, err := NewReader(bytes.NewReader(data), "fuzz.arrow", formats.Options{})
		if err != nil {
			return
		}
		if src.Events != nil {
			events.ReadAll(src.Events)
		} else {
			var smp events.Sample
			for i := 0; i < src.Samples.NumSamples() && i < 100; i++ {
				if src.Samples.ReadSample(i, &smp) != nil {
					break
				}
			}
		}
		src.Close()
	})
}

// nmnistSamples reads the 32 N-MNIST fixture files as samples.
func nmnistSamples(tb testing.TB) []events.Sample { return nmnistFolder(tb, "nmnist") }

// nmnistFolder reads the N-MNIST files of a fixture folder (nmnist: 32, nmnist-small: 1,100) as samples.
func nmnistFolder(tb testing.TB, folder string) []events.Sample {
	var out []events.Sample
	root := fixtures.Path(tb, folder)
	for _, split := range []string{"Train", "Test"} {
		matches, _ := filepath.Glob(filepath.Join(root, split, "*", "*.bin"))
		for _, m := range matches {
			r, err := nmnist.Open(m, formats.Options{})
			if err != nil {
				tb.Fatal(err)
			}
			b, err := events.ReadAll(r)
			r.Close()
			if err != nil {
				tb.Fatal(err)
			}
			rel, _ := filepath.Rel(root, m)
			out = append(out, events.Sample{Label: int32(filepath.Base(filepath.Dir(m))[0] - '0'), ID: rel, Events: *b})
		}
	}
	return out
}

func writeDataset(tb testing.TB, path string, samples []events.Sample, comp string) {
	meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 34, Height: 34},
		Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}
	w, err := CreateDataset(path, meta, Options{Compression: comp})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range samples {
		if err := w.WriteSample(&samples[i]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
}

// TestNMNISTBytesPerEvent logs the container's size on real data (the figure; its target is a
// benchmark matter, so the test only guards against a gross regression).
func TestNMNISTBytesPerEvent(t *testing.T) {
	samples := nmnistSamples(t)
	var n int64
	for i := range samples {
		n += int64(samples[i].Events.Len())
	}
	for _, comp := range []string{"zstd", "lz4", "none"} {
		path := filepath.Join(t.TempDir(), comp+".arrow")
		writeDataset(t, path, samples, comp)
		st, _ := os.Stat(path)
		bpe := float64(st.Size()) / float64(n)
		t.Logf("%s: %d samples, %d events, %d bytes = %.2f bytes/event", comp, len(samples), n, st.Size(), bpe)
		if comp == "zstd" && bpe > 4.0 {
			t.Errorf("zstd dataset takes %.2f bytes/event; expected well under the raw .bin's 5.0", bpe)
		}
	}
}

// The dataset benchmarks use the 1,100 real N-MNIST samples (4.5 M events): realistic record batches.
func BenchmarkDatasetWrite(b *testing.B) {
	samples := nmnistFolder(b, "nmnist-small")
	var n int64
	for i := range samples {
		n += int64(samples[i].Events.Len())
	}
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		writeDataset(b, filepath.Join(dir, "w.arrow"), samples, "zstd")
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}

func BenchmarkDatasetRead(b *testing.B) {
	samples := nmnistFolder(b, "nmnist-small")
	var n int64
	for i := range samples {
		n += int64(samples[i].Events.Len())
	}
	path := filepath.Join(b.TempDir(), "r.arrow")
	writeDataset(b, path, samples, "zstd")
	var s events.Sample
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := OpenDataset(path)
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < d.NumSamples(); j++ {
			if err := d.ReadSample(j, &s); err != nil {
				b.Fatal(err)
			}
		}
		d.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}

func BenchmarkRecordingWriteRead(b *testing.B) {
	ev := randomEvents(rand.New(rand.NewPCG(5, 6)), 1<<22)
	for i := range ev.X {
		ev.X[i] %= 640
		ev.Y[i] %= 480
	}
	path := filepath.Join(b.TempDir(), "rec.arrow")
	b.Run("write", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			w, _ := CreateRecording(path, events.Meta{}, Options{})
			w.Write(ev)
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(ev.Len())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
	})
	b.Run("read", func(b *testing.B) {
		buf := events.NewBatch(1 << 16)
		for i := 0; i < b.N; i++ {
			r, err := OpenRecording(path)
			if err != nil {
				b.Fatal(err)
			}
			for r.Read(buf) == nil {
			}
			r.Close()
		}
		b.ReportMetric(float64(ev.Len())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
	})
}
