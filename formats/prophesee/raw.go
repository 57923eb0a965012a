package prophesee

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"os"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
)

// RawReader streams CD events from a Prophesee `.raw` file in EVT 2.0 or EVT 3.0. Decoder state (time
// base, y, vector base…) lives in the reader, so words are decoded across buffer refills and across Read
// calls in constant memory.
type RawReader struct {
	in       *input.Input
	hdr      header
	version  int  // 2 or 3
	bigEnd   bool // words are big-endian (-O endian=big)
	geom     events.Geometry
	geomFrom string
	maxX     uint32 // exclusive bounds for dropping out-of-range events
	maxY     uint32

	// counters for Meta().Extra
	counts     [16]int64 // words per type nibble
	words      int64
	dropped    int64 // CD events outside the sensor
	clamped    int64 // events whose time went backwards and was clamped
	glitches   int64 // EVT3 TIME_HIGH words ignored by the robust rules
	wraps      int64
	beforeHigh int64 // EVT2 CD/trigger words before the first TIME_HIGH (discarded)
	reserved   int64 // reserved word types (skipped)
	nTriggers  int64
	triggers   []events.Trigger // triggers decoded during the last Read

	// time state shared by both encodings
	haveHigh  bool
	rawHigh   int64 // last accepted raw TIME_HIGH value
	base      int64 // wraps · period
	t         int64 // EVT3 time state (follows TIME_LOW/TIME_HIGH); EVT2 time of the last CD event
	lastEv    int64 // EVT3 time of the last event emitted
	evT       int64 // EVT3 time given to events: max(t, time of the last event emitted)
	lastTrigT int64

	// EVT2: absolute time of the current TIME_HIGH, already shifted
	high2 int64

	// EVT3 state
	y, xBase uint32
	pol      uint8
	pendMask uint32 // vector bits not yet emitted (the batch filled up mid-vector)
	pendBase uint32

	opts  formats.Options
	watch formats.DecodeWatch
}

// maxTriggersPerRead bounds the triggers one Read collects (a Read may end early, even with no events),
// so a trigger-only stream still reads in constant memory.
const maxTriggersPerRead = 1 << 16

// ParamEVT is the option that says the encoding of a RAW file whose header does not.
const ParamEVT = "evt"

// OpenRaw opens a RAW file.
func OpenRaw(path string, o formats.Options) (*RawReader, error) {
	return input.Open(path, func(f *os.File) (*RawReader, error) { return NewRawReader(f, path, o) })
}

// NewRawReader reads a RAW stream from r (closed by Close when it is an io.Closer); name is used in
// errors. The header's encoding wins; when the header does not say, option evt=2|3 decides.
func NewRawReader(r io.Reader, name string, o formats.Options) (*RawReader, error) {
	rd := &RawReader{in: input.New(r, name), opts: o, watch: formats.NewDecodeWatch(name)}
	hdr, err := readHeader(rd.in)
	if err != nil {
		return nil, err
	}
	rd.hdr = hdr
	v, err := hdr.encoding()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if v == 0 {
		switch s := o.Param(ParamEVT, ""); s {
		case "2", "2.0":
			v = 2
		case "3", "3.0":
			v = 3
		case "":
			return nil, formats.OptionErrorf("%s: the header does not say whether the words are EVT 2.0 or EVT 3.0; set the format option %s=2 or 3", name, ParamEVT)
		default:
			return nil, o.BadParam(ParamEVT, "want 2 or 3")
		}
	}
	rd.version = v
	switch e := o.Param("endian", "little"); e {
	case "little":
	case "big":
		rd.bigEnd = true
	default:
		return nil, o.BadParam("endian", "want little or big")
	}
	rd.geom, rd.geomFrom = hdr.geometry(o.Sensor)
	if rd.geom = o.HeaderSensor(name, "the header's "+rd.geomFrom, rd.geom); !rd.geom.Known() {
		rd.geomFrom = ""
	}
	rd.maxX, rd.maxY = limit(rd.geom)
	return rd, nil
}

// Version is the decoded encoding: 2 or 3.
func (r *RawReader) Version() int { return r.version }

// Triggers returns the external-trigger edges decoded during the most recent Read (the slice is reused
// by the next Read). Meta().Extra["triggers"] counts all of them.
func (r *RawReader) Triggers() []events.Trigger { return r.triggers }

// HeaderLines returns the `%` header lines without the leading `% `.
func (r *RawReader) HeaderLines() []string { return r.hdr.lines }

