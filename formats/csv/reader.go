package csv

import (
	"io"
	"math"
	"os"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// maxLine bounds a line, so the read buffer (1 MiB) always holds a whole one: event lines are ~20 bytes,
// a header a few hundred.
const maxLine = 64 << 10

// Reader streams events from a CSV file in constant memory.
type Reader struct {
	ps      *parser
	f       io.ReadCloser
	buf     []byte
	r, w    int   // unread bytes are buf[r:w]
	base    int64 // file offset of buf[0]
	eof     bool
	readErr error // a failed read: reported once the complete lines before it are parsed
	pending error // fault to report after the good events
	done    bool
	meta    events.Meta
}

// Open opens a CSV file for streaming; o.Params holds the -O options (sep, columns, header, time-unit).
func Open(path string, o formats.Options) (*Reader, error) {
	cfg, err := parseConfig(o, false)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return newReader(f, path, cfg, o.Sensor), nil
}

// NewReader streams events from r; name is used in errors and metadata.
func NewReader(r io.ReadCloser, name string, o formats.Options) (*Reader, error) {
	cfg, err := parseConfig(o, false)
	if err != nil {
		return nil, err
	}
	return newReader(r, name, cfg, o.Sensor), nil
}

func newReader(f io.ReadCloser, name string, cfg config, sensor events.Geometry) *Reader {
	return &Reader{
		ps:   newParser(cfg, name),
		f:    f,
		buf:  make([]byte, 1<<20),
		meta: events.Meta{Format: "csv", Kind: events.KindRecording, Geometry: sensor, Source: name},
	}
}

// Meta describes the stream. CSV carries no sensor size: it is the one given with --sensor, else unknown
// (callers use the extent of the events).
func (r *Reader) Meta() events.Meta { return r.meta }

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }

// Read fills dst with the next events (up to cap(dst.T), or 65536 when dst has no capacity).
func (r *Reader) Read(dst *events.Batch) error {
	dst.Reset()
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
		dst.Grow(want)
	}
	for dst.Len() < want && !r.done && r.pending == nil {
		n, err := r.ps.lines(r.buf[r.r:r.w], r.base+int64(r.r), r.eof && r.readErr == nil, dst, want)
		r.r += n
		if err != nil {
			r.pending = err
			break
		}
		if dst.Len() >= want {
			break
		}
		if r.eof {
			r.pending, r.done = r.readErr, r.readErr == nil
			break
		}
		r.fill()
	}
	if dst.Len() > 0 {
		return nil
	}
	if r.pending != nil {
		err := r.pending
		r.pending = nil
		r.done = true
		return err
	}
	return io.EOF
}

// fill moves the unread tail (a partial line) to the front of the buffer and reads more.
func (r *Reader) fill() {
	n := copy(r.buf, r.buf[r.r:r.w])
	r.base += int64(r.r)
	r.r, r.w = 0, n
	for r.w < len(r.buf) && !r.eof {
		m, err := r.f.Read(r.buf[r.w:])
		r.w += m
		if err == io.EOF {
			r.eof = true
		} else if err != nil {
			r.eof = true
			r.readErr = &events.DecodeError{Path: r.ps.path, Offset: r.base + int64(r.w), Msg: "read failed", Err: err}
		}
		if r.w-r.r >= 256<<10 {
			break
		}
	}
}

// Decode parses a whole in-memory CSV file into dst (appending), with the -O options in o. It returns the
// events before any fault and a *DecodeError naming the line and byte offset of the fault.
func Decode(data []byte, name string, o formats.Options, dst *events.Batch) error {
	cfg, err := parseConfig(o, false)
	if err != nil {
		return err
	}
	_, err = newParser(cfg, name).lines(data, 0, true, dst, math.MaxInt)
	return err
}
