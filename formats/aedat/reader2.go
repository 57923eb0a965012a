package aedat

import (
	"encoding/binary"
	"fmt"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
)

// maxTriggersPerRead bounds the triggers one Read call collects; a Read stops early (possibly with no
// events) when it is reached, so a trigger-only file still streams in constant memory.
const maxTriggersPerRead = 1 << 16

// Reader2 streams an AEDAT 1.0 or 2.0 file.
type Reader2 struct {
	in      *input.Input
	name    string
	version string
	hdr     *header2
	recSize int // 6 (AEDAT 1.0) or 8
	dec     decoder2
	meta    events.Meta
	opts    formats.Options
	watch   formats.DecodeWatch
}

// decoder2 turns address/timestamp records into events and triggers. It carries the clock (wrap and
// clamp) and the counters across buffer refills.
type decoder2 struct {
	chip       Chip
	bit10Event bool // -O davis-bit10=event
	w1, h1     uint32

	hi   int64  // time offset (header offset + 2^32 per wrap)
	last uint32 // last accepted raw timestamp

	trig []events.Trigger

	wraps, clamped, triggers, aps, imu, invalid, outOfRange int64
}

// time turns a raw 32-bit timestamp into µs: a backward step of more than 2^31 is a wrap (+2^32); a
// smaller one is a glitch and keeps the previous time.
func (d *decoder2) time(raw uint32) int64 {
	if raw < d.last {
		if d.last-raw > 1<<31 {
			d.hi += 1 << 32
			d.wraps++
			d.last = raw
		} else {
			d.clamped++
			raw = d.last
		}
	} else {
		d.last = raw
	}
	return d.hi + int64(raw)
}

func newReader2(in *input.Input, name, version string, o formats.Options) (*Reader2, error) {
	v1 := version == "1.0"
	versionLines := 1
	if v1 && in.Offset() == 0 {
		versionLines = 0
	}
	h, err := parseHeader2(in, name, v1, versionLines)
	if err != nil {
		return nil, err
	}
	r := &Reader2{in: in, name: name, version: version, hdr: h, recSize: 8, opts: o, watch: formats.NewDecodeWatch(name)}
	if v1 {
		r.recSize = 6
	}
	chip, err := selectChip(h.chipClass, v1, o)
	if err != nil {
		if in.Fill(1) > 0 || in.Failed() {
			return nil, fmt.Errorf("%s: at byte %d: %w", name, h.size, err)
		}
		chip = Chip{} // no record follows the header: no layout is needed, the sensor size is unknown
	}
	bit10 := o.Param(ParamDavisBit10, "trigger")
	switch bit10 {
	case "trigger":
	case "event":
		r.dec.bit10Event = true
	default:
		return nil, o.BadParam(ParamDavisBit10, "want trigger or event")
	}
	r.dec.chip = chip
	r.dec.w1, r.dec.h1 = uint32(chip.Width-1), uint32(chip.Height-1)
	r.dec.hi = h.timeOffset
	format := FormatV2
	if v1 {
		format = FormatV1
	}
	r.meta = events.Meta{Format: format, Kind: events.KindRecording, Geometry: chip.Geometry(), Source: name}
	return r, nil
}

// selectChip picks the address layout: -O chip wins, then the header's AEChip class; AEDAT 1.0 is
// always DVS128 (16-bit addresses). The error names the class found when none applies.
func selectChip(class string, v1 bool, o formats.Options) (Chip, error) {
	if name := o.Param(ParamChip, ""); name != "" {
		c, err := ChipByName(name)
		if err != nil {
			return Chip{}, o.BadParam(ParamChip, "%v", err)
		}
		if v1 && c.DAVIS {
			return Chip{}, o.BadParam(ParamChip, "AEDAT 1.0 stores 16-bit DVS128 addresses only")
		}
		return c, nil
	}
	if v1 {
		return Chips[0], nil
	}
	if c, ok := chipForClass(class); ok {
		return c, nil
	}
	if c, ok := ChipForGeometry(o.Sensor); ok {
		return c, nil
	}
	if class == "" {
		return Chip{}, formats.OptionErrorf("the header has no # AEChip: line, so the address layout is unknown; set the format option %s=<%s>",
			ParamChip, chipNames())
	}
	return Chip{}, formats.OptionErrorf("AEChip class %q has no known address layout; set the format option %s=<%s>", class, ParamChip, chipNames())
}

