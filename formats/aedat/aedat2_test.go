package aedat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
	"github.com/evtool/evtool/internal/fixtures"
)

const dvs128Header = "#!AER-DAT2.0\r\n# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128\r\n#End Of ASCII Header\r\n"

// expectedHeaders parses the AEDAT 2.0 lines of EXPECTED.md:
// "- `aedat2/x.aedat`: header_bytes=N header_lines=N first_line='…' last_header_line='…' payload_bytes=N".
func expectedHeaders(t *testing.T) map[string]map[string]string {
	f, err := os.Open(fixtures.Path(t, "EXPECTED.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := regexp.MustCompile("^- `(aedat2/[^`]+)`: (.*)$")
	field := regexp.MustCompile(`(\w+)=('[^']*'|\d+)`)
	out := map[string]map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		kv := map[string]string{}
		for _, f := range field.FindAllStringSubmatch(m[2], -1) {
			kv[f[1]] = strings.Trim(f[2], "'")
		}
		out[m[1]] = kv
	}
	return out
}

// The three jAER header fixtures: header size and line count exactly as EXPECTED.md says, the header
// details in Meta, and the payload: mibblez's filler bytes decode as records (no pixel events among
// them) and the remainder is reported as a truncated tail at the right offset.
func TestHeaderFixtures(t *testing.T) {
	exp := expectedHeaders(t)
	if len(exp) != 3 {
		t.Fatalf("found %d AEDAT 2.0 lines in EXPECTED.md, want 3", len(exp))
	}
	for rel, kv := range exp {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			data, err := os.ReadFile(fixtures.Path(t, rel))
			if err != nil {
				t.Fatal(err)
			}
			atoi := func(k string) int64 {
				n, err := strconv.ParseInt(kv[k], 10, 64)
				if err != nil {
					t.Fatalf("EXPECTED.md %s: bad %s", rel, k)
				}
				return n
			}
			hb, hl, pb := atoi("header_bytes"), atoi("header_lines"), atoi("payload_bytes")
			if int64(len(data)) != hb+pb {
				t.Fatalf("file is %d bytes, EXPECTED.md says %d + %d", len(data), hb, pb)
			}
			first := strings.TrimSuffix(kv["first_line"], `\r`)
			if !strings.HasPrefix(string(data), first) {
				t.Fatalf("file does not start with %q", first)
			}
			// Tiny buffers too: the 300 KB header must stream through refills.
			for _, bufSize := range []int{input.Size, 64} {
				res, err := decodeAll(t, data, formats.Options{}, bufSize, 1<<16)
				if err != nil {
					t.Fatal(err)
				}
				x := res.meta.Extra
				if x["header_bytes"] != hb || x["header_lines"] != int(hl) {
					t.Fatalf("header_bytes=%v header_lines=%v, want %d and %d", x["header_bytes"], x["header_lines"], hb, hl)
				}
				wantMarker := strings.HasPrefix(kv["last_header_line"], endOfASCIIHeader)
				if (x["header_end"] == "end marker") != wantMarker {
					t.Fatalf("header_end=%v, last header line is %q", x["header_end"], kv["last_header_line"])
				}
				records := pb / 8
				counted := x["invalid_words"].(int64) + x["triggers"].(int64) + x["out_of_range"].(int64) + int64(res.ev.Len())
				if res.meta.Geometry.Width != 128 {
					counted += x["aps_words"].(int64) + x["imu_words"].(int64)
				}
				if counted != records {
					t.Fatalf("%d whole records, but %d accounted for (%v)", records, counted, x)
				}
				if pb%8 != 0 {
					wantFault(t, res.err, hb+records*8, true)
				} else if res.err != nil {
					t.Fatalf("clean payload gave %v", res.err)
				}
				checkFixtureDetails(t, filepath.Base(rel), res)
			}
		})
	}
}

