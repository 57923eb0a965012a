// Package nmnist reads and writes the 5-byte ATIS event format of N-MNIST and N-Caltech101 `.bin` files
// (FORMATS.md §1), including the y == 240 timestamp-overflow marker, streaming in constant memory.
package nmnist

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
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
		Name:          "nmnist",
		Description:   "N-MNIST / N-Caltech101 .bin (ATIS 40-bit events, y==240 overflow markers)",
		Extensions:    []string{".bin", ".bs2"},
		Open:          func(path string, o formats.Options) (formats.Source, error) { return Open(path, o) },
		Create:        create,
		DatasetCreate: true,
		InferGeometry: InferGeometry,
		Params: map[string]string{
			"overflow-markers": "write y==240 overflow markers so timestamps >= 2^23 µs fit (readers such as spikingjelly and SLAYER ignore them)",
		},
	})
}

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
	path     string
	f        io.ReadCloser
	buf      []byte
	r, w     int   // valid bytes are buf[r:w]
	base     int64 // file offset of buf[0]
	overflow int64 // accumulated marker time
	markers  int64
	pending  error // fault to report after the good events
	eof      bool
	meta     events.Meta
}

// Open opens a .bin file for streaming.
func Open(path string, o formats.Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// Most .bin files are small (N-MNIST: ~20 KB): size the buffer to the file, not to the 1 MiB maximum,
	// so converting 60,000 of them does not spend its time clearing memory.
	size := maxBuffer
	if st, err := f.Stat(); err == nil && st.Size() < int64(size) {
		size = int(max(st.Size()+1, 4096))
	}
	return newReader(f, path, o, size), nil
}

const maxBuffer = 1 << 20

// NewReader streams records from r; name is used in errors and metadata.
func NewReader(r io.ReadCloser, name string, o formats.Options) *Reader {
	return newReader(r, name, o, maxBuffer)
}

func newReader(r io.ReadCloser, name string, o formats.Options, bufSize int) *Reader {
	return &Reader{
		path: name,
		f:    r,
		buf:  make([]byte, bufSize),
		meta: events.Meta{Format: "nmnist", Kind: events.KindRecording, Geometry: o.Sensor, Source: name},
	}
}

// Meta describes the stream. The geometry is unknown (zero) unless given with --sensor: .bin files
// carry no header; callers use InferGeometry on the extent.
func (r *Reader) Meta() events.Meta {
	m := r.meta
	m.Extra = map[string]any{"overflow_markers": r.markers}
	return m
}

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }

// Read fills dst with the next events.
func (r *Reader) Read(dst *events.Batch) error {
	dst.Reset()
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	for dst.Len() < want {
		if r.w-r.r < recordSize {
			if r.eof {
				break
			}
			r.fill()
			continue
		}
		nrec := min((r.w-r.r)/recordSize, want-dst.Len())
		chunk := r.buf[r.r : r.r+nrec*recordSize]
		r.overflow, r.markers = decodeInto(chunk, dst, r.overflow, r.markers)
		r.r += nrec * recordSize
	}
	if dst.Len() > 0 {
		return nil
	}
	if rem := r.w - r.r; rem > 0 && r.pending == nil {
		r.pending = &events.DecodeError{Path: r.path, Offset: r.base + int64(r.r),
			Msg: fmt.Sprintf("file ends inside a 5-byte event record (%d trailing bytes)", rem), Err: events.ErrTruncated}
		r.r = r.w
	}
	if r.pending != nil {
		err := r.pending
		r.pending = nil
		r.eof = true
		return err
	}
	return io.EOF
}

// fill moves the unread tail to the front of the buffer and reads more.
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
			r.pending = &events.DecodeError{Path: r.path, Offset: r.base + int64(r.w), Msg: "read failed", Err: err}
		}
		if m == 0 && err == nil {
			continue
		}
		if r.w-r.r >= 64*1024 {
			break
		}
	}
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
	whole := len(data) / recordSize * recordSize
	decodeInto(data[:whole], dst, 0, 0)
	if whole != len(data) {
		return &events.DecodeError{Path: name, Offset: int64(whole),
			Msg: fmt.Sprintf("file ends inside a 5-byte event record (%d trailing bytes)", len(data)-whole), Err: events.ErrTruncated}
	}
	return nil
}

// Writer writes events as 5-byte records.
type Writer struct {
	out      io.Writer
	bw       *bufio.Writer
	markers  bool  // write overflow markers when needed
	written  int64 // markers written so far
	lastT    int64
	n        int64
	rec      [recordSize]byte
	name     string
	file     *atomicfile.File // set when the writer owns its output file
	closeErr error
}

