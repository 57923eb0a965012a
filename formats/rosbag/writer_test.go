package rosbag

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// randomEvents makes n events inside g with steps of 0…99 µs from t0.
func randomEvents(seed uint64, n int, g events.Geometry, t0 int64) *events.Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := events.NewBatch(n)
	t := t0
	for i := 0; i < n; i++ {
		t += int64(rng.IntN(100))
		b.Append(t, uint16(rng.IntN(g.Width)), uint16(rng.IntN(g.Height)), uint8(rng.IntN(2)))
	}
	return b
}

func writeBag(t *testing.T, path string, g events.Geometry, o WriterOptions, b *events.Batch) {
	t.Helper()
	w, err := Create(path, g, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// The writer's bags read back exactly, in messages of the asked span and chunks of ~768 KiB, with the
// sensor size in every message; an empty recording is a valid bag with its topic and no message.
func TestWriterRoundTrip(t *testing.T) {
	dir := t.TempDir()
	g := events.Geometry{Width: 346, Height: 260}
	for _, c := range []struct {
		comp string
		span int64
		n    int
	}{{"lz4", 0, 200_000}, {"none", 5000, 150_000}, {"", 1, 3000}, {"none", 0, 0}} {
		want := randomEvents(uint64(c.n), c.n, g, 1_600_000_000_123_456)
		path := filepath.Join(dir, c.comp+".bag")
		writeBag(t, path, g, WriterOptions{Compression: c.comp, MessageSpan: c.span}, want)
		r, err := Open(path, formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := events.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		checkEqual(t, got, want)
		m := r.Meta()
		span := c.span
		if span <= 0 {
			span = defaultSpan
		}
		var msgs int64
		for i, t0 := 0, int64(-1); i < want.Len(); i++ {
			if t0 < 0 || want.T[i]-t0 >= span {
				msgs, t0 = msgs+1, want.T[i]
			}
		}
		if m.Extra["event_messages"] != msgs || r.Topics()[0] != (Topic{"/dvs/events", typeDVS, msgs}) {
			t.Fatalf("%s: %v messages, want %d; topics %v", c.comp, m.Extra["event_messages"], msgs, r.Topics())
		}
		if c.n > 0 && m.Geometry != g {
			t.Fatalf("%s: geometry %v", c.comp, m.Geometry)
		}
		if c.n == 200_000 && m.Extra["chunks"].(int) < 3 {
			t.Fatalf("%d events in %v chunks", c.n, m.Extra["chunks"])
		}
		r.Close()
	}
}

// Events outside ROS time or outside the sensor are refused, and a refused or aborted bag leaves nothing.
func TestWriterRefusals(t *testing.T) {
	dir := t.TempDir()
	g := events.Geometry{Width: 10, Height: 10}
	for _, c := range []struct {
		ev   events.Event
		want string
	}{{events.Event{T: -1}, "outside ROS time"}, {events.Event{T: (1 << 32) * 1_000_000}, "outside ROS time"},
		{events.Event{T: 5, X: 10}, "outside the 10x10 sensor"}} {
		w, err := Create(filepath.Join(dir, "x.bag"), g, WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(events.FromEvents(c.ev)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%+v: %v", c.ev, err)
		}
		w.Abort()
	}
	if _, err := Create(filepath.Join(dir, "x.bag"), g, WriterOptions{Compression: "bz2"}); err == nil {
		t.Fatal("bz2 output accepted")
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
	// The last representable time round-trips.
	path := filepath.Join(dir, "end.bag")
	last := events.FromEvents(events.Event{T: 0, X: 1, Y: 2, P: 1}, events.Event{T: (1<<32)*1_000_000 - 1, X: 9, Y: 9})
	writeBag(t, path, g, WriterOptions{}, last)
	r, err := Open(path, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, got, last)
}
