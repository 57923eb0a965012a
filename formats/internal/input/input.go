// Package input is the one read path of every streaming decoder in formats/: a refillable window over an
// io.Reader that knows the file offset of every buffered byte. It gives decoders what each used to carry
// its own copy of:
//
//   - refills that keep a partial record and read as much as fits, so hot loops run over long plain
//     slices (Bytes) and never call through an interface per record;
//   - the file offset of every byte, for *events.DecodeError values that name the byte of a fault;
//   - deferred faults: a read error, or a decode fault a decoder reports with Stop, is returned by End
//     once the good bytes before it are used up, so readers hand out every good event first;
//   - a stall guard: a source that keeps returning (0, nil) ends in io.ErrNoProgress, as in bufio,
//     instead of a decoder spinning forever;
//   - bounded header lines, skipping, and growth only as far as the data actually present.
//
// Decoders consume the window directly: b := in.Bytes(); decode whole records of b; in.Advance(used);
// when fewer than a record's bytes are buffered, in.Fill(recordSize); at the end, return in.End(…).
package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"os"
	"sync"

	"github.com/evtool/evtool/events"
)

// Size is the window every decoder reads through, chosen on the twelve decoder benchmarks (one core,
// events per CPU second, median of 4, geometric mean): 256 KiB was fastest; 64 KiB 1.5 % and 1 MiB 6.6 %
// slower (npy −26 %, AEDAT −7 to −12 %): a 256 KiB chunk is still in the core's L2 cache when it is
// decoded right after the copy from the file.
const Size = 256 << 10

// minSize is the smallest window a source of known length gets.
const minSize = 512

// maxEmptyReads is how many consecutive (0, nil) reads count as a stalled source (bufio uses 100 too).
const maxEmptyReads = 100

// Input is a buffered window on a source. Valid bytes are buf[r:w]; buf[0] is at file offset base.
type Input struct {
	name  string
	src   io.Reader
	buf   []byte
	win   *[]byte // the pooled window buf came from, returned by Close; nil when buf was not pooled
	r, w  int
	base  int64
	eof   bool  // the source has nothing more to give (end, failure, or a decoder's Stop)
	err   error // why it ended early: a read failure, or a decode fault given to Stop
	ended bool  // End has reported
}

// New returns an input reading src, with a window of Size bytes, or less when src says it is shorter
// (an *os.File, a *bytes.Reader…): converting thousands of 20 KB files must not clear 256 KiB for each.
// Windows are pooled: Close hands the window to the next input of its size class, so a worker reading
// file after file allocates none. name is the file name used in errors.
func New(src io.Reader, name string) *Input {
	size := Size
	if n := Length(src); n >= 0 && n+1 < int64(size) {
		size = max(int(n)+1, minSize)
	}
	return NewSize(src, name, size)
}

// NewSize is New with a chosen initial window (tests use tiny ones; the window still grows when a
// decoder asks for more than it holds).
func NewSize(src io.Reader, name string, size int) *Input {
	in := &Input{name: name, src: src}
	if c := windowClass(size); c >= 0 {
		in.win = getWindow(c)
		in.buf = *in.win
	} else {
		in.buf = make([]byte, max(size, 1))
	}
	return in
}

// Pooled windows come in power-of-two sizes from minSize to Size: a file gets the smallest class that
// holds it whole (plus the byte that sees its end), so a 20 KB file reads into a 32 KiB window.
const minClassShift, maxClassShift = 9, 18

var windows [maxClassShift - minClassShift + 1]sync.Pool

func init() {
	if 1<<minClassShift != minSize || 1<<maxClassShift != Size {
		panic("input: window classes do not span minSize..Size")
	}
}

// windowClass returns the pool class of a window of at least size bytes, or -1 for windows smaller
// than minSize (tests' tiny windows) or larger than Size.
func windowClass(size int) int {
	if size < minSize || size > Size {
		return -1
	}
	return bits.Len(uint(size-1)) - minClassShift
}

func getWindow(class int) *[]byte {
	if w, ok := windows[class].Get().(*[]byte); ok {
		return w
	}
	b := make([]byte, 1<<(class+minClassShift))
	return &b
}

// Length returns the number of bytes left in src when src can tell (an *os.File, *bytes.Reader,
// *strings.Reader, *io.SectionReader), else -1.
func Length(src io.Reader) int64 {
	switch s := src.(type) {
	case interface{ Len() int }:
		return int64(s.Len())
	case interface{ Size() int64 }: // *io.SectionReader, read from its start
		return s.Size()
	case interface{ Stat() (fs.FileInfo, error) }:
		if st, err := s.Stat(); err == nil && st.Mode().IsRegular() {
			if sk, ok := src.(io.Seeker); ok {
				if pos, err := sk.Seek(0, io.SeekCurrent); err == nil {
					return max(st.Size()-pos, 0)
				}
			}
			return st.Size()
		}
	}
	return -1
}

// Name is the file name used in errors.
func (in *Input) Name() string { return in.name }

