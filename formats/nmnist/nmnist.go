// Package nmnist reads and writes the 5-byte ATIS event format of N-MNIST and N-Caltech101 `.bin` files
// (docs/formats-nmnist.md), including the y == 240 timestamp-overflow marker, streaming in constant memory.
package nmnist

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
	"github.com/evtool/evtool/formats/internal/output"
	"github.com/evtool/evtool/internal/atomicfile"
)

const (
	recordSize = 5
	// markerY is the raw y byte of an overflow marker: not an event; it adds OverflowStep to later times.
	markerY = 240
	// OverflowStep is what each marker adds to the timestamps of every later record (2^13 µs, as
	// Orchard's reference reader and tonic do).
	OverflowStep = 8192
	// MaxRawTime is the largest timestamp a record can hold (23 bits).
	MaxRawTime = 1<<23 - 1
	// NMNISTSize is N-MNIST's sensor size.
	NMNISTSize = 34
)

func init() {
	formats.Register(&formats.Format{
		Name:        "nmnist",
		Description: "N-MNIST / N-Caltech101 .bin (ATIS 40-bit events, y==240 overflow markers)",
		Extensions:  []string{".bin", ".bs2"},
		NewReader: func(r io.Reader, name string, o formats.Options) (formats.Source, error) {
			return formats.EventSource(NewReader(r, name, o))
		},
		Create: func(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
			if meta.Kind == events.KindDataset {
				return formats.SampleSink(CreateFolder(path, meta, o))
			}
			return formats.EventSink(Create(path, meta, o))
		},
		DatasetCreate: true,
		InferGeometry: InferGeometry,
		Params: map[string]string{
			ParamOverflowMarkers: "write y==240 overflow markers so timestamps >= 2^23 µs fit (readers such as spikingjelly and SLAYER ignore them)",
		},
		Conformance: formats.Conformance{
			// With markers: the writer that could write without bound if it had none.
			Options:  formats.Options{Params: map[string]string{ParamOverflowMarkers: "true"}},
			Geometry: events.Geometry{Width: NMNISTSize, Height: NMNISTSize},
			Extremes: []events.Event{{T: 0, X: 255, Y: 255, P: 1}, {T: 0, X: 0, Y: 239, P: 0}, {T: 5, X: 255, Y: 241, P: 1},
				{T: MaxRawTime, X: 0, Y: 0, P: 0}, {T: MaxRawTime + 1, X: 1, Y: 1, P: 1}, {T: 100 * MaxRawTime, X: 2, Y: 2}},
		},
	})
}

// ParamOverflowMarkers is the writer option that allows timestamps of 2^23 µs and more.
const ParamOverflowMarkers = "overflow-markers"

// InferGeometry applies dataset knowledge: events that fit 34x34 are N-MNIST; otherwise (N-Caltech101) the
// canvas is the extent of the events, never shifted.
func InferGeometry(extent events.Geometry) events.Geometry {
	if extent.Width <= NMNISTSize && extent.Height <= NMNISTSize {
		return events.Geometry{Width: NMNISTSize, Height: NMNISTSize}
	}
	return extent
}

// Reader streams events from a .bin file.
type Reader struct {
	in       *input.Input
	overflow int64 // accumulated marker time
	markers  int64
	meta     events.Meta
}

// Open opens a .bin file for streaming.
func Open(path string, o formats.Options) (*Reader, error) {
	return input.Open(path, func(f *os.File) (*Reader, error) { return NewReader(f, path, o) })
}

// NewReader streams records from r (closed by Close when it is an io.Closer); name is used in errors and
// metadata.
func NewReader(r io.Reader, name string, o formats.Options) (*Reader, error) {
	return &Reader{
		in:   input.New(r, name),
		meta: events.Meta{Format: "nmnist", Kind: events.KindRecording, Geometry: o.Sensor, Source: name},
	}, nil
}

// Meta describes the stream. The geometry is unknown (zero) unless given with --sensor: .bin files
// carry no header; callers use InferGeometry on the extent.
func (r *Reader) Meta() events.Meta {
	m := r.meta
	m.Extra = map[string]any{"overflow_markers": r.markers}
	return m
}

// Close closes the file.
func (r *Reader) Close() error { return r.in.Close() }

