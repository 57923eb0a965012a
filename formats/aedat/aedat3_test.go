package aedat

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
)

const hdr31 = "#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 0: DVS128\r\n#Source 1: DAVIS346B\r\n#Start-Time: 2017-01-01 10:00:00 (TZ+0100)\r\n#!END-HEADER\r\n"

func repeat(b []byte, n int) []byte { return bytes.Repeat(b, n) }

// handBuilt31 is an AEDAT 3.1 file written byte by byte (see TestAEDAT31Bytes for what it holds).
func handBuilt31() []byte {
	var data []byte
	data = append(data, hdr31...)
	data = append(data, packet3(1, 0, 8, 4, 0, 4, 3, 2, bytes.Join([][]byte{
		pol3(true, 5, 7, true, 10),
		pol3(false, 9, 9, true, 11), // invalid: dropped
		pol3(true, 127, 0, false, 20),
		pol3(true, 1, 1, true, 30), // unused slot (beyond eventNumber): never read
	}, nil))...)
	data = append(data, packet3(2, 0, 100, 0, 0, 2, 2, 2, repeat(pol3(true, 3, 3, true, 5), 25))...) // frame
	data = append(data, packet3(3, 0, 36, 4, 0, 1, 1, 1, make([]byte, 36))...)                       // IMU6
	data = append(data, packet3(77, 0, 8, 4, 0, 3, 3, 3, repeat(pol3(true, 4, 4, true, 6), 3))...)   // unknown type
	data = append(data, packet3(0, 0, 8, 4, 0, 4, 4, 3, le32(nil,
		2<<1|1, 25, // rising edge
		3<<1, 25, // invalid special event
		4<<1|1, 26, // pulse
		5<<1|1, 27, // DVS row only: counted, not a trigger
	))...)
	data = append(data, packet3(1, 0, 8, 4, 1, 1, 1, 1, pol3(true, 0, 127, true, 5))...)   // overflow 1: 2^31 + 5
	data = append(data, packet3(1, 1, 8, 4, 1, 1, 1, 1, pol3(true, 9, 9, true, 6))...)     // source 1: not ours
	data = append(data, packet3(0, 0, 8, 4, 1, 1, 1, 1, le32(nil, 1<<1|1, 0x7FFFFFFF))...) // timestamp reset
	data = append(data, packet3(1, 0, 8, 4, 0, 3, 3, 3, bytes.Join([][]byte{
		pol3(true, 2, 3, true, 7),    // new segment: 2^31+5 + 7
		pol3(true, 4, 5, false, 3),   // glitch back in time: clamped
		pol3(true, 200, 5, false, 9), // outside 128x128: dropped
	}, nil))...)
	return data
}

// A hand-built AEDAT 3.1 file exercising every reading rule of docs/formats-aedat.md#aedat-3x-packets: valid bit, unused slots beyond
// eventNumber, other packet types skipped by size, special events as triggers, overflow shift 31, a
// packet of another source, a timestamp reset starting a new segment, a clamp and an out-of-range pixel.
func TestAEDAT31Bytes(t *testing.T) {
	data := handBuilt31()
	seg := int64(1<<31 + 5)
	for _, bufSize := range []int{input.Size, 16, 33} {
		for _, batch := range []int{1, 2, 1 << 16} {
			res, err := decodeAll(t, data, formats.Options{}, bufSize, batch)
			if err != nil || res.err != nil {
				t.Fatal(err, res.err)
			}
			wantEvents(t, res.ev,
				events.Event{T: 10, X: 5, Y: 7, P: 1},
				events.Event{T: 20, X: 127, Y: 0, P: 0},
				events.Event{T: 1<<31 + 5, X: 0, Y: 127, P: 1},
				events.Event{T: seg + 7, X: 2, Y: 3, P: 1},
				events.Event{T: seg + 7, X: 4, Y: 5, P: 0},
			)
			wantTrig := []events.Trigger{{T: 25, Kind: events.TriggerRising, Raw: 2<<1 | 1}, {T: 26, Kind: events.TriggerPulse, Raw: 4<<1 | 1}, {T: seg, Kind: events.TriggerReset, Raw: 1<<1 | 1}}
			if fmt.Sprint(res.trig) != fmt.Sprint(wantTrig) {
				t.Fatalf("triggers %v, want %v", res.trig, wantTrig)
			}
			x := res.meta.Extra
			for k, v := range map[string]any{"invalid_events": int64(2), "unused_slots": int64(1), "packets_other_source": int64(1),
				"timestamp_resets": int64(1), "time_clamped": int64(1), "out_of_range": int64(1), "special_other": int64(1),
				"polarity_packets": int64(3), "triggers": int64(3), "aedat_version": "3.1", "source": 0,
				"header_bytes": int64(len(hdr31)), "header_lines": 6, "start_time": "2017-01-01 10:00:00 (TZ+0100)"} {
				if x[k] != v {
					t.Errorf("Extra[%s] = %v (%T), want %v", k, x[k], x[k], v)
				}
			}
			if fmt.Sprint(x["skipped_packets"]) != "map[frame:1 imu6:1 type77:1]" {
				t.Errorf("skipped_packets %v", x["skipped_packets"])
			}
			if res.meta.Geometry != (events.Geometry{Width: 128, Height: 128}) || res.meta.Format != FormatV3 {
				t.Fatalf("meta %+v", res.meta)
			}
		}
	}
}

