package evarrow

import (
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
)

// file is what both readers share: the open IPC file and its parsed metadata.
type file struct {
	path   string
	f      io.Reader // closed with the file when it is an io.Closer
	src    io.ReaderAt
	r      *ipc.FileReader
	meta   events.Meta
	cols   columns // where the layout's columns are in the file
	blocks []block // where each record batch lies (the footer's index, checked)
	left   *int64  // what the batch being loaded may still allocate (boundedAllocator)
	opts   formats.Options
}

// guard turns a panic inside arrow-go (possible on corrupt input) into an error.
func guard(path string, err *error) {
	if r := recover(); r != nil {
		*err = &events.DecodeError{Path: path, Msg: fmt.Sprintf("corrupt Arrow file: %v", r)}
	}
}

func openFile(path string) (*file, error) {
	return input.Open(path, func(f *os.File) (*file, error) { return openStream(f, path, formats.Options{}) })
}

// openStream reads an IPC file from r, which must give random access (a file, not a stream).
func openStream(r io.Reader, name string, o formats.Options) (*file, error) {
	ra, size, ok := input.RandomAccess(r)
	if !ok {
		return nil, fmt.Errorf("%s: an Arrow file keeps its index at the end: reading it needs random access (a file, not a stream)", name)
	}
	return openReader(name, io.NewSectionReader(ra, 0, size), r, o)
}

// openReader reads an IPC file from src (name is used in errors); f is closed with the file.
func openReader(path string, src *io.SectionReader, f io.Reader, o formats.Options) (fl *file, err error) {
	defer guard(path, &err)
	size := src.Size()
	if err := checkMagic(path, src, size); err != nil {
		return nil, err
	}
	blocks, err := checkFooter(src, size)
	if err != nil {
		return nil, &events.DecodeError{Path: path, Offset: size, Msg: "not a readable Arrow IPC file", Err: err}
	}
	left := int64(-1)
	r, err := ipc.NewFileReader(src, ipc.WithAllocator(boundedAllocator{memory.DefaultAllocator, &left}))
	if err != nil {
		return nil, &events.DecodeError{Path: path, Msg: "not a readable Arrow IPC file", Err: err}
	}
	if len(blocks) != r.NumRecords() {
		r.Close()
		return nil, &events.DecodeError{Path: path, Offset: size, Msg: fmt.Sprintf("the footer lists %d record batches; arrow-go found %d", len(blocks), r.NumRecords())}
	}
	meta, err := MetaFromMetadata(r.Schema().Metadata())
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if meta.Kind != events.KindTensors && (len(r.Schema().FieldIndices(ColLabel)) > 0 || len(r.Schema().FieldIndices(ColID)) > 0) {
		meta.Kind = events.KindDataset
	}
	cols, err := findColumns(r.Schema(), meta.Kind)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: not an evtool %s file: %w", path, meta.Kind, err)
	}
	meta.Boxes = cols.boxes >= 0
	return &file{path: path, f: f, src: src, r: r, meta: meta, cols: cols, blocks: blocks, left: &left, opts: o}, nil
}

// checkMagic tells a file that is not Arrow IPC from one cut short: an IPC file starts and ends with
// the magic, so a file that starts with it (or with part of it) but does not end with it is truncated.
func checkMagic(path string, src io.ReaderAt, size int64) error {
	head := make([]byte, min(size, int64(len(Magic))))
	if _, err := src.ReadAt(head, 0); err != nil && err != io.EOF {
		return &events.DecodeError{Path: path, Msg: "read failed", Err: err}
	}
	if !strings.HasPrefix(Magic, string(head)) {
		return &events.DecodeError{Path: path, Msg: "not an Arrow IPC file (it does not start with ARROW1)"}
	}
	const minSize = 2*len(Magic) + 2 + 4 // leading magic and padding, footer length, trailing magic
	if size < int64(minSize) {
		return &events.DecodeError{Path: path, Offset: size, Msg: "file ends before the Arrow footer", Err: events.ErrTruncated}
	}
	var tail [len(Magic)]byte
	if _, err := src.ReadAt(tail[:], size-int64(len(Magic))); err != nil && err != io.EOF {
		return &events.DecodeError{Path: path, Offset: size - int64(len(Magic)), Msg: "read failed", Err: err}
	}
	if string(tail[:]) != Magic {
		return &events.DecodeError{Path: path, Offset: size, Msg: "file does not end with the Arrow footer and magic: it is cut short", Err: events.ErrTruncated}
	}
	return nil
}

