package es

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/formattest"
	"github.com/evtool/evtool/formats/prophesee"
	"github.com/evtool/evtool/internal/fixtures"
)

var top = formats.Options{Params: map[string]string{"es-origin": "top"}}

// The DVS fixtures decode exactly to EXPECTED.md with the flip off (EXPECTED lists y as stored); with the
// default flip every y becomes H−1−y. One-byte reads and one-event batches give the same events.
func TestDVSFixtures(t *testing.T) {
	exp := fixtures.ExpectedEvents(t)
	for _, rel := range []string{"es/dvs.es", "es/loris_NCARS_obj_004397.es"} {
		path := fixtures.Path(t, rel)
		if f, err := formats.Detect(path); err != nil || f.Name != "es" {
			t.Fatalf("%s: detected %v, %v", rel, f, err)
		}
		r, err := Open(path, top)
		if err != nil {
			t.Fatal(err)
		}
		b, err := events.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		exp[rel].Check(t, b)
		m := r.Meta()
		r.Close()
		if m.Extra["header_bytes"] != 20 {
			t.Errorf("%s: extra %v", rel, m.Extra)
		}
		r, _ = Open(path, formats.Options{})
		flipped, err := events.ReadAll(r)
		r.Close()
		h := uint16(m.Geometry.Height)
		if err != nil || flipped.Len() != b.Len() {
			t.Fatalf("%s: flipped read: %v, %d events", rel, err, flipped.Len())
		}
		for i := range b.T {
			if flipped.Y[i] != h-1-b.Y[i] || flipped.T[i] != b.T[i] || flipped.X[i] != b.X[i] {
				t.Fatalf("%s: event %d flipped to %v from %v", rel, i, flipped.At(i), b.At(i))
			}
		}
		data, _ := os.ReadFile(path)
		rr, err := NewReader(iotest.OneByteReader(bytes.NewReader(data)), path, top)
		if err != nil {
			t.Fatal(err)
		}
		if got, _, err := formattest.ReadAll(t, rr, 1); err != nil || !got.Equal(b) {
			t.Fatalf("%s: one byte and one event at a time differs (%v)", rel, err)
		}
	}
}

