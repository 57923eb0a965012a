package aedat4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/formattest"
	"github.com/evtool/evtool/internal/fixtures"
)

type streamWant struct {
	id                int32
	typ               string
	packets, elements int64
}

type fixtureWant struct {
	file     string
	exp      fixtures.Expected
	streams  []streamWant
	frames   [][5]int64 // t, format, width, height, pixel bytes
	imu      []float32  // first IMU: temperature, acc xyz, gyro xyz
	imuT     int64
	triggers [][2]int64 // first triggers: t, source
	sources  []int8
	packets  int      // packets in the file, all streams (= FTAB entries)
	lastT    [3]int64 // last FRME, IMUS and TRIG timestamps (0: no such stream)
}

// The figures of EXPECTED.md, "AEDAT 4.0".
var fixtureWants = []fixtureWant{
	{file: "aedat4/aestream_davis346.aedat4",
		exp: fixtures.Expected{N: 117667, TMin: 1633953690975950, TMax: 1633953691105949, XMin: 0, XMax: 345, YMin: 0, YMax: 259,
			P1: 72363, P0: 45304, SumDT: 7327758848, SumX: 17676033, SumY: 10498046, HasRanges: true, HasPolarities: true, HasSums: true,
			First: []events.Event{{T: 1633953690975950, X: 218, Y: 15, P: 1}, {T: 1633953690975950, X: 306, Y: 76, P: 1}, {T: 1633953690975954, X: 178, Y: 73, P: 0}},
			Last:  events.Event{T: 1633953691105949, X: 137, Y: 56, P: 0}, HasFirstLast: true},
		streams:  []streamWant{{0, "EVTS", 13, 117667}, {1, "FRME", 3, 3}, {2, "IMUS", 13, 130}, {3, "TRIG", 11, 15}},
		frames:   [][5]int64{{1633953690978904, 0, 346, 260, 89960}, {1633953691018904, 0, 346, 260, 89960}},
		imuT:     1633953690976628,
		imu:      []float32{27.7529, -0.0604, -0.9912, -0.0974, 6.4545, 2.5787, -0.1678},
		triggers: [][2]int64{{1633953690976518, 8}, {1633953690981291, 9}, {1633953690990743, 7}},
		sources:  []int8{6, 7, 8, 9},
		packets:  40, lastT: [3]int64{1633953691058904, 1633953691105605, 1633953691110744}},
	{file: "aedat4/davis346_frames_imu_triggers_clip.aedat4",
		exp: fixtures.Expected{N: 6676, TMin: 1589163147368868, TMax: 1589163147538809, XMin: 14, XMax: 334, YMin: 8, YMax: 245,
			P1: 3563, P0: 3113, SumDT: 563632530, SumX: 721626, SumY: 1424056, HasRanges: true, HasPolarities: true, HasSums: true,
			First: []events.Event{{T: 1589163147368868, X: 215, Y: 164, P: 1}, {T: 1589163147368950, X: 226, Y: 160, P: 1}, {T: 1589163147368974, X: 40, Y: 236, P: 1}},
			Last:  events.Event{T: 1589163147538809, X: 96, Y: 229, P: 1}, HasFirstLast: true},
		streams:  []streamWant{{0, "EVTS", 17, 6676}, {1, "FRME", 4, 4}, {2, "IMUS", 16, 160}, {3, "TRIG", 13, 17}},
		frames:   [][5]int64{{1589163147365215, 0, 346, 260, 89960}, {1589163147405215, 0, 346, 260, 89960}},
		imuT:     1589163147369190,
		imu:      []float32{28.5179, 0.0276, -0.9951, 0.259, 0.7782, -0.5188, -0.0153},
		triggers: [][2]int64{{1589163147374647, 7}, {1589163147395806, 6}, {1589163147404965, 8}},
		sources:  []int8{6, 7, 8, 9},
		packets:  50, lastT: [3]int64{1589163147485215, 1589163147528004, 1589163147534647}},
	{file: "aedat4/tonic_dvxplorer_sample.aedat4",
		exp: fixtures.Expected{N: 111954, TMin: 1605537493718345, TMax: 1605537494308262, XMin: 0, XMax: 319, YMin: 0, YMax: 239,
			P1: 55023, P0: 56931, SumDT: 31685685498, SumX: 18342405, SumY: 15105898, HasRanges: true, HasPolarities: true, HasSums: true,
			First: []events.Event{{T: 1605537493718345, X: 154, Y: 204, P: 0}, {T: 1605537493718348, X: 149, Y: 206, P: 0}, {T: 1605537493718349, X: 148, Y: 199, P: 1}},
			Last:  events.Event{T: 1605537494308262, X: 88, Y: 237, P: 1}, HasFirstLast: true},
		streams: []streamWant{{0, "EVTS", 59, 111954}, {2, "IMUS", 59, 475}},
		imuT:    1605537493718788,
		imu:     []float32{38.1523, 0.1263, -0.9951, -0.3931, 0.412, 0.0763, -0.412},
		packets: 118, lastT: [3]int64{0, 1605537494307448, 0}},
}