// Meta describes the stream; Extra carries the camera, header and word statistics for `evtool info`.
func (r *RawReader) Meta() events.Meta {
	m := events.Meta{Format: fmt.Sprintf("evt%d", r.version), Kind: events.KindRecording, Geometry: r.geom, Source: r.in.Name()}
	m.SetExtra("header_bytes", r.hdr.bytes)
	m.SetExtra("encoding", fmt.Sprintf("EVT %d.0", r.version))
	if r.geomFrom != "" {
		m.SetExtra("geometry_from", r.geomFrom)
	}
	for _, k := range []string{"plugin_name", "serial_number", "system_id", "integrator_name", "firmware_version", "date"} {
		if v, ok := r.hdr.get(k); ok {
			m.SetExtra(k, v)
		}
	}
	wc := map[int]int64{}
	for i, c := range r.counts {
		if c > 0 {
			wc[i] = c
		}
	}
	m.SetExtra("words", r.words)
	m.SetExtra("word_type_counts", wc)
	m.SetExtra("triggers", r.nTriggers)
	m.SetExtra("out_of_range", r.dropped)
	m.SetExtra("time_clamped", r.clamped)
	m.SetExtra("reserved_words", r.reserved)
	m.SetExtra("time_wraps", r.wraps)
	if r.version == 2 {
		m.SetExtra("before_first_time_high", r.beforeHigh)
	} else {
		m.SetExtra("time_high_glitches", r.glitches)
	}
	return m
}

// Close closes the file.
func (r *RawReader) Close() error { return r.in.Close() }

// Read fills dst with the next CD events (at most cap(dst.T), else 65536).
func (r *RawReader) Read(dst *events.Batch) error {
	dst.Reset()
	r.triggers = r.triggers[:0]
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	dst.Grow(want)
	T, X, Y, P := dst.T[:want], dst.X[:want], dst.Y[:want], dst.P[:want]
	ws := 2
	if r.version == 2 {
		ws = 4
	}
	in := r.in
	off := in.Offset()
	n := 0
	for n < want && len(r.triggers) < maxTriggersPerRead {
		b := in.Bytes()
		avail := len(b) / ws * ws
		if avail == 0 && r.pendMask == 0 {
			if in.Fill(ws) < ws {
				break
			}
			continue
		}
		var used int
		if r.version == 2 {
			n, used = r.decode2(b[:avail], T, X, Y, P, n)
		} else {
			n, used = r.decode3(b[:avail], T, X, Y, P, n)
		}
		in.Advance(used)
	}
	dst.T, dst.X, dst.Y, dst.P = T[:n], X[:n], Y[:n], P[:n]
	if err := r.watch.Check(r.opts, r.dropped, r.clamped, off); err != nil {
		in.Fail(err)
	}
	if n > 0 || len(r.triggers) > 0 {
		return nil
	}
	return in.End(fmt.Sprintf("a %d-byte EVT %d.0 word", ws, r.version))
}

const (
	evt2Wrap     = int64(1) << 34 // EVT2 time is 34 bits
	evt2HalfHigh = int64(1) << 27 // half the 28-bit TIME_HIGH range
	evt3Wrap     = int64(1) << 24 // EVT3 time is 24 bits
	evt3MaxStep  = 4094           // robust TIME_HIGH threshold (Prophesee's EVT 3.0 documentation)
)

