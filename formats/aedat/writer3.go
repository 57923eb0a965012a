package aedat

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/atomicfile"
)

// DefaultEventsPerPacket is how many polarity events the AEDAT 3.1 writer puts in one packet.
const DefaultEventsPerPacket = 4096

// Writer31Options tunes the AEDAT 3.1 writer. The zero value writes plain libcaer-style files.
type Writer31Options struct {
	EventsPerPacket int       // polarity events per packet; 0 means DefaultEventsPerPacket
	Source          int16     // event source id of every packet and of the "#Source" line
	Device          string    // "#Source" device name; "" derives it from the geometry (DVS128, DAVIS346B, …)
	StartTime       time.Time // written as "#Start-Time:" when set
	// SpareSlots adds this many unused slots (eventCapacity > eventNumber) to every polarity packet,
	// filled with bytes that would decode as valid events, so tests can prove readers stop at
	// eventNumber. Real libcaer files have none.
	SpareSlots int
}

// Writer31 writes an AEDAT 3.1 file: the ASCII header, then polarity packets of 8-byte events in time
// order. A packet never spans two values of the 31-bit overflow counter.
type Writer31 struct {
	bw   *bufio.Writer
	name string
	file *atomicfile.File
	geom events.Geometry
	opts Writer31Options

	pkt      []byte // slots of the pending polarity packet
	slots    int32
	valid    int32
	overflow int32
	lastT    int64
	n        int64
	hdr      [PacketHeaderSize]byte
	closed   bool
}

// NewWriter31 writes the header to w and returns a writer for events of a sensor of geometry g (needed:
// AEDAT 3.1 readers take the sensor size from the device name; sizes without a libcaer device are
// recorded in an extra "#evtool-sensor: WxH" line).
func NewWriter31(w io.Writer, g events.Geometry, o Writer31Options) (*Writer31, error) {
	return newWriter31(w, g, o, "aedat")
}