// checkFixtureDetails pins what each header fixture holds beyond EXPECTED.md's numbers.
func checkFixtureDetails(t *testing.T, name string, res result) {
	t.Helper()
	x := res.meta.Extra
	want := map[string]map[string]any{
		"mibblez_dvs128_header_only.aedat": {"chip": "dvs128", "aechip": "ch.unizh.ini.jaer.chip.retina.DVS128",
			"hardware_interface": "DVS128-V1 0249", "creation_time_ms": "1531242221262",
			"data_start_time_ms": "1531242221282", "invalid_words": int64(4), "triggers": int64(0)},
		"mibblez_davis240c_header_only.aedat": {"chip": "davis240", "triggers": int64(3), "invalid_words": int64(0)},
		"tonic_davis346red_header_only.aedat": {"chip": "davis346", "aechip": "eu.seebetter.ini.chips.davis.Davis346red",
			"creation_time_ms": "1695355587880", "triggers": int64(0)},
	}[name]
	if want == nil {
		t.Fatalf("no details pinned for %s", name)
	}
	for k, v := range want {
		if x[k] != v {
			t.Errorf("%s: Extra[%s] = %v, want %v", name, k, x[k], v)
		}
	}
	if res.ev.Len() != 0 {
		t.Errorf("%s: %d events decoded from filler bytes, want 0", name, res.ev.Len())
	}
	// DAVIS240C filler words ('$$$$' = 0x24242424) have bit 10 set: external input with an unknown edge.
	for _, tr := range res.trig {
		if tr.Kind != events.TriggerExternal || tr.Raw != 0x24242424 || tr.T != 0x24242424 {
			t.Errorf("%s: trigger %+v, want external 0x24242424 at 0x24242424 µs", name, tr)
		}
	}
}

// handBuiltDVS128 is a DVS128 AEDAT 2.0 file written byte by byte (see TestDVS128Bytes).
func handBuiltDVS128() []byte {
	return be32([]byte(dvs128Header),
		5<<8|10<<1, 100, // ON at raw (10,5): polarity bit 0
		0<<8|0<<1|1, 200, // OFF at raw (0,0)
		127<<8|127<<1, 300, // ON at raw (127,127): polarity bit 0
		0x8000|3, 350, // sync
		0x80000000, 360, // special
		0x00010000, 370, // invalid
		1<<1, 0xFFFFFFF0,
		1<<8, 0x10, // back by more than 2^31: wrap
		0, 0x08, // back by 8: clamp
		0, 0x20,
	)
}

// Hand-built DVS128 records (docs/formats-aedat.md#dvs128-address-word): raw polarity 0 is ON; x = 127 − rawX, y = 127 − rawY; bit 15 and
// bit 31 words are triggers; words with bits 30..16 set are invalid; the clock wraps and clamps (docs/architecture.md#time).
func TestDVS128Bytes(t *testing.T) {
	data := handBuiltDVS128()
	for _, bufSize := range []int{input.Size, 16} {
		for _, batch := range []int{1, 3, 1 << 16} {
			res, err := decodeAll(t, data, formats.Options{}, bufSize, batch)
			if err != nil || res.err != nil {
				t.Fatal(err, res.err)
			}
			wantEvents(t, res.ev,
				events.Event{T: 100, X: 117, Y: 122, P: 1},
				events.Event{T: 200, X: 127, Y: 127, P: 0},
				events.Event{T: 300, X: 0, Y: 0, P: 1},
				events.Event{T: 0xFFFFFFF0, X: 126, Y: 127, P: 1},
				events.Event{T: 1<<32 + 0x10, X: 127, Y: 126, P: 1},
				events.Event{T: 1<<32 + 0x10, X: 127, Y: 127, P: 1},
				events.Event{T: 1<<32 + 0x20, X: 127, Y: 127, P: 1},
			)
			wantTrig := []events.Trigger{{T: 350, Kind: events.TriggerSync, Raw: 0x8003}, {T: 360, Kind: events.TriggerSpecial, Raw: 0x80000000}}
			if fmt.Sprint(res.trig) != fmt.Sprint(wantTrig) {
				t.Fatalf("triggers %v, want %v", res.trig, wantTrig)
			}
			x := res.meta.Extra
			if x["triggers"] != int64(2) || x["invalid_words"] != int64(1) || x["time_wraps"] != int64(1) || x["time_clamped"] != int64(1) {
				t.Fatalf("counters %v", x)
			}
			if res.meta.Geometry != (events.Geometry{Width: 128, Height: 128}) || res.meta.Format != FormatV2 {
				t.Fatalf("meta %+v", res.meta)
			}
		}
	}
}

