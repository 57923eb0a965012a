package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/atomicfile"
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

// Output is where a Writer writes: a file it can patch the header of when it knows the record count.
type Output interface {
	io.Writer
	io.WriterAt
}

// Writer writes events as a NPY 1.0 structured array.
type Writer struct {
	out   Output
	bw    *bufio.Writer
	rec   []byte // reused encode buffer
	count int64
	name  string
	file  *atomicfile.File
	done  bool
}

// Create writes a .npy file at path (atomically).
func Create(path string) (*Writer, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, path)
	if err != nil {
		f.Abort()
		return nil, err
	}
	w.file = f
	return w, nil
}

// NewWriter starts a .npy file at the beginning of out; name is used in errors.
func NewWriter(out Output, name string) (*Writer, error) {
	w := &Writer{out: out, bw: bufio.NewWriterSize(out, 1<<16), name: name, rec: make([]byte, 0, 4096*recordSize)}
	if _, err := w.bw.Write(header(0)); err != nil {
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	return w, nil
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
		if _, err := w.bw.Write(rec); err != nil {
			return fmt.Errorf("write %s: %w", w.name, err)
		}
	}
	w.count += int64(b.Len())
	return nil
}

// Close writes the record count into the header and, when the writer owns its file, moves it into place.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	if err := w.bw.Flush(); err != nil {
		w.abortFile()
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	if _, err := w.out.WriteAt(header(w.count), 0); err != nil {
		w.abortFile()
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	if w.file != nil {
		return w.file.Commit()
	}
	return nil
}

// Abort discards the output.
func (w *Writer) Abort() {
	w.done = true
	w.abortFile()
}

func (w *Writer) abortFile() {
	if w.file != nil {
		w.file.Abort()
	}
}
