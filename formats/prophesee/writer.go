package prophesee

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/output"
)

// evt2HighStep bounds the TIME_HIGH increments the writer emits across long gaps: below half the 28-bit
// range, so a reader sees every 2^34 µs wrap as a wrap.
const evt2HighStep = int64(1) << 26

// sink is what the writers share: the output, the order check and the filler bound.
type sink struct {
	out    *output.File
	n      int64 // events written
	last   int64
	filler output.FillerBudget
}

// Close flushes and moves the file into place.
func (s *sink) Close() error { return s.out.Close(nil) }

// Abort discards the output.
func (s *sink) Abort() { s.out.Abort() }

// check refuses an event out of time order, or with x or y not below limit, or a polarity not 0/1.
func (s *sink) check(t int64, x, y uint16, p uint8, limit uint16, format string) error {
	if t < 0 || t < s.last {
		return fmt.Errorf("%s: event %d: timestamp %d µs is negative or earlier than the previous one (%d); the file needs events in time order",
			s.out.Name(), s.n, t, s.last)
	}
	if x >= limit || y >= limit || p > 1 {
		return fmt.Errorf("%s: event %d (%d,%d,p=%d) cannot be stored: %s holds x, y < %d and p in {0,1}", s.out.Name(), s.n, x, y, p, format, limit)
	}
	return nil
}

// fill reserves the bytes of the time words a jump to t needs beyond one per event.
func (s *sink) fill(t, bytes int64, format string) error {
	if !s.filler.Take(bytes, s.n) {
		return fmt.Errorf("%s: event %d at %d µs: %s would need %d bytes of time words to reach it: %w; shift the times to start at 0 first (time-align)",
			s.out.Name(), s.n, t, format, bytes, formats.ErrTimeRange)
	}
	return nil
}

func (s *sink) word32(w uint32) {
	s.out.Buf = binary.LittleEndian.AppendUint32(s.out.Buf, w)
	s.out.Spill()
}

func (s *sink) word16(w uint16) {
	s.out.Buf = binary.LittleEndian.AppendUint16(s.out.Buf, w)
	s.out.Spill()
}

// geometryFor is the sensor size a writer records: o.Sensor, else the input's.
func geometryFor(meta events.Meta, o formats.Options) events.Geometry {
	if o.Sensor.Known() {
		return o.Sensor
	}
	return meta.Geometry
}

// rawHeader is the `%` header of the RAW files evtool writes.
func rawHeader(version int, g events.Geometry) string {
	h := fmt.Sprintf("%% evt %d.0\n%% format EVT%d\n", version, version)
	if g.Known() {
		h = fmt.Sprintf("%% evt %d.0\n%% format EVT%d;height=%d;width=%d\n%% geometry %dx%d\n", version, version, g.Height, g.Width, g.Width, g.Height)
	}
	return h + "% integrator_name evtool\n% end\n"
}

// EVT2Writer writes EVT 2.0 `.raw` files: a header with `% evt 2.0`, `% format`, `% geometry` and
// `% end`, then CD words preceded by TIME_HIGH words whenever t>>6 changes.
type EVT2Writer struct {
	sink
	started bool
	high    int64 // absolute t>>6 of the last TIME_HIGH written
}

// CreateEVT2 writes an EVT 2.0 file at path, atomically; the sensor size is o.Sensor, else meta's (it
// may be unknown).
func CreateEVT2(path string, meta events.Meta, o formats.Options) (*EVT2Writer, error) {
	return output.Start(path, func(out *output.File) (*EVT2Writer, error) { return newEVT2Writer(out, meta, o) })
}

// NewEVT2Writer writes to w (not atomically); name is used in errors.
func NewEVT2Writer(w io.Writer, name string, meta events.Meta, o formats.Options) (*EVT2Writer, error) {
	return newEVT2Writer(output.New(w, name), meta, o)
}