// Hand-built DAVIS records (docs/formats-aedat.md#davis-address-word) for each DAVIS size: x = W−1−rawX, y = H−1−rawY, bit 11 = ON;
// APS and IMU words skipped and counted; bit 10 words are triggers, or events with davis-bit10=event;
// coordinates outside the sensor dropped and counted.
func TestDAVISBytes(t *testing.T) {
	for _, chip := range Chips[1:] {
		t.Run(chip.Name, func(t *testing.T) {
			W, H := uint32(chip.Width), uint32(chip.Height)
			hdr := "#!AER-DAT2.0\r\n# AEChip: " + chip.Class + "\r\n#End Of ASCII Header\r\n"
			data := be32([]byte(hdr),
				0<<22|0<<12|1<<11, 10,
				(H-1)<<22|(W-1)<<12, 20,
				3<<22|7<<12|1<<11, 30,
				0x80000000|5<<22|5<<12|123, 40, // APS reset read
				0x80000400|5<<22|5<<12|456, 41, // APS signal read
				0x80000C00|0x1234<<12, 42, // IMU
				1<<10|3, 50, // rising
				1<<10|2, 51, // falling
				1<<10|4, 52, // pulse
				W<<12, 60, // x out of range
				H<<22, 61, // y out of range
				1<<22|1<<12, 70,
			)
			res := mustDecode(t, data, formats.Options{})
			if res.err != nil {
				t.Fatal(res.err)
			}
			wantEvents(t, res.ev,
				events.Event{T: 10, X: uint16(W - 1), Y: uint16(H - 1), P: 1},
				events.Event{T: 20, X: 0, Y: 0, P: 0},
				events.Event{T: 30, X: uint16(W - 8), Y: uint16(H - 4), P: 1},
				events.Event{T: 70, X: uint16(W - 2), Y: uint16(H - 2), P: 0},
			)
			wantTrig := []events.Trigger{{T: 50, Kind: events.TriggerRising, Raw: 1<<10 | 3}, {T: 51, Kind: events.TriggerFalling, Raw: 1<<10 | 2}, {T: 52, Kind: events.TriggerPulse, Raw: 1<<10 | 4}}
			if fmt.Sprint(res.trig) != fmt.Sprint(wantTrig) {
				t.Fatalf("triggers %v, want %v", res.trig, wantTrig)
			}
			x := res.meta.Extra
			if x["aps_words"] != int64(2) || x["imu_words"] != int64(1) || x["out_of_range"] != int64(2) || x["triggers"] != int64(3) {
				t.Fatalf("counters %v", x)
			}
			if res.meta.Geometry != chip.Geometry() {
				t.Fatalf("geometry %v, want %v", res.meta.Geometry, chip.Geometry())
			}
			// -O davis-bit10=event: the external-input words are DVS events (v2e noise labels).
			res = mustDecode(t, data, opts(ParamDavisBit10, "event"))
			if res.ev.Len() != 7 || len(res.trig) != 0 {
				t.Fatalf("davis-bit10=event: %d events, %d triggers; want 7 and 0", res.ev.Len(), len(res.trig))
			}
			if e := res.ev.At(3); e != (events.Event{T: 50, X: uint16(W - 1), Y: uint16(H - 1), P: 0}) {
				t.Fatalf("bit-10 word as event: %+v", e)
			}
		})
	}
}

// docs/formats-aedat.md#aedat-20-header: in a file without "#End Of ASCII Header", a DAVIS word whose first byte is 0x23 ('#') right
// after the preferences is data, not a header line; a real header line there is still accepted.
func TestHeaderHashAmbiguity(t *testing.T) {
	for _, eol := range []string{"\r\n", "\n"} {
		hdr := strings.Join([]string{"#!AER-DAT2.0", "# AEChip: eu.seebetter.ini.chips.davis.Davis346red",
			"#Start of Preferences for this AEChip (search for \"End of Preferences\" to find end of this block)",
			"#<preferences/>", "#End of Preferences for this AEChip", "# DataStartTime: System.currentTimeMillis() 123", ""}, eol)
		// rawY = 140 puts 0x23 in the first byte: 0x23000800 = y 140, x 0, ON.
		data := be32([]byte(hdr), 0x23000800, 10, 0x23000000|5<<12, 11)
		for _, bufSize := range []int{input.Size, 8} {
			res, err := decodeAll(t, data, formats.Options{}, bufSize, 16)
			if err != nil || res.err != nil {
				t.Fatal(err, res.err)
			}
			if res.meta.Extra["header_bytes"] != int64(len(hdr)) || res.meta.Extra["data_start_time_ms"] != "123" {
				t.Fatalf("eol %q: header %v, want %d bytes", eol, res.meta.Extra, len(hdr))
			}
			wantEvents(t, res.ev, events.Event{T: 10, X: 345, Y: 259 - 140, P: 1}, events.Event{T: 11, X: 340, Y: 119, P: 0})
		}
	}
}