// AEDAT 3.0: no end-of-header line, origin lower-left (y = H−1−y); the device must give the height.
func TestAEDAT30(t *testing.T) {
	hdr := "#!AER-DAT3.0\r\n#Format: RAW\r\n#Source 1: DVS128\r\n"
	data := append([]byte(hdr), packet3(1, 1, 8, 4, 0, 2, 2, 2, append(pol3(true, 5, 0, true, 9), pol3(true, 6, 127, false, 10)...))...)
	res := mustDecode(t, data, formats.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantEvents(t, res.ev, events.Event{T: 9, X: 5, Y: 127, P: 1}, events.Event{T: 10, X: 6, Y: 0, P: 0})
	if res.meta.Extra["header_bytes"] != int64(len(hdr)) || res.meta.Extra["header_end"] == "end marker" {
		t.Fatalf("header %v", res.meta.Extra)
	}
	odd := strings.Replace(string(data), "DVS128", "Prototype", 1)
	if _, err := decodeAll(t, []byte(odd), formats.Options{}, 1<<10, 16); err == nil || !errors.Is(err, events.ErrSensor) || !strings.Contains(err.Error(), "give the sensor size") {
		t.Fatalf("3.0 of unknown size: %v", err)
	}
	res, err := decodeAll(t, []byte(odd), formats.Options{Sensor: events.Geometry{Width: 10, Height: 200}}, 1<<10, 16)
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, res.ev, events.Event{T: 9, X: 5, Y: 199, P: 1}, events.Event{T: 10, X: 6, Y: 72, P: 0})
}

