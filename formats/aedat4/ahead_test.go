package aedat4

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
)

// readLog is everything a reader gives: the events, what each Read met besides them, the notices, the
// error that ended the stream, the metadata.
type readLog struct {
	ev      *events.Batch
	reads   []string
	notices []string
	err     string
	meta    string
}

func readLogged(t *testing.T, data []byte, strict bool, batch int) readLog {
	t.Helper()
	var l readLog
	o := formats.Options{Strict: strict, Warn: func(n formats.Notice) { l.notices = append(l.notices, fmt.Sprintf("%+v", n)) }}
	r, err := NewReader(bytes.NewReader(data), "x.aedat4", o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	l.ev = events.NewBatch(0)
	b := events.NewBatch(batch)
	for {
		err := r.Read(b)
		l.ev.AppendBatch(b)
		l.reads = append(l.reads, fmt.Sprint(b.Len(), len(r.Frames()), len(r.IMUs()), len(r.Triggers()), r.Frames(), r.IMUs(), r.Triggers()))
		if err == io.EOF {
			break
		}
		if err != nil {
			l.err = err.Error()
			if r.Read(b) != io.EOF {
				t.Fatal("a Read after the error did not return io.EOF")
			}
			break
		}
	}
	l.meta = fmt.Sprint(r.Meta())
	return l
}

// withCores runs f with GOMAXPROCS set to procs and every packet sent ahead when procs > 1.
func withCores(procs int, f func()) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	defer func(n int64) { aheadBytes = n }(aheadBytes)
	aheadBytes = 0
	f()
}

// sameAhead checks that data reads the same decoded in line (one core) and decoded ahead (2 and 5 cores),
// whole and in small batches, leniently and strictly, and that no goroutine is left.
func sameAhead(t *testing.T, name string, data []byte) readLog {
	t.Helper()
	n0 := runtime.NumGoroutine()
	var first readLog
	for _, strict := range []bool{false, true} {
		for _, batch := range []int{1 << 16, 777} {
			var want readLog
			withCores(1, func() { want = readLogged(t, data, strict, batch) })
			if !strict && batch == 1<<16 {
				first = want
			}
			for _, procs := range []int{2, 5} {
				var got readLog
				withCores(procs, func() { got = readLogged(t, data, strict, batch) })
				if !got.ev.Equal(want.ev) || fmt.Sprint(got.reads) != fmt.Sprint(want.reads) ||
					fmt.Sprint(got.notices) != fmt.Sprint(want.notices) || got.err != want.err || got.meta != want.meta {
					t.Fatalf("%s (strict %v, batches of %d), %d cores:\n%d events, err %q, notices %v, meta %s\nwant %d events, err %q, notices %v, meta %s",
						name, strict, batch, procs, got.ev.Len(), got.err, got.notices, got.meta, want.ev.Len(), want.err, want.notices, want.meta)
				}
			}
		}
	}
	settled(t, n0, name)
	return first
}

