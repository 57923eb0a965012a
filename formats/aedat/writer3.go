package aedat

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/output"
)

// DefaultEventsPerPacket is how many polarity events the AEDAT 3.1 writer puts in one packet.
const DefaultEventsPerPacket = 4096

// writer31Options tunes the AEDAT 3.1 writer beyond formats.Options (for tests and tools). The zero
// value writes plain libcaer-style files.
type writer31Options struct {
	eventsPerPacket int       // polarity events per packet; 0 means DefaultEventsPerPacket
	source          int16     // event source id of every packet and of the "#Source" line
	device          string    // "#Source" device name; "" derives it from the geometry (DVS128, DAVIS346B, …)
	startTime       time.Time // written as "#Start-Time:" when set
	// spareSlots adds this many unused slots (eventCapacity > eventNumber) to every polarity packet,
	// filled with bytes that would decode as valid events, so tests can prove readers stop at
	// eventNumber. Real libcaer files have none.
	spareSlots int
}

// Writer31 writes an AEDAT 3.1 file: the ASCII header, then polarity packets of 8-byte events in time
// order. A packet never spans two values of the 31-bit overflow counter.
type Writer31 struct {
	out  *output.File
	geom events.Geometry
	opts writer31Options

	pkt      []byte // slots of the pending polarity packet
	slots    int32
	valid    int32
	overflow int32
	lastT    int64
	n        int64
	hdr      [PacketHeaderSize]byte
}

// Create31 writes an AEDAT 3.1 file at path, atomically (nothing appears unless Close succeeds). The
// sensor size is o.Sensor, else meta's; it is needed (AEDAT 3.1 readers take it from the device name;
// sizes without a libcaer device are recorded in an extra "#evtool-sensor: WxH" line). Options:
// events-per-packet, and source (the event source id written).
func Create31(path string, meta events.Meta, o formats.Options) (*Writer31, error) {
	return output.Start(path, func(out *output.File) (*Writer31, error) { return newWriter31From(out, meta, o) })
}

// NewWriter31 writes AEDAT 3.1 to w (not atomically); name is used in errors.
func NewWriter31(w io.Writer, name string, meta events.Meta, o formats.Options) (*Writer31, error) {
	return newWriter31From(output.New(w, name), meta, o)
}

func newWriter31From(out *output.File, meta events.Meta, o formats.Options) (*Writer31, error) {
	per, err := o.IntParam(ParamEventsPerPacket, DefaultEventsPerPacket)
	if err != nil {
		return nil, err
	}
	if per <= 0 {
		return nil, o.BadParam(ParamEventsPerPacket, "want a positive number")
	}
	src, err := o.IntParam(ParamSource, 0)
	if err != nil || src < 0 || src >= 1<<15 {
		return nil, o.BadParam(ParamSource, "want an event source id (0..32767)")
	}
	g := meta.Geometry
	if o.Sensor.Known() {
		g = o.Sensor
	}
	return newWriter31(out, g, writer31Options{eventsPerPacket: per, source: int16(src)})
}

func newWriter31(out *output.File, g events.Geometry, o writer31Options) (*Writer31, error) {
	if !g.Known() || g.Width > 1<<15 || g.Height > 1<<15 {
		return nil, fmt.Errorf("%s: AEDAT 3.1 needs a sensor size up to 32768x32768, got %s", out.Name(), g)
	}
	if o.eventsPerPacket <= 0 {
		o.eventsPerPacket = DefaultEventsPerPacket
	}
	if o.eventsPerPacket+o.spareSlots > math.MaxInt32/8 || o.spareSlots < 0 {
		return nil, fmt.Errorf("%s: %d events per packet (+%d spare slots) do not fit an AEDAT 3.1 packet", out.Name(), o.eventsPerPacket, o.spareSlots)
	}
	wr := &Writer31{out: out, geom: g, opts: o, pkt: make([]byte, 0, 8*o.eventsPerPacket)}
	device, known := deviceName(g)
	if o.device != "" {
		device = o.device
	}
	hdr := "#!AER-DAT3.1\r\n#Format: RAW\r\n" + fmt.Sprintf("#Source %d: %s\r\n", o.source, device)
	if !o.startTime.IsZero() {
		hdr += "#Start-Time: " + o.startTime.Format("2006-01-02 15:04:05 (MST-0700)") + "\r\n"
	}
	if dg, ok := deviceGeometry(device); !known || !ok || dg != g {
		hdr += fmt.Sprintf("#%s %dx%d\r\n", sensorKey, g.Width, g.Height)
	}
	out.WriteString(hdr + endHeader3 + "\r\n")
	return wr, out.Err()
}

// Write encodes a batch. Events must be in time order, at t ≥ 0 and inside the sensor.
func (w *Writer31) Write(b *events.Batch) error {
	width, height := uint16(w.geom.Width), uint16(w.geom.Height)
	for i := 0; i < b.Len(); i++ {
		x, y, p := b.X[i], b.Y[i], b.P[i]
		if x >= width || y >= height || p > 1 {
			return fmt.Errorf("%s: event %d (x=%d y=%d p=%d) does not fit the %s sensor", w.out.Name(), w.n, x, y, p, w.geom)
		}
		if err := w.slot(b.T[i], uint32(x)<<17|uint32(y)<<2|uint32(p)<<1|1); err != nil {
			return err
		}
		w.valid++
		w.n++
	}
	return w.out.Err()
}

