package player

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/viewer"
)

var testGeom = events.Geometry{Width: 64, Height: 48}

// movingBar makes a recording of a vertical bar sweeping right over dur µs (ON on its leading edge,
// OFF on its trailing edge), starting at t0, with a little random background noise.
func movingBar(seed uint64, t0, dur int64) *events.Batch {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := events.NewBatch(0)
	for t := t0; t < t0+dur; t += 50 {
		x := uint16((t - t0) * int64(testGeom.Width) / dur)
		y := uint16(rng.IntN(testGeom.Height))
		b.Append(t, x, y, 1)
		if x >= 3 {
			b.Append(t, x-3, uint16(rng.IntN(testGeom.Height)), 0)
		}
		if rng.IntN(10) == 0 {
			b.Append(t, uint16(rng.IntN(testGeom.Width)), uint16(rng.IntN(testGeom.Height)), uint8(rng.IntN(2)))
		}
	}
	return b
}

func testPlaylist() Playlist {
	s := []events.Sample{
		{Events: *movingBar(1, 1000, 1_000_000), Label: 0, ID: "a"},
		{Events: *movingBar(2, 5_000_000, 400_000), Label: 1, ID: "b"},
	}
	return NewMemoryPlaylist("test", testGeom, s, []string{"zero", "one"})
}

// reference draws, with a fresh renderer, what the player must show: every event before pos, drawn at
// pos − 1.
func reference(b *events.Batch, st State, scheme string, scale int) *image.RGBA {
	return referenceImage(b, st, scheme, scale)
}

// referenceImage is reference without a testing.T (the child process has none).
func referenceImage(b *events.Batch, st State, scheme string, scale int) *image.RGBA {
	rd, err := viewer.New(viewer.Options{Width: testGeom.Width, Height: testGeom.Height, Scale: scale,
		Scheme: scheme, Decay: st.Decay, Window: st.Window, Tau: st.Window})
	if err != nil {
		panic(err)
	}
	before := b.Slice(0, b.SearchTime(st.Pos))
	rd.Add(&before)
	return rd.Render(st.Pos - 1)
}

// samePixels checks that got, at offset, shows want's pixels inside region (of want's coordinates).
func samePixels(t *testing.T, got *image.RGBA, offset image.Point, want *image.RGBA, region image.Rectangle) {
	t.Helper()
	for y := region.Min.Y; y < region.Max.Y; y++ {
		for x := region.Min.X; x < region.Max.X; x++ {
			if g, w := got.RGBAAt(offset.X+x, offset.Y+y), want.RGBAAt(x, y); g != w {
				t.Fatalf("pixel (%d,%d) is %v, the renderer draws %v", x, y, g, w)
			}
		}
	}
}

