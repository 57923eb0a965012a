package aedat

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
)

// AEDAT 3.x packet constants.
const (
	PacketHeaderSize = 28
	TypeSpecial      = 0
	TypePolarity     = 1
	// maxDecodedEventSize bounds the slot size of a packet we decode (polarity and special events are
	// 8 bytes); a larger slot is skipped by size, so one slot never needs more than this in memory.
	maxDecodedEventSize = 4096
	maxSegmentsListed   = 1000
)

// Special event types of libcaer's special.h that evtool acts on.
const (
	specialTimestampReset = 1
	specialRising         = 2
	specialFalling        = 3
	specialPulse          = 4
)

var packetTypeNames = [...]string{"special", "polarity", "frame", "imu6", "imu9", "sample", "ear", "config",
	"point1d", "point2d", "point3d", "point4d", "spike"}

func packetTypeName(t int16) string {
	if t >= 0 && int(t) < len(packetTypeNames) {
		return packetTypeNames[t]
	}
	return "type" + strconv.Itoa(int(t))
}

// PacketHeader is the 28-byte little-endian header of every AEDAT 3.x packet.
type PacketHeader struct {
	Type       int16 // 0 special, 1 polarity, 2 frame, 3 IMU6, …
	Source     int16 // matches a "#Source <id>" header line
	Size       int32 // bytes per event slot
	TSOffset   int32 // byte offset of the int32 timestamp inside a slot
	TSOverflow int32 // number of 31-bit timestamp overflows
	Capacity   int32 // slots stored
	Number     int32 // slots in use (valid + invalid)
	Valid      int32 // valid events
}

func parsePacketHeader(b []byte) PacketHeader {
	le := binary.LittleEndian
	return PacketHeader{
		Type: int16(le.Uint16(b)), Source: int16(le.Uint16(b[2:])),
		Size: int32(le.Uint32(b[4:])), TSOffset: int32(le.Uint32(b[8:])), TSOverflow: int32(le.Uint32(b[12:])),
		Capacity: int32(le.Uint32(b[16:])), Number: int32(le.Uint32(b[20:])), Valid: int32(le.Uint32(b[24:])),
	}
}

func (h PacketHeader) put(b []byte) {
	le := binary.LittleEndian
	le.PutUint16(b, uint16(h.Type))
	le.PutUint16(b[2:], uint16(h.Source))
	for i, v := range []int32{h.Size, h.TSOffset, h.TSOverflow, h.Capacity, h.Number, h.Valid} {
		le.PutUint32(b[4+4*i:], uint32(v))
	}
}

// check applies the validation rules of libcaer's packet header; a violation means the file is corrupt from here on.
func (h PacketHeader) check() error {
	if h.Valid < 0 || h.Valid > h.Number || h.Number > h.Capacity || h.Size < 1 || h.TSOffset < 0 || h.TSOffset > h.Size-4 {
		return fmt.Errorf("corrupt packet header (eventType %d, eventSize %d, eventTSOffset %d, eventCapacity %d, eventNumber %d, eventValid %d): want 0 ≤ valid ≤ number ≤ capacity, size ≥ 1 and 0 ≤ tsOffset ≤ size−4",
			h.Type, h.Size, h.TSOffset, h.Capacity, h.Number, h.Valid)
	}
	return nil
}

// Reader3 streams the polarity events of an AEDAT 3.0 or 3.1 file.
type Reader3 struct {
	in      *input.Input
	name    string
	version string
	hdr     *header3
	source  int  // event source whose device gives the geometry; -1: none declared
	filter  bool // decode only packets of source (several sources declared, or -O source)
	dec     decoder3

	pkt       PacketHeader // packet being read
	pktOffset int64
	left      int   // slots of pkt still to decode
	skip      int64 // bytes of pkt to skip after them
	meta      events.Meta
	opts      formats.Options
	watch     formats.DecodeWatch
}