// WriteInvalid stores an event slot whose valid bit is 0 (counted in eventNumber, not in eventValid), as
// libcaer leaves behind when it filters events in place. Readers must drop it. For tests and tools.
func (w *Writer31) WriteInvalid(e events.Event) error {
	return w.slot(e.T, uint32(e.X&0x7FFF)<<17|uint32(e.Y&0x7FFF)<<2|uint32(e.P&1)<<1)
}

// slot appends one 8-byte polarity slot, starting a new packet when the pending one is full or the
// overflow counter changes.
func (w *Writer31) slot(t int64, data uint32) error {
	if t < 0 {
		return fmt.Errorf("%s: event %d: timestamp %d µs is negative; AEDAT 3.1 stores times from 0: %w; shift the times to start at 0 first (time-align)", w.out.Name(), w.n, t, formats.ErrTimeRange)
	}
	if t < w.lastT {
		return fmt.Errorf("%s: event %d: timestamp %d µs is earlier than the previous one (%d); AEDAT needs events in time order",
			w.out.Name(), w.n, t, w.lastT)
	}
	ovf := t >> 31
	if ovf > math.MaxInt32 {
		return fmt.Errorf("%s: event %d: timestamp %d µs is beyond what AEDAT 3.1 can store: %w", w.out.Name(), w.n, t, formats.ErrTimeRange)
	}
	if w.slots > 0 && (int32(ovf) != w.overflow || int(w.slots) >= w.opts.eventsPerPacket) {
		if err := w.flushPolarity(); err != nil {
			return err
		}
	}
	w.overflow = int32(ovf)
	w.pkt = binary.LittleEndian.AppendUint32(w.pkt, data)
	w.pkt = binary.LittleEndian.AppendUint32(w.pkt, uint32(t&0x7FFFFFFF))
	w.slots++
	w.lastT = t
	return nil
}

// flushPolarity writes the pending polarity packet (plus the spare slots, if asked for).
func (w *Writer31) flushPolarity() error {
	if w.slots == 0 {
		return nil
	}
	spare := int32(w.opts.spareSlots)
	for i := int32(0); i < spare; i++ {
		// A plausible valid event at (1,1), ON: a reader that decodes unused slots would emit it.
		w.pkt = binary.LittleEndian.AppendUint32(w.pkt, 1<<17|1<<2|1<<1|1)
		w.pkt = binary.LittleEndian.AppendUint32(w.pkt, uint32(w.lastT&0x7FFFFFFF))
	}
	h := PacketHeader{Type: TypePolarity, Source: w.opts.source, Size: 8, TSOffset: 4, TSOverflow: w.overflow,
		Capacity: w.slots + spare, Number: w.slots, Valid: w.valid}
	err := w.writePacket(h, w.pkt)
	w.pkt, w.slots, w.valid = w.pkt[:0], 0, 0
	return err
}

func (w *Writer31) writePacket(h PacketHeader, payload []byte) error {
	h.put(w.hdr[:])
	w.out.Write(w.hdr[:])
	w.out.Write(payload)
	return w.out.Err()
}

// WritePacket writes a packet as given, after the pending polarity events: any type, e.g. frames or
// IMU samples that a reader must skip by size. The payload must hold Capacity×Size bytes. For tests and
// tools that produce other packet types; the header fields are validated as a reader would.
func (w *Writer31) WritePacket(h PacketHeader, payload []byte) error {
	if err := h.check(); err != nil {
		return fmt.Errorf("%s: %w", w.out.Name(), err)
	}
	if int64(len(payload)) != int64(h.Capacity)*int64(h.Size) {
		return fmt.Errorf("%s: packet payload is %d bytes; eventCapacity×eventSize = %d", w.out.Name(), len(payload), int64(h.Capacity)*int64(h.Size))
	}
	if err := w.flushPolarity(); err != nil {
		return err
	}
	return w.writePacket(h, payload)
}

// WriteTrigger writes a special-event packet holding one external-input trigger (rising, falling, pulse),
// after the pending polarity events. The trigger's time must not be earlier than the events before it.
func (w *Writer31) WriteTrigger(tr events.Trigger) error {
	var code uint32
	switch tr.Kind {
	case events.TriggerRising:
		code = specialRising
	case events.TriggerFalling:
		code = specialFalling
	case events.TriggerPulse:
		code = specialPulse
	default:
		return fmt.Errorf("%s: AEDAT 3.1 has no special event for a %s trigger", w.out.Name(), tr.Kind)
	}
	if tr.T < w.lastT || tr.T < 0 || tr.T>>31 > math.MaxInt32 {
		return fmt.Errorf("%s: trigger at %d µs: out of time order (previous %d) or beyond AEDAT 3.1 range", w.out.Name(), tr.T, w.lastT)
	}
	if err := w.flushPolarity(); err != nil {
		return err
	}
	var slot [8]byte
	binary.LittleEndian.PutUint32(slot[:], code<<1|1)
	binary.LittleEndian.PutUint32(slot[4:], uint32(tr.T&0x7FFFFFFF))
	w.lastT = tr.T
	return w.writePacket(PacketHeader{Type: TypeSpecial, Source: w.opts.source, Size: 8, TSOffset: 4,
		TSOverflow: int32(tr.T >> 31), Capacity: 1, Number: 1, Valid: 1}, slot[:])
}

// Close writes the pending packet and moves the file into place.
func (w *Writer31) Close() error { return w.out.Close(w.flushPolarity) }

// Abort discards the output file.
func (w *Writer31) Abort() { w.out.Abort() }