// AEDAT 1.0 (docs/formats-aedat.md#aedat-10-records): optional header, 6-byte records with 16-bit DVS128 addresses. A file without a
// header may begin with 0x23 (rawY = 35), which must be read as data.
func TestAEDAT1(t *testing.T) {
	records := func(b []byte) []byte {
		for _, r := range []struct {
			a  uint16
			ts uint32
		}{{35<<8 | 4<<1, 5}, {0x8001, 6}, {1, 7}} {
			b = append(b, byte(r.a>>8), byte(r.a))
			b = be32(b, r.ts)
		}
		return b
	}
	for _, hdr := range []string{"", "# made by hand\r\n", "#!AER-DAT1.0\r\n# comment\n"} {
		res := mustDecode(t, records([]byte(hdr)), formats.Options{})
		if res.err != nil {
			t.Fatalf("header %q: %v", hdr, res.err)
		}
		wantEvents(t, res.ev, events.Event{T: 5, X: 123, Y: 92, P: 1}, events.Event{T: 7, X: 127, Y: 127, P: 0})
		if len(res.trig) != 1 || res.trig[0] != (events.Trigger{T: 6, Kind: events.TriggerSync, Raw: 0x8001}) {
			t.Fatalf("triggers %v", res.trig)
		}
		if res.meta.Format != FormatV1 || res.meta.Extra["header_bytes"] != int64(len(hdr)) {
			t.Fatalf("meta %+v", res.meta)
		}
	}
	// A 1.0 file cut mid-record.
	data := records(nil)
	res := mustDecode(t, data[:len(data)-2], formats.Options{})
	wantFault(t, res.err, 12, true)
	if res.ev.Len() != 1 {
		t.Fatalf("%d good events before the cut, want 1", res.ev.Len())
	}
	if _, err := decodeAll(t, data, opts(ParamChip, "davis346"), 1<<10, 16); err == nil {
		t.Fatal("AEDAT 1.0 with a DAVIS chip accepted")
	}
}

// The layout comes from the option chip, else the AEChip class; otherwise the error names the class and
// the option.
func TestChipSelection(t *testing.T) {
	rec := be32(nil, 1<<8, 1)
	unknown := "#!AER-DAT2.0\r\n# AEChip: ch.unizh.ini.jaer.chip.foo.Mystery\r\n#End Of ASCII Header\r\n"
	_, err := decodeAll(t, append([]byte(unknown), rec...), formats.Options{}, 1<<10, 16)
	if err == nil || !strings.Contains(err.Error(), "ch.unizh.ini.jaer.chip.foo.Mystery") || !strings.Contains(err.Error(), "option chip=") || !errors.Is(err, formats.ErrOption) {
		t.Fatalf("unknown class: %v", err)
	}
	none := "#!AER-DAT2.0\r\n#End Of ASCII Header\r\n"
	if _, err := decodeAll(t, append([]byte(none), rec...), formats.Options{}, 1<<10, 16); err == nil || !strings.Contains(err.Error(), "AEChip") {
		t.Fatalf("no class: %v", err)
	}
	res, err := decodeAll(t, append([]byte(unknown), rec...), opts(ParamChip, "dvs128"), 1<<10, 16)
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, res.ev, events.Event{T: 1, X: 127, Y: 126, P: 1})
	// -O chip overrides a known class too.
	res, _ = decodeAll(t, append([]byte(dvs128Header), rec...), opts(ParamChip, "davis240"), 1<<10, 16)
	if res.meta.Geometry.Width != 240 {
		t.Fatalf("chip override ignored: %v", res.meta.Geometry)
	}
	if _, err := decodeAll(t, append([]byte(none), rec...), opts(ParamChip, "davis999"), 1<<10, 16); err == nil {
		t.Fatal("bad chip name accepted")
	}
	for class, want := range map[string]string{
		"ch.unizh.ini.jaer.chip.retina.DVS128": "dvs128", "ch.unizh.ini.jaer.chip.retina.DVS128_PAER": "dvs128",
		"ch.unizh.ini.jaer.chip.retina.Tmpdiff128": "dvs128", "eu.seebetter.ini.chips.davis.DAVIS240C": "davis240",
		"eu.seebetter.ini.chips.davis.Davis346red": "davis346", "eu.seebetter.ini.chips.davis.Davis346blue": "davis346",
		"eu.seebetter.ini.chips.davis.Davis640": "davis640", "eu.seebetter.ini.chips.davis.Davis346B": "davis346",
		"eu.seebetter.ini.chips.davis.DAVIS346cBSI": "davis346", "eu.seebetter.ini.chips.davis.Davis640Color": "davis640",
	} {
		if c, ok := chipForClass(class); !ok || c.Name != want {
			t.Errorf("%s → %v %v, want %s", class, c.Name, ok, want)
		}
	}
}

