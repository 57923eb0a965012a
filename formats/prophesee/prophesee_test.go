package prophesee

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/formattest"
	"github.com/evtool/evtool/internal/fixtures"
)

type rawFixture struct {
	rel         string
	version     int
	headerBytes int64
	words       int64
	counts      map[int]int64
	geom        events.Geometry
}

// Header sizes, word counts and word-type counts from EXPECTED.md.
var rawFixtures = []rawFixture{
	{"prophesee/evt2/expelliarmus_evt2_sample_gen3_vga.raw", 2, 164, 542607, map[int]int64{0: 171626, 1: 367855, 8: 3126}, events.Geometry{Width: 640, Height: 480}},
	{"prophesee/evt2/sparklers_gen3_vga.raw", 2, 166, 527244, map[int]int64{0: 335391, 1: 185861, 8: 5992}, events.Geometry{Width: 640, Height: 480}},
	{"prophesee/evt3/expelliarmus_evt3_sample_gen41.raw", 3, 166, 308943, map[int]int64{0: 59640, 2: 197550, 3: 10527, 4: 21242, 5: 10621, 6: 8812, 8: 551}, events.Geometry{Width: 1280, Height: 720}},
	{"prophesee/evt3/pedestrians_gen41_small.raw", 3, 166, 18377, map[int]int64{0: 4960, 2: 5000, 6: 5590, 8: 2827}, events.Geometry{Width: 1280, Height: 720}},
}

var evt2Opts, evt3Opts = formats.Options{}.WithDefault(ParamEVT, "2"), formats.Options{}.WithDefault(ParamEVT, "3")

// Every RAW fixture decodes exactly to EXPECTED.md, with the header size and word-type counts, and the
// format is detected from the header. One-byte reads and small batches give the same events.
func TestRawFixtures(t *testing.T) {
	exp := fixtures.ExpectedEvents(t)
	for _, fx := range rawFixtures {
		path := fixtures.Path(t, fx.rel)
		f, err := formats.Detect(path)
		if err != nil || f.Name != fmt.Sprintf("evt%d", fx.version) {
			t.Fatalf("%s: detected %v (%v)", fx.rel, f, err)
		}
		r, err := OpenRaw(path, evt2Opts) // the header must win over the option
		if err != nil {
			t.Fatal(err)
		}
		b, err := events.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		exp[fx.rel].Check(t, b)
		m := r.Meta()
		r.Close()
		if m.Geometry != fx.geom || m.Extra["header_bytes"] != fx.headerBytes || m.Extra["words"] != fx.words ||
			!reflect.DeepEqual(m.Extra["word_type_counts"], fx.counts) {
			t.Errorf("%s: geometry %v header %v words %v counts %v", fx.rel, m.Geometry, m.Extra["header_bytes"], m.Extra["words"], m.Extra["word_type_counts"])
		}
		data, _ := os.ReadFile(path)
		rr, err := NewRawReader(iotest.OneByteReader(bytes.NewReader(data)), path, evt2Opts)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := formattest.ReadAll(t, rr, 13)
		if err != nil {
			t.Fatal(err)
		}
		if d := got.FirstDifference(b); d >= 0 {
			t.Fatalf("%s: one byte at a time, 13 events per batch: first difference at event %d", fx.rel, d)
		}
	}
}

var datFixtures = []string{"prophesee/dat/NCARS_obj_004397_td.dat", "prophesee/dat/tonic_sample_ncars_td.dat"}