// TestActionsMatchRenderer drives the player through random actions and checks, after each, that the
// picture equals a fresh render of every event before the position, and that the rate readout counts
// exactly the events of the window. Incremental feeding, reloads after seeks and decay switches must all
// agree with drawing from scratch.
func TestActionsMatchRenderer(t *testing.T) {
	pl := testPlaylist()
	p, err := New(pl, Config{Scale: 3, Window: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	samples := pl.(*memoryPlaylist).samples
	rng := rand.New(rand.NewPCG(3, 4))
	actions := []struct {
		name string
		do   func()
	}{
		{"tick", func() { p.Tick(16666.7) }},
		{"tick", func() { p.Tick(16666.7) }},
		{"play", p.TogglePlay},
		{"step+", func() { p.Step(1) }},
		{"step-", func() { p.Step(-1) }},
		{"seek+", func() { p.SeekBy(150_000) }},
		{"seek-", func() { p.SeekBy(-90_000) }},
		{"fraction", func() { p.SeekFraction(rng.Float64()) }},
		{"window", func() { p.ScaleWindow([]float64{0.5, 2}[rng.IntN(2)]) }},
		{"decay", p.CycleDecay},
		{"scheme", p.CycleScheme},
		{"faster", func() { p.ScaleSpeed(2) }},
		{"next", func() { p.GoSample(1) }},
		{"prev", func() { p.GoSample(-1) }},
		{"home", p.Home},
		{"end", p.End},
	}
	for i := 0; i < 400; i++ {
		a := actions[rng.IntN(len(actions))]
		a.do()
		st := p.State()
		b := &samples[st.Sample].Events
		img := p.Frame()
		// The status band covers the picture's top rows and the hint its bottom: compare the rows between.
		want := reference(b, st, p.scheme, 3)
		_, top := viewer.TextSize([]string{"", ""})
		_, hint := viewer.TextSize([]string{""})
		samePixels(t, img, p.Picture().Min, want, image.Rect(0, top, want.Rect.Dx(), want.Rect.Dy()-hint))
		lo := st.Pos - st.Window
		inWindow := b.SearchTime(st.Pos) - b.SearchTime(lo)
		if st.InWindow != inWindow {
			t.Fatalf("after %d actions (%s): readout %d events in the window, the recording has %d", i, a.name,
				st.InWindow, inWindow)
		}
		if st.Pos < st.First+st.Window || st.Pos > max(st.First+st.Window, st.Last+1) {
			t.Fatalf("after %s: position %d outside [%d, %d]", a.name, st.Pos, st.First+st.Window, st.Last+1)
		}
	}
}

// collect gathers what a recording's Range delivers.
func collect(t *testing.T, r Recording, from, to int64) *events.Batch {
	t.Helper()
	out := events.NewBatch(0)
	if err := r.Range(from, to, func(b *events.Batch) { out.AppendBatch(b) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkStreaming compares a streamed recording with the same events in memory over random forward and
// backward ranges, and checks the background scan's span and density.
func checkStreaming(t *testing.T, open func() (events.Reader, error), all *events.Batch) {
	t.Helper()
	rec, err := openRecording(open, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	s, ok := rec.(*streamRecording)
	if !ok {
		t.Fatalf("%d events over a budget of 1000 were loaded into memory", all.Len())
	}
	<-s.done
	if err := s.ScanErr(); err != nil {
		t.Fatal(err)
	}
	mem := newMemoryRecording(all)
	f0, l0, _ := mem.Span()
	first, last, complete := s.Span()
	if first != f0 || last != l0 || !complete {
		t.Fatalf("span %d..%d (complete %v), want %d..%d", first, last, complete, f0, l0)
	}
	counts, width := s.Density()
	var sum int64
	for _, c := range counts {
		sum += c
	}
	if sum != int64(all.Len()) || int64(len(counts)) > 2*densityBins || (last-first)/width >= int64(len(counts)) {
		t.Fatalf("density: %d events in %d slices of %d µs, want %d events over %d µs", sum, len(counts), width,
			all.Len(), last-first)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	from := first
	for i := 0; i < 60; i++ {
		// Mostly playback-like forward steps, sometimes a jump anywhere (backward ones seek).
		d := (last - first) / 50
		if rng.IntN(4) == 0 {
			from = first - 10 + rng.Int64N(last-first+20)
		}
		to := from + 1 + rng.Int64N(d+1)
		got, want := collect(t, s, from, to), collect(t, mem, from, to)
		if !got.Equal(want) {
			t.Fatalf("range %d..%d: streamed %d events, in memory %d (first difference at %d)", from, to,
				got.Len(), want.Len(), got.FirstDifference(want))
		}
		from = to
	}
}

func TestStreamedRecordingMatchesMemory(t *testing.T) {
	all := movingBar(9, 0, 2_000_000)
	open := func() (events.Reader, error) { return &events.BatchReader{B: all, Chunk: 777}, nil }
	checkStreaming(t, open, all)
}

// TestStreamedAEDAT4 streams a real AEDAT 4 file, whose reader seeks by its packet table.
func TestStreamedAEDAT4(t *testing.T) {
	path := fixtures.Path(t, "aedat4/tonic_dvxplorer_sample.aedat4")
	f, err := formats.Lookup("aedat4")
	if err != nil {
		t.Fatal(err)
	}
	open := func() (events.Reader, error) {
		src, err := f.Open(path, formats.Options{})
		if err != nil {
			return nil, err
		}
		return src.Events, nil
	}
	r, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.(timeSeeker); !ok {
		t.Fatal("the AEDAT 4 reader no longer seeks by time: backward seeks would re-read the file")
	}
	all, err := events.ReadAll(r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkStreaming(t, open, all)
}

func TestOpenDatasetFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "set.arrow")
	f, err := formats.Lookup("arrow")
	if err != nil {
		t.Fatal(err)
	}
	meta := events.Meta{Kind: events.KindDataset, Geometry: testGeom, Classes: []string{"zero", "one", "two"}}
	sink, err := f.Create(path, meta, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := sink.Samples
	for i := 0; i < 3; i++ {
		s := events.Sample{Events: *movingBar(uint64(i), 0, 100_000), Label: int32(2 - i), ID: fmt.Sprint(i)}
		if err := w.WriteSample(&s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pl, err := Open(path, "", formats.Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(pl, Config{Sample: 1, Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if st := p.State(); pl.Len() != 3 || st.Label != "#1 one" || st.Sample != 1 {
		t.Fatalf("%d samples, showing %d %q; want 3, 1 \"#1 one\"", pl.Len(), st.Sample, st.Label)
	}
	p.GoSample(1)
	p.GoSample(1) // past the end: stays, says so
	if st := p.State(); st.Label != "#2 zero" || p.message != "this is the last sample" {
		t.Fatalf("after next, next: %q, message %q", st.Label, p.message)
	}
}

// TestOpenFolder plays a folder of N-MNIST files as a labelled playlist, and a single file as one entry.
func TestOpenFolder(t *testing.T) {
	dir := fixtures.Path(t, "nmnist-small/Test")
	pl, err := Open(dir, "", formats.Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	if g := pl.Geometry(); g != (events.Geometry{Width: 34, Height: 34}) {
		t.Fatalf("geometry %v, want 34x34", g)
	}
	rec, label, err := pl.Open(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := pl.Open(pl.Len() - 1); err != nil {
		t.Fatal(err)
	}
	first, last, _ := rec.Span()
	if label == "" || last <= first {
		t.Fatalf("sample 0: label %q, span %d..%d", label, first, last)
	}
	items, err := filepath.Glob(filepath.Join(dir, "*", "*.bin"))
	if err != nil || len(items) != pl.Len() {
		t.Fatalf("%d samples in the playlist, %d files in the folder", pl.Len(), len(items))
	}
	one, err := Open(items[0], "", formats.Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	if one.Len() != 1 {
		t.Fatalf("a single file is %d entries", one.Len())
	}
	p, err := New(one, Config{})
	if err != nil {
		t.Fatal(err)
	}
	p.GoSample(1)
	if p.message == "" || p.State().Sample != 0 {
		t.Fatal("next sample on a single recording neither stayed nor said why")
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing.bin"), "", formats.Options{}, 0); err == nil {
		t.Fatal("a missing file opened")
	}
	empty := t.TempDir()
	if _, err := Open(empty, "", formats.Options{}, 0); err == nil {
		t.Fatal("an empty folder opened")
	}
}

func TestAutoNextAndEnd(t *testing.T) {
	p, err := New(testPlaylist(), Config{Window: 50_000, Speed: 64})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 60 && p.State().Sample == 0; i++ {
		p.Tick(16666.7)
	}
	// Without auto-advance, playback stops at the end of sample 0.
	if st := p.State(); st.Sample != 0 || st.Playing || st.Pos != st.Last+1 {
		t.Fatalf("at the end: %+v", st)
	}
	p.ToggleAutoNext()
	p.TogglePlay() // starts over from the first window
	if st := p.State(); st.Pos != st.First+st.Window || !st.Playing {
		t.Fatalf("play at the end did not start over: %+v", st)
	}
	for i := 0; i < 60 && p.State().Sample == 0; i++ {
		p.Tick(16666.7)
	}
	if st := p.State(); st.Sample != 1 || !st.Playing || st.Pos != st.First+st.Window {
		t.Fatalf("auto-advance: %+v", st)
	}
}

// BenchmarkFrame640x480 composes the player's canvas (picture, overlays, timeline) while playing a dense
// 640×480 stream: the frames per second the window can show.
func BenchmarkFrame640x480(b *testing.B) {
	g := events.Geometry{Width: 640, Height: 480}
	rng := rand.New(rand.NewPCG(1, 2))
	ev := events.NewBatch(0)
	for t := int64(0); t < 2_000_000; t += 2 { // 500 k events/s
		ev.Append(t, uint16(rng.IntN(640)), uint16(rng.IntN(480)), uint8(rng.IntN(2)))
	}
	pl := NewMemoryPlaylist("bench", g, []events.Sample{{Events: *ev}}, nil)
	p, err := New(pl, Config{Window: 20_000, Decay: viewer.DecayExponential})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Tick(16666.7)
		if !p.State().Playing {
			p.TogglePlay()
		}
		p.Frame()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// A recording whose times span the whole int64 range, on the largest sensor 16-bit coordinates allow,
// plays, seeks and draws without overflow or a picture larger than a screen.
func TestExtremeRecording(t *testing.T) {
	b := events.FromEvents(events.Event{T: math.MinInt64, X: 0, Y: 0, P: 1}, events.Event{T: 0, X: 65535, Y: 65535},
		events.Event{T: math.MaxInt64, X: 40000, Y: 7, P: 1})
	for _, g := range []events.Geometry{{Width: 65536, Height: 65536}, {Width: 34, Height: 34}} {
		if g.Width == 34 {
			for i := range b.X {
				b.X[i], b.Y[i] = b.X[i]%34, b.Y[i]%34
			}
		}
		pl := NewMemoryPlaylist("extreme", g, []events.Sample{{Events: *b}}, nil)
		p, err := New(pl, Config{})
		if err != nil {
			t.Fatal(err)
		}
		if w, h := p.Size(); w > maxPicWidth || h > maxPicHeight+timelineHeight {
			t.Fatalf("%v: canvas %dx%d", g, w, h)
		}
		st := p.State()
		if st.First != math.MinInt64 || st.Last != math.MaxInt64 || st.Pos != math.MinInt64+10000 {
			t.Fatalf("%v: state %+v", g, st)
		}
		p.Frame()
		for _, f := range []float64{0, 0.5, 1} {
			p.SeekFraction(f)
			p.Frame()
		}
		if got := p.State().Pos; got != math.MaxInt64 {
			t.Errorf("%v: at the end the position is %d", g, got)
		}
		p.Home()
		p.Step(3)
		p.SeekBy(math.MaxInt64)
		p.End()
		p.Tick(1e6)
		p.TogglePlay()
		p.Tick(1e6)
		p.ScaleWindow(1e9)
		for range Decays {
			p.CycleDecay()
			p.Frame()
		}
		if p.Err() != nil {
			t.Errorf("%v: %v", g, p.Err())
		}
		p.Close()
	}
}