// A truncated body yields every whole record, then one error at the offset of the cut.
func TestTruncated2(t *testing.T) {
	data := be32([]byte(dvs128Header), 1, 10, 2, 20)
	data = append(data, 0, 0, 0)
	for _, batch := range []int{1, 100} {
		res, err := decodeAll(t, data, formats.Options{}, 1<<10, batch)
		if err != nil {
			t.Fatal(err)
		}
		if res.ev.Len() != 2 {
			t.Fatalf("%d good events, want 2", res.ev.Len())
		}
		wantFault(t, res.err, int64(len(dvs128Header)+16), true)
	}
}

func randomEvents(rng *rand.Rand, n int, w, h int, t0, maxGap int64) *events.Batch {
	b := events.NewBatch(n)
	t := t0
	for i := 0; i < n; i++ {
		b.Append(t, uint16(rng.IntN(w)), uint16(rng.IntN(h)), uint8(rng.IntN(2)))
		t += rng.Int64N(maxGap + 1)
	}
	return b
}

// Property: events → AEDAT 2.0 → events is the identity for every layout, including empty and
// single-event files, the corner pixels, times past 2^32 (wraps), and start offsets.
func TestRoundTrip2(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, chip := range Chips {
		W, H := uint16(chip.Width), uint16(chip.Height)
		cases := map[string]*events.Batch{
			"empty":   events.NewBatch(0),
			"single":  events.FromEvents(events.Event{T: 0}),
			"corners": events.FromEvents(events.Event{T: 1, X: W - 1, Y: H - 1, P: 1}, events.Event{T: 1, X: 0, Y: H - 1}, events.Event{T: 2, X: W - 1, P: 1}),
			"random":  randomEvents(rng, 20000, chip.Width, chip.Height, 123456, 50),
			"wraps":   randomEvents(rng, 200, chip.Width, chip.Height, 1<<32-5000, 1<<30),
			"late":    randomEvents(rng, 100, chip.Width, chip.Height, 1633953690975950, 1000),
			"early":   randomEvents(rng, 100, chip.Width, chip.Height, -5000, 100),
		}
		for name, want := range cases {
			var buf bytes.Buffer
			w := writer2(&buf, chip)
			if err := w.Write(want); err != nil {
				t.Fatalf("%s/%s: %v", chip.Name, name, err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte("#!AER-DAT2.0\r\n")) || !bytes.Contains(buf.Bytes(), []byte("\r\n# AEChip: "+chip.Class+"\r\n")) {
				t.Fatalf("%s/%s: header %q", chip.Name, name, buf.Bytes()[:min(200, buf.Len())])
			}
			res := mustDecode(t, buf.Bytes(), formats.Options{})
			if res.err != nil {
				t.Fatalf("%s/%s: %v", chip.Name, name, res.err)
			}
			if d := res.ev.FirstDifference(want); d >= 0 {
				t.Fatalf("%s/%s: first difference at event %d of %d", chip.Name, name, d, want.Len())
			}
			if res.meta.Extra["time_clamped"] != int64(0) || res.meta.Geometry != chip.Geometry() {
				t.Fatalf("%s/%s: meta %+v", chip.Name, name, res.meta)
			}
		}
	}
}

// The writer refuses what AEDAT 2.0 cannot hold, naming the event.
func TestWriter2Refuses(t *testing.T) {
	for _, c := range []struct {
		name string
		b    *events.Batch
		want string
	}{
		{"outside", events.FromEvents(events.Event{X: 128}), "does not fit"},
		{"backwards", events.FromEvents(events.Event{T: 9}, events.Event{T: 8}), "time order"},
		{"gap", events.FromEvents(events.Event{T: 0}, events.Event{T: 1 << 31}), "gap"},
	} {
		w := writer2(&bytes.Buffer{}, Chips[0])
		if err := w.Write(c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", c.name, err, c.want)
		}
	}
}

// Through the registry: detection by magic (never claiming AEDAT 4.0), Create from geometry, atomic output.
func TestRegistry2(t *testing.T) {
	for head, want := range map[string]string{"#!AER-DAT2.0\r\n": FormatV2, "#!AER-DAT3.1\r\n": FormatV3, "#!AER-DAT1.0\r\n": FormatV1} {
		f, err := formats.DetectBytes("x.aedat", []byte(head))
		if err != nil || f.Name != want {
			t.Errorf("%q detected as %v (%v), want %s", head, f, err, want)
		}
	}
	for _, name := range []string{FormatV1, FormatV2, FormatV3} {
		f, _ := formats.Lookup(name)
		if f.Detect([]byte("#!AER-DAT4.0\r\n")) {
			t.Errorf("%s claims an AEDAT 4.0 file", name)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.aedat")
	f, err := formats.Lookup(FormatV2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Create(path, events.Meta{Geometry: events.Geometry{Width: 100, Height: 100}}, formats.Options{}); err == nil {
		t.Fatal("100x100 accepted without -O chip")
	}
	sink, err := f.Create(path, events.Meta{Geometry: events.Geometry{Width: 346, Height: 260}}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := events.FromEvents(events.Event{T: 5, X: 300, Y: 200, P: 1})
	if err := sink.Events.Write(want); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), ".") {
		t.Fatalf("before Close: %v", ents)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	src, ff, err := formats.Open(path, "", formats.Options{})
	if err != nil || ff.Name != FormatV2 {
		t.Fatal(err, ff)
	}
	got, err := events.ReadAll(src.Events)
	src.Close()
	if err != nil || !got.Equal(want) {
		t.Fatalf("read back %v (%v)", got, err)
	}
}

// The writer's bytes, checked against hand-built files: the jAER header, inverse address transforms,
// and the start offset recorded when the first time does not fit 32 bits.
func TestWriter2Bytes(t *testing.T) {
	const common = "#!AER-DAT2.0\r\n# This is a raw AE data file created by evtool\r\n" +
		"# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event\r\n" +
		"# Timestamps tick: 1 us\r\n"
	for _, c := range []struct {
		chip Chip
		in   *events.Batch
		want []byte
	}{
		{Chips[0], events.FromEvents(events.Event{T: 5, X: 117, Y: 122, P: 1}, events.Event{T: 6, X: 127, Y: 127, P: 0}),
			be32([]byte(common+"# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128\r\n#End Of ASCII Header\r\n"), 0x0514, 5, 0x0001, 6)},
		{Chips[2], events.FromEvents(events.Event{T: 1<<32 + 5, X: 345, Y: 259, P: 1}, events.Event{T: 1<<32 + 1005, X: 0, Y: 0, P: 0}),
			be32([]byte(common+"# AEChip: eu.seebetter.ini.chips.davis.Davis346B\r\n# evtool-time-offset-us: 4294967301\r\n#End Of ASCII Header\r\n"),
				0x00000800, 0, 259<<22|345<<12, 1000)},
	} {
		var buf bytes.Buffer
		w := writer2(&buf, c.chip)
		if err := w.Write(c.in); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), c.want) {
			t.Fatalf("%s:\n got %q\nwant %q", c.chip.Name, buf.Bytes(), c.want)
		}
	}
}