// Bytes returns the buffered, unread bytes. They stay valid until the next Fill, Skip or Line.
func (in *Input) Bytes() []byte { return in.buf[in.r:in.w] }

// Buffered is len(Bytes()).
func (in *Input) Buffered() int { return in.w - in.r }

// Advance consumes n buffered bytes (n ≤ Buffered()).
func (in *Input) Advance(n int) { in.r += n }

// Offset is the file offset of the next unread byte.
func (in *Input) Offset() int64 { return in.base + int64(in.r) }

// Ended reports whether the source has nothing more to give: Fill will not add bytes. What is buffered
// may still be decoded.
func (in *Input) Ended() bool { return in.eof }

// Failed reports whether the input ended by a read failure or a Stop rather than at the end of the data.
func (in *Input) Failed() bool { return in.err != nil }

// Fill tries to buffer at least n bytes and returns how many are buffered: fewer only when the source
// has ended. It moves the unread bytes to the front and reads as much as fits in one call, so a decoder
// asking for one record gets a long run of them. The window grows when n exceeds it, but only as fast
// as data arrives (at most doubling per read), so a size field cannot make it allocate more than twice
// what the source really holds; callers bound n.
func (in *Input) Fill(n int) int {
	if in.w-in.r >= n || in.eof {
		return in.w - in.r
	}
	if in.r > 0 {
		copy(in.buf, in.buf[in.r:in.w])
		in.base += int64(in.r)
		in.w -= in.r
		in.r = 0
	}
	for empty := 0; in.w < n && !in.eof; {
		if in.w == len(in.buf) {
			nb := make([]byte, min(n, 2*len(in.buf)))
			copy(nb, in.buf[:in.w])
			in.buf = nb
		}
		m, err := in.src.Read(in.buf[in.w:])
		if m < 0 || m > len(in.buf)-in.w {
			in.eof, in.err = true, errors.New("the source returned an invalid byte count")
			break
		}
		in.w += m
		switch {
		case err == io.EOF:
			in.eof = true
		case err != nil:
			in.eof, in.err = true, err
		case m == 0:
			if empty++; empty >= maxEmptyReads {
				in.eof, in.err = true, io.ErrNoProgress
			}
		default:
			empty = 0
		}
	}
	return in.w - in.r
}

// Next consumes and returns the next n bytes (valid until the next call that fills); ok is false, and
// nothing is consumed, when the input ends first. Callers bound n.
func (in *Input) Next(n int) (b []byte, ok bool) {
	if in.Fill(n) < n {
		return nil, false
	}
	b = in.buf[in.r : in.r+n]
	in.r += n
	return b, true
}

// Skip consumes up to n bytes without keeping them and returns how many were consumed (fewer only when
// the source ends first).
func (in *Input) Skip(n int64) int64 {
	var done int64
	for done < n {
		if in.w == in.r && in.Fill(1) == 0 {
			break
		}
		k := int(min(int64(in.w-in.r), n-done))
		in.r += k
		done += int64(k)
	}
	return done
}

// PeekByte returns the next byte without consuming it; ok is false at the end of the input.
func (in *Input) PeekByte() (c byte, ok bool) {
	if in.Fill(1) == 0 {
		return 0, false
	}
	return in.buf[in.r], true
}

// Line consumes one header line up to and including LF and returns it without the LF and one trailing
// CR; it is valid until the next call that fills. Nothing is consumed, and a decode error is returned,
// when the input ends before the LF (a file cut inside its header: the error wraps events.ErrTruncated)
// or when no LF comes within limit bytes (a binary file or a hostile header must not make it buffer
// without end).
func (in *Input) Line(limit int) ([]byte, error) {
	for scanned := 0; ; {
		if i := bytes.IndexByte(in.buf[in.r+scanned:in.w], '\n'); i >= 0 && scanned+i < limit {
			end := in.r + scanned + i
			line := in.buf[in.r:end]
			in.r = end + 1
			return bytes.TrimSuffix(line, []byte{'\r'}), nil
		}
		scanned = in.w - in.r
		if scanned >= limit {
			return nil, in.Errorf(in.Offset(), nil, "a header line is longer than %d bytes", limit)
		}
		if in.eof {
			if err := in.Err(); err != nil {
				return nil, err
			}
			return nil, in.Truncated(in.Offset(), "file ends inside a header line")
		}
		in.Fill(min(scanned+64<<10, limit+1))
	}
}