// NewWriter writes records to w. With overflowMarkers, timestamps ≥ 2^23 µs are made to fit with
// y == 240 markers; without, such timestamps are an error (spikingjelly and SLAYER ignore markers and
// would read wrong times).
func NewWriter(w io.Writer, name string, overflowMarkers bool) *Writer {
	return &Writer{out: w, bw: bufio.NewWriterSize(w, 1<<16), markers: overflowMarkers, name: name}
}

// Create writes a .bin file at path (atomically).
func Create(path string, overflowMarkers bool) (*Writer, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w := NewWriter(f, path, overflowMarkers)
	w.file = f
	return w, nil
}

// Write encodes a batch. Events must be in time order and lie in 0..255 x 0..239 (+241..255, as the byte
// allows; 240 is the marker).
func (w *Writer) Write(b *events.Batch) error {
	for i := 0; i < b.Len(); i++ {
		t, x, y := b.T[i], b.X[i], b.Y[i]
		if t < w.lastT || t < 0 {
			return fmt.Errorf("%s: event %d: timestamp %d µs is earlier than the previous one (%d); .bin needs events in time order",
				w.name, w.n, t, w.lastT)
		}
		if x > 255 || y > 255 || y == markerY {
			return fmt.Errorf("%s: event %d at (%d,%d) cannot be stored: .bin holds x,y in 0..255 and y=240 is the overflow marker",
				w.name, w.n, x, y)
		}
		for t-w.written*OverflowStep > MaxRawTime {
			if !w.markers {
				return fmt.Errorf("%s: event %d: timestamp %d µs exceeds the 23-bit .bin limit (%d µs); pass -O overflow-markers to write y=240 markers",
					w.name, w.n, t, MaxRawTime)
			}
			w.rec = [recordSize]byte{0, markerY, 0, 0, 0}
			if _, err := w.bw.Write(w.rec[:]); err != nil {
				return fmt.Errorf("write %s: %w", w.name, err)
			}
			w.written++
		}
		raw := uint32(t - w.written*OverflowStep)
		w.rec[0] = byte(x)
		w.rec[1] = byte(y)
		w.rec[2] = byte(raw>>16)&0x7F | b.P[i]<<7
		w.rec[3] = byte(raw >> 8)
		w.rec[4] = byte(raw)
		if _, err := w.bw.Write(w.rec[:]); err != nil {
			return fmt.Errorf("write %s: %w", w.name, err)
		}
		w.lastT = t
		w.n++
	}
	return nil
}

// Flush writes buffered records to the underlying writer.
func (w *Writer) Flush() error { return w.bw.Flush() }

// Close flushes and, when the writer owns its file, moves it into place.
func (w *Writer) Close() error {
	if err := w.bw.Flush(); err != nil {
		w.Abort()
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	if w.file != nil {
		return w.file.Commit()
	}
	return nil
}

// Abort discards the output.
func (w *Writer) Abort() {
	if w.file != nil {
		w.file.Abort()
	}
}

func create(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
	markers, err := o.BoolParam("overflow-markers")
	if err != nil {
		return nil, err
	}
	if meta.Kind == events.KindDataset {
		return CreateFolder(path, meta, markers)
	}
	return Create(path, markers)
}

// FolderWriter writes each sample of a dataset to its own .bin file under a folder, at the path its id
// names (so a dataset converted from an N-MNIST tree converts back to the same tree, byte for byte).
type FolderWriter struct {
	dir     *atomicfile.Dir
	meta    events.Meta
	markers bool
	seen    map[string]bool
}

// CreateFolder prepares the output folder (it must not exist yet).
func CreateFolder(path string, meta events.Meta, overflowMarkers bool) (*FolderWriter, error) {
	d, err := atomicfile.CreateDir(path)
	if err != nil {
		return nil, err
	}
	return &FolderWriter{dir: d, meta: meta, markers: overflowMarkers, seen: map[string]bool{}}, nil
}

// SamplePath returns the relative file path for a sample: its id when that is a safe relative path,
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
	full := filepath.Join(fw.dir.Tmp, rel)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	f, err := os.Create(full)
	if err != nil {
		return err
	}
	w := NewWriter(f, rel, fw.markers)
	if err := w.Write(&s.Events); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", rel, err)
	}
	return f.Close()
}

// Close moves the folder into place.
func (fw *FolderWriter) Close() error { return fw.dir.Commit() }

// Abort removes everything written.
func (fw *FolderWriter) Abort() { fw.dir.Abort() }