// Version is "1.0" or "2.0".
func (r *Reader2) Version() string { return r.version }

// Triggers returns the sync/external-input records of the most recent Read.
func (r *Reader2) Triggers() []events.Trigger { return r.dec.trig }

// Close closes the underlying file.
func (r *Reader2) Close() error { return r.in.Close() }

// Meta describes the stream; Extra carries the header details and the decoder's counters so far.
func (r *Reader2) Meta() events.Meta {
	m := r.meta
	d := &r.dec
	m.Extra = map[string]any{
		"aedat_version": r.version,
		"chip":          d.chip.Name,
		"header_bytes":  r.hdr.size,
		"header_lines":  r.hdr.lines,
		"header_end":    headerEnd(r.hdr.endMarker),
		"triggers":      d.triggers,
		"time_clamped":  d.clamped,
		"time_wraps":    d.wraps,
		"out_of_range":  d.outOfRange,
		"invalid_words": d.invalid,
	}
	if d.chip.DAVIS {
		m.Extra["aps_words"] = d.aps
		m.Extra["imu_words"] = d.imu
	}
	for k, v := range map[string]string{"aechip": r.hdr.chipClass, "hardware_interface": r.hdr.hardware,
		"creation_date": r.hdr.created, "creation_time_ms": r.hdr.createdMs, "data_start_time_ms": r.hdr.dataStartMs} {
		if v != "" {
			m.Extra[k] = v
		}
	}
	if r.hdr.timeOffset != 0 {
		m.Extra["time_offset_us"] = r.hdr.timeOffset
	}
	return m
}

// Read fills dst with the next events (up to cap(dst.T), or 65536 when dst has no capacity).
func (r *Reader2) Read(dst *events.Batch) error {
	dst.Reset()
	r.dec.trig = r.dec.trig[:0]
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	in := r.in
	off := in.Offset()
	for dst.Len() < want && len(r.dec.trig) < maxTriggersPerRead {
		b := in.Bytes()
		if len(b) < r.recSize {
			if in.Fill(r.recSize) < r.recSize {
				break
			}
			continue
		}
		n := min(len(b)/r.recSize, want-dst.Len(), maxTriggersPerRead-len(r.dec.trig))
		chunk := b[:n*r.recSize]
		if r.recSize == 6 {
			r.dec.decodeV1(chunk, dst)
		} else if r.dec.chip.DAVIS {
			r.dec.decodeDAVIS(chunk, dst)
		} else {
			r.dec.decodeDVS128(chunk, dst)
		}
		in.Advance(n * r.recSize)
	}
	if err := r.watch.Check(r.opts, r.dec.outOfRange, r.dec.clamped, off); err != nil {
		in.Fail(err)
	}
	if dst.Len() > 0 || len(r.dec.trig) > 0 {
		return nil
	}
	return in.End(fmt.Sprintf("an event record of %d bytes", r.recSize))
}

// grow makes room for n more events in dst and returns the four columns' free parts.
func grow(dst *events.Batch, n int) (T []int64, X, Y []uint16, P []uint8) {
	start := dst.Len()
	dst.Grow(n)
	return dst.T[start : start+n], dst.X[start : start+n], dst.Y[start : start+n], dst.P[start : start+n]
}

// commit extends dst by the j events written into its free parts.
func commit(dst *events.Batch, j int) {
	n := dst.Len() + j
	dst.T, dst.X, dst.Y, dst.P = dst.T[:n], dst.X[:n], dst.Y[:n], dst.P[:n]
}

func (d *decoder2) trigger(t int64, kind events.TriggerKind, raw uint32) {
	d.trig = append(d.trig, events.Trigger{T: t, Kind: kind, Raw: raw})
	d.triggers++
}