func newWriter31(w io.Writer, g events.Geometry, o Writer31Options, name string) (*Writer31, error) {
	if !g.Known() || g.Width > 1<<15 || g.Height > 1<<15 {
		return nil, fmt.Errorf("%s: AEDAT 3.1 needs a sensor size up to 32768x32768, got %s; pass --sensor WxH", name, g)
	}
	if o.EventsPerPacket <= 0 {
		o.EventsPerPacket = DefaultEventsPerPacket
	}
	if o.EventsPerPacket+o.SpareSlots > math.MaxInt32/8 || o.SpareSlots < 0 {
		return nil, fmt.Errorf("%s: %d events per packet (+%d spare slots) do not fit an AEDAT 3.1 packet", name, o.EventsPerPacket, o.SpareSlots)
	}
	wr := &Writer31{bw: bufio.NewWriterSize(w, 1<<16), name: name, geom: g, opts: o,
		pkt: make([]byte, 0, 8*o.EventsPerPacket)}
	device, known := deviceName(g)
	if o.Device != "" {
		device = o.Device
	}
	hdr := "#!AER-DAT3.1\r\n#Format: RAW\r\n" + fmt.Sprintf("#Source %d: %s\r\n", o.Source, device)
	if !o.StartTime.IsZero() {
		hdr += "#Start-Time: " + o.StartTime.Format("2006-01-02 15:04:05 (MST-0700)") + "\r\n"
	}
	if dg, ok := deviceGeometry(device); !known || !ok || dg != g {
		hdr += fmt.Sprintf("#%s %dx%d\r\n", sensorKey, g.Width, g.Height)
	}
	hdr += endHeader3 + "\r\n"
	if _, err := wr.bw.WriteString(hdr); err != nil {
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	return wr, nil
}

// Create31 writes an AEDAT 3.1 file at path, atomically (nothing appears unless Close succeeds).
func Create31(path string, g events.Geometry, o Writer31Options) (*Writer31, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := newWriter31(f, g, o, path)
	if err != nil {
		f.Abort()
		return nil, err
	}
	w.file = f
	return w, nil
}

func create3(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
	if meta.Kind == events.KindDataset {
		return nil, fmt.Errorf("%s: an AEDAT 3.1 file holds one recording, not a dataset; write the dataset as .arrow", path)
	}
	per, err := o.IntParam(ParamEventsPerPacket, DefaultEventsPerPacket)
	if err != nil {
		return nil, err
	}
	if per <= 0 {
		return nil, fmt.Errorf("option %s=%d: want a positive number", ParamEventsPerPacket, per)
	}
	g := meta.Geometry
	if o.Sensor.Known() {
		g = o.Sensor
	}
	return Create31(path, g, Writer31Options{EventsPerPacket: per})
}

// Write encodes a batch. Events must be in time order, at t ≥ 0 and inside the sensor.
func (w *Writer31) Write(b *events.Batch) error {
	width, height := uint16(w.geom.Width), uint16(w.geom.Height)
	for i := 0; i < b.Len(); i++ {
		x, y, p := b.X[i], b.Y[i], b.P[i]
		if x >= width || y >= height || p > 1 {
			return fmt.Errorf("%s: event %d (x=%d y=%d p=%d) does not fit the %s sensor", w.name, w.n, x, y, p, w.geom)
		}
		if err := w.slot(b.T[i], uint32(x)<<17|uint32(y)<<2|uint32(p)<<1|1); err != nil {
			return err
		}
		w.valid++
		w.n++
	}
	return nil
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
		return fmt.Errorf("%s: event %d: timestamp %d µs is negative; AEDAT 3.1 stores times from 0 (shift them first)", w.name, w.n, t)
	}
	if t < w.lastT {
		return fmt.Errorf("%s: event %d: timestamp %d µs is earlier than the previous one (%d); AEDAT needs events in time order",
			w.name, w.n, t, w.lastT)
	}
	ovf := t >> 31
	if ovf > math.MaxInt32 {
		return fmt.Errorf("%s: event %d: timestamp %d µs is beyond what AEDAT 3.1 can store", w.name, w.n, t)
	}
	if w.slots > 0 && (int32(ovf) != w.overflow || int(w.slots) >= w.opts.EventsPerPacket) {
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
	spare := int32(w.opts.SpareSlots)
	for i := int32(0); i < spare; i++ {
		// A plausible valid event at (1,1), ON: a reader that decodes unused slots would emit it.
		w.pkt = binary.LittleEndian.AppendUint32(w.pkt, 1<<17|1<<2|1<<1|1)
		w.pkt = binary.LittleEndian.AppendUint32(w.pkt, uint32(w.lastT&0x7FFFFFFF))
	}
	h := PacketHeader{Type: TypePolarity, Source: w.opts.Source, Size: 8, TSOffset: 4, TSOverflow: w.overflow,
		Capacity: w.slots + spare, Number: w.slots, Valid: w.valid}
	err := w.writePacket(h, w.pkt)
	w.pkt, w.slots, w.valid = w.pkt[:0], 0, 0
	return err
}

func (w *Writer31) writePacket(h PacketHeader, payload []byte) error {
	h.put(w.hdr[:])
	if _, err := w.bw.Write(w.hdr[:]); err != nil {
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	if _, err := w.bw.Write(payload); err != nil {
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	return nil
}

// WritePacket writes a packet as given, after the pending polarity events: any type, e.g. frames or
// IMU samples that a reader must skip by size. The payload must hold Capacity×Size bytes. For tests and
// tools that produce other packet types; the header fields are validated as a reader would.
func (w *Writer31) WritePacket(h PacketHeader, payload []byte) error {
	if err := h.check(); err != nil {
		return fmt.Errorf("%s: %w", w.name, err)
	}
	if int64(len(payload)) != int64(h.Capacity)*int64(h.Size) {
		return fmt.Errorf("%s: packet payload is %d bytes; eventCapacity×eventSize = %d", w.name, len(payload), int64(h.Capacity)*int64(h.Size))
	}
	if err := w.flushPolarity(); err != nil {
		return err
	}
	return w.writePacket(h, payload)
}

// WriteTrigger writes a special-event packet holding one external-input trigger (rising, falling, pulse),
// after the pending polarity events. The trigger's time must not be earlier than the events before it.
func (w *Writer31) WriteTrigger(tr Trigger) error {
	var code uint32
	switch tr.Kind {
	case TriggerRising:
		code = specialRising
	case TriggerFalling:
		code = specialFalling
	case TriggerPulse:
		code = specialPulse
	default:
		return fmt.Errorf("%s: AEDAT 3.1 has no special event for a %s trigger", w.name, tr.Kind)
	}
	if tr.T < w.lastT || tr.T < 0 || tr.T>>31 > math.MaxInt32 {
		return fmt.Errorf("%s: trigger at %d µs: out of time order (previous %d) or beyond AEDAT 3.1 range", w.name, tr.T, w.lastT)
	}
	if err := w.flushPolarity(); err != nil {
		return err
	}
	var slot [8]byte
	binary.LittleEndian.PutUint32(slot[:], code<<1|1)
	binary.LittleEndian.PutUint32(slot[4:], uint32(tr.T&0x7FFFFFFF))
	w.lastT = tr.T
	return w.writePacket(PacketHeader{Type: TypeSpecial, Source: w.opts.Source, Size: 8, TSOffset: 4,
		TSOverflow: int32(tr.T >> 31), Capacity: 1, Number: 1, Valid: 1}, slot[:])
}

// Flush writes the pending packet and the buffered bytes to the underlying writer.
func (w *Writer31) Flush() error {
	if err := w.flushPolarity(); err != nil {
		return err
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	return nil
}

// Close writes everything and, when the writer owns its file, moves it into place.
func (w *Writer31) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.Flush(); err != nil {
		w.Abort()
		return err
	}
	if w.file != nil {
		return w.file.Commit()
	}
	return nil
}

// Abort discards the output file.
func (w *Writer31) Abort() {
	if w.file != nil {
		w.file.Abort()
	}
}