// settled waits for the goroutine count to come back to n0.
func settled(t *testing.T, n0 int, what string) {
	t.Helper()
	for i := 0; runtime.NumGoroutine() > n0; i++ {
		if i == 400 {
			t.Fatalf("%s: %d goroutines left, want %d", what, runtime.NumGoroutine(), n0)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The real recordings (events, frames, IMU samples, triggers; LZ4 linked blocks) read the same decoded
// ahead as in line.
func TestAheadFixtures(t *testing.T) {
	for _, name := range []string{"davis346_frames_imu_triggers_clip.aedat4", "tonic_dvxplorer_sample.aedat4", "aestream_davis346.aedat4"} {
		data, err := os.ReadFile(fixtures.Path(t, "aedat4/"+name))
		if err != nil {
			t.Fatal(err)
		}
		l := sameAhead(t, name, data)
		if l.ev.Len() == 0 {
			t.Fatalf("%s: no events", name)
		}
	}
}

// aheadFile writes 60 packets of events, some outside the sensor and, uncompressed, some earlier than the
// one before (clamped, inside and across packets), and returns the file and its packets' offsets.
func aheadFile(t *testing.T, comp string) ([]byte, []TableEntry) {
	g := events.Geometry{Width: 64, Height: 48}
	b := randomBatch(rand.New(rand.NewPCG(4, 4)), 60*EventsPerPacket, events.Geometry{Width: 100, Height: 48})
	for i := range b.T {
		b.T[i] = 1000 + 3*int64(i) // distinct times: each event's bytes are found in the file
	}
	path := filepath.Join(t.TempDir(), comp+".aedat4")
	writeFile(t, path, events.Geometry{Width: 100, Height: 48}, b, comp)
	r, err := Open(path, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tab, err := r.Table()
	r.Close()
	if err != nil || len(tab) < 60 {
		t.Fatalf("table: %d entries, %v", len(tab), err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if comp == "none" {
		// Times earlier than the one before (clamped), inside packets and at a packet's start.
		for _, i := range []int{17, 5017, 20 * EventsPerPacket, 33*EventsPerPacket + 1} {
			var ev [12]byte
			binary.LittleEndian.PutUint64(ev[:], uint64(b.T[i]))
			binary.LittleEndian.PutUint16(ev[8:], b.X[i])
			binary.LittleEndian.PutUint16(ev[10:], b.Y[i])
			at := bytes.Index(data, ev[:])
			if at < 0 {
				t.Fatalf("event %d is not found in the file", i)
			}
			binary.LittleEndian.PutUint64(data[at:], uint64(b.T[i]-40))
		}
	}
	// A sensor narrower than the events (the header's sizeX, same length): some are outside it.
	from, to := fmt.Sprintf(`"sizeX" type="int">%d<`, 100), fmt.Sprintf(`"sizeX" type="int">%03d<`, g.Width)
	if !bytes.Contains(data, []byte(from)) {
		t.Fatal("no sizeX in the header")
	}
	return bytes.Replace(data, []byte(from), []byte(to), 1), tab
}

// Damaged packets, packets of undeclared streams and files cut short read the same (events, notices,
// errors with their byte offsets, counts) decoded ahead as in line, for every compression.
func TestAheadFaults(t *testing.T) {
	for _, comp := range []string{"zstd", "lz4", "none"} {
		data, tab := aheadFile(t, comp)
		l := sameAhead(t, comp, data)
		if l.ev.Len() == 0 || l.ev.Len() >= 60*EventsPerPacket || l.err != "" ||
			!bytes.Contains([]byte(l.meta), []byte("out_of_range")) || (comp == "none") != bytes.Contains([]byte(l.meta), []byte("time_clamped")) {
			t.Fatalf("%s: %d events, %q, meta %s; want some outside the sensor, some clamped when uncompressed", comp, l.ev.Len(), l.err, l.meta)
		}

		damaged := bytes.Clone(data)
		for _, k := range []int{7, 30, 31, 45} { // bad packets, two of them one after the other
			p := tab[k].ByteOffset
			if comp == "none" {
				binary.LittleEndian.PutUint32(damaged[p:], 1<<30) // FlatBuffer length past the payload
			} else {
				copy(damaged[p+12:p+40], bytes.Repeat([]byte{0xFF}, 28))
			}
		}
		binary.LittleEndian.PutUint32(damaged[tab[20].ByteOffset-8:], 9) // a stream the header does not declare
		l = sameAhead(t, comp+" damaged", damaged)
		lost := 0
		for _, n := range l.notices {
			if bytes.Contains([]byte(n), []byte("skipped Count:1 Events:-1")) {
				lost++
			}
		}
		if lost != 5 {
			t.Fatalf("%s damaged: %d packets lost, want 5 (notices %v)", comp, lost, l.notices)
		}

		for _, cut := range []int64{tab[40].ByteOffset - 3, tab[40].ByteOffset + 100, tab[59].ByteOffset + 10} {
			if l := sameAhead(t, fmt.Sprint(comp, " cut at ", cut), data[:cut]); l.err == "" {
				t.Fatalf("%s cut at %d: no error", comp, cut)
			}
		}
	}
}

// The decoding goroutines end with the stream, at an error, at SeekTime and at Close; a reader read after
// Close starts none.
func TestAheadGoroutinesEnd(t *testing.T) {
	data, tab := aheadFile(t, "zstd")
	path := filepath.Join(t.TempDir(), "z.aedat4")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	n0 := runtime.NumGoroutine()
	withCores(2, func() {
		open := func() *Reader {
			r, err := Open(path, formats.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		r := open()
		if _, err := events.ReadAll(r); err != nil {
			t.Fatal(err)
		}
		settled(t, n0, "read to the end, not closed")
		r.Close()

		r = open()
		b := events.NewBatch(1000)
		if err := r.Read(b); err != nil {
			t.Fatal(err)
		}
		if runtime.NumGoroutine() <= n0 {
			t.Fatal("no goroutine decodes ahead")
		}
		r.Close()
		settled(t, n0, "closed after one Read")
		events.ReadAll(r) // what was read before Close, then the closed file's error: no goroutine started
		settled(t, n0, "read after Close")

		r = open()
		r.Read(b)
		if err := r.SeekTime(tab[50].StartT); err != nil {
			t.Fatal(err)
		}
		settled(t, n0, "after SeekTime")
		if err := r.Read(b); err != nil || b.T[0] < tab[50].StartT {
			t.Fatalf("after SeekTime: %v, first time %d, want ≥ %d", err, b.T[0], tab[50].StartT)
		}
		r.Close()
		settled(t, n0, "closed after SeekTime")

		damaged := bytes.Clone(data)
		p := tab[30].ByteOffset
		copy(damaged[p+12:p+40], bytes.Repeat([]byte{0xFF}, 28))
		r, err := NewReader(bytes.NewReader(damaged), "d.aedat4", formats.Options{Strict: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := events.ReadAll(r); err == nil {
			t.Fatal("strict: no error")
		}
		settled(t, n0, "strict error, not closed")
	})
}
