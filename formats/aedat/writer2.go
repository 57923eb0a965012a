package aedat

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/atomicfile"
)

// Writer2 writes an AEDAT 2.0 file in jAER's DVS128 or DAVIS address layout (§2.3.5).
//
// Timestamps are stored as uint32 µs relative to a start offset: 0 when the first event lies in
// [0, 2^32), else the first event's time. The offset is recorded in the header ("# evtool-time-offset-us:")
// and added back by evtool's reader. Later times may pass 2^32: they wrap, which every jAER-style reader
// undoes, as long as consecutive events are less than 2^31 µs (about 35 minutes) apart.
type Writer2 struct {
	bw      *bufio.Writer
	chip    Chip
	name    string
	file    *atomicfile.File // set when the writer owns its output file
	started bool             // header written
	offset  int64
	lastT   int64
	n       int64
	rec     [8]byte
}

// NewWriter2 writes to w in the layout of chip; name is used in errors. The header is written with the
// first events (it needs their start time) or at Close.
func NewWriter2(w io.Writer, chip Chip, name string) *Writer2 {
	return &Writer2{bw: bufio.NewWriterSize(w, 1<<16), chip: chip, name: name}
}

// Create2 writes an AEDAT 2.0 file at path, atomically (nothing appears unless Close succeeds).
func Create2(path string, chip Chip) (*Writer2, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w := NewWriter2(f, chip, path)
	w.file = f
	return w, nil
}

func create2(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
	if meta.Kind == events.KindDataset {
		return nil, fmt.Errorf("%s: an AEDAT 2.0 file holds one recording, not a dataset; write the dataset as .arrow", path)
	}
	var chip Chip
	if name := o.Param(ParamChip, ""); name != "" {
		c, err := ChipByName(name)
		if err != nil {
			return nil, fmt.Errorf("option %s: %w", ParamChip, err)
		}
		chip = c
	} else {
		g := meta.Geometry
		if o.Sensor.Known() {
			g = o.Sensor
		}
		c, ok := ChipForGeometry(g)
		if !ok {
			return nil, fmt.Errorf("%s: AEDAT 2.0 stores only the %s layouts and the %s sensor matches none; pass -O %s=<name> (events must fit it)",
				path, chipNames(), g, ParamChip)
		}
		chip = c
	}
	return Create2(path, chip)
}

func (w *Writer2) header(offset int64) error {
	w.offset, w.lastT, w.started = offset, offset, true
	hdr := "#!AER-DAT2.0\r\n" +
		"# This is a raw AE data file created by evtool\r\n" +
		"# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event\r\n" +
		"# Timestamps tick: 1 us\r\n" +
		"# AEChip: " + w.chip.Class + "\r\n"
	if offset != 0 {
		hdr += fmt.Sprintf("# %s %d\r\n", timeOffsetKey, offset)
	}
	hdr += endOfASCIIHeader + "\r\n"
	if _, err := w.bw.WriteString(hdr); err != nil {
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	return nil
}

// Write encodes a batch. Events must be in time order and inside the chip's sensor.
func (w *Writer2) Write(b *events.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	if !w.started {
		off := int64(0)
		if t0 := b.T[0]; t0 < 0 || t0 >= 1<<32 {
			off = t0
		}
		if err := w.header(off); err != nil {
			return err
		}
	}
	width, height := uint16(w.chip.Width), uint16(w.chip.Height)
	for i := 0; i < b.Len(); i++ {
		t, x, y, p := b.T[i], b.X[i], b.Y[i], b.P[i]
		if x >= width || y >= height || p > 1 {
			return fmt.Errorf("%s: event %d (x=%d y=%d p=%d) does not fit the %s sensor (%dx%d)",
				w.name, w.n, x, y, p, w.chip.Name, width, height)
		}
		if t < w.lastT {
			return fmt.Errorf("%s: event %d: timestamp %d µs is earlier than the previous one (%d); AEDAT needs events in time order",
				w.name, w.n, t, w.lastT)
		}
		if w.n > 0 && t-w.lastT >= 1<<31 {
			return fmt.Errorf("%s: event %d: a gap of %d µs after the previous event cannot be stored (AEDAT 2.0 timestamps are 32 bits; gaps must stay under 2^31 µs)",
				w.name, w.n, t-w.lastT)
		}
		var a uint32
		if w.chip.DAVIS {
			a = uint32(height-1-y)<<22 | uint32(width-1-x)<<12 | uint32(p)<<11
		} else {
			a = uint32(127-y)<<8 | uint32(127-x)<<1 | uint32(1-p)
		}
		binary.BigEndian.PutUint32(w.rec[:4], a)
		binary.BigEndian.PutUint32(w.rec[4:], uint32(t-w.offset))
		if _, err := w.bw.Write(w.rec[:]); err != nil {
			return fmt.Errorf("write %s: %w", w.name, err)
		}
		w.lastT = t
		w.n++
	}
	return nil
}

// Close writes what is buffered and, when the writer owns its file, moves it into place.
func (w *Writer2) Close() error {
	if !w.started {
		if err := w.header(0); err != nil {
			w.Abort()
			return err
		}
	}
	if err := w.bw.Flush(); err != nil {
		w.Abort()
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	if w.file != nil {
		return w.file.Commit()
	}
	return nil
}

// Abort discards the output file.
func (w *Writer2) Abort() {
	if w.file != nil {
		w.file.Abort()
	}
}