// The header end is found with LF-only lines, and without "#!END-HEADER" at all (fallback); the sensor
// size comes from the device, an evtool-sensor comment, or --sensor. With one declared device every
// packet is decoded; with several, the first (or -O source) is, and the others are skipped and counted.
func TestAEDAT31Headers(t *testing.T) {
	pkt := func(src uint16) []byte { return packet3(1, src, 8, 4, 0, 1, 1, 1, pol3(true, 300, 200, true, 1)) }
	for _, c := range []struct {
		name, hdr string
		o         formats.Options
		geom      events.Geometry
		n         int   // events kept (300,200 is outside 128x128)
		other     int64 // packets of another source skipped
	}{
		{"lf", "#!AER-DAT3.1\n#Source 0: DAVIS346B\n#!END-HEADER\n", formats.Options{}, events.Geometry{Width: 346, Height: 260}, 2, 0},
		{"no-end", "#!AER-DAT3.1\r\n#Source 0: DVS128\r\n", formats.Options{}, events.Geometry{Width: 128, Height: 128}, 0, 0},
		{"unknown-device", "#!AER-DAT3.1\r\n#Source 0: Prototype\r\n#!END-HEADER\r\n", formats.Options{}, events.Geometry{}, 2, 0},
		{"evtool-sensor", "#!AER-DAT3.1\r\n#Source 0: evtool\r\n#evtool-sensor: 400x300\r\n#!END-HEADER\r\n", formats.Options{}, events.Geometry{Width: 400, Height: 300}, 2, 0},
		{"sensor-flag", "#!AER-DAT3.1\r\n#Source 0: DVS128\r\n#!END-HEADER\r\n", formats.Options{Sensor: events.Geometry{Width: 640, Height: 480}}, events.Geometry{Width: 640, Height: 480}, 2, 0},
		{"two-sources", "#!AER-DAT3.1\r\n#Source 0: DAVIS346B\r\n#Source 3: DVS128\r\n#!END-HEADER\r\n", formats.Options{}, events.Geometry{Width: 346, Height: 260}, 1, 1},
		{"source-option", "#!AER-DAT3.1\r\n#Source 0: DVS128\r\n#Source 3: DAVIS640\r\n#-Source 9: DVS128\r\n#!END-HEADER\r\n", opts(ParamSource, "3"), events.Geometry{Width: 640, Height: 480}, 1, 1},
		{"no-source", "#!AER-DAT3.1\r\n#!END-HEADER\r\n", formats.Options{}, events.Geometry{}, 2, 0},
	} {
		data := append([]byte(c.hdr), pkt(0)...)
		data = append(data, pkt(3)...)
		res, err := decodeAll(t, data, c.o, 16, 16)
		if err != nil || res.err != nil {
			t.Fatalf("%s: %v %v", c.name, err, res.err)
		}
		if res.meta.Geometry != c.geom || res.ev.Len() != c.n || res.meta.Extra["header_bytes"] != int64(len(c.hdr)) {
			t.Errorf("%s: geometry %v, %d events, header %v; want %v, %d, %d", c.name, res.meta.Geometry, res.ev.Len(),
				res.meta.Extra["header_bytes"], c.geom, c.n, len(c.hdr))
		}
		if res.meta.Extra["packets_other_source"] != c.other {
			t.Errorf("%s: packets_other_source %v, want %d", c.name, res.meta.Extra["packets_other_source"], c.other)
		}
	}
}

// A packet header that breaks the validation rules stops the reader with an error at its offset, after
// the good events; a file cut inside a packet yields the whole slots present, then the truncation.
func TestAEDAT31Faults(t *testing.T) {
	good := append([]byte(hdr31), packet3(1, 0, 8, 4, 0, 2, 2, 2, append(pol3(true, 1, 1, true, 1), pol3(true, 2, 2, true, 2)...))...)
	for name, bad := range map[string][]byte{
		"number>capacity": packet3(1, 0, 8, 4, 0, 1, 2, 1, nil),
		"valid>number":    packet3(1, 0, 8, 4, 0, 2, 1, 2, nil),
		"valid<0":         packet3(1, 0, 8, 4, 0, 2, 1, 0xFFFFFFFF, nil),
		"size 0":          packet3(2, 0, 0, 0, 0, 1, 1, 1, nil),
		"tsOffset":        packet3(1, 0, 8, 5, 0, 1, 1, 1, nil),
		"negative cap":    packet3(1, 0, 8, 4, 0, 0x80000000, 0x80000000, 0, nil),
	} {
		res := mustDecode(t, append(append([]byte(nil), good...), bad...), formats.Options{})
		wantFault(t, res.err, int64(len(good)), false)
		if res.ev.Len() != 2 || !strings.Contains(res.err.Error(), "corrupt packet header") {
			t.Fatalf("%s: %d events, %v", name, res.ev.Len(), res.err)
		}
	}
	// Cut inside the second slot of a 3-slot packet: slot 0 survives.
	cut := append(append([]byte(nil), good...), packet3(1, 0, 8, 4, 0, 3, 3, 3, bytes.Join([][]byte{
		pol3(true, 3, 3, true, 3), pol3(true, 4, 4, true, 4), pol3(true, 5, 5, true, 5)}, nil))...)
	cutAt := len(good) + 28 + 8 + 5
	for _, batch := range []int{1, 100} {
		res, _ := decodeAll(t, cut[:cutAt], formats.Options{}, 16, batch)
		wantFault(t, res.err, int64(len(good)+28+8), true)
		if res.ev.Len() != 3 {
			t.Fatalf("%d events before the cut, want 3", res.ev.Len())
		}
	}
	// Cut inside a packet header.
	res := mustDecode(t, cut[:len(good)+10], formats.Options{})
	wantFault(t, res.err, int64(len(good)), true)
	// Cut inside a skipped frame packet.
	frame := append(append([]byte(nil), good...), packet3(2, 0, 100, 0, 0, 2, 2, 2, make([]byte, 200))...)
	res = mustDecode(t, frame[:len(frame)-50], formats.Options{})
	wantFault(t, res.err, int64(len(frame)-50), true)
	if res.ev.Len() != 2 || !strings.Contains(res.err.Error(), "frame packet") {
		t.Fatalf("%d events, %v", res.ev.Len(), res.err)
	}
}

