// Package output is the one write path of every format writer in formats/: a buffered destination that
// keeps the first write error (a writer never loses one), and — when the writer owns its file — writes
// under a temporary name that Close moves into place and Abort removes, so no partial output is ever left
// behind (internal/atomicfile does the file part).
//
// It also holds the bound on what a writer may add beyond its records (FillerBudget): formats that mark
// the passing of time with filler records (Event Stream overflow bytes, N-MNIST overflow markers, EVT 2.0
// TIME_HIGH steps) would otherwise write without limit for an absolute time of 10^15 µs.
package output

import (
	"bufio"
	"fmt"
	"io"

	"github.com/evtool/evtool/internal/atomicfile"
)

// bufferSize is the write buffer: 64 KiB amortises the system call over thousands of records.
const bufferSize = 64 << 10

// spillSize is how much Buf gathers before it goes to the file.
const spillSize = 64 << 10

// File is a writer's destination. Every write goes through its buffer; the first failure sticks, and
// later writes do nothing, so a writer may write record by record and check Err once per batch.
//
// Hot encode loops append their records to Buf, a plain reused slice, and call Spill after each record
// (it writes only once Buf holds 64 KiB): no call through the write path per record. Every other method
// writes Buf out first, so the bytes keep their order.
type File struct {
	Buf    []byte
	bw     *bufio.Writer
	dst    io.Writer
	atomic *atomicfile.File // nil when writing to a caller's io.Writer
	name   string
	n      int64 // bytes written, buffered ones included
	err    error
	closed bool
	result error // what Close returned
}

// Create starts a file at path, written under a temporary name until Close.
func Create(path string) (*File, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	o := New(f, path)
	o.atomic = f
	return o, nil
}

// New writes to a caller's w (not atomically; Abort leaves what was written to the caller). name is used
// in errors.
func New(w io.Writer, name string) *File {
	return &File{bw: bufio.NewWriterSize(w, bufferSize), dst: w, name: name}
}

// Name is the output's name (its final path when created by Create).
func (o *File) Name() string { return o.name }

// Spill writes Buf out once it holds 64 KiB.
func (o *File) Spill() {
	if len(o.Buf) >= spillSize {
		o.spill()
	}
}

func (o *File) spill() {
	if len(o.Buf) > 0 {
		b := o.Buf
		o.Buf = b[:0]
		o.write(b)
	}
}

// Write writes p (buffered). It returns the sticky error, wrapped with the file name.
func (o *File) Write(p []byte) (int, error) {
	o.spill()
	return o.write(p)
}

func (o *File) write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.bw.Write(p)
	o.n += int64(n)
	if err != nil {
		o.fail(err)
	}
	return n, o.err
}

// WriteByte writes one byte (buffered).
func (o *File) WriteByte(c byte) error {
	o.spill()
	if o.err != nil {
		return o.err
	}
	if err := o.bw.WriteByte(c); err != nil {
		o.fail(err)
		return o.err
	}
	o.n++
	return nil
}

// WriteString writes s (buffered).
func (o *File) WriteString(s string) (int, error) {
	o.spill()
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.bw.WriteString(s)
	o.n += int64(n)
	if err != nil {
		o.fail(err)
	}
	return n, o.err
}

func (o *File) fail(err error) {
	if o.err == nil {
		o.err = fmt.Errorf("write %s: %w", o.name, err)
	}
}

// Err returns the first write failure, or nil (bytes still in Buf have not been written yet).
func (o *File) Err() error { return o.err }

// Offset is the number of bytes written so far, Buf included: the file offset of the next byte.
func (o *File) Offset() int64 { return o.n + int64(len(o.Buf)) }

// Flush writes the buffered bytes to the destination.
func (o *File) Flush() error {
	o.spill()
	if o.err == nil {
		if err := o.bw.Flush(); err != nil {
			o.fail(err)
		}
	}
	return o.err
}

// WriteAt overwrites bytes already written, at file offset off (a count or an index position patched in
// when the writer finishes). The destination must be an io.WriterAt.
func (o *File) WriteAt(p []byte, off int64) error {
	if err := o.Flush(); err != nil {
		return err
	}
	wa, ok := o.dst.(io.WriterAt)
	if !ok {
		o.fail(fmt.Errorf("the destination cannot be patched (not an io.WriterAt)"))
		return o.err
	}
	if _, err := wa.WriteAt(p, off); err != nil {
		o.fail(err)
	}
	return o.err
}

// Close finishes the output: finish (may be nil) writes what the format puts last (a footer, a count,
// the last packet), then the buffer is flushed and, for a file from Create, the file is synced and moved
// into place. On any failure the output is removed and the error returned. Later calls return the same.
func (o *File) Close(finish func() error) error {
	if o.closed {
		return o.result
	}
	o.closed = true
	err := o.err
	if err == nil && finish != nil {
		err = finish()
	}
	if err == nil {
		err = o.Flush()
	}
	if err == nil && o.atomic != nil {
		err = o.atomic.Commit()
	}
	if err != nil {
		o.discard()
	}
	o.result = err
	return err
}

// Abort discards the output: a file from Create is removed (nothing is left behind). Safe after Close.
func (o *File) Abort() {
	if o.closed {
		return
	}
	o.closed = true
	o.result = fmt.Errorf("%s: aborted", o.name)
	o.discard()
}

func (o *File) discard() {
	if o.atomic != nil {
		o.atomic.Abort()
	}
}

// Filler bounds, per output, the bytes of records that carry no event (FillerSlack in all, plus
// FillerPerEvent for each event written before them), so no writer produces more than a small constant
// per event whatever the timestamps.
const (
	FillerSlack    = 1 << 20
	FillerPerEvent = 8
)

// FillerBudget counts the filler bytes a writer has used.
type FillerBudget struct{ used int64 }

// Take reserves n filler bytes for a writer that has written events events so far. It reports false,
// reserving nothing, when that would pass the bound: the writer must then refuse the input.
func (b *FillerBudget) Take(n, events int64) bool {
	if n < 0 || n > FillerSlack+FillerPerEvent*events-b.used {
		return false
	}
	b.used += n
	return true
}

// Start creates the file at path and hands it to newWriter, removing it when newWriter fails: every
// package's Create(path, …) is its writer on a File from Create.
func Start[W any](path string, newWriter func(*File) (W, error)) (W, error) {
	o, err := Create(path)
	if err != nil {
		var zero W
		return zero, err
	}
	w, err := newWriter(o)
	if err != nil {
		o.Abort()
	}
	return w, err
}