// decoder3 decodes event slots; it carries the clock and the counters across packets.
type decoder3 struct {
	w, h  uint32 // sensor bounds (2^15 when unknown: any 15-bit coordinate is kept)
	flipY bool   // AEDAT 3.0: origin lower-left

	segOffset int64 // added to device time; moves on each timestamp reset
	last      int64 // latest time handed out (output is non-decreasing)
	trig      []events.Trigger
	segments  []map[string]any

	events, invalid, outOfRange, clamped, triggers, resets  int64
	polarityPackets, unusedSlots, otherSource, specialOther int64
	skipped                                                 map[string]int64
}

func newReader3(in *input.Input, name, version string, o formats.Options) (*Reader3, error) {
	h, err := parseHeader3(in, name, 1)
	if err != nil {
		return nil, err
	}
	r := &Reader3{in: in, name: name, version: version, hdr: h, source: -1, opts: o, watch: formats.NewDecodeWatch(name)}
	r.dec.skipped = map[string]int64{}
	device := ""
	if s := o.Param(ParamSource, ""); s != "" {
		id, err := strconv.Atoi(s)
		if err != nil || id < 0 || id >= 1<<15 {
			return nil, o.BadParam(ParamSource, "want an event source id (0..32767)")
		}
		r.source, r.filter = id, true
		for _, src := range h.sources {
			if src.id == id {
				device = src.device
			}
		}
	} else if len(h.sources) > 0 {
		// With one declared device every packet is its own, whatever id it carries; with several, the
		// first one is decoded and the others are skipped (and counted).
		r.source, device = h.sources[0].id, h.sources[0].device
		r.filter = len(h.sources) > 1
	}
	g := o.Sensor
	if !g.Known() {
		if dg, ok := deviceGeometry(device); ok {
			g = dg
		} else {
			g = h.sensor
		}
	}
	r.dec.w, r.dec.h = 1<<15, 1<<15
	if g.Known() {
		r.dec.w, r.dec.h = uint32(g.Width), uint32(g.Height)
	}
	if version == "3.0" {
		if !g.Known() {
			return nil, &events.DecodeError{Path: name, Offset: h.size,
				Msg: fmt.Sprintf("AEDAT 3.0 counts y from the bottom, so the sensor height is needed, but the source device %q is not known", device),
				Err: events.SensorErrorf("give the sensor size")}
		}
		r.dec.flipY = true
	}
	r.meta = events.Meta{Format: FormatV3, Kind: events.KindRecording, Geometry: g, Source: name}
	return r, nil
}

// Version is "3.0" or "3.1".
func (r *Reader3) Version() string { return r.version }

// Triggers returns the external-input and timestamp-reset records of the most recent Read.
func (r *Reader3) Triggers() []events.Trigger { return r.dec.trig }

// Close closes the underlying file.
func (r *Reader3) Close() error { return r.in.Close() }

// Meta describes the stream; Extra carries the header details and the decoder's counters so far.
func (r *Reader3) Meta() events.Meta {
	m := r.meta
	d := &r.dec
	skipped := make(map[string]int64, len(d.skipped))
	for k, v := range d.skipped {
		skipped[k] = v
	}
	sources := make([]string, len(r.hdr.sources))
	for i, s := range r.hdr.sources {
		sources[i] = fmt.Sprintf("%d: %s", s.id, s.device)
	}
	m.Extra = map[string]any{
		"aedat_version":        r.version,
		"header_bytes":         r.hdr.size,
		"header_lines":         r.hdr.lines,
		"header_end":           headerEnd(r.hdr.endMarker),
		"sources":              sources,
		"polarity_packets":     d.polarityPackets,
		"skipped_packets":      skipped,
		"invalid_events":       d.invalid,
		"unused_slots":         d.unusedSlots,
		"out_of_range":         d.outOfRange,
		"time_clamped":         d.clamped,
		"triggers":             d.triggers,
		"timestamp_resets":     d.resets,
		"packets_other_source": d.otherSource,
		"special_other":        d.specialOther,
	}
	if r.source >= 0 {
		m.Extra["source"] = r.source
	}
	if r.hdr.format != "" {
		m.Extra["data_format"] = r.hdr.format
	}
	if r.hdr.startTime != "" {
		m.Extra["start_time"] = r.hdr.startTime
	}
	if len(d.segments) > 0 {
		m.Extra["segments"] = append([]map[string]any(nil), d.segments...)
	}
	return m
}

