package aedat

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/output"
)

// Writer2 writes an AEDAT 2.0 file in jAER's DVS128 or DAVIS address layout (8-byte records), or an
// AEDAT 1.0 file (6-byte records, DVS128 only).
//
// Timestamps are stored as uint32 µs relative to a start offset: 0 when the first event lies in
// [0, 2^32), else the first event's time. The offset is recorded in the header ("# evtool-time-offset-us:")
// and added back by evtool's reader. Later times may pass 2^32: they wrap, which every jAER-style reader
// undoes, as long as consecutive events are less than 2^31 µs (about 35 minutes) apart.
type Writer2 struct {
	out     *output.File
	v1      bool // AEDAT 1.0: 16-bit addresses
	chip    Chip
	started bool // header written
	offset  int64
	lastT   int64
	n       int64
}

// Create2 writes an AEDAT 2.0 file at path, atomically (nothing appears unless Close succeeds). The
// layout is option chip, else the one that fits the sensor size (o.Sensor, else meta's).
func Create2(path string, meta events.Meta, o formats.Options) (*Writer2, error) {
	return output.Start(path, func(out *output.File) (*Writer2, error) { return newWriter2(out, false, meta, o) })
}

// NewWriter2 writes AEDAT 2.0 to w (not atomically); name is used in errors.
func NewWriter2(w io.Writer, name string, meta events.Meta, o formats.Options) (*Writer2, error) {
	return newWriter2(output.New(w, name), false, meta, o)
}

// Create1 writes an AEDAT 1.0 file at path, atomically: DVS128 events as 6-byte records.
func Create1(path string, meta events.Meta, o formats.Options) (*Writer2, error) {
	return output.Start(path, func(out *output.File) (*Writer2, error) { return newWriter2(out, true, meta, o) })
}

// NewWriter1 writes AEDAT 1.0 to w (not atomically); name is used in errors.
func NewWriter1(w io.Writer, name string, meta events.Meta, o formats.Options) (*Writer2, error) {
	return newWriter2(output.New(w, name), true, meta, o)
}

func newWriter2(out *output.File, v1 bool, meta events.Meta, o formats.Options) (*Writer2, error) {
	version := "2.0"
	if v1 {
		version = "1.0"
	}
	var chip Chip
	if name := o.Param(ParamChip, ""); name != "" {
		c, err := ChipByName(name)
		if err != nil {
			return nil, o.BadParam(ParamChip, "%v", err)
		}
		chip = c
	} else {
		g := meta.Geometry
		if o.Sensor.Known() {
			g = o.Sensor
		}
		c, ok := ChipForGeometry(g)
		if !ok {
			return nil, fmt.Errorf("%s: AEDAT %s stores only the %s layouts and the %s sensor matches none; set option %s (events must fit it)",
				out.Name(), version, chipNames(), g, ParamChip)
		}
		chip = c
	}
	if v1 && chip.DAVIS {
		return nil, fmt.Errorf("%s: AEDAT 1.0 stores 16-bit DVS128 addresses only, not the %s layout", out.Name(), chip.Name)
	}
	return &Writer2{out: out, v1: v1, chip: chip}, nil
}

func (w *Writer2) header(offset int64) {
	w.offset, w.lastT, w.started = offset, offset, true
	hdr := "#!AER-DAT2.0\r\n" +
		"# This is a raw AE data file created by evtool\r\n" +
		"# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event\r\n" +
		"# Timestamps tick: 1 us\r\n" +
		"# AEChip: " + w.chip.Class + "\r\n"
	if w.v1 {
		hdr = "#!AER-DAT1.0\r\n" +
			"# This is a raw AE data file created by evtool\r\n" +
			"# Data format is int16 address, int32 timestamp (6 bytes total), repeated for each event\r\n" +
			"# Timestamps tick: 1 us\r\n"
	}
	if offset != 0 {
		hdr += fmt.Sprintf("# %s %d\r\n", timeOffsetKey, offset)
	}
	w.out.WriteString(hdr + endOfASCIIHeader + "\r\n")
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
		w.header(off)
	}
	name := w.out.Name()
	width, height := uint16(w.chip.Width), uint16(w.chip.Height)
	for i := 0; i < b.Len(); i++ {
		t, x, y, p := b.T[i], b.X[i], b.Y[i], b.P[i]
		if x >= width || y >= height || p > 1 {
			return fmt.Errorf("%s: event %d (x=%d y=%d p=%d) does not fit the %s sensor (%dx%d)",
				name, w.n, x, y, p, w.chip.Name, width, height)
		}
		if t < w.lastT {
			return fmt.Errorf("%s: event %d: timestamp %d µs is earlier than the previous one (%d); AEDAT needs events in time order",
				name, w.n, t, w.lastT)
		}
		if w.n > 0 && t-w.lastT >= 1<<31 {
			return fmt.Errorf("%s: event %d: a gap of %d µs after the previous event cannot be stored (AEDAT timestamps are 32 bits; gaps must stay under 2^31 µs): %w",
				name, w.n, t-w.lastT, formats.ErrTimeRange)
		}
		var a uint32
		switch {
		case w.chip.DAVIS:
			a = uint32(height-1-y)<<22 | uint32(width-1-x)<<12 | uint32(p)<<11
		default:
			a = uint32(127-y)<<8 | uint32(127-x)<<1 | uint32(1-p)
		}
		if w.v1 {
			w.out.Buf = binary.BigEndian.AppendUint16(w.out.Buf, uint16(a))
		} else {
			w.out.Buf = binary.BigEndian.AppendUint32(w.out.Buf, a)
		}
		w.out.Buf = binary.BigEndian.AppendUint32(w.out.Buf, uint32(t-w.offset))
		w.out.Spill()
		w.lastT = t
		w.n++
	}
	return w.out.Err()
}

// Close writes what is buffered (the header, for a file without events) and moves the file into place.
func (w *Writer2) Close() error {
	return w.out.Close(func() error {
		if !w.started {
			w.header(0)
		}
		return nil
	})
}

// Abort discards the output file.
func (w *Writer2) Abort() { w.out.Abort() }