func near(a, b float32) bool { d := a - b; return d < 1e-4 && d > -1e-4 }

func TestFixtures(t *testing.T) {
	for _, fw := range fixtureWants {
		path := fixtures.Path(t, fw.file)
		r, err := Open(path, formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		all := events.NewBatch(0)
		buf := events.NewBatch(5000) // several Reads per packet and packets per Read
		var frames []Frame
		var imus []IMU
		var trig []events.Trigger
		for {
			err := r.Read(buf)
			all.AppendBatch(buf)
			for _, f := range r.Frames() {
				f.Pixels = append([]byte(nil), f.Pixels...)
				frames = append(frames, f)
			}
			imus = append(imus, r.IMUs()...)
			trig = append(trig, r.Triggers()...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", fw.file, err)
			}
		}
		fw.exp.Path = fw.file
		fw.exp.Check(t, all)
		got := map[int32]Stream{}
		for _, s := range r.Streams() {
			got[s.ID] = s
		}
		for _, ws := range fw.streams {
			s := got[ws.id]
			if s.Type != ws.typ || s.Packets != ws.packets || s.Elements != ws.elements {
				t.Errorf("%s stream %d: %s %d packets %d elements; want %s %d %d", fw.file, ws.id, s.Type, s.Packets, s.Elements, ws.typ, ws.packets, ws.elements)
			}
		}
		for i, wf := range fw.frames {
			f := frames[i]
			if f.T != wf[0] || int64(f.Format) != wf[1] || int64(f.Width) != wf[2] || int64(f.Height) != wf[3] || int64(len(f.Pixels)) != wf[4] {
				t.Errorf("%s frame %d: %+v", fw.file, i, f)
			}
		}
		if len(imus) == 0 || imus[0].T != fw.imuT || !near(imus[0].Temperature, fw.imu[0]) {
			t.Errorf("%s: first IMU %+v", fw.file, imus)
		} else {
			v := imus[0]
			for k := 0; k < 3; k++ {
				if !near(v.Acc[k], fw.imu[1+k]) || !near(v.Gyro[k], fw.imu[4+k]) || v.Mag[k] != 0 {
					t.Errorf("%s: first IMU %+v, want %v", fw.file, v, fw.imu)
				}
			}
		}
		seen := map[int8]bool{}
		for _, tr := range trig {
			seen[int8(tr.Raw)] = true
		}
		for i, wt := range fw.triggers {
			if trig[i].T != wt[0] || int64(int8(trig[i].Raw)) != wt[1] || trig[i].Kind != triggerKinds[wt[1]] {
				t.Errorf("%s trigger %d: %+v, want %v", fw.file, i, trig[i], wt)
			}
		}
		for _, s := range fw.sources {
			if !seen[s] {
				t.Errorf("%s: no trigger with source %d", fw.file, s)
			}
		}
		var last [3]int64
		if len(frames) > 0 {
			last[0] = frames[len(frames)-1].T
		}
		if len(imus) > 0 {
			last[1] = imus[len(imus)-1].T
		}
		if len(trig) > 0 {
			last[2] = trig[len(trig)-1].T
		}
		if last != fw.lastT {
			t.Errorf("%s: last frame/IMU/trigger times %v, want %v", fw.file, last, fw.lastT)
		}
		// The FTAB indexes every packet, and where it has counts they agree with what was read.
		tab, err := r.Table()
		if err != nil || len(tab) != fw.packets {
			t.Errorf("%s: FTAB %d entries (%v), want %d", fw.file, len(tab), err, fw.packets)
		}
		perStream := map[int32]int64{}
		timed := false
		for _, e := range tab {
			perStream[e.StreamID] += e.Elements
			timed = timed || e.HasTimes
		}
		for _, ws := range fw.streams {
			if timed && perStream[ws.id] != ws.elements {
				t.Errorf("%s: FTAB counts %d elements in stream %d, want %d", fw.file, perStream[ws.id], ws.id, ws.elements)
			}
		}
		m := r.Meta()
		if m.Extra["compression"] != "lz4" || (len(fw.frames) > 0 && m.Geometry != (events.Geometry{Width: 346, Height: 260})) {
			t.Errorf("%s: meta %+v", fw.file, m)
		}
		r.Close()
	}
}

func writeFile(t testing.TB, path string, g events.Geometry, b *events.Batch, comp string) {
	w, err := Create(path, events.Meta{Geometry: g}, formats.Options{Compression: comp})
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < b.Len(); off += 3333 {
		part := b.Slice(off, min(b.Len(), off+3333))
		if err := w.Write(&part); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func randomBatch(rng *rand.Rand, n int, g events.Geometry) *events.Batch {
	b := events.NewBatch(n)
	t := int64(1_600_000_000_000_000)
	for i := 0; i < n; i++ {
		t += rng.Int64N(50)
		b.Append(t, uint16(rng.IntN(g.Width)), uint16(rng.IntN(g.Height)), uint8(rng.IntN(2)))
	}
	return b
}

// Every codec round-trips (the conformance kit checks the default one in depth), and the FTAB indexes
// every packet.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	g := events.Geometry{Width: 640, Height: 480}
	dir := t.TempDir()
	for _, comp := range []string{"lz4", "zstd", "none"} {
		for _, want := range []*events.Batch{
			events.NewBatch(0),
			events.FromEvents(events.Event{T: -5, X: 639, Y: 479, P: 1}),
			randomBatch(rng, 20000, g),
		} {
			path := filepath.Join(dir, comp+".aedat4")
			writeFile(t, path, g, want, comp)
			r, err := Open(path, formats.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := events.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if d := got.FirstDifference(want); d >= 0 {
				t.Fatalf("%s n=%d: first difference at %d", comp, want.Len(), d)
			}
			if r.Meta().Geometry != g {
				t.Fatalf("geometry %v", r.Meta().Geometry)
			}
			tab, err := r.Table()
			if err != nil || len(tab) != (want.Len()+EventsPerPacket-1)/EventsPerPacket {
				t.Fatalf("%s: FTAB %d entries, %v", comp, len(tab), err)
			}
			r.Close()
		}
	}
}

// SeekTime jumps with the FTAB and then yields exactly the events from t on.
func TestSeekTime(t *testing.T) {
	g := events.Geometry{Width: 320, Height: 240}
	want := randomBatch(rand.New(rand.NewPCG(5, 5)), 30000, g)
	path := filepath.Join(t.TempDir(), "s.aedat4")
	writeFile(t, path, g, want, "lz4")
	for _, path := range []string{path, fixtures.Path(t, "aedat4/davis346_frames_imu_triggers_clip.aedat4")} {
		r, _ := Open(path, formats.Options{})
		all, _ := events.ReadAll(r)
		r.Close()
		for _, frac := range []float64{0, 0.37, 0.99} {
			tt := all.T[0] + int64(frac*float64(all.T[all.Len()-1]-all.T[0]))
			r, _ := Open(path, formats.Options{})
			if err := r.SeekTime(tt); err != nil {
				t.Fatal(err)
			}
			got, err := events.ReadAll(r)
			r.Close()
			i := all.SearchTime(tt)
			rest := all.Slice(i, all.Len())
			if err != nil || !got.Equal(&rest) {
				t.Fatalf("%s: seek to %d: %d events (%v), want %d", filepath.Base(path), tt, got.Len(), err, rest.Len())
			}
		}
	}
}

// A file cut inside a packet yields every event of the whole packets, then an error with the offset.
func TestTruncated(t *testing.T) {
	data, err := os.ReadFile(fixtures.Path(t, "aedat4/tonic_dvxplorer_sample.aedat4"))
	if err != nil {
		t.Fatal(err)
	}
	cut := data[:500000]
	r, err := NewReader(bytes.NewReader(cut), "cut.aedat4", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.ReadAll(r)
	var de *events.DecodeError
	if !errors.As(err, &de) || !errors.Is(err, events.ErrTruncated) || de.Offset <= 0 || de.Offset >= 500000 || got.Len() == 0 {
		t.Fatalf("%d events, err %v", got.Len(), err)
	}
	full, _ := Open(fixtures.Path(t, "aedat4/tonic_dvxplorer_sample.aedat4"), formats.Options{})
	all, _ := events.ReadAll(full)
	full.Close()
	prefix := all.Slice(0, got.Len())
	if !got.Equal(&prefix) {
		t.Fatal("the events before the fault differ from the full file's")
	}
}

func FuzzReader(f *testing.F) {
	g := events.Geometry{Width: 8, Height: 8}
	for _, comp := range []string{"lz4", "zstd", "none"} {
		p := filepath.Join(f.TempDir(), comp+".aedat4")
		writeFile(f, p, g, randomBatch(rand.New(rand.NewPCG(1, 1)), 10, g), comp)
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "fuzz.aedat4", formats.Options{})
		if err != nil {
			return
		}
		b, _ := events.ReadAll(r)
		if b.Len() > len(data) {
			t.Fatal("more events than bytes")
		}
		r.Table()
		r.SeekTime(0)
		events.ReadAll(r)
	})
}

func BenchmarkReadLZ4(b *testing.B) {
	g := events.Geometry{Width: 640, Height: 480}
	ev := randomBatch(rand.New(rand.NewPCG(2, 2)), 1<<21, g)
	path := filepath.Join(b.TempDir(), "b.aedat4")
	writeFile(b, path, g, ev, "lz4")
	data, _ := os.ReadFile(path)
	formattest.BenchRead(b, data, ev.Len(), func(r io.Reader) (events.Reader, error) {
		return NewReader(r, "b", formats.Options{})
	})
}

// BenchmarkReadLZ4Ahead is BenchmarkReadLZ4 with the packets decompressed ahead on other goroutines, as
// in a file longer than aheadBytes: faster in wall time, dearer in CPU time.
func BenchmarkReadLZ4Ahead(b *testing.B) {
	defer func(n int64) { aheadBytes = n }(aheadBytes)
	aheadBytes = 0
	BenchmarkReadLZ4(b)
}

// BenchmarkReadFixture decodes the real DVXplorer recording (LZ4, linked blocks) from memory.
func BenchmarkReadFixture(b *testing.B) {
	data, err := os.ReadFile(fixtures.Path(b, "aedat4/tonic_dvxplorer_sample.aedat4"))
	if err != nil {
		b.Fatal(err)
	}
	formattest.BenchRead(b, data, 111954, func(r io.Reader) (events.Reader, error) {
		return NewReader(r, "b", formats.Options{})
	})
}

// A time earlier than the last one given is clamped to it, inside a packet and across packets, and
// counted; the other events are untouched.
func TestTimeClamped(t *testing.T) {
	g := events.Geometry{Width: 64, Height: 48}
	want := randomBatch(rand.New(rand.NewPCG(9, 9)), 3*EventsPerPacket, g)
	for i := range want.T {
		want.T[i] = 1000 + 10*int64(i) // distinct times: each event's bytes are found in the file
	}
	path := filepath.Join(t.TempDir(), "c.aedat4")
	writeFile(t, path, g, want, "none")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{100, EventsPerPacket} { // mid-packet; the first event of the second packet
		var ev [12]byte // its t, x and y as the packet stores them
		binary.LittleEndian.PutUint64(ev[:], uint64(want.T[i]))
		binary.LittleEndian.PutUint16(ev[8:], want.X[i])
		binary.LittleEndian.PutUint16(ev[10:], want.Y[i])
		at := bytes.Index(data, ev[:])
		if at < 0 {
			t.Fatalf("event %d is not found in the file", i)
		}
		binary.LittleEndian.PutUint64(data[at:], uint64(want.T[i]-25)) // before the event ahead of it
		want.T[i] = want.T[i-1]
	}
	r, err := NewReader(bytes.NewReader(data), "c.aedat4", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.ReadAll(r)
	if err != nil || !got.Equal(want) {
		t.Fatalf("%d events (%v), want %d with two clamped", got.Len(), err, want.Len())
	}
	if n := r.Meta().Extra["time_clamped"]; n != int64(2) {
		t.Fatalf("time_clamped %v, want 2", n)
	}
}

// A damaged packet is skipped with a notice naming its byte offset (the events of the other packets are
// all read); under Strict it ends the stream with an error wrapping formats.ErrLoss, after the good
// events before it.
func TestDamagedPacket(t *testing.T) {
	g := events.Geometry{Width: 64, Height: 48}
	want := randomBatch(rand.New(rand.NewPCG(8, 8)), 3*EventsPerPacket, g)
	path := filepath.Join(t.TempDir(), "d.aedat4")
	writeFile(t, path, g, want, "lz4")
	r, err := Open(path, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tab, err := r.Table()
	r.Close()
	if err != nil || len(tab) != 3 {
		t.Fatalf("table: %d entries, %v", len(tab), err)
	}
	data, _ := os.ReadFile(path)
	second := tab[1].ByteOffset - 8
	copy(data[second+12:second+40], bytes.Repeat([]byte{0xFF}, 28)) // garble the second packet's LZ4 frame
	os.WriteFile(path, data, 0o644)

	var notes []formats.Notice
	r, err = Open(path, formats.Options{Warn: func(n formats.Notice) { notes = append(notes, n) }})
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.ReadAll(r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 2*EventsPerPacket || len(notes) != 1 || notes[0].Offset != second || notes[0].Kind != formats.Lost {
		t.Fatalf("read %d events, notices %+v; want %d events and one loss at byte %d", got.Len(), notes, 2*EventsPerPacket, second)
	}

	r, err = Open(path, formats.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err = events.ReadAll(r)
	r.Close()
	var de *events.DecodeError
	if !errors.Is(err, formats.ErrLoss) || !errors.As(err, &de) || de.Offset != second || got.Len() != EventsPerPacket {
		t.Fatalf("strict: %d events, %v; want %d events, then a loss at byte %d", got.Len(), err, EventsPerPacket, second)
	}
}