// Read fills dst with the next events (up to cap(dst.T), or 65536 when dst has no capacity).
func (r *Reader3) Read(dst *events.Batch) error {
	dst.Reset()
	r.dec.trig = r.dec.trig[:0]
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	in := r.in
	off := in.Offset()
packets:
	for dst.Len() < want && len(r.dec.trig) < maxTriggersPerRead && !in.Failed() {
		switch {
		case r.left > 0:
			size := int(r.pkt.Size)
			if in.Fill(size) < size {
				in.Stop(r.truncated())
				break
			}
			b := in.Bytes()
			n := min(r.left, len(b)/size)
			if r.pkt.Type == TypePolarity {
				n = min(n, want-dst.Len())
				r.dec.polarity(b[:n*size], size, int(r.pkt.TSOffset), r.pkt.TSOverflow, dst)
			} else {
				n = min(n, maxTriggersPerRead-len(r.dec.trig))
				r.dec.special(b[:n*size], size, int(r.pkt.TSOffset), r.pkt.TSOverflow)
			}
			in.Advance(n * size)
			r.left -= n
		case r.skip > 0:
			if r.skip -= in.Skip(r.skip); r.skip > 0 {
				in.Stop(r.truncated())
			}
		default:
			if in.Fill(PacketHeaderSize) < PacketHeaderSize {
				if in.Buffered() > 0 {
					in.Stop(r.truncated())
				}
				break packets
			}
			r.startPacket()
		}
	}
	if err := r.watch.Check(r.opts, r.dec.outOfRange, r.dec.clamped, off); err != nil {
		in.Fail(err)
	}
	if dst.Len() > 0 || len(r.dec.trig) > 0 {
		return nil
	}
	return in.End("a packet")
}

// startPacket consumes a packet header and decides what to do with the payload: decode the used slots
// of polarity and special packets of our source, skip everything else by size.
func (r *Reader3) startPacket() {
	in := r.in
	r.pktOffset = in.Offset()
	h := parsePacketHeader(in.Bytes()[:PacketHeaderSize])
	if err := h.check(); err != nil {
		in.Stop(in.Errorf(r.pktOffset, nil, "%v", err))
		return
	}
	in.Advance(PacketHeaderSize)
	r.pkt = h
	total := int64(h.Capacity) * int64(h.Size)
	decodable := (h.Type == TypePolarity || h.Type == TypeSpecial) && h.Size <= maxDecodedEventSize
	if decodable && r.filter && int(h.Source) != r.source {
		r.dec.otherSource++
		decodable = false
	} else if !decodable {
		r.dec.skipped[packetTypeName(h.Type)]++
	}
	if !decodable {
		r.left, r.skip = 0, total
		return
	}
	if h.Type == TypePolarity {
		r.dec.polarityPackets++
	}
	r.dec.unusedSlots += int64(h.Capacity - h.Number)
	r.left = int(h.Number)
	r.skip = total - int64(h.Number)*int64(h.Size)
}

// truncated describes the end of the input in the middle of a packet (a read failure, when there was
// one, is kept by the input and wins).
func (r *Reader3) truncated() error {
	in := r.in
	if r.left == 0 && r.skip == 0 {
		return in.Truncated(in.Offset(), "file ends inside a 28-byte packet header (%d bytes present)", in.Buffered())
	}
	missing := int64(r.left)*int64(r.pkt.Size) + r.skip - int64(in.Buffered())
	return in.Truncated(in.Offset(), "file ends inside the %s packet that starts at byte %d (%d payload bytes missing)",
		packetTypeName(r.pkt.Type), r.pktOffset, missing)
}

