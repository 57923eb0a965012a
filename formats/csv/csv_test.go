package csv

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/formattest"
)

func params(kv ...string) formats.Options {
	o := formats.Options{Params: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Params[kv[i]] = kv[i+1]
	}
	return o
}

// readString streams text through the Reader one byte per read call (so every line crosses a buffer
// refill) into batches of 3 events, and returns the events and the error that ended the stream.
func readString(t *testing.T, text string, o formats.Options) (*events.Batch, error) {
	t.Helper()
	r, err := NewReader(iotest.OneByteReader(strings.NewReader(text)), "in.csv", o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	all, _, err := formattest.ReadAll(t, r, 3)
	return all, err
}

func event(t int64, x, y uint16, p uint8) events.Event { return events.Event{T: t, X: x, Y: y, P: p} }

func TestReadHandWritten(t *testing.T) {
	ev := func(list ...events.Event) *events.Batch { return events.FromEvents(list...) }
	cases := []struct {
		name string
		text string
		o    formats.Options
		want *events.Batch
	}{
		{"header, CRLF, blanks and comments", "t,x,y,p\r\n# a comment\r\n10,1,2,1\r\n\r\n 20 , 3 , 4 , 0 \r\n30,65535,65535,1",
			params(), ev(event(10, 1, 2, 1), event(20, 3, 4, 0), event(30, 65535, 65535, 1))},
		{"aliases, semicolons, other order, extra column", "Polarity;timestamp;x;y;extra\n1;100;5;6;zz\n-1;200;7;8;\n",
			params(), ev(event(100, 5, 6, 1), event(200, 7, 8, 0))},
		{"no header, spaces, seconds (RPG events.txt)", "0.003811000 96 133 0\n0.003820001   56  101 1\n1.5 0 0 1\n",
			params("time-unit", "s"), ev(event(3811, 96, 133, 0), event(3820, 56, 101, 1), event(1500000, 0, 0, 1))},
		{"unit from the header name, tabs", "t_ms\tx\ty\ton\n1.2345\t1\t1\ttrue\n2\t2\t2\tFALSE\n",
			params(), ev(event(1235, 1, 1, 1), event(2000, 2, 2, 0))},
		{"columns option without a header", "5,6,1,100\n7,8,0,101\n",
			params("columns", "x,y,p,t"), ev(event(100, 5, 6, 1), event(101, 7, 8, 0))},
		{"columns option skipping one, with a header", "a,b,c,d,e\n1,9,2,3,1\n",
			params("columns", "t,-,x,y,p"), ev(event(1, 2, 3, 1))},
		{"nanoseconds, rounded", "t,x,y,p\n1499,0,0,1\n1500,0,0,+1\n-2500,0,0,0\n",
			params("time-unit", "ns"), ev(event(1, 0, 0, 1), event(2, 0, 0, 1), event(-3, 0, 0, 0))},
		{"forced header=false with a numeric first line", "1,2,3,1\n", params("header", "false"), ev(event(1, 2, 3, 1))},
		{"header only", "t,x,y,p\n", params(), ev()},
		{"empty file", "", params(), ev()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readString(t, c.text, c.o)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(c.want) {
				t.Fatalf("got %v\nwant %v", got, c.want)
			}
			var dec events.Batch
			if err := Decode([]byte(c.text), "in.csv", c.o, &dec); err != nil || !dec.Equal(c.want) {
				t.Fatalf("Decode: %v, %v; want %v", err, &dec, c.want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	cases := []struct {
		name    string
		text    string
		o       formats.Options
		good    int
		offset  int64
		message string
	}{
		{"bad coordinate", "t,x,y,p\n1,2,3,1\n2,70000,3,1\n", params(), 1, 18, "line 3, field 2 (x): want a coordinate"},
		{"bad polarity", "t,x,y,p\n1,2,3,1\n2,2,3,1\n3,2,3,2\n", params(), 2, 30, "line 4, field 4 (p)"},
		{"too few fields", "1,2,3,1\n2,2\n", params(), 1, 11, "line 2 has 2 fields; want at least 4"},
		{"time with an exponent", "t x y p\n1e3 1 1 1\n", params(), 0, 8, "line 2, field 1 (t): want a time"},
		{"header without polarity", "t,x,y,q\n1,2,3,4\n", params(), 0, 0, "names no p column"},
		{"time overflows", "t,x,y,p\n9223372036854775807,1,1,1\n", params("time-unit", "ms"), 0, 8, "line 2, field 1 (t)"},
		{"negative coordinate", "0,-1,1,1\n", params(), 0, 2, "line 1, field 2 (x)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readString(t, c.text, c.o)
			var de *events.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v; want a *events.DecodeError", err)
			}
			if got.Len() != c.good {
				t.Errorf("%d good events before the error; want %d", got.Len(), c.good)
			}
			if de.Offset != c.offset || !strings.Contains(de.Msg, c.message) || de.Path != "in.csv" {
				t.Errorf("error %q at %d; want %q at byte %d", de.Error(), de.Offset, c.message, c.offset)
			}
		})
	}
}

func TestLongLineIsAnError(t *testing.T) {
	text := "t,x,y,p\n1,1,1,1\n" + strings.Repeat("9", 300<<10) + "\n2,2,2,1\n"
	r, _ := NewReader(strings.NewReader(text), "long.csv", params())
	b, err := events.ReadAll(r)
	var de *events.DecodeError
	if b.Len() != 1 || !errors.As(err, &de) || de.Offset != 16 || !strings.Contains(de.Msg, "line 3 is longer") {
		t.Fatalf("got %d events, %v", b.Len(), err)
	}
}

// randomBatch makes n events with edge values mixed in: max coordinates, large and negative times.
func randomBatch(rng *rand.Rand, n int) *events.Batch {
	b := events.NewBatch(n)
	t := rng.Int64N(1 << 40)
	for i := 0; i < n; i++ {
		t += rng.Int64N(1000)
		x, y := uint16(rng.IntN(65536)), uint16(rng.IntN(65536))
		if rng.IntN(10) == 0 {
			x, y = math.MaxUint16, math.MaxUint16
		}
		b.Append(t, x, y, uint8(rng.IntN(2)))
	}
	return b
}

// TestRoundTrip writes generated batches with each writer option and reads them back.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	batches := []*events.Batch{
		events.NewBatch(0),
		events.FromEvents(events.Event{T: 7, X: 1, Y: 2, P: 1}),
		events.FromEvents(events.Event{T: math.MaxInt64, X: 65535, Y: 65535, P: 1}, events.Event{T: math.MinInt64, X: 0, Y: 0, P: 0}),
		events.FromEvents(events.Event{T: -5, X: 0, Y: 65535, P: 0}),
		randomBatch(rng, 20000), // > 256 KiB of text: lines cross the read window
	}
	optionSets := []formats.Options{
		params(),
		params("sep", ";", "polarity", "sign"),
		params("sep", "tab", "polarity", "bool", "columns", "p,y,x,t"),
		params("sep", "space", "header", "false"),
		params("time-unit", "ms"),
		params("time-unit", "s", "sep", "space"),
	}
	for bi, b := range batches {
		for _, o := range optionSets {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, "out.csv", events.Meta{}, o)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(b); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			ro := o
			if o.Params["header"] == "false" {
				ro = params("sep", o.Params["sep"], "columns", "t,x,y,p")
			}
			r, err := NewReader(&buf, "out.csv", ro)
			if err != nil {
				t.Fatal(err)
			}
			got, err := events.ReadAll(r)
			if err != nil {
				t.Fatalf("batch %d, options %v: %v", bi, o.Params, err)
			}
			if i := got.FirstDifference(b); i >= 0 {
				t.Fatalf("batch %d, options %v: first difference at event %d of %d/%d", bi, o.Params, i, got.Len(), b.Len())
			}
		}
	}
}

