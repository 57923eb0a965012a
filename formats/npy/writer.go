package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/output"
)

// countWidth is the room the header keeps for the record count, so the count can be patched in on Close
// without moving the data (20 digits hold any uint64).
const countWidth = 20

// header renders the NPY 1.0 preamble and header dict for count records. Its length does not depend on
// count: spaces pad it to a multiple of 64 bytes, as numpy pads its own.
func header(count int64) []byte {
	dict := fmt.Sprintf("{'descr': %s, 'fortran_order': False, 'shape': (%d,), }", Descr, count)
	fixed := len(Magic) + 4 + len(fmt.Sprintf("{'descr': %s, 'fortran_order': False, 'shape': (,), }", Descr)) + countWidth + 1
	total := (fixed + 63) / 64 * 64
	hlen := total - len(Magic) - 4
	b := make([]byte, 0, total)
	b = append(b, Magic...)
	b = append(b, 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(hlen))
	b = append(b, dict...)
	b = append(b, strings.Repeat(" ", total-len(b)-1)...)
	return append(b, '\n')
}

// Writer writes events as a NPY 1.0 structured array.
type Writer struct {
	out   *output.File
	rec   []byte // reused encode buffer
	count int64
}

// Create writes a .npy file at path (atomically).
func Create(path string, meta events.Meta, o formats.Options) (*Writer, error) {
	return output.Start(path, func(out *output.File) (*Writer, error) { return newWriter(out, meta) })
}

// NewWriter starts a .npy file at the beginning of w, which must be an io.WriterAt too: the record
// count is patched into the header by Close. name is used in errors.
func NewWriter(w io.Writer, name string, meta events.Meta, o formats.Options) (*Writer, error) {
	return newWriter(output.New(w, name), meta)
}

func newWriter(out *output.File, meta events.Meta) (*Writer, error) {
	out.Write(header(0))
	return &Writer{out: out, rec: make([]byte, 0, 4096*recordSize)}, out.Err()
}

// Write appends one 13-byte record per event.
func (w *Writer) Write(b *events.Batch) error {
	for off := 0; off < b.Len(); off += 4096 {
		n := min(4096, b.Len()-off)
		rec := w.rec[:n*recordSize]
		for i := 0; i < n; i++ {
			r := rec[i*recordSize : i*recordSize+recordSize : i*recordSize+recordSize]
			binary.LittleEndian.PutUint64(r, uint64(b.T[off+i]))
			binary.LittleEndian.PutUint16(r[8:], b.X[off+i])
			binary.LittleEndian.PutUint16(r[10:], b.Y[off+i])
			r[12] = b.P[off+i]
		}
		w.out.Write(rec)
	}
	w.count += int64(b.Len())
	return w.out.Err()
}

// Close writes the record count into the header and moves the file into place.
func (w *Writer) Close() error {
	return w.out.Close(func() error { return w.out.WriteAt(header(w.count), 0) })
}

// Abort discards the output.
func (w *Writer) Abort() { w.out.Abort() }