func (fl *file) close() error {
	fl.r.Close()
	if c, ok := fl.f.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// batch loads record batch i and checks what the readers rely on (the caller releases it).
func (fl *file) batch(i int) (rec arrow.RecordBatch, err error) {
	defer guard(fl.path, &err)
	*fl.left = batchBudget(fl.blocks[i])
	defer func() { *fl.left = -1 }()
	rec, err = fl.r.RecordBatchAt(i)
	if err != nil {
		return nil, &events.DecodeError{Path: fl.path, Msg: fmt.Sprintf("record batch %d", i), Err: err}
	}
	switch fl.meta.Kind {
	case events.KindRecording:
		err = checkRecordingBatch(rec, fl.cols)
	case events.KindDataset:
		err = checkDatasetBatch(rec, fl.cols)
	case events.KindTensors:
		err = checkTensorBatch(rec, fl.cols)
	}
	if err != nil {
		rec.Release()
		return nil, &events.DecodeError{Path: fl.path, Msg: fmt.Sprintf("record batch %d", i), Err: err}
	}
	return rec, nil
}

// boxesOf checks and returns a loaded batch's boxes column; nil when the file has none.
func (fl *file) boxesOf(rec arrow.RecordBatch, i int) (bc *boxColumn, err error) {
	if fl.cols.boxes < 0 {
		return nil, nil
	}
	defer guard(fl.path, &err)
	if bc, err = openBoxColumn(rec.Column(fl.cols.boxes)); err != nil {
		return nil, &events.DecodeError{Path: fl.path, Msg: fmt.Sprintf("record batch %d", i), Err: err}
	}
	return bc, nil
}

// Open opens an evtool Arrow file: a recording (Source.Events is a *RecordingReader) or a dataset
// (Source.Samples is a *DatasetReader), by its layout.
func Open(path string, o formats.Options) (formats.Source, error) {
	return input.Open(path, func(f *os.File) (formats.Source, error) { return NewReader(f, path, o) })
}

// NewReader reads an evtool Arrow file from r, which must give random access (an *os.File,
// *bytes.Reader or *io.SectionReader); r is closed by Close when it is an io.Closer.
func NewReader(r io.Reader, name string, o formats.Options) (formats.Source, error) {
	fl, err := openStream(r, name, o)
	if err != nil {
		return formats.Source{}, err
	}
	if fl.meta.Kind == events.KindTensors {
		fl.r.Close()
		return formats.Source{}, fmt.Errorf("%s holds tensors (a transform chain's output), not events: evtool info and render describe it; pyarrow reads it as numpy arrays", name)
	}
	if fl.meta.Kind == events.KindDataset {
		return formats.SampleSource(newDatasetReader(fl))
	}
	return formats.Source{Events: &RecordingReader{file: fl}}, nil
}

// RecordingReader streams a recording-layout file. A file with a boxes column hands out its boxes as an
// events.BoxReader does.
type RecordingReader struct {
	*file
	next    int // next record batch
	rec     arrow.RecordBatch
	bc      *boxColumn // rec's boxes
	pos     int        // next row in rec
	pending error      // fault to report after the good events
	met     []events.Box
}

// Boxes returns the boxes of the rows the last Read returned (events.BoxReader); none for a file without
// a boxes column.
func (r *RecordingReader) Boxes() []events.Box { return r.met }

// OpenRecording opens a recording-layout file.
func OpenRecording(path string) (*RecordingReader, error) {
	fl, err := openFile(path)
	if err != nil {
		return nil, err
	}
	if fl.meta.Kind != events.KindRecording {
		fl.close()
		return nil, fmt.Errorf("%s is a dataset file, not a recording", path)
	}
	return &RecordingReader{file: fl}, nil
}

// Meta describes the recording.
func (r *RecordingReader) Meta() events.Meta { return r.meta }

// Read fills dst with the next events.
func (r *RecordingReader) Read(dst *events.Batch) error {
	dst.Reset()
	r.met = r.met[:0]
	if err := r.pending; err != nil {
		r.pending = io.EOF
		return err
	}
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	for dst.Len() < want {
		if r.rec == nil || r.pos >= int(r.rec.NumRows()) {
			if r.rec != nil {
				r.rec.Release()
				r.rec = nil
			}
			if r.next >= r.r.NumRecords() {
				break
			}
			rec, err := r.batch(r.next)
			var bc *boxColumn
			if err == nil {
				if bc, err = r.boxesOf(rec, r.next); err != nil {
					rec.Release()
				}
			}
			if err != nil {
				r.next = r.r.NumRecords()
				if dst.Len() > 0 {
					r.pending = err // report on the next call
					return nil
				}
				r.pending = io.EOF
				return err
			}
			r.next++
			r.rec, r.bc, r.pos = rec, bc, 0
			continue
		}
		if r.bc != nil {
			if err := r.readBoxes(min(int(r.rec.NumRows())-r.pos, want-dst.Len())); err != nil {
				r.next = r.r.NumRecords()
				r.rec.Release()
				r.rec = nil
				if dst.Len() > 0 {
					r.pending = err
					return nil
				}
				r.pending = io.EOF
				return err
			}
		}
		n := min(int(r.rec.NumRows())-r.pos, want-dst.Len())
		t := r.rec.Column(r.cols.t).(*array.Int64).Int64Values()
		x := r.rec.Column(r.cols.x).(*array.Uint16).Uint16Values()
		y := r.rec.Column(r.cols.y).(*array.Uint16).Uint16Values()
		p := r.rec.Column(r.cols.p).(*array.Uint8).Uint8Values()
		dst.T = append(dst.T, t[r.pos:r.pos+n]...)
		dst.X = append(dst.X, x[r.pos:r.pos+n]...)
		dst.Y = append(dst.Y, y[r.pos:r.pos+n]...)
		dst.P = append(dst.P, p[r.pos:r.pos+n]...)
		r.pos += n
	}
	if dst.Len() == 0 {
		return io.EOF
	}
	return nil
}

// readBoxes appends the boxes of the next n rows of the current batch.
func (r *RecordingReader) readBoxes(n int) (err error) {
	defer guard(r.path, &err)
	for row := r.pos; row < r.pos+n; row++ {
		if r.met, err = r.bc.appendRow(r.met, row); err != nil {
			return &events.DecodeError{Path: r.path, Msg: fmt.Sprintf("record batch %d", r.next-1), Err: err}
		}
	}
	return nil
}

// Close releases the file.
func (r *RecordingReader) Close() error {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	return r.close()
}

// DatasetReader gives random access to the samples of a dataset-layout file.
type DatasetReader struct {
	*file
	starts []int // starts[i] = index of the first sample of batch i; len = batches+1
	cached int
	rec    arrow.RecordBatch
	bc     *boxColumn // rec's boxes
}

// OpenDataset opens a dataset-layout file.
func OpenDataset(path string) (*DatasetReader, error) {
	fl, err := openFile(path)
	if err != nil {
		return nil, err
	}
	if fl.meta.Kind != events.KindDataset {
		fl.close()
		return nil, fmt.Errorf("%s is a recording file, not a dataset", path)
	}
	d, err := newDatasetReader(fl)
	if err != nil {
		fl.close()
	}
	return d, err
}

func newDatasetReader(fl *file) (*DatasetReader, error) {
	d := &DatasetReader{file: fl, cached: -1}
	// Where each sample is comes from the batches' own row counts, read from their messages without
	// loading them: a batch size in the metadata is only a claim.
	d.starts = make([]int, len(fl.blocks)+1) // the footer holds 24 bytes per block
	for i, bl := range fl.blocks {
		rows, err := batchRows(fl.src, bl)
		if err != nil {
			fl.r.Close()
			return nil, &events.DecodeError{Path: fl.path, Offset: bl.offset, Msg: fmt.Sprintf("record batch %d", i), Err: err}
		}
		// A row takes at least 4 bytes (a label, an offset) once decompressed, and a batch may decompress
		// to batchBudget bytes at most.
		if rows > batchBudget(bl)/4 {
			fl.r.Close()
			return nil, &events.DecodeError{Path: fl.path, Offset: bl.offset,
				Msg: fmt.Sprintf("record batch %d claims %d rows, more than its %d bytes can hold", i, rows, bl.metaLen+bl.bodyLen)}
		}
		if int64(d.starts[i])+rows > math.MaxInt32 {
			fl.r.Close()
			return nil, &events.DecodeError{Path: fl.path, Offset: bl.offset, Msg: fmt.Sprintf("more than %d samples", math.MaxInt32)}
		}
		d.starts[i+1] = d.starts[i] + int(rows)
	}
	md := fl.r.Schema().Metadata()
	if v, ok := md.GetValue(KeyBatchSamples); ok {
		per, err := strconv.Atoi(v)
		for i := 0; i+1 < len(fl.blocks) && err == nil; i++ {
			if d.starts[i+1]-d.starts[i] != per {
				err = fmt.Errorf("batch %d holds %d", i, d.starts[i+1]-d.starts[i])
			}
		}
		if err != nil {
			fl.opts.Notify(formats.Notice{Path: fl.path, Offset: -1, Kind: formats.Distrusted, Count: 1,
				What: fmt.Sprintf("metadata %s=%q disagrees with the record batches (%v): the batches rule", KeyBatchSamples, v, err)})
		}
	}
	return d, nil
}

// load makes batch i the cached batch.
func (d *DatasetReader) load(i int) (arrow.RecordBatch, error) {
	if d.cached == i {
		return d.rec, nil
	}
	rec, err := d.batch(i)
	if err != nil {
		return nil, err
	}
	bc, err := d.boxesOf(rec, i)
	if err != nil {
		rec.Release()
		return nil, err
	}
	if d.rec != nil {
		d.rec.Release()
	}
	d.rec, d.bc, d.cached = rec, bc, i
	return rec, nil
}

// Meta describes the dataset.
func (d *DatasetReader) Meta() events.Meta { return d.meta }

// NumSamples is the number of samples in the file.
func (d *DatasetReader) NumSamples() int { return d.starts[len(d.starts)-1] }

// ReadSample decodes sample i into dst, reusing its buffers.
func (d *DatasetReader) ReadSample(i int, dst *events.Sample) (err error) {
	if i < 0 || i >= d.NumSamples() {
		return fmt.Errorf("%s: sample %d does not exist (the file holds %d)", d.path, i, d.NumSamples())
	}
	b := d.batchOf(i)
	rec, err := d.load(b)
	if err != nil {
		return err
	}
	row := i - d.starts[b]
	if row >= int(rec.NumRows()) {
		return &events.DecodeError{Path: d.path, Offset: d.blocks[b].offset,
			Msg: fmt.Sprintf("record batch %d holds %d samples; its message says %d", b, rec.NumRows(), d.starts[b+1]-d.starts[b])}
	}
	defer guard(d.path, &err) // a corrupt validity bitmap or string view: an error, not a panic
	dst.Reset()
	c := d.cols
	if labels := rec.Column(c.label).(*array.Int32); labels.IsNull(row) {
		dst.Label = events.NoLabel
	} else {
		dst.Label = labels.Value(row)
	}
	ids := rec.Column(c.id)
	if ids.IsNull(row) {
		return &events.DecodeError{Path: d.path, Msg: fmt.Sprintf("sample %d has no id (null)", i)}
	}
	dst.ID = stringAt(ids, row)
	lt := rec.Column(c.t).(array.ListLike)
	lx := rec.Column(c.x).(array.ListLike)
	ly := rec.Column(c.y).(array.ListLike)
	lp := rec.Column(c.p).(array.ListLike)
	if lt.IsNull(row) || lx.IsNull(row) || ly.IsNull(row) || lp.IsNull(row) {
		return &events.DecodeError{Path: d.path, Msg: fmt.Sprintf("sample %d (%q): its events are null", i, dst.ID)}
	}
	s0, e0 := lt.ValueOffsets(row)
	s1, e1 := lx.ValueOffsets(row)
	s2, e2 := ly.ValueOffsets(row)
	s3, e3 := lp.ValueOffsets(row)
	n := e0 - s0
	if e1-s1 != n || e2-s2 != n || e3-s3 != n {
		return fmt.Errorf("%s: sample %d: list columns t, x, y, p differ in length (%d, %d, %d, %d)",
			d.path, i, n, e1-s1, e2-s2, e3-s3)
	}
	ev := &dst.Events
	ev.T = append(ev.T, lt.ListValues().(*array.Int64).Int64Values()[s0:e0]...)
	ev.X = append(ev.X, lx.ListValues().(*array.Uint16).Uint16Values()[s1:e1]...)
	ev.Y = append(ev.Y, ly.ListValues().(*array.Uint16).Uint16Values()[s2:e2]...)
	ev.P = append(ev.P, lp.ListValues().(*array.Uint8).Uint8Values()[s3:e3]...)
	return d.readBoxes(row, i, &dst.Boxes)
}

// readBoxes sets *dst to the boxes of row (sample i) of the cached batch, when the file has boxes.
func (d *DatasetReader) readBoxes(row, i int, dst *[]events.Box) error {
	if d.bc == nil {
		return nil
	}
	boxes, err := d.bc.appendRow((*dst)[:0], row)
	if err != nil {
		return &events.DecodeError{Path: d.path, Msg: fmt.Sprintf("sample %d", i), Err: err}
	}
	*dst = boxes
	return nil
}

// batchOf finds the batch holding sample i (binary search over starts).
func (d *DatasetReader) batchOf(i int) int {
	lo, hi := 0, len(d.starts)-2
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if d.starts[mid] <= i {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// Close releases the file.
func (d *DatasetReader) Close() error {
	if d.rec != nil {
		d.rec.Release()
		d.rec = nil
	}
	return d.close()
}