// The writer's bytes, checked against a hand-built file (so the round trip below cannot hide a shared
// misunderstanding of the layout).
func TestWriter31Bytes(t *testing.T) {
	var buf bytes.Buffer
	w, err := writer31(&buf, events.Geometry{Width: 128, Height: 128}, writer31Options{eventsPerPacket: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(events.FromEvents(events.Event{T: 10, X: 5, Y: 7, P: 1}, events.Event{T: 1<<31 + 3, X: 127, Y: 0, P: 0},
		events.Event{T: 1<<31 + 4, X: 0, Y: 127, P: 1}, events.Event{T: 1<<31 + 4, X: 1, Y: 2, P: 0})); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTrigger(events.Trigger{T: 1<<31 + 9, Kind: events.TriggerFalling}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := []byte("#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 0: DVS128\r\n#!END-HEADER\r\n")
	want = append(want, packet3(1, 0, 8, 4, 0, 1, 1, 1, pol3(true, 5, 7, true, 10))...)
	want = append(want, packet3(1, 0, 8, 4, 1, 2, 2, 2, append(pol3(true, 127, 0, false, 3), pol3(true, 0, 127, true, 4)...))...)
	want = append(want, packet3(1, 0, 8, 4, 1, 1, 1, 1, pol3(true, 1, 2, false, 4))...)
	want = append(want, packet3(0, 0, 8, 4, 1, 1, 1, 1, le32(nil, 3<<1|1, 9))...)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("writer output differs from the hand-built file:\n got %x\nwant %x", buf.Bytes(), want)
	}
}

// Property: events → AEDAT 3.1 → events is the identity, for known and unknown devices, packet sizes
// from 1 event up, with unused slots, interleaved invalid events, frame/IMU packets and triggers, and
// times across many 31-bit overflows.
func TestRoundTrip31(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, g := range []events.Geometry{{Width: 128, Height: 128}, {Width: 346, Height: 260}, {Width: 200, Height: 100}, {Width: 1 << 15, Height: 1 << 15}} {
		W, H := uint16(g.Width), uint16(g.Height)
		cases := map[string]*events.Batch{
			"empty":     events.NewBatch(0),
			"single":    events.FromEvents(events.Event{T: 0}),
			"corners":   events.FromEvents(events.Event{T: 0, X: W - 1, Y: H - 1, P: 1}, events.Event{T: 0, X: 0, Y: H - 1}, events.Event{T: 1 << 31, X: W - 1, P: 1}),
			"random":    randomEvents(rng, 10000, g.Width, g.Height, 53036986, 40),
			"overflows": randomEvents(rng, 300, g.Width, g.Height, 1<<31-1000, 1<<29),
			"late":      randomEvents(rng, 100, g.Width, g.Height, 1<<50, 1000),
		}
		for name, want := range cases {
			for _, o := range []writer31Options{{}, {eventsPerPacket: 1}, {eventsPerPacket: 7, spareSlots: 3, source: 2, startTime: time.Unix(1500000000, 0).UTC()}} {
				var buf bytes.Buffer
				w, err := writer31(&buf, g, o)
				if err != nil {
					t.Fatal(err)
				}
				var wantTrig []events.Trigger
				invalid := int64(0)
				for i := 0; i < want.Len(); {
					j := min(want.Len(), i+1+rng.IntN(50))
					t0 := want.T[i]
					switch rng.IntN(4) {
					case 0:
						if err := w.WriteInvalid(events.Event{T: t0, X: W - 1, Y: H - 1, P: 1}); err != nil {
							t.Fatal(err)
						}
						invalid++
					case 1:
						frame := make([]byte, 2*64)
						for k := range frame {
							frame[k] = byte(rng.IntN(256))
						}
						if err := w.WritePacket(PacketHeader{Type: 2, Source: o.source, Size: 64, TSOffset: 8, Capacity: 2, Number: 1, Valid: 1}, frame); err != nil {
							t.Fatal(err)
						}
					case 2:
						tr := events.Trigger{T: t0, Kind: events.TriggerRising + events.TriggerKind(rng.IntN(3))}
						if err := w.WriteTrigger(tr); err != nil {
							t.Fatal(err)
						}
						tr.Raw = map[events.TriggerKind]uint32{events.TriggerRising: 5, events.TriggerFalling: 7, events.TriggerPulse: 9}[tr.Kind]
						wantTrig = append(wantTrig, tr)
					}
					part := want.Slice(i, j)
					if err := w.Write(&part); err != nil {
						t.Fatal(err)
					}
					i = j
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				res, err := decodeAll(t, buf.Bytes(), formats.Options{}, 1<<12, 1000)
				if err != nil || res.err != nil {
					t.Fatalf("%v/%s: %v %v", g, name, err, res.err)
				}
				if d := res.ev.FirstDifference(want); d >= 0 {
					t.Fatalf("%v/%s/%+v: first difference at event %d of %d", g, name, o, d, want.Len())
				}
				if fmt.Sprint(res.trig) != fmt.Sprint(wantTrig) {
					t.Fatalf("%v/%s: triggers %v, want %v", g, name, res.trig, wantTrig)
				}
				x := res.meta.Extra
				if x["invalid_events"] != invalid || x["time_clamped"] != int64(0) || res.meta.Geometry != g {
					t.Fatalf("%v/%s: meta %+v (invalid written %d)", g, name, res.meta, invalid)
				}
			}
		}
	}
}

// The writer refuses what AEDAT 3.1 cannot hold.
func TestWriter31Refuses(t *testing.T) {
	g := events.Geometry{Width: 128, Height: 128}
	for _, c := range []struct {
		name string
		b    *events.Batch
		want string
	}{
		{"outside", events.FromEvents(events.Event{X: 128}), "does not fit"},
		{"backwards", events.FromEvents(events.Event{T: 9}, events.Event{T: 8}), "time order"},
		{"negative", events.FromEvents(events.Event{T: -1}), "negative"},
	} {
		w, _ := writer31(&bytes.Buffer{}, g, writer31Options{})
		if err := w.Write(c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", c.name, err, c.want)
		}
	}
	if _, err := writer31(&bytes.Buffer{}, events.Geometry{}, writer31Options{}); err == nil {
		t.Error("unknown geometry accepted")
	}
	w, _ := writer31(&bytes.Buffer{}, g, writer31Options{})
	if err := w.WritePacket(PacketHeader{Type: 2, Size: 8, Capacity: 2, Number: 2}, make([]byte, 8)); err == nil {
		t.Error("payload of the wrong size accepted")
	}
}

// Through the registry: Create31 from meta, atomic output, read back by detection.
func TestRegistry31(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gesture.aedat")
	f, err := formats.OutputFormat(path, FormatV3)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := f.Create(path, events.Meta{Geometry: events.Geometry{Width: 128, Height: 128}}, opts(ParamEventsPerPacket, "3"))
	if err != nil {
		t.Fatal(err)
	}
	want := randomEvents(rand.New(rand.NewPCG(1, 1)), 100, 128, 128, 1000, 10)
	if err := sink.Events.Write(want); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	src, ff, err := formats.Open(path, "", formats.Options{})
	if err != nil || ff.Name != FormatV3 {
		t.Fatal(err, ff)
	}
	got, err := events.ReadAll(src.Events)
	if err != nil || !got.Equal(want) {
		t.Fatalf("read back %d events (%v)", got.Len(), err)
	}
	if src.Meta().Extra["polarity_packets"] != int64(34) {
		t.Fatalf("polarity_packets = %v, want 34 (3 events each)", src.Meta().Extra["polarity_packets"])
	}
	src.Close()
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
	if s, _, err := formats.Open(path, FormatV2, formats.Options{}); err != nil {
		t.Fatalf("--from aedat2 on a 3.1 file should still read it by its version line: %v", err)
	} else {
		s.Close()
	}
}