func TestDATFixtures(t *testing.T) {
	exp := fixtures.ExpectedEvents(t)
	for _, rel := range datFixtures {
		path := fixtures.Path(t, rel)
		if f, err := formats.Detect(path); err != nil || f.Name != "dat" {
			t.Fatalf("%s: detected %v (%v)", rel, f, err)
		}
		r, err := OpenDAT(path, formats.Options{})
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
		if m.Extra["header_bytes"] != int64(91) || m.Extra["event_type"] != 0 || m.Extra["event_size"] != 8 || m.Geometry.Known() {
			t.Errorf("%s: meta %+v", rel, m)
		}
		data, _ := os.ReadFile(path)
		rr, err := NewDATReader(iotest.OneByteReader(bytes.NewReader(data)), path, formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, _, err := formattest.ReadAll(t, rr, 7); err != nil || !got.Equal(b) {
			t.Fatalf("%s: one byte at a time, 7 events per batch: differs (%v)", rel, err)
		}
	}
}

func evt3(words ...uint16) []byte {
	out := []byte("% evt 3.0\n% format EVT3;height=720;width=1280\n% end\n")
	for _, w := range words {
		out = binary.LittleEndian.AppendUint16(out, w)
	}
	return out
}

func decode3(t *testing.T, data []byte) (*events.Batch, []events.Trigger, *RawReader) {
	t.Helper()
	r, err := NewRawReader(iotest.HalfReader(bytes.NewReader(data)), "gen.raw", evt3Opts)
	if err != nil {
		t.Fatal(err)
	}
	b, trig, err := formattest.ReadAll(t, r, 3)
	if err != nil {
		t.Fatal(err)
	}
	return b, trig, r
}

func ev(t int64, x, y uint16, p uint8) events.Event { return events.Event{T: t, X: x, Y: y, P: p} }

// The robust TIME_HIGH rules of EVT 3.0, word by word.
func TestEVT3TimeHigh(t *testing.T) {
	const (
		y    = 0x0000
		x    = 0x2000
		low  = 0x6000
		high = 0x8000
	)
	b, _, r := decode3(t, evt3(
		high|1, low|5, y|10, x|1, // t = 1<<12 | 5
		high|1, x|2, // repeat: nothing changes
		high|4095, x|3, // forward jump of 4094: glitch, ignored
		high, x|4, // TIME_HIGH 0, a small backward step: glitch, ignored
		high|2, x|5, // accepted: time_low reset to 0
		low|3, x|6,
		high|4000, high|4095, x|7, // accepted forward steps
		high|4000, x|8, // backward by 95: glitch
		high, x|9, // TIME_HIGH 0, backward by 4095: wrap, +2^24
		low|5, x|10,
		low|0x800, x|11, low|0x7FF, x|12, // TIME_LOW going back after an event: clamped
	))
	base := int64(1) << 24
	formattest.SameEvents(t, b,
		ev(1<<12|5, 1, 10, 0), ev(1<<12|5, 2, 10, 0), ev(1<<12|5, 3, 10, 0), ev(1<<12|5, 4, 10, 0),
		ev(2<<12, 5, 10, 0), ev(2<<12|3, 6, 10, 0), ev(4095<<12, 7, 10, 0), ev(4095<<12, 8, 10, 0),
		ev(base, 9, 10, 0), ev(base|5, 10, 10, 0), ev(base|0x800, 11, 10, 0), ev(base|0x800, 12, 10, 0),
	)
	m := r.Meta()
	if m.Extra["time_high_glitches"] != int64(3) || m.Extra["time_wraps"] != int64(1) || m.Extra["time_clamped"] != int64(1) {
		t.Fatalf("extra %v", m.Extra)
	}
}

// Vector words, polarity, EXT_TRIGGER 0xA, skipped and reserved words, out-of-range drops.
func TestEVT3Words(t *testing.T) {
	b, trig, r := decode3(t, evt3(
		0x8000|1, 0x6000|2, 0x0000|7, // t = 4098, y = 7
		0x3000|0x800|100,       // vector base 100, p = 1
		0x4000|0b100000000101,  // VECT_12: x = 100, 102, 111; base → 112
		0x5000|0b10000001,      // VECT_8: x = 112, 119; base → 120
		0x7000, 0xE123, 0xF456, // skipped
		0x9999, 0x1000, 0xB000, 0xC000, 0xD000, // reserved
		0xA000|0x300|1,                 // trigger id 3 rising
		0x2000|0x800|1279, 0x2000|1280, // one in range, one dropped
		0x3000|1275, 0x5000|0xFF, // vector running past the edge: 1275..1279 kept, 1280..1282 dropped
	))
	formattest.SameEvents(t, b,
		ev(4098, 100, 7, 1), ev(4098, 102, 7, 1), ev(4098, 111, 7, 1), ev(4098, 112, 7, 1), ev(4098, 119, 7, 1),
		ev(4098, 1279, 7, 1),
		ev(4098, 1275, 7, 0), ev(4098, 1276, 7, 0), ev(4098, 1277, 7, 0), ev(4098, 1278, 7, 0), ev(4098, 1279, 7, 0),
	)
	if !reflect.DeepEqual(trig, []events.Trigger{{T: 4098, Kind: events.TriggerRising, Channel: 3, Raw: 0xA301}}) {
		t.Fatalf("triggers %v", trig)
	}
	m := r.Meta()
	if m.Extra["reserved_words"] != int64(5) || m.Extra["out_of_range"] != int64(4) || m.Extra["triggers"] != int64(1) {
		t.Fatalf("extra %v", m.Extra)
	}
}

func evt2(header string, words ...uint32) []byte {
	out := []byte(header)
	for _, w := range words {
		out = binary.LittleEndian.AppendUint32(out, w)
	}
	return out
}

func cd2(p, lsb, x, y uint32) uint32 { return p<<28 | lsb<<22 | x<<11 | y }

// EVT2: words before the first TIME_HIGH are discarded and counted, triggers decoded, wraps of the 34-bit
// time recognised, big-endian words with -O endian=big, the `% evt` line last in a header.
func TestEVT2Words(t *testing.T) {
	words := []uint32{
		cd2(1, 1, 1, 1), 0xA<<28 | 1<<8 | 1, // before TIME_HIGH: discarded
		0x8<<28 | 0xFFFFFFF, cd2(0, 63, 639, 479), 0xA<<28 | 5<<22 | 2<<8, // falling edge (value bit 0)
		0x3 << 28, 0xE << 28, // reserved, vendor
		0x8<<28 | 1, cd2(1, 2, 3, 4), // wrap
		cd2(1, 0, 640, 0), // out of range
	}
	want := []events.Event{ev(0xFFFFFFF<<6|63, 639, 479, 0), ev(1<<34|1<<6|2, 3, 4, 1)}
	for _, be := range []bool{false, true} {
		data := evt2("% plugin_name hal_plugin_gen3_fx3\n% evt 2.0\n", words...)
		o := formats.Options{}
		if be {
			for i := len(data) - 4*len(words); i < len(data); i += 4 {
				binary.BigEndian.PutUint32(data[i:], binary.LittleEndian.Uint32(data[i:]))
			}
			o.Params = map[string]string{"endian": "big"}
		}
		if detectRaw(data) != 2 {
			t.Fatal("not detected as EVT2")
		}
		b := events.NewBatch(0)
		trig, err := DecodeRaw(data, "gen.raw", o.WithDefault(ParamEVT, "3"), b)
		if err != nil {
			t.Fatal(err)
		}
		formattest.SameEvents(t, b, want...)
		if !reflect.DeepEqual(trig, []events.Trigger{{T: 0xFFFFFFF<<6 | 5, Kind: events.TriggerFalling, Channel: 2, Raw: 0xA<<28 | 5<<22 | 2<<8}}) {
			t.Fatalf("triggers %v", trig)
		}
	}
	r, _ := NewRawReader(bytes.NewReader(evt2("% evt 2.0\n% plugin_name gen3\n", words...)), "g", evt2Opts)
	events.ReadAll(r)
	m := r.Meta()
	if m.Extra["before_first_time_high"] != int64(2) || m.Extra["reserved_words"] != int64(1) || m.Extra["out_of_range"] != int64(1) || m.Extra["time_wraps"] != int64(1) {
		t.Fatalf("extra %v", m.Extra)
	}
}

func TestGeometryPriority(t *testing.T) {
	cases := []struct {
		hdr  string
		want events.Geometry
	}{
		{"% format EVT3;height=720;width=1280\n% geometry 10x20\n% Width 1\n% Height 2\n% plugin_name gen3\n", events.Geometry{Width: 1280, Height: 720}},
		{"% format EVT3\n% geometry 10x20\n% Width 1\n% Height 2\n", events.Geometry{Width: 10, Height: 20}},
		{"% Width 1\n% Height 2\n% plugin_name gen3\n", events.Geometry{Width: 1, Height: 2}},
		{"% plugin_name hal_plugin_gen41_evk3\n", events.Geometry{Width: 1280, Height: 720}},
		{"% plugin_name hal_plugin_gen3_fx3\n", events.Geometry{Width: 640, Height: 480}},
		{"% plugin_name hal_plugin_genx320\n", events.Geometry{Width: 320, Height: 320}},
		{"% plugin_name unknown\n", events.Geometry{Width: 7, Height: 9}},
	}
	for _, c := range cases {
		r, err := NewRawReader(strings.NewReader(c.hdr+"% end\n"), "g", formats.Options{Sensor: events.Geometry{Width: 7, Height: 9}}.WithDefault(ParamEVT, "3"))
		if err != nil {
			t.Fatal(err)
		}
		if g := r.Meta().Geometry; g != c.want {
			t.Errorf("%q: geometry %v, want %v", c.hdr, g, c.want)
		}
	}
	// No version in the header: option evt decides, and without it the reader asks for it.
	r, err := NewRawReader(strings.NewReader("% Date x\n"), "g", evt3Opts)
	if err != nil || r.Version() != 3 {
		t.Fatalf("version %v, %v", r, err)
	}
	if _, err := NewRawReader(strings.NewReader("% Date x\n"), "g", formats.Options{}); err == nil || !strings.Contains(err.Error(), "option evt") {
		t.Fatalf("no encoding: %v", err)
	}
	if _, err := NewRawReader(strings.NewReader("% evt 2.1\n"), "g", evt2Opts); err == nil {
		t.Fatal("EVT 2.1 accepted")
	}
}

// genBatch makes time-ordered events, including long gaps, within w×h.
func genBatch(rng *rand.Rand, n, w, h int, gap int64) *events.Batch {
	b := events.NewBatch(n)
	var t int64
	for i := 0; i < n; i++ {
		switch rng.IntN(10) {
		case 0:
			t += rng.Int64N(gap + 1)
		case 1, 2, 3:
		default:
			t += rng.Int64N(100)
		}
		b.Append(t, uint16(rng.IntN(w)), uint16(rng.IntN(h)), uint8(rng.IntN(2)))
	}
	return b
}

// The writers round-trip events with long gaps: EVT 2.0 across 2^34 µs wraps, EVT 3.0 across 2^24 µs
// wraps (TIME_HIGH stepped so that no step looks like a glitch), DAT within its 2^31 µs gaps.
func TestRoundTripGaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	meta := events.Meta{Geometry: events.Geometry{Width: 2048, Height: 2048}}
	type writer interface {
		Write(*events.Batch) error
		Close() error
	}
	for _, c := range []struct {
		name string
		gap  int64
		w    int
		open func(io.Writer) writer
		read func([]byte, *events.Batch) error
	}{
		{"evt2", 1 << 36, 2048, func(o io.Writer) writer { w, _ := NewEVT2Writer(o, "m.raw", meta, formats.Options{}); return w },
			func(d []byte, b *events.Batch) error { _, err := DecodeRaw(d, "m.raw", evt3Opts, b); return err }},
		{"evt3", 1 << 27, 2048, func(o io.Writer) writer { w, _ := NewEVT3Writer(o, "m.raw", meta, formats.Options{}); return w },
			func(d []byte, b *events.Batch) error { _, err := DecodeRaw(d, "m.raw", evt2Opts, b); return err }},
		{"dat", 1<<31 - 1, 2048, func(o io.Writer) writer { w, _ := NewDATWriter(o, "m.dat", meta, formats.Options{}); return w },
			func(d []byte, b *events.Batch) error { return DecodeDAT(d, "m.dat", formats.Options{}, b) }},
	} {
		for i := 0; i < 20; i++ {
			want := genBatch(rng, 1+rng.IntN(3000), c.w, c.w, c.gap)
			var buf bytes.Buffer
			w := c.open(&buf)
			if err := w.Write(want); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got := events.NewBatch(0)
			if err := c.read(buf.Bytes(), got); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if d := got.FirstDifference(want); d >= 0 {
				t.Fatalf("%s case %d: first difference at event %d of %d", c.name, i, d, want.Len())
			}
		}
	}
}