// decodeDVS128 decodes whole 8-byte DVS128 records: raw polarity 0 is ON, x and y are flipped.
// Bit 15 (sync) and bit 31 (special) words are triggers; other words with bits 30..16 set are invalid.
func (d *decoder2) decodeDVS128(src []byte, dst *events.Batch) {
	n := len(src) / 8
	T, X, Y, P := grow(dst, n)
	j := 0
	for i := 0; i+8 <= len(src); i += 8 {
		rec := src[i : i+8 : i+8]
		a := binary.BigEndian.Uint32(rec)
		raw := binary.BigEndian.Uint32(rec[4:])
		if a&0xFFFF8000 != 0 {
			switch {
			case a&0x80000000 != 0:
				d.trigger(d.time(raw), events.TriggerSpecial, a)
			case a&0x8000 != 0:
				d.trigger(d.time(raw), events.TriggerSync, a)
			default:
				d.invalid++
			}
			continue
		}
		if j >= len(T) || j >= len(X) || j >= len(Y) || j >= len(P) {
			break // unreachable (j counts kept records, at most n); lets the compiler drop the bounds checks below
		}
		T[j] = d.time(raw)
		X[j] = uint16(127 - (a>>1)&0x7F)
		Y[j] = uint16(127 - (a>>8)&0x7F)
		P[j] = uint8(1 - a&1)
		j++
	}
	commit(dst, j)
}

// decodeV1 decodes whole 6-byte AEDAT 1.0 records: a 16-bit DVS128 address and a 32-bit timestamp.
func (d *decoder2) decodeV1(src []byte, dst *events.Batch) {
	n := len(src) / 6
	T, X, Y, P := grow(dst, n)
	j := 0
	for i := 0; i+6 <= len(src); i += 6 {
		rec := src[i : i+6 : i+6]
		a := uint32(binary.BigEndian.Uint16(rec))
		raw := binary.BigEndian.Uint32(rec[2:])
		if a&0x8000 != 0 {
			d.trigger(d.time(raw), events.TriggerSync, a)
			continue
		}
		if j >= len(T) || j >= len(X) || j >= len(Y) || j >= len(P) {
			break
		}
		T[j] = d.time(raw)
		X[j] = uint16(127 - (a>>1)&0x7F)
		Y[j] = uint16(127 - (a>>8)&0x7F)
		P[j] = uint8(1 - a&1)
		j++
	}
	commit(dst, j)
}

// decodeDAVIS decodes whole 8-byte DAVIS records. Bit 31 words (APS samples, IMU) are skipped
// and counted; bit 10 words are external-input triggers unless -O davis-bit10=event; DVS words outside
// the sensor are dropped and counted.
func (d *decoder2) decodeDAVIS(src []byte, dst *events.Batch) {
	n := len(src) / 8
	T, X, Y, P := grow(dst, n)
	j := 0
	w1, h1 := d.w1, d.h1
	for i := 0; i+8 <= len(src); i += 8 {
		rec := src[i : i+8 : i+8]
		a := binary.BigEndian.Uint32(rec)
		raw := binary.BigEndian.Uint32(rec[4:])
		if a&0x80000000 != 0 {
			if a&0xC00 == 0xC00 {
				d.imu++
			} else {
				d.aps++
			}
			continue
		}
		if a&0x400 != 0 && !d.bit10Event {
			kind := events.TriggerExternal
			switch a & 0x3FF {
			case 2:
				kind = events.TriggerFalling
			case 3:
				kind = events.TriggerRising
			case 4:
				kind = events.TriggerPulse
			}
			d.trigger(d.time(raw), kind, a)
			continue
		}
		t := d.time(raw)
		rx, ry := (a>>12)&0x3FF, (a>>22)&0x1FF
		if rx > w1 || ry > h1 {
			d.outOfRange++
			continue
		}
		if j >= len(T) || j >= len(X) || j >= len(Y) || j >= len(P) {
			break
		}
		T[j] = t
		X[j] = uint16(w1 - rx)
		Y[j] = uint16(h1 - ry)
		P[j] = uint8((a >> 11) & 1)
		j++
	}
	commit(dst, j)
}

// headerEnd says how the header end was found, for `evtool info`.
func headerEnd(marker bool) string {
	if marker {
		return "end marker"
	}
	return "first line not starting with #"
}