// Read fills dst with the next events.
func (r *Reader) Read(dst *events.Batch) error {
	dst.Reset()
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	in := r.in
	for dst.Len() < want {
		b := in.Bytes()
		if len(b) < recordSize {
			if in.Fill(recordSize) < recordSize {
				break
			}
			continue
		}
		nrec := min(len(b)/recordSize, want-dst.Len())
		r.overflow, r.markers = decodeInto(b[:nrec*recordSize], dst, r.overflow, r.markers)
		in.Advance(nrec * recordSize)
	}
	if dst.Len() > 0 {
		return nil
	}
	return in.End("a 5-byte event record")
}

// decodeInto appends every record of src (a whole number of records) to dst. It returns the updated
// overflow time and marker count. This is the hot loop: no allocation beyond one Grow per call.
func decodeInto(src []byte, dst *events.Batch, overflow, markers int64) (int64, int64) {
	n := len(src) / recordSize
	start := dst.Len()
	dst.Grow(n)
	T := dst.T[start : start+n]
	X := dst.X[start : start+n]
	Y := dst.Y[start : start+n]
	P := dst.P[start : start+n]
	j := 0
	for i := 0; i < n; i++ {
		rec := src[i*recordSize : i*recordSize+recordSize : i*recordSize+recordSize]
		if rec[1] == markerY {
			overflow += OverflowStep
			markers++
			continue
		}
		if j >= len(T) || j >= len(X) || j >= len(Y) || j >= len(P) {
			break // unreachable: j <= i < n; lets the compiler drop bounds checks below
		}
		T[j] = int64(uint32(rec[2]&0x7F)<<16|uint32(rec[3])<<8|uint32(rec[4])) + overflow
		X[j] = uint16(rec[0])
		Y[j] = uint16(rec[1])
		P[j] = rec[2] >> 7
		j++
	}
	dst.T, dst.X, dst.Y, dst.P = dst.T[:start+j], dst.X[:start+j], dst.Y[:start+j], dst.P[:start+j]
	return overflow, markers
}

// Decode decodes a whole in-memory file into dst (appending). It returns the events before any fault and
// a *DecodeError for a truncated tail. name is used in errors.
func Decode(data []byte, name string, dst *events.Batch) error {
	r, _ := NewReader(bytes.NewReader(data), name, formats.Options{})
	b, err := events.ReadAll(r)
	dst.AppendBatch(b)
	return err
}

// Writer writes events as 5-byte records.
type Writer struct {
	out     *output.File
	markers bool  // write overflow markers when needed
	written int64 // markers written so far
	filler  output.FillerBudget
	lastT   int64
	n       int64
}

// Create writes a .bin file at path (atomically). Option overflow-markers makes timestamps ≥ 2^23 µs fit
// with y == 240 markers; without it, such timestamps are an error (spikingjelly and SLAYER ignore markers
// and would read wrong times).
func Create(path string, meta events.Meta, o formats.Options) (*Writer, error) {
	return output.Start(path, func(out *output.File) (*Writer, error) { return newWriter(out, o) })
}

// NewWriter writes records to w; name is used in errors.
func NewWriter(w io.Writer, name string, meta events.Meta, o formats.Options) (*Writer, error) {
	return newWriter(output.New(w, name), o)
}

func newWriter(out *output.File, o formats.Options) (*Writer, error) {
	markers, err := o.BoolParam(ParamOverflowMarkers)
	if err != nil {
		return nil, err
	}
	return &Writer{out: out, markers: markers}, nil
}

// Write encodes a batch. Events must be in time order and lie in 0..255 x 0..239 (+241..255, as the byte
// allows; 240 is the marker).
func (w *Writer) Write(b *events.Batch) error {
	name := w.out.Name()
	for i := 0; i < b.Len(); i++ {
		t, x, y := b.T[i], b.X[i], b.Y[i]
		if t < w.lastT || t < 0 {
			return fmt.Errorf("%s: event %d: timestamp %d µs is earlier than the previous one (%d); .bin needs events in time order",
				name, w.n, t, w.lastT)
		}
		if x > 255 || y > 255 || y == markerY {
			return fmt.Errorf("%s: event %d at (%d,%d) cannot be stored: .bin holds x,y in 0..255 and y=240 is the overflow marker",
				name, w.n, x, y)
		}
		if t-w.written*OverflowStep > MaxRawTime {
			if err := w.overflowMarkers(t); err != nil {
				return err
			}
		}
		raw := uint32(t - w.written*OverflowStep)
		w.out.Buf = append(w.out.Buf, byte(x), byte(y), byte(raw>>16)&0x7F|b.P[i]<<7, byte(raw>>8), byte(raw))
		w.out.Spill()
		w.lastT = t
		w.n++
	}
	return w.out.Err()
}

