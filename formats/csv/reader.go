package csv

import (
	"io"
	"math"
	"os"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
)

// maxLine bounds a line, so the read window always holds a whole one: event lines are ~20 bytes,
// a header a few hundred.
const maxLine = 64 << 10

// Reader streams events from a CSV file in constant memory.
type Reader struct {
	ps   *parser
	in   *input.Input
	meta events.Meta
}

// Open opens a CSV file for streaming; o.Params holds the -O options (sep, columns, header, time-unit).
func Open(path string, o formats.Options) (*Reader, error) {
	return input.Open(path, func(f *os.File) (*Reader, error) { return NewReader(f, path, o) })
}

// NewReader streams events from r (closed by Close when it is an io.Closer); name is used in errors and
// metadata.
func NewReader(r io.Reader, name string, o formats.Options) (*Reader, error) {
	cfg, err := parseConfig(o, false)
	if err != nil {
		return nil, err
	}
	return &Reader{
		ps:   newParser(cfg, name),
		in:   input.New(r, name),
		meta: events.Meta{Format: "csv", Kind: events.KindRecording, Geometry: o.Sensor, Source: name},
	}, nil
}

// Meta describes the stream. CSV carries no sensor size: it is the one given with --sensor, else unknown
// (callers use the extent of the events).
func (r *Reader) Meta() events.Meta { return r.meta }

// Close closes the file.
func (r *Reader) Close() error { return r.in.Close() }

// Read fills dst with the next events (up to cap(dst.T), or 65536 when dst has no capacity).
func (r *Reader) Read(dst *events.Batch) error {
	dst.Reset()
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
		dst.Grow(want)
	}
	in := r.in
	for dst.Len() < want {
		// After a read failure the partial line before it is not a line: End reports the failure.
		n, err := r.ps.lines(in.Bytes(), in.Offset(), in.Ended() && !in.Failed(), dst, want)
		in.Advance(n)
		if err != nil {
			in.Stop(err)
			break
		}
		if dst.Len() >= want || in.Ended() {
			break
		}
		in.Fill(in.Buffered() + 1) // what is left is a partial line: read on
	}
	if dst.Len() > 0 {
		return nil
	}
	return in.End("a line")
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
