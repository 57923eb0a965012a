package csv

import (
	"io"
	"strconv"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/output"
)

// Writer writes events as delimited text, a header line first.
type Writer struct {
	out    *output.File
	cfg    config
	cols   []int
	line   []byte // reused line buffer
	header bool   // header still to write
}

// Create writes a CSV file at path (atomically); o.Params holds the -O options.
func Create(path string, meta events.Meta, o formats.Options) (*Writer, error) {
	return output.Start(path, func(out *output.File) (*Writer, error) { return newWriter(out, meta, o) })
}

// NewWriter writes CSV text to w (not atomically); name is used in errors.
func NewWriter(w io.Writer, name string, meta events.Meta, o formats.Options) (*Writer, error) {
	return newWriter(output.New(w, name), meta, o)
}

func newWriter(out *output.File, meta events.Meta, o formats.Options) (*Writer, error) {
	cfg, err := parseConfig(o, true)
	if err != nil {
		return nil, err
	}
	if cfg.timeUnit == "" || cfg.timeUnit == "µs" {
		cfg.timeUnit = "us"
	}
	cols := cfg.columns
	if !cfg.hasCols {
		cols = []int{colT, colX, colY, colP}
	}
	return &Writer{out: out, cfg: cfg, cols: cols, header: cfg.writeHead, line: make([]byte, 0, 64)}, nil
}

func (w *Writer) writeHeader() error {
	w.header = false
	line := w.line[:0]
	for i, r := range w.cols {
		if i > 0 {
			line = append(line, w.cfg.sep)
		}
		switch r {
		case colSkip:
			line = append(line, '_')
		case colT:
			line = append(line, 't')
			if w.cfg.timeUnit != "us" {
				line = append(line, '_')
				line = append(line, w.cfg.timeUnit...)
			}
		default:
			line = append(line, roleNames[r]...)
		}
	}
	line = append(line, '\n')
	_, err := w.out.Write(line)
	return err
}

// Write appends one line per event.
func (w *Writer) Write(b *events.Batch) error {
	if w.header {
		if err := w.writeHeader(); err != nil {
			return err
		}
	}
	sep := w.cfg.sep
	for i := 0; i < b.Len(); i++ {
		line := w.out.Buf
		for j, r := range w.cols {
			if j > 0 {
				line = append(line, sep)
			}
			switch r {
			case colT:
				line = appendTime(line, b.T[i], w.cfg.timeExp)
			case colX:
				line = strconv.AppendUint(line, uint64(b.X[i]), 10)
			case colY:
				line = strconv.AppendUint(line, uint64(b.Y[i]), 10)
			case colP:
				line = appendPolarity(line, b.P[i], w.cfg.polarity)
			case colSkip:
				line = append(line, '0')
			}
		}
		w.out.Buf = append(line, '\n')
		w.out.Spill()
	}
	return w.out.Err()
}

// appendTime writes t µs in a unit of 10^exp µs. Coarser units get an exact decimal fraction ("1.000250"
// s); ns is a plain multiple.
func appendTime(dst []byte, t int64, exp int) []byte {
	switch {
	case exp == 0:
		return strconv.AppendInt(dst, t, 10)
	case exp < 0:
		return append(strconv.AppendInt(dst, t, 10), "000"...)
	}
	u := uint64(t)
	if t < 0 {
		dst = append(dst, '-')
		u = -u // two's complement: exact even for math.MinInt64
	}
	m := uint64(pow10[exp])
	dst = strconv.AppendUint(dst, u/m, 10)
	dst = append(dst, '.')
	frac := u % m
	for d := m / 10; d > 0; d /= 10 {
		dst = append(dst, byte('0'+frac/d%10))
	}
	return dst
}

func appendPolarity(dst []byte, p uint8, style string) []byte {
	on := p != 0
	switch style {
	case "sign":
		if on {
			return append(dst, '1')
		}
		return append(dst, "-1"...)
	case "bool":
		if on {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	}
	if on {
		return append(dst, '1')
	}
	return append(dst, '0')
}

// Close writes the header of a file without events and moves the file into place.
func (w *Writer) Close() error {
	return w.out.Close(func() error {
		if w.header {
			return w.writeHeader()
		}
		return nil
	})
}

// Abort discards the output.
func (w *Writer) Abort() { w.out.Abort() }
