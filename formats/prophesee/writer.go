package prophesee

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/atomicfile"
)

// evt2HighStep bounds the TIME_HIGH increments the writer emits across long gaps: below half the 28-bit
// range, so a reader sees every 2^34 µs wrap as a wrap (FORMATS.md §0.3).
const evt2HighStep = int64(1) << 26

// sink is the output shared by the writers: a buffered, optionally atomic file.
type sink struct {
	name string
	bw   *bufio.Writer
	file *atomicfile.File
	n    int64 // events written
	last int64
}

func newSink(w io.Writer, name string) sink {
	return sink{name: name, bw: bufio.NewWriterSize(w, 1<<16)}
}

func (s *sink) create(path string) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	s.file, s.name, s.bw = f, path, bufio.NewWriterSize(f, 1<<16)
	return nil
}

// Close flushes and, when the writer owns its file, moves it into place.
func (s *sink) Close() error {
	if err := s.bw.Flush(); err != nil {
		s.Abort()
		return fmt.Errorf("write %s: %w", s.name, err)
	}
	if s.file != nil {
		return s.file.Commit()
	}
	return nil
}

// Abort discards the output.
func (s *sink) Abort() {
	if s.file != nil {
		s.file.Abort()
	}
}

func (s *sink) checkOrder(t int64) error {
	if t < 0 || t < s.last {
		return fmt.Errorf("%s: event %d: timestamp %d µs is negative or earlier than the previous one (%d); the file needs events in time order",
			s.name, s.n, t, s.last)
	}
	return nil
}

// EVT2Writer writes EVT 2.0 `.raw` files: a header with `% evt 2.0`, `% format`, `% geometry` and
// `% end`, then CD words preceded by TIME_HIGH words whenever t>>6 changes.
type EVT2Writer struct {
	sink
	started bool
	high    int64 // absolute t>>6 of the last TIME_HIGH written
	word    [4]byte
}

// NewEVT2Writer writes to w (not atomically); g may be unknown.
func NewEVT2Writer(w io.Writer, name string, g events.Geometry) (*EVT2Writer, error) {
	e := &EVT2Writer{sink: newSink(w, name)}
	return e, e.header(g)
}

// CreateEVT2 writes an EVT 2.0 file at path, atomically.
func CreateEVT2(path string, g events.Geometry) (*EVT2Writer, error) {
	e := &EVT2Writer{}
	if err := e.create(path); err != nil {
		return nil, err
	}
	if err := e.header(g); err != nil {
		e.Abort()
		return nil, err
	}
	return e, nil
}

func (e *EVT2Writer) header(g events.Geometry) error {
	h := "% evt 2.0\n% format EVT2\n"
	if g.Known() {
		h = fmt.Sprintf("%% evt 2.0\n%% format EVT2;height=%d;width=%d\n%% geometry %dx%d\n", g.Height, g.Width, g.Width, g.Height)
	}
	h += "% integrator_name evtool\n% end\n"
	_, err := e.bw.WriteString(h)
	return err
}

func (e *EVT2Writer) put(w uint32) {
	binary.LittleEndian.PutUint32(e.word[:], w)
	e.bw.Write(e.word[:]) // errors stick in the bufio.Writer and surface at Flush
}

// Write encodes a batch. Events must be in time order with x, y < 2048 (11 bits) and p in {0, 1}.
func (e *EVT2Writer) Write(b *events.Batch) error {
	for i := range b.T {
		t, x, y, p := b.T[i], b.X[i], b.Y[i], b.P[i]
		if err := e.checkOrder(t); err != nil {
			return err
		}
		if x >= 2048 || y >= 2048 || p > 1 {
			return fmt.Errorf("%s: event %d (%d,%d,p=%d) cannot be stored: EVT 2.0 holds x, y < 2048 and p in {0,1}", e.name, e.n, x, y, p)
		}
		if h := t >> 6; !e.started || h != e.high {
			if !e.started {
				e.started = true
				e.high = min(h, evt2HighStep)
				e.put(0x8<<28 | uint32(e.high&0xFFFFFFF))
			}
			for h-e.high > evt2HighStep {
				e.high += evt2HighStep
				e.put(0x8<<28 | uint32(e.high&0xFFFFFFF))
			}
			if h != e.high {
				e.high = h
				e.put(0x8<<28 | uint32(h&0xFFFFFFF))
			}
		}
		e.put(uint32(p)<<28 | uint32(t&0x3F)<<22 | uint32(x)<<11 | uint32(y))
		e.last = t
		e.n++
	}
	return nil
}

// DATWriter writes version-2 DAT files (Event2D, 8-byte records) with `% Width`/`% Height` lines.
type DATWriter struct {
	sink
	rec [8]byte
}

// NewDATWriter writes to w (not atomically); g may be unknown.
func NewDATWriter(w io.Writer, name string, g events.Geometry) (*DATWriter, error) {
	d := &DATWriter{sink: newSink(w, name)}
	return d, d.header(g)
}

// CreateDAT writes a DAT file at path, atomically.
func CreateDAT(path string, g events.Geometry) (*DATWriter, error) {
	d := &DATWriter{}
	if err := d.create(path); err != nil {
		return nil, err
	}
	if err := d.header(g); err != nil {
		d.Abort()
		return nil, err
	}
	return d, nil
}

func (d *DATWriter) header(g events.Geometry) error {
	h := "% Data file containing Event2D events.\n% Version 2\n"
	if g.Known() {
		h += fmt.Sprintf("%% Width %d\n%% Height %d\n", g.Width, g.Height)
	}
	h += string([]byte{datEvent2D, datEventSize})
	_, err := d.bw.WriteString(h)
	return err
}

// Write encodes a batch. DAT stores t in 32 bits: readers recover a wrap only from a backward jump of
// more than 2^31, so the first t must be below 2^32 and consecutive events closer than 2^31 µs.
func (d *DATWriter) Write(b *events.Batch) error {
	for i := range b.T {
		t, x, y, p := b.T[i], b.X[i], b.Y[i], b.P[i]
		if err := d.checkOrder(t); err != nil {
			return err
		}
		if (d.n == 0 && t >= 1<<32) || t-d.last >= 1<<31 {
			return fmt.Errorf("%s: event %d: timestamp %d µs cannot be stored: DAT needs the first t below 2^32 and gaps below 2^31 µs", d.name, d.n, t)
		}
		if x >= 1<<14 || y >= 1<<14 || p > 1 {
			return fmt.Errorf("%s: event %d (%d,%d,p=%d) cannot be stored: DAT v2 holds x, y < 16384 and p in {0,1}", d.name, d.n, x, y, p)
		}
		binary.LittleEndian.PutUint32(d.rec[0:4], uint32(t))
		binary.LittleEndian.PutUint32(d.rec[4:8], uint32(p)<<28|uint32(y)<<14|uint32(x))
		d.bw.Write(d.rec[:])
		d.last = t
		d.n++
	}
	return nil
}
