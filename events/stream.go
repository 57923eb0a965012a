package events

import (
	"errors"
	"fmt"
	"io"
)

// Geometry is the sensor (or canvas) size in pixels. The zero value means "unknown".
type Geometry struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Known reports whether both dimensions are set.
func (g Geometry) Known() bool { return g.Width > 0 && g.Height > 0 }

func (g Geometry) String() string { return fmt.Sprintf("%dx%d", g.Width, g.Height) }

// Kind tells a stream of events (one recording) from a set of labelled samples, and both from the tensors
// a representation makes of samples (package tensors).
type Kind string

const (
	KindRecording Kind = "recording"
	KindDataset   Kind = "dataset"
	KindTensors   Kind = "tensors"
)

// Meta describes what a Reader delivers or what a Writer is given. Field names mirror the Arrow schema
// metadata of the contract (evtool.kind, evtool.width, …).
type Meta struct {
	Format     string   // registry name of the format, e.g. "nmnist", "arrow"
	Kind       Kind     // recording or dataset
	Geometry   Geometry // sensor size; zero when the source does not say
	Source     string   // what the data was converted from
	Transforms string   // the transform chain applied, as its text spec ("" for none)
	Classes    []string // dataset class names; label i names Classes[i]
	// Boxes says that the samples, or the recording, carry boxes (labels over time, beside the events):
	// Sample.Boxes, a BoxReader's Boxes. BoxClasses names their classes: box class i is BoxClasses[i].
	Boxes      bool
	BoxClasses []string
	// Extra carries per-format details for `evtool info` (streams, counters, camera names…).
	Extra map[string]any
}

// SetExtra records a per-format detail, creating the map on first use.
func (m *Meta) SetExtra(key string, v any) {
	if m.Extra == nil {
		m.Extra = map[string]any{}
	}
	m.Extra[key] = v
}

// NoLabel marks a sample whose class is unknown (stored as null in Arrow).
const NoLabel int32 = -1

// Sample is one labelled unit of a dataset: an N-MNIST file, a DVSGesture clip, a detection window…
type Sample struct {
	Label  int32  // class index, or NoLabel
	ID     string // source file or clip id, unique within its dataset
	Events Batch
	// Boxes are the sample's labelled boxes in time order, on the events' clock (detection datasets);
	// nil for samples without them.
	Boxes []Box
}

// Reset empties the sample and keeps its event and box buffers.
func (s *Sample) Reset() {
	s.Label, s.ID = NoLabel, ""
	s.Events.Reset()
	s.Boxes = s.Boxes[:0]
}

// Reader is a pull-based event stream. Read resets dst and fills it with the next events (at most
// cap(dst.T) when that is non-zero, else a reader-chosen amount), reusing dst's buffers. At the end it
// returns io.EOF with dst empty. A decoder that hits a fault first returns every good event before it
// with a nil error; the next call returns the fault (a *DecodeError naming file and byte offset).
type Reader interface {
	Read(dst *Batch) error
	Meta() Meta
	Close() error
}

// SampleReader gives random access to the samples of a dataset.
type SampleReader interface {
	NumSamples() int
	// ReadSample decodes sample i into dst, reusing its buffers.
	ReadSample(i int, dst *Sample) error
	Meta() Meta
	Close() error
}

// Writer consumes an event stream. Close finishes the output and moves it into place; Abort removes
// everything written so far (no partial output file is ever left behind).
type Writer interface {
	Write(b *Batch) error
	Close() error
	Abort()
}

// SampleWriter consumes the samples of a dataset in order. Close and Abort as for Writer.
type SampleWriter interface {
	WriteSample(s *Sample) error
	Close() error
	Abort()
}

// DecodeError is the error every decoder returns for bad input: which file, where, and what was expected.
type DecodeError struct {
	Path   string
	Offset int64 // byte offset of the fault in the file
	Msg    string
	Err    error // underlying cause, e.g. io.ErrUnexpectedEOF
}

func (e *DecodeError) Error() string {
	s := fmt.Sprintf("%s: at byte %d: %s", e.Path, e.Offset, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ErrTruncated is wrapped by decode errors caused by input that ends mid-record.
var ErrTruncated = errors.New("file is truncated")

// ErrSensor is matched (errors.Is) by the errors that setting the sensor size would fix: events outside
// the sensor, or a size that is needed and that nothing states (formats.Options.Sensor sets it).
var ErrSensor = errors.New("the sensor size does not fit or is not known")

// SensorErrorf builds an error that matches ErrSensor, with its own text.
func SensorErrorf(format string, a ...any) error { return &sensorError{fmt.Sprintf(format, a...)} }

type sensorError struct{ msg string }

func (e *sensorError) Error() string        { return e.msg }
func (e *sensorError) Is(target error) bool { return target == ErrSensor }

// ReadAll drains r into one batch. Useful for tests and small samples; streaming code should loop on Read.
func ReadAll(r Reader) (*Batch, error) {
	all := NewBatch(0)
	buf := NewBatch(1 << 16)
	for {
		err := r.Read(buf)
		all.AppendBatch(buf)
		if err == io.EOF {
			return all, nil
		}
		if err != nil {
			return all, err
		}
	}
}

// Copy streams every event from r into w and returns the number of events copied.
func Copy(w Writer, r Reader) (int64, error) {
	buf := NewBatch(1 << 16)
	var n int64
	for {
		err := r.Read(buf)
		if buf.Len() > 0 {
			if werr := w.Write(buf); werr != nil {
				return n, werr
			}
			n += int64(buf.Len())
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// BatchReader serves an in-memory batch as a Reader (for synthetic data, tests and transforms).
type BatchReader struct {
	B     *Batch
	M     Meta
	pos   int
	Chunk int // events per Read; 0 means 65536
}

func (r *BatchReader) Read(dst *Batch) error {
	dst.Reset()
	if r.pos >= r.B.Len() {
		return io.EOF
	}
	n := r.Chunk
	if n <= 0 {
		n = 1 << 16
	}
	if c := cap(dst.T); c > 0 && c < n {
		n = c
	}
	end := min(r.pos+n, r.B.Len())
	part := r.B.Slice(r.pos, end)
	dst.AppendBatch(&part)
	r.pos = end
	return nil
}

func (r *BatchReader) Meta() Meta   { return r.M }
func (r *BatchReader) Close() error { return nil }