// decode2 decodes whole 32-bit EVT2 words from src into the columns starting at n, stopping when they are
// full. It returns the new n and the bytes consumed. Hot loop: no allocation except trigger growth.
func (r *RawReader) decode2(src []byte, T []int64, X, Y []uint16, P []uint8, n int) (int, int) {
	maxX, maxY := r.maxX, r.maxY
	high, last, haveHigh, bigEnd := r.high2, r.t, r.haveHigh, r.bigEnd
	counts := r.counts // a local copy stays in cache lines the compiler need not re-check for aliasing
	i := 0
	for ; i+4 <= len(src) && n < len(T); i += 4 {
		w := binary.LittleEndian.Uint32(src[i:])
		if bigEnd {
			w = bits.ReverseBytes32(w)
		}
		typ := w >> 28
		counts[typ]++
		switch typ {
		case 0x0, 0x1:
			if !haveHigh {
				r.beforeHigh++
				continue
			}
			t := high | int64(w>>22&0x3F)
			if t < last {
				t = last
				r.clamped++
			}
			last = t
			x, y := w>>11&0x7FF, w&0x7FF
			if x >= maxX || y >= maxY {
				r.dropped++
				continue
			}
			if n >= len(X) || n >= len(Y) || n >= len(P) {
				break
			}
			T[n], X[n], Y[n], P[n] = t, uint16(x), uint16(y), uint8(typ)
			n++
		case 0x8:
			h := int64(w & 0xFFFFFFF)
			if r.haveHigh && h < r.rawHigh && r.rawHigh-h > evt2HalfHigh {
				r.base += evt2Wrap
				r.wraps++
			}
			r.rawHigh, r.haveHigh, haveHigh = h, true, true
			high = r.base + h<<6
		case 0xA:
			if !haveHigh {
				r.beforeHigh++
				continue
			}
			r.addTrigger(high|int64(w>>22&0x3F), w, 0x1F)
		case 0xE, 0xF:
			// vendor extensions and their continuation data: skipped
		default:
			r.reserved++
		}
	}
	r.high2, r.t, r.counts = high, last, counts
	r.words += int64(i / 4)
	return n, i
}

// addTrigger records an EXT_TRIGGER word: the channel id in bits 8 and up (idMask wide), value 1 in bit
// 0 a rising edge, 0 a falling one.
func (r *RawReader) addTrigger(t int64, word, idMask uint32) {
	channel, value := uint8(word>>8&idMask), word&1
	if t < r.lastTrigT {
		t = r.lastTrigT
		r.clamped++
	}
	r.lastTrigT = t
	kind := events.TriggerFalling
	if value == 1 {
		kind = events.TriggerRising
	}
	r.triggers = append(r.triggers, events.Trigger{T: t, Kind: kind, Channel: channel, Raw: word})
	r.nTriggers++
}

// flushVector emits the pending bits of a VECT_12/VECT_8 word while the columns have room.
func (r *RawReader) flushVector(T []int64, X, Y []uint16, P []uint8, n int) int {
	for r.pendMask != 0 && n < len(T) {
		b := uint32(bits.TrailingZeros32(r.pendMask))
		r.pendMask &= r.pendMask - 1
		x := r.pendBase + b
		if x >= r.maxX || r.y >= r.maxY {
			r.dropped++
			continue
		}
		if n >= len(X) || n >= len(Y) || n >= len(P) {
			break
		}
		T[n], X[n], Y[n], P[n] = r.evT, uint16(x), uint16(r.y), r.pol
		r.lastEv = r.evT
		n++
	}
	return n
}