// overflowMarkers writes the markers that bring t within the 23 bits of a record, within the output's
// filler bound.
func (w *Writer) overflowMarkers(t int64) error {
	name := w.out.Name()
	if !w.markers {
		return fmt.Errorf("%s: event %d: timestamp %d µs exceeds the 23-bit .bin limit (%d µs): %w; set option %s to write y=240 markers, or shift the times to start at 0 (time-align)",
			name, w.n, t, MaxRawTime, formats.ErrTimeRange, ParamOverflowMarkers)
	}
	need := (t - w.written*OverflowStep - MaxRawTime + OverflowStep - 1) / OverflowStep
	if need > 1<<40 || !w.filler.Take(need*recordSize, w.n) {
		return fmt.Errorf("%s: event %d: timestamp %d µs would need %d overflow markers after %d events: %w; shift the times to start at 0 first (time-align)",
			name, w.n, t, need, w.n, formats.ErrTimeRange)
	}
	for ; need > 0; need-- {
		w.out.Buf = append(w.out.Buf, 0, markerY, 0, 0, 0)
		w.out.Spill()
		w.written++
	}
	return w.out.Err()
}

// Close flushes and moves the file into place.
func (w *Writer) Close() error { return w.out.Close(nil) }

// Abort discards the output.
func (w *Writer) Abort() { w.out.Abort() }

// FolderWriter writes each sample of a dataset to its own .bin file under a folder, at the path its id
// names (so a dataset converted from an N-MNIST tree converts back to the same tree, byte for byte).
type FolderWriter struct {
	dir  *atomicfile.Dir
	path string // the folder's final name, for errors
	meta events.Meta
	opts formats.Options
	seen map[string]bool
}

// CreateFolder prepares the output folder; o as for Create. An existing folder is refused unless
// o.Overwrite is set: then it is replaced once the new folder is complete.
func CreateFolder(path string, meta events.Meta, o formats.Options) (*FolderWriter, error) {
	if _, err := o.BoolParam(ParamOverflowMarkers); err != nil {
		return nil, err
	}
	d, err := atomicfile.CreateDir(path, o.Overwrite)
	if err != nil {
		return nil, err
	}
	return &FolderWriter{dir: d, path: path, meta: meta, opts: o, seen: map[string]bool{}}, nil
}

// samplePath returns the relative file path for a sample: its id when that is a safe relative path,
// else <class>/<index>.bin.
func (fw *FolderWriter) samplePath(s *events.Sample) (string, error) {
	id := filepath.ToSlash(s.ID)
	if id == "" {
		class := "unlabelled"
		if s.Label >= 0 {
			class = fmt.Sprint(s.Label)
			if int(s.Label) < len(fw.meta.Classes) {
				class = fw.meta.Classes[s.Label]
			}
		}
		id = fmt.Sprintf("%s/%05d.bin", class, len(fw.seen))
	}
	clean := filepath.Clean(filepath.FromSlash(id))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("sample id %q is not a relative path; cannot place it in the output folder", s.ID)
	}
	if ext := strings.ToLower(filepath.Ext(clean)); ext != ".bin" && ext != ".bs2" {
		clean += ".bin"
	}
	return clean, nil
}

// WriteSample writes one sample file.
func (fw *FolderWriter) WriteSample(s *events.Sample) error {
	rel, err := fw.samplePath(s)
	if err != nil {
		return err
	}
	if fw.seen[rel] {
		return fmt.Errorf("two samples map to the same file %s", rel)
	}
	fw.seen[rel] = true
	f, err := fw.dir.Create(rel)
	if err != nil {
		return err
	}
	name := filepath.Join(fw.path, rel) // where the file will be: errors never name the temporary folder
	w, err := NewWriter(f, name, fw.meta, fw.opts)
	if err == nil {
		if err = w.Write(&s.Events); err == nil {
			err = w.Close()
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", name, cerr)
	}
	return err
}

// Close moves the folder into place. A dataset of no samples is refused: an empty folder would not read
// back as a dataset.
func (fw *FolderWriter) Close() error {
	if len(fw.seen) == 0 {
		fw.dir.Abort()
		return fmt.Errorf("%s: the dataset holds no samples, and an empty folder of .bin files reads as nothing", fw.path)
	}
	return fw.dir.Commit()
}

// Abort removes everything written.
func (fw *FolderWriter) Abort() { fw.dir.Abort() }