func TestWriteExactText(t *testing.T) {
	b := events.FromEvents(events.Event{T: 1000250, X: 3, Y: 4, P: 1}, events.Event{T: -1, X: 0, Y: 65535, P: 0})
	for _, c := range []struct {
		o    formats.Options
		want string
	}{
		{params(), "t,x,y,p\n1000250,3,4,1\n-1,0,65535,0\n"},
		{params("time-unit", "s", "sep", ";", "polarity", "sign"), "t_s;x;y;p\n1.000250;3;4;1\n-0.000001;0;65535;-1\n"},
		{params("time-unit", "ms", "sep", "tab", "polarity", "bool", "header", "false"), "1000.250\t3\t4\ttrue\n-0.001\t0\t65535\tfalse\n"},
		{params("time-unit", "ns", "columns", "x,y,t,p"), "x,y,t_ns,p\n3,4,1000250000,1\n0,65535,-1000,0\n"},
	} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, "out.csv", events.Meta{}, c.o)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != c.want {
			t.Errorf("options %v wrote %q; want %q", c.o.Params, buf.String(), c.want)
		}
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []formats.Options{params("sep", "|"), params("columns", "t,x,y"), params("columns", "t,x,x,p"),
		params("time-unit", "h"), params("header", "maybe"), params("polarity", "yes")} {
		if _, err := NewReader(strings.NewReader(""), "x.csv", o); err == nil && o.Params["polarity"] == "" {
			t.Errorf("options %v accepted by the reader", o.Params)
		}
		if _, err := NewWriter(io.Discard, "x.csv", events.Meta{}, o); err == nil {
			t.Errorf("options %v accepted by the writer", o.Params)
		}
	}
}

// TestRegistry: .csv resolves to this format (.txt only when asked for: too generic to claim), Create is
// atomic, and -O options reach the reader.
func TestRegistry(t *testing.T) {
	dir := t.TempDir()
	if f, err := formats.OutputFormat(filepath.Join(dir, "notes.txt"), ""); err == nil {
		t.Fatalf(".txt resolved to %s without --to", f.Name)
	}
	path := filepath.Join(dir, "ev.txt")
	f, err := formats.OutputFormat(path, "csv")
	if err != nil || f.Name != "csv" {
		t.Fatalf("OutputFormat(%s) = %v, %v", path, f, err)
	}
	sink, err := f.Create(path, events.Meta{Kind: events.KindRecording}, params("sep", "space", "time-unit", "ms"))
	if err != nil {
		t.Fatal(err)
	}
	b := events.FromEvents(events.Event{T: 1500, X: 1, Y: 2, P: 1})
	if err := sink.Events.Write(b); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("output visible before Close: %v", err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != "t_ms x y p\n1.500 1 2 1\n" {
		t.Fatalf("wrote %q", data)
	}
	src, _, err := formats.Open(path, "csv", formats.Options{Sensor: events.Geometry{Width: 4, Height: 3}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got, err := events.ReadAll(src.Events)
	if err != nil || !got.Equal(b) {
		t.Fatalf("read back %v, %v", got, err)
	}
	if m := src.Meta(); m.Format != "csv" || m.Geometry != (events.Geometry{Width: 4, Height: 3}) || m.Kind != events.KindRecording {
		t.Fatalf("meta %+v", m)
	}
	if _, err := f.Create(filepath.Join(dir, "d.csv"), events.Meta{Kind: events.KindDataset}, formats.Options{}); err == nil {
		t.Fatal("CSV accepted a dataset")
	}
}