// polarity decodes whole polarity slots: valid bit 0, polarity bit 1 (1 = ON), y bits 16..2,
// x bits 31..17, and t = overflow·2^31 + the 31-bit timestamp. Invalid slots and coordinates outside the
// sensor are dropped and counted; a time earlier than the last one is clamped.
func (d *decoder3) polarity(src []byte, size, tsOff int, overflow int32, dst *events.Batch) {
	n := len(src) / size
	T, X, Y, P := grow(dst, n)
	base := d.segOffset + int64(overflow)<<31
	w, h, last := d.w, d.h, d.last
	j := 0
	if size == 8 && tsOff == 4 && !d.flipY {
		// The layout every libcaer file uses: one tight loop.
		for rest := src; len(rest) >= 8; rest = rest[8:] {
			rec := rest[:8]
			data := binary.LittleEndian.Uint32(rec)
			x, y := data>>17, (data>>2)&0x7FFF
			if data&1 == 0 || x >= w || y >= h {
				if data&1 == 0 {
					d.invalid++
				} else {
					d.outOfRange++
				}
				continue
			}
			t := base + int64(binary.LittleEndian.Uint32(rec[4:])&0x7FFFFFFF)
			if t < last {
				t = last
				d.clamped++
			}
			last = t
			if j >= len(T) || j >= len(X) || j >= len(Y) || j >= len(P) {
				break // unreachable (j counts kept records, at most n); lets the compiler drop the bounds checks below
			}
			T[j], X[j], Y[j], P[j] = t, uint16(x), uint16(y), uint8(data>>1)&1
			j++
		}
	} else {
		for i := 0; i < n; i++ {
			rec := src[i*size : i*size+size]
			data := binary.LittleEndian.Uint32(rec)
			x, y := data>>17, (data>>2)&0x7FFF
			if data&1 == 0 {
				d.invalid++
				continue
			}
			if x >= w || y >= h {
				d.outOfRange++
				continue
			}
			if d.flipY {
				y = h - 1 - y
			}
			t := base + int64(binary.LittleEndian.Uint32(rec[tsOff:])&0x7FFFFFFF)
			if t < last {
				t = last
				d.clamped++
			}
			last = t
			T[j], X[j], Y[j], P[j] = t, uint16(x), uint16(y), uint8(data>>1)&1
			j++
		}
	}
	d.last = last
	commit(dst, j)
	d.events += int64(j)
}

// special decodes whole special-event slots: types 2..4 (external input edges) become triggers; type 1
// (timestamp reset) becomes a reset trigger and starts a new time segment, so that the device's restarted
// clock continues from the last time handed out instead of going back; other types are counted.
func (d *decoder3) special(src []byte, size, tsOff int, overflow int32) {
	n := len(src) / size
	base := d.segOffset + int64(overflow)<<31
	for i := 0; i < n; i++ {
		rec := src[i*size : i*size+size]
		data := binary.LittleEndian.Uint32(rec)
		if data&1 == 0 {
			d.invalid++
			continue
		}
		kind := events.TriggerExternal
		switch (data >> 1) & 0x7F {
		case specialTimestampReset:
			// libcaer stamps the reset itself with INT32_MAX on the old clock; it belongs at the last time.
			d.resets++
			d.trigger(d.last, events.TriggerReset, data)
			d.segOffset = d.last
			// Same formula as at the top, so the result cannot depend on where a refill split the packet.
			base = d.segOffset + int64(overflow)<<31
			if len(d.segments) < maxSegmentsListed {
				d.segments = append(d.segments, map[string]any{
					"segment": d.resets, "offset_us": d.segOffset, "first_event": d.events})
			}
			continue
		case specialRising:
			kind = events.TriggerRising
		case specialFalling:
			kind = events.TriggerFalling
		case specialPulse:
			kind = events.TriggerPulse
		default:
			d.specialOther++
			continue
		}
		t := base + int64(binary.LittleEndian.Uint32(rec[tsOff:])&0x7FFFFFFF)
		if t < d.last {
			t = d.last
			d.clamped++
		}
		d.last = t
		d.trigger(t, kind, data)
	}
}

func (d *decoder3) trigger(t int64, kind events.TriggerKind, raw uint32) {
	d.trig = append(d.trig, events.Trigger{T: t, Kind: kind, Raw: raw})
	d.triggers++
}