// decode3 decodes whole 16-bit EVT3 words from src, like decode2.
//
// A real sensor's stream is mostly ADDR_Y and ADDR_X words in no fixed order (a Gen4.1 recording: 64 %
// ADDR_X, 19 % ADDR_Y), so a switch on the word type is mispredicted about every other word. Runs of
// those two words go through a small loop that does not branch on which of the two a word is: every word
// writes an event slot, kept (n advances) only for an ADDR_X inside the sensor, and an ADDR_Y moves y by
// a conditional move. Every other word (vectors, time, triggers: about one in eight) ends the run and
// goes through the switch.
func (r *RawReader) decode3(src []byte, T []int64, X, Y []uint16, P []uint8, n int) (int, int) {
	if r.pendMask != 0 {
		n = r.flushVector(T, X, Y, P, n)
		if r.pendMask != 0 {
			return n, 0
		}
	}
	X, Y, P = X[:len(T)], Y[:len(T)], P[:len(T)] // equal lengths, so one bounds check covers all four
	maxX, maxY, bigEnd := r.maxX, r.maxY, r.bigEnd
	y, evT := r.y, r.evT // hot state in locals; written back before helpers that read r.y / r.evT
	counts := r.counts
	i := 0
	for i+2 <= len(src) && n < len(T) {
		if !bigEnd && src[i+1]&0xD0 == 0 {
			// A run of ADDR_Y (0x0) and ADDR_X (0x2) words. limX bounds x: maxX on a row inside the sensor,
			// 0 (every event dropped) on a row outside it.
			limX := maxX
			if y >= maxY {
				limX = 0
			}
			n0, i0 := n, i
			// Each word adds at most one event: stop where the columns could fill.
			run := src[:min(len(src)&^1, i+2*(len(T)-n))]
			xs := 0 // ADDR_X words, kept or dropped
			for ; i+1 < len(run); i += 2 {
				w := uint32(run[i]) | uint32(run[i+1])<<8
				if w&0xD000 != 0 {
					break // neither ADDR_Y nor ADDR_X
				}
				if n >= len(T) || n >= len(X) || n >= len(Y) || n >= len(P) {
					break // unreachable (the bound of run): lets the compiler drop the bounds checks
				}
				v := w & 0x7FF
				T[n], X[n], Y[n], P[n] = evT, uint16(v), uint16(y), uint8(w>>11&1)
				isX := int(w >> 13 & 1)
				ok := 0
				if v < limX {
					ok = 1
				}
				n += isX & ok
				xs += isX
				lim := maxX
				if v >= maxY {
					lim = 0
				}
				if isX == 0 {
					y, limX = v, lim
				}
			}
			if words := (i - i0) / 2; words > 0 {
				counts[0x2] += int64(xs)
				counts[0x0] += int64(words - xs)
				r.dropped += int64(xs - (n - n0))
				if n > n0 {
					r.lastEv = evT
				}
				continue
			}
		}
		w := uint32(binary.LittleEndian.Uint16(src[i:]))
		if bigEnd {
			w = uint32(bits.ReverseBytes16(uint16(w)))
		}
		i += 2
		typ := w >> 12 & 0xF
		counts[typ]++
		switch typ {
		case 0x0:
			y = w & 0x7FF
		case 0x2:
			x := w & 0x7FF
			if x >= maxX || y >= maxY {
				r.dropped++
				continue
			}
			if n >= len(X) || n >= len(Y) || n >= len(P) {
				break
			}
			T[n], X[n], Y[n], P[n] = evT, uint16(x), uint16(y), uint8(w>>11&1)
			r.lastEv = evT
			n++
		case 0x3:
			r.xBase, r.pol = w&0x7FF, uint8(w>>11&1)
		case 0x4, 0x5:
			width := uint32(12)
			mask := w & 0xFFF
			if typ == 0x5 {
				width, mask = 8, w&0xFF
			}
			base := r.xBase
			r.xBase += width
			if n+12 <= len(T) && y < maxY && base+width <= maxX {
				// fast path: the whole vector fits the batch and the sensor
				pol := r.pol
				for m := mask; m != 0; m &= m - 1 {
					T[n], X[n], Y[n], P[n] = evT, uint16(base+uint32(bits.TrailingZeros32(m))), uint16(y), pol
					n++
				}
				r.lastEv = evT
				continue
			}
			r.pendMask, r.pendBase = mask, base
			r.y = y
			n = r.flushVector(T, X, Y, P, n)
			if r.pendMask != 0 {
				r.words += int64(i / 2)
				r.counts = counts
				return n, i
			}
		case 0x6:
			r.setTime(r.base | r.rawHigh<<12 | int64(w&0xFFF))
			evT = r.evT
		case 0x8:
			r.timeHigh(int64(w & 0xFFF))
			evT = r.evT
		case 0xA:
			r.addTrigger(r.t, w, 0xF)
		case 0x7, 0xE, 0xF:
			// continuation data and vendor extensions: skipped
		default:
			r.reserved++
		}
	}
	r.y, r.counts = y, counts
	r.words += int64(i / 2)
	return n, i
}

// setTime moves the time state. Events never go back in time: when the state falls behind
// the time already given to events, later events keep that time (clamp) until the state catches up.
// Clamping against emitted events rather than against every TIME_LOW lets a TIME_LOW that no event used
// be corrected by the next one, as the fixtures' ground truth requires.
func (r *RawReader) setTime(t int64) {
	r.t = t
	if t >= r.lastEv {
		r.evT = t
	} else {
		r.evT = r.lastEv
		r.clamped++
	}
}

// timeHigh applies the robust TIME_HIGH rules: repeats change nothing, forward jumps of
// 4094 or more and small backward steps are glitches, and a large backward step is a 2^24 µs wrap.
func (r *RawReader) timeHigh(h1 int64) {
	h0 := r.rawHigh
	switch {
	case !r.haveHigh:
		// the first TIME_HIGH sets the base
	case h1 == h0:
		return
	case h1 > h0:
		if h1-h0 >= evt3MaxStep {
			r.glitches++
			return
		}
	default:
		if h0-h1 <= evt3MaxStep {
			r.glitches++
			return
		}
		r.base += evt3Wrap
		r.wraps++
	}
	r.haveHigh, r.rawHigh = true, h1
	r.setTime(r.base | h1<<12)
}