// Errorf returns the decode error for a fault at file offset off, with cause (may be nil) wrapped.
func (in *Input) Errorf(off int64, cause error, format string, args ...any) *events.DecodeError {
	return &events.DecodeError{Path: in.name, Offset: off, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// Truncated returns the decode error for input that ends at off in the middle of what is described.
func (in *Input) Truncated(off int64, format string, args ...any) *events.DecodeError {
	return in.Errorf(off, events.ErrTruncated, format, args...)
}

// Stop ends the input with a decoder's fault: Fill adds nothing more, and End returns err once the
// decoder has handed out its good events. A read failure already met wins (it is the cause).
func (in *Input) Stop(err error) {
	in.eof = true
	if in.err == nil {
		in.err = err
	}
}

// Fail ends the input at once with err (a decoder's policy error met after a batch was decoded): the
// buffered bytes are dropped, so the decoder's next End returns err.
func (in *Input) Fail(err error) {
	in.r = in.w
	in.Stop(err)
}

// Err returns why the input ended early, as a decode error: a read failure (wrapping the cause, e.g.
// io.ErrNoProgress for a stalled source) at the offset where reading failed, or the fault given to Stop.
// It is nil while the input is healthy or ended cleanly.
func (in *Input) Err() error {
	if in.err == nil {
		return nil
	}
	var de *events.DecodeError
	if errors.As(in.err, &de) {
		return in.err
	}
	return in.Errorf(in.base+int64(in.w), in.err, "read failed")
}

// End reports, once, why no more records come: Err() when the input failed or was stopped; a truncation
// naming record ("a 5-byte event record") when bytes that do not make a whole record are left over;
// else io.EOF. Later calls return io.EOF, as the events.Reader contract wants.
func (in *Input) End(record string) error {
	if in.ended {
		return io.EOF
	}
	in.ended = true
	if err := in.Err(); err != nil {
		in.r = in.w
		return err
	}
	if rem := in.w - in.r; rem > 0 {
		off := in.Offset()
		in.r = in.w
		return in.Truncated(off, "file ends inside %s (%d trailing bytes)", record, rem)
	}
	return io.EOF
}

// Reopen positions the input at file offset off of a seekable source (for readers that jump by an
// index) and forgets the buffered bytes and any earlier end.
func (in *Input) Reopen(off int64) error {
	sk, ok := in.src.(io.Seeker)
	if !ok {
		return fmt.Errorf("%s: the input is a stream, not a file: it cannot seek", in.name)
	}
	if _, err := sk.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("%s: seek: %w", in.name, err)
	}
	in.r, in.w, in.base = 0, 0, off
	in.eof, in.err, in.ended = false, nil, false
	return nil
}

// Source returns the reader the input reads from.
func (in *Input) Source() io.Reader { return in.src }

// Close closes the source when it is an io.Closer, and gives the window back to the pool: the input
// must not be used afterwards.
func (in *Input) Close() error {
	if in.win != nil {
		windows[windowClass(len(*in.win))].Put(in.win)
		in.win, in.buf, in.r, in.w = nil, nil, 0, 0
		in.eof, in.ended = true, true
	}
	if c, ok := in.src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Open opens the file at path and hands it to newReader, closing it when newReader fails: every
// package's Open(path, opts) is its NewReader on a file.
func Open[R any](path string, newReader func(f *os.File) (R, error)) (R, error) {
	f, err := OpenFile(path)
	if err != nil {
		var zero R
		return zero, err
	}
	r, err := newReader(f)
	if err != nil {
		f.Close()
	}
	return r, err
}

// RandomAccess returns r as an io.ReaderAt with its length, for formats that keep their index at the
// end of the file (Arrow, Parquet); ok is false for a stream. The io.ReaderAt returns a nil error with
// every full read: io.ReaderAt allows io.EOF with the last bytes, which arrow-go takes for a failure.
func RandomAccess(r io.Reader) (ra io.ReaderAt, size int64, ok bool) {
	at, ok := r.(io.ReaderAt)
	if !ok {
		return nil, 0, false
	}
	switch s := r.(type) {
	case interface{ Size() int64 }:
		return fullReaderAt{at}, s.Size(), true
	case interface{ Stat() (fs.FileInfo, error) }:
		if st, err := s.Stat(); err == nil && st.Mode().IsRegular() {
			return fullReaderAt{at}, st.Size(), true
		}
	}
	return nil, 0, false
}

type fullReaderAt struct{ io.ReaderAt }

func (f fullReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.ReaderAt.ReadAt(p, off)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	return n, err
}

// Ending is the end of a stream that a reader decodes in whole units (AEDAT 4 packets, ROS bag messages)
// rather than through an Input's window: the io.EOF or the fault met while fetching the next unit waits
// until the events already decoded are handed out, and the fault is returned once, then io.EOF.
type Ending struct {
	done bool
	err  error
}

// Over reports that no further unit will be fetched.
func (e *Ending) Over() bool { return e.done || e.err != nil }

// Set records what fetching the next unit returned: io.EOF ends the stream, any other error is deferred.
func (e *Ending) Set(err error) {
	if err == io.EOF {
		e.done = true
	} else if err != nil {
		e.err = err
	}
}

// Result is a Read's result once it has gathered delivered events: nil while there are events, then the
// deferred fault (once), then io.EOF.
func (e *Ending) Result(delivered int) error {
	if delivered > 0 {
		return nil
	}
	if e.err != nil {
		err := e.err
		e.err, e.done = nil, true
		return err
	}
	return io.EOF
}