// Through the registry: the written files carry their geometry and are detected; a failed write leaves
// no file behind.
func TestCreateFiles(t *testing.T) {
	dir := t.TempDir()
	b := events.FromEvents(ev(10, 1, 2, 1), ev(20, 639, 479, 0))
	meta := events.Meta{Kind: events.KindRecording, Geometry: events.Geometry{Width: 640, Height: 480}}
	for _, name := range []string{"out.raw", "out.dat"} {
		path := filepath.Join(dir, name)
		f, err := formats.OutputFormat(path, "")
		if err != nil {
			t.Fatal(err)
		}
		sink, err := f.Create(path, meta, formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Events.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		src, _, err := formats.Open(path, "", formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := events.ReadAll(src.Events)
		src.Close()
		if err != nil || !got.Equal(b) || src.Meta().Geometry != meta.Geometry {
			t.Fatalf("%s: %v, geometry %v", name, err, src.Meta().Geometry)
		}
		// out-of-order events: error, and Abort leaves nothing
		bad := filepath.Join(dir, "bad"+filepath.Ext(name))
		sink, _ = f.Create(bad, meta, formats.Options{})
		if err := sink.Events.Write(events.FromEvents(ev(5, 0, 0, 0), ev(4, 0, 0, 0))); err == nil {
			t.Fatal("out-of-order events accepted")
		}
		sink.Abort()
		if _, err := os.Stat(bad); !os.IsNotExist(err) {
			t.Fatalf("%s left behind", bad)
		}
	}
}

// A truncated file gives every whole word or record, then a DecodeError naming the byte offset.
func TestTruncated(t *testing.T) {
	for _, fx := range append([]string{rawFixtures[0].rel, rawFixtures[3].rel}, datFixtures[0]) {
		data, err := os.ReadFile(fixtures.Path(t, fx))
		if err != nil {
			t.Fatal(err)
		}
		cut := data[:len(data)-3]
		b := events.NewBatch(0)
		if strings.HasSuffix(fx, ".dat") {
			err = DecodeDAT(cut, fx, formats.Options{}, b)
		} else {
			_, err = DecodeRaw(cut, fx, evt2Opts, b)
		}
		var de *events.DecodeError
		if !errors.As(err, &de) || !errors.Is(err, events.ErrTruncated) {
			t.Fatalf("%s: error %v", fx, err)
		}
		ws := map[bool]int{true: 8, false: 4}[strings.HasSuffix(fx, ".dat")]
		if strings.Contains(fx, "evt3") {
			ws = 2
		}
		if want := int64(len(cut) - (len(cut)-int(rawHeaderLen(fx)))%ws); de.Offset != want {
			t.Fatalf("%s: offset %d, want %d", fx, de.Offset, want)
		}
		if b.Len() == 0 {
			t.Fatalf("%s: no events before the fault", fx)
		}
	}
}

func rawHeaderLen(rel string) int64 {
	if strings.HasSuffix(rel, ".dat") {
		return 93
	}
	for _, f := range rawFixtures {
		if f.rel == rel {
			return f.headerBytes
		}
	}
	return 0
}

// After `% end`, data starting with 0x25 ('%') is data, not a header line.
func TestHeaderEnd(t *testing.T) {
	data := evt2("% evt 2.0\n% geometry 640x480\n% end\n", 0x8<<28|0x25, cd2(1, 0x25>>2, 1, 0x25))
	data[len(data)-4] = 0x25 // first byte of the CD word is '%'
	if data[len(data)-8] != 0x25 {
		t.Fatal("test data: the TIME_HIGH word should start with '%'")
	}
	b := events.NewBatch(0)
	if _, err := DecodeRaw(data, "g.raw", evt2Opts, b); err != nil {
		t.Fatal(err)
	}
	w := binary.LittleEndian.Uint32(data[len(data)-4:])
	formattest.SameEvents(t, b, ev(0x25<<6|int64(w>>22&0x3F), uint16(w>>11&0x7FF), uint16(w&0x7FF), 1))
}

// DAT version 1 layout (9-bit x, 8-bit y, p at bit 17), 2^32 wraps, clamps and polarity checks.
func TestDATVersion1(t *testing.T) {
	data := []byte("% Data file containing Event2D events.\n% Version 1\n% Width 512\n% Height 256\n\x0c\x08")
	rec := func(ts, d uint32) {
		data = binary.LittleEndian.AppendUint32(data, ts)
		data = binary.LittleEndian.AppendUint32(data, d)
	}
	rec(0xFFFFFF00, 1<<17|255<<9|511) // (511,255) ON
	rec(0xFFFFFE00, 0<<17|1<<9|2)     // small step back: clamped
	rec(0x10, 1<<17|3<<9|4)           // wrap
	rec(0x20, 5<<17|3<<9|4)           // polarity 5: dropped
	r, err := NewDATReader(bytes.NewReader(data), "v1.dat", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := events.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	formattest.SameEvents(t, b, ev(0xFFFFFF00, 511, 255, 1), ev(0xFFFFFF00, 2, 1, 0), ev(1<<32|0x10, 4, 3, 1))
	m := r.Meta()
	if m.Geometry != (events.Geometry{Width: 512, Height: 256}) || m.Extra["time_wraps"] != int64(1) ||
		m.Extra["time_clamped"] != int64(1) || m.Extra["bad_polarity"] != int64(1) || m.Extra["version"] != 1 {
		t.Fatalf("meta %+v", m)
	}
}