func newEVT2Writer(out *output.File, meta events.Meta, o formats.Options) (*EVT2Writer, error) {
	out.WriteString(rawHeader(2, geometryFor(meta, o)))
	return &EVT2Writer{sink: sink{out: out}}, out.Err()
}

// Write encodes a batch. Events must be in time order with x, y < 2048 (11 bits) and p in {0, 1}.
func (e *EVT2Writer) Write(b *events.Batch) error {
	for i := range b.T {
		t, x, y, p := b.T[i], b.X[i], b.Y[i], b.P[i]
		if err := e.check(t, x, y, p, 2048, "EVT 2.0"); err != nil {
			return err
		}
		if h := t >> 6; !e.started || h != e.high {
			if err := e.timeHigh(t, h); err != nil {
				return err
			}
		}
		e.word32(uint32(p)<<28 | uint32(t&0x3F)<<22 | uint32(x)<<11 | uint32(y))
		e.last = t
		e.n++
	}
	return e.out.Err()
}

// timeHigh writes the TIME_HIGH words that bring the time to h = t>>6: steps of at most evt2HighStep,
// so that a reader recognises each 2^34 µs wrap.
func (e *EVT2Writer) timeHigh(t, h int64) error {
	from := e.high
	if !e.started {
		from = min(h, evt2HighStep)
	}
	if steps := (h - from - 1) / evt2HighStep; steps > 0 {
		if err := e.fill(t, 4*steps, "EVT 2.0"); err != nil {
			return err
		}
	}
	if !e.started {
		e.started, e.high = true, from
		e.word32(0x8<<28 | uint32(from&0xFFFFFFF))
	}
	for h-e.high > evt2HighStep {
		e.high += evt2HighStep
		e.word32(0x8<<28 | uint32(e.high&0xFFFFFFF))
	}
	if h != e.high {
		e.high = h
		e.word32(0x8<<28 | uint32(h&0xFFFFFFF))
	}
	return nil
}

// EVT3Writer writes EVT 3.0 `.raw` files: the header, then per event the TIME_HIGH, TIME_LOW and
// ADDR_Y words that changed, and an ADDR_X word (no vector words: every reader decodes single events).
type EVT3Writer struct {
	sink
	started bool
	high    int64 // absolute t>>12 of the last TIME_HIGH written
	low     int64 // t&0xFFF of the last TIME_LOW written
	y       int32 // last ADDR_Y written, -1 before the first
}

// evt3Step is the largest TIME_HIGH step the writer makes: readers take a forward jump of 4094 or more
// for a glitch and ignore it.
const evt3Step = 4000

// CreateEVT3 writes an EVT 3.0 file at path, atomically; the sensor size is o.Sensor, else meta's.
func CreateEVT3(path string, meta events.Meta, o formats.Options) (*EVT3Writer, error) {
	return output.Start(path, func(out *output.File) (*EVT3Writer, error) { return newEVT3Writer(out, meta, o) })
}

// NewEVT3Writer writes to w (not atomically); name is used in errors.
func NewEVT3Writer(w io.Writer, name string, meta events.Meta, o formats.Options) (*EVT3Writer, error) {
	return newEVT3Writer(output.New(w, name), meta, o)
}

func newEVT3Writer(out *output.File, meta events.Meta, o formats.Options) (*EVT3Writer, error) {
	out.WriteString(rawHeader(3, geometryFor(meta, o)))
	return &EVT3Writer{sink: sink{out: out}, y: -1}, out.Err()
}