// The N-CARS pair: the loris .es and the .dat hold the same events with y_es = 239 − y_dat. The loris
// header says 54×239, but its writer flipped against the 240 rows of the ATIS sensor, so the pair agrees
// when the flip uses --sensor 54x240 (the flip uses the --sensor height when given).
func TestNCARSPair(t *testing.T) {
	dat, err := prophesee.OpenDAT(fixtures.Path(t, "prophesee/dat/NCARS_obj_004397_td.dat"), formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := events.ReadAll(dat)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(fixtures.Path(t, "es/loris_NCARS_obj_004397.es"), formats.Options{Sensor: events.Geometry{Width: 54, Height: 240}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.FirstDifference(want); d >= 0 || got.Len() != 4407 {
		t.Fatalf("first difference at event %d", d)
	}
	// And converting the .dat to .es with evtool gives the same stored bytes as the loris file's events.
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, "mem.es", events.Meta{Geometry: events.Geometry{Width: 54, Height: 240}}, formats.Options{})
	if err := w.Write(want); err != nil {
		t.Fatal(err)
	}
	w.Close()
	back := events.NewBatch(0)
	if err := Decode(buf.Bytes(), "mem.es", top, back); err != nil {
		t.Fatal(err)
	}
	stored, _ := Open(fixtures.Path(t, "es/loris_NCARS_obj_004397.es"), top)
	orig, _ := events.ReadAll(stored)
	if !back.Equal(orig) {
		t.Fatal("dat → es does not store the loris file's events")
	}
}

// Color and generic streams: Scan counts them as EXPECTED.md says; Open rejects them with a clear message.
func TestOtherTypes(t *testing.T) {
	s, err := Scan(fixtures.Path(t, "es/color.es"))
	if err != nil || s.Type != TypeColor || s.Events != 473225 || s.OverflowBytes != 2997 || s.TMax != 999000 ||
		s.SumX != 72946016 || s.SumY != 57092979 || s.SumR != 92045933 || s.SumG != 77478426 || s.SumB != 56673022 || s.Size != 20 {
		t.Fatalf("color: %+v %v", s, err)
	}
	s, err = Scan(fixtures.Path(t, "es/generic.es"))
	if err != nil || s.Type != TypeGeneric || s.Events != 70 || s.OverflowBytes != 4724 || s.TMax != 1207922 || s.PayloadBytes != 822 || s.Size != 16 {
		t.Fatalf("generic: %+v %v", s, err)
	}
	s, err = Scan(fixtures.Path(t, "es/dvs.es"))
	if err != nil || s.Events != 473225 || s.OverflowBytes != 6993 || s.SumY != 57092979 {
		t.Fatalf("dvs: %+v %v", s, err)
	}
	for _, rel := range []string{"es/color.es", "es/generic.es"} {
		_, err := Open(fixtures.Path(t, rel), formats.Options{})
		if err == nil || !strings.Contains(err.Error(), "not polarity events") {
			t.Fatalf("%s: %v", rel, err)
		}
	}
}

// ATIS: overflow bytes 0xFD..0xFF, reset 0xFC, threshold crossings counted apart from polarity events.
func TestATIS(t *testing.T) {
	data := []byte(Magic)
	data = append(data, 2, 0, 0, TypeATIS, 10, 0, 8, 0)
	rec := func(b byte, x, y uint16) []byte { return []byte{b, byte(x), byte(x >> 8), byte(y), byte(y >> 8)} }
	data = append(data, rec(3<<2|2, 1, 2)...) // t=3 DVS increase
	data = append(data, 0xFC, 0xFF, 0xFD)     // reset, +189, +63
	data = append(data, rec(1<<2|1, 4, 5)...) // t=256 TC: counted only
	data = append(data, rec(0, 9, 7)...)      // Δt 0, DVS decrease: t=256
	r, err := NewReader(bytes.NewReader(data), "a.es", top)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := formattest.ReadAll(t, r, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := events.FromEvents(events.Event{T: 3, X: 1, Y: 2, P: 1}, events.Event{T: 256, X: 9, Y: 7, P: 0})
	if !b.Equal(want) || r.Meta().Extra["tc_events"] != int64(1) {
		t.Fatalf("got %v, extra %v", b, r.Meta().Extra)
	}
}

// With the flip off (es-origin=top) the writer stores y as given and the reader takes it back as is (the
// conformance kit checks the default, flipped, orientation).
func TestRoundTripTop(t *testing.T) {
	want := events.FromEvents(events.Event{T: 126, X: 65534, Y: 65534, P: 1}, events.Event{T: 127, X: 0, Y: 65534, P: 0},
		events.Event{T: 100000, X: 1, Y: 0, P: 1}, events.Event{T: 100000, X: 2, Y: 3, P: 0})
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, "mem.es", events.Meta{Geometry: events.Geometry{Width: 65535, Height: 65535}}, top)
	if err := w.Write(want); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if buf.Bytes()[20+3] != 0xFE || buf.Bytes()[20+4] != 0xFF {
		t.Fatalf("y = 65534 is not stored as is: % x", buf.Bytes()[20:30])
	}
	got := events.NewBatch(0)
	if err := Decode(buf.Bytes(), "mem.es", top, got); err != nil || !got.Equal(want) {
		t.Fatalf("%v: %v", err, got)
	}
}

func TestCreateAndErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "o.es")
	if _, err := Create(path, events.Meta{}, formats.Options{}); err == nil {
		t.Fatal("no geometry accepted")
	}
	w, err := Create(path, events.Meta{Geometry: events.Geometry{Width: 4, Height: 4}}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(events.FromEvents(events.Event{T: 1, X: 4, Y: 0})); err == nil {
		t.Fatal("out-of-sensor event accepted")
	}
	w.Abort()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("partial output left behind")
	}
	// truncation: the good events, then an error at the record's offset
	data, _ := os.ReadFile(fixtures.Path(t, "es/loris_NCARS_obj_004397.es"))
	b := events.NewBatch(0)
	err = Decode(data[:len(data)-2], "cut.es", top, b)
	var de *events.DecodeError
	if !errors.As(err, &de) || !errors.Is(err, events.ErrTruncated) || de.Offset != int64(len(data)-5) || b.Len() != 4406 {
		t.Fatalf("truncated: %v, %d events", err, b.Len())
	}
	if _, err := NewReader(strings.NewReader("Event Strean\x02\x00\x00\x01"), "x", top); err == nil {
		t.Fatal("bad magic accepted")
	}
}