// Write encodes a batch. Events must be in time order with x, y < 2048 and p in {0, 1}.
func (e *EVT3Writer) Write(b *events.Batch) error {
	for i := range b.T {
		t, x, y, p := b.T[i], b.X[i], b.Y[i], b.P[i]
		if err := e.check(t, x, y, p, 2048, "EVT 3.0"); err != nil {
			return err
		}
		if h := t >> 12; !e.started || h != e.high {
			if err := e.timeHigh(t, h); err != nil {
				return err
			}
		}
		if l := t & 0xFFF; l != e.low {
			e.low = l
			e.word16(0x6000 | uint16(l))
		}
		if int32(y) != e.y {
			e.y = int32(y)
			e.word16(y)
		}
		e.word16(0x2000 | uint16(p)<<11 | x)
		e.last = t
		e.n++
	}
	return e.out.Err()
}

// timeHigh writes the TIME_HIGH words (12 bits of t>>12) that bring the time to h, as readers follow
// them: forward steps below 4094, and each 2^24 µs wrap as a step from 4095 to 0 (a backward jump
// larger than 4094). The first TIME_HIGH starts the clock at 0, so a time of h needs h/4000 words.
func (e *EVT3Writer) timeHigh(t, h int64) error {
	from := e.high
	if !e.started {
		from = 0
	}
	if words := (h-from)/evt3Step + 2*(h>>12-from>>12); words > 1 {
		if err := e.fill(t, 2*words, "EVT 3.0"); err != nil {
			return err
		}
	}
	put := func(v int64) {
		e.high = v
		e.word16(0x8000 | uint16(v&0xFFF))
	}
	if !e.started {
		e.started = true
		put(0)
	}
	for e.high < h {
		next := min(h, e.high+evt3Step)
		if wrap := (e.high>>12 + 1) << 12; next >= wrap {
			if e.high != wrap-1 {
				put(wrap - 1)
			}
			next = wrap
		}
		put(next)
	}
	e.low = -1 // a TIME_HIGH resets the low bits a reader holds
	return nil
}

// DATWriter writes version-2 DAT files (Event2D, 8-byte records) with `% Width`/`% Height` lines.
type DATWriter struct {
	sink
}

// CreateDAT writes a DAT file at path, atomically; the sensor size is o.Sensor, else meta's.
func CreateDAT(path string, meta events.Meta, o formats.Options) (*DATWriter, error) {
	return output.Start(path, func(out *output.File) (*DATWriter, error) { return newDATWriter(out, meta, o) })
}

// NewDATWriter writes to w (not atomically); name is used in errors.
func NewDATWriter(w io.Writer, name string, meta events.Meta, o formats.Options) (*DATWriter, error) {
	return newDATWriter(output.New(w, name), meta, o)
}

func newDATWriter(out *output.File, meta events.Meta, o formats.Options) (*DATWriter, error) {
	h := "% Data file containing Event2D events.\n% Version 2\n"
	if g := geometryFor(meta, o); g.Known() {
		h += fmt.Sprintf("%% Width %d\n%% Height %d\n", g.Width, g.Height)
	}
	out.WriteString(h + string([]byte{datEvent2D, datEventSize}))
	return &DATWriter{sink: sink{out: out}}, out.Err()
}

// Write encodes a batch. DAT stores t in 32 bits: readers recover a wrap only from a backward jump of
// more than 2^31, so the first t must be below 2^32 and consecutive events closer than 2^31 µs.
func (d *DATWriter) Write(b *events.Batch) error {
	for i := range b.T {
		t, x, y, p := b.T[i], b.X[i], b.Y[i], b.P[i]
		if err := d.check(t, x, y, p, 1<<14, "DAT v2"); err != nil {
			return err
		}
		if (d.n == 0 && t >= 1<<32) || t-d.last >= 1<<31 {
			return fmt.Errorf("%s: event %d: timestamp %d µs cannot be stored: DAT needs the first t below 2^32 and gaps below 2^31 µs: %w; shift the times to start at 0 first (time-align)",
				d.out.Name(), d.n, t, formats.ErrTimeRange)
		}
		d.word32(uint32(t))
		d.word32(uint32(p)<<28 | uint32(y)<<14 | uint32(x))
		d.last = t
		d.n++
	}
	return d.out.Err()
}
