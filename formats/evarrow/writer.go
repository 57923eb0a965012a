package evarrow

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/internal/output"
	"github.com/evtool/evtool/tensors"
)

// Options tune the writers.
type Options struct {
	// Compression: "zstd" (default), "lz4" or "none".
	Compression string
	// BatchEvents bounds a recording's record batch (default 1 Mi events ≈ 15 MB of columns).
	BatchEvents int
	// BatchSamples is the number of samples per dataset record batch (default 64). Every batch but the
	// last holds exactly this many, so sample i is in batch i/BatchSamples. Lower it for big samples
	// (a DVSGesture clip holds ~10^5–10^6 events) to bound memory.
	BatchSamples int
	// PlainTensors writes the tensors layout without Arrow's tensor extension declaration (plain storage
	// types), for readers that refuse extension types.
	PlainTensors bool
	// TensorDType is the element type tensors are stored as (formats.StoredDType): "" keeps the tensors'
	// own; counts may be stored as int16 or float32.
	TensorDType tensors.DType
}

const (
	defaultBatchEvents  = 1 << 20
	defaultBatchSamples = 64
)

func ipcOptions(schema *arrow.Schema, compression string) ([]ipc.Option, error) {
	// Compress a record batch's buffers in parallel: the writer is the serial end of every pipeline.
	opts := []ipc.Option{ipc.WithSchema(schema), ipc.WithAllocator(memory.DefaultAllocator),
		ipc.WithCompressConcurrency(runtime.GOMAXPROCS(0))}
	switch strings.ToLower(compression) {
	case "", "zstd":
		opts = append(opts, ipc.WithZstd())
	case "lz4":
		opts = append(opts, ipc.WithLZ4())
	case "none":
	default:
		return nil, fmt.Errorf("unknown compression %q (want zstd, lz4 or none)", compression)
	}
	return opts, nil
}

// RecordingWriter streams events into a recording-layout file.
type RecordingWriter struct {
	out    *output.File
	fw     *ipc.FileWriter
	schema *arrow.Schema
	b      *array.RecordBuilder
	limit  int
	n      int // events in the pending batch
	count  int64
	// The boxes column (nil without one): boxes given but not yet placed (after every event written),
	// and those placed in the pending batch with their rows.
	boxes    *boxBuilder
	numBoxes int
	queue    []events.Box
	placed   []placedBox
	lastBox  int64
}

// placedBox is a box and the row of the pending batch it sits in.
type placedBox struct {
	row int
	box events.Box
}

// CreateRecording creates a recording file at path (atomically: nothing appears unless Close succeeds).
func CreateRecording(path string, meta events.Meta, o Options) (*RecordingWriter, error) {
	return output.Start(path, func(out *output.File) (*RecordingWriter, error) { return newRecordingWriter(out, meta, o) })
}

// NewRecordingWriter writes a recording to w (not atomically); name is used in errors.
func NewRecordingWriter(w io.Writer, name string, meta events.Meta, o Options) (*RecordingWriter, error) {
	return newRecordingWriter(output.New(w, name), meta, o)
}

func newRecordingWriter(out *output.File, meta events.Meta, o Options) (*RecordingWriter, error) {
	schema := RecordingSchema(meta)
	opts, err := ipcOptions(schema, o.Compression)
	if err != nil {
		return nil, err
	}
	fw, err := ipc.NewFileWriter(out, opts...)
	if err != nil {
		return nil, fmt.Errorf("arrow writer for %s: %w", out.Name(), err)
	}
	limit := o.BatchEvents
	if limit <= 0 {
		limit = defaultBatchEvents
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	return &RecordingWriter{out: out, fw: fw, schema: schema, b: rb, limit: limit, boxes: newBoxBuilder(rb),
		numBoxes: len(meta.BoxClasses), lastBox: math.MinInt64}, nil
}

// Write appends events; a full record batch is written when the next event comes (or at Close), so
// that boxes after the last event can still join its last row.
func (w *RecordingWriter) Write(b *events.Batch) error {
	for off := 0; off < b.Len(); {
		if w.n >= w.limit {
			if err := w.flush(); err != nil {
				return err
			}
		}
		n := min(b.Len()-off, w.limit-w.n)
		part := b.Slice(off, off+n)
		w.b.Field(0).(*array.Int64Builder).AppendValues(part.T, nil)
		w.b.Field(1).(*array.Uint16Builder).AppendValues(part.X, nil)
		w.b.Field(2).(*array.Uint16Builder).AppendValues(part.Y, nil)
		w.b.Field(3).(*array.Uint8Builder).AppendValues(part.P, nil)
		if len(w.queue) > 0 {
			w.place(part.T)
		}
		w.n += n
		off += n
	}
	w.count += int64(b.Len())
	return nil
}

// WriteBoxes takes boxes in time order, given before the events they come with (events.BoxWriter): each
// is placed in the row of the first event written at or after its time, the last row for those after
// every event.
func (w *RecordingWriter) WriteBoxes(boxes []events.Box) error {
	if len(boxes) == 0 {
		return nil
	}
	if w.boxes == nil {
		return fmt.Errorf("%s: %d boxes given, but the file was created without a boxes column (events.Meta.Boxes)", w.out.Name(), len(boxes))
	}
	if err := checkBoxClasses(boxes, w.numBoxes, w.out.Name()); err != nil {
		return err
	}
	if boxes[0].T < w.lastBox {
		return fmt.Errorf("%s: box at %d µs goes back in time (after %d µs): boxes must be in time order", w.out.Name(), boxes[0].T, w.lastBox)
	}
	w.lastBox = boxes[len(boxes)-1].T
	w.queue = append(w.queue, boxes...)
	return nil
}

// place gives the queued boxes up to the last of the events T (just appended at row w.n of the pending
// batch) the row of the first of them at or after their time.
func (w *RecordingWriter) place(T []int64) {
	k := 0
	for ; k < len(w.queue) && w.queue[k].T <= T[len(T)-1]; k++ {
		i := sort.Search(len(T), func(i int) bool { return T[i] >= w.queue[k].T })
		w.placed = append(w.placed, placedBox{row: w.n + i, box: w.queue[k]})
	}
	w.queue = append(w.queue[:0], w.queue[k:]...)
}

// fillBoxes builds the pending batch's boxes column: null in rows without boxes.
func (w *RecordingWriter) fillBoxes() {
	row := 0
	for i := 0; i < len(w.placed); {
		r := w.placed[i].row
		w.boxes.list.AppendNulls(r - row)
		j := i
		for j < len(w.placed) && w.placed[j].row == r {
			j++
		}
		w.boxes.appendRow(nil, false)
		for _, p := range w.placed[i:j] {
			w.boxes.appendBox(p.box)
		}
		i, row = j, r+1
	}
	w.boxes.list.AppendNulls(w.n - row)
	w.placed = w.placed[:0]
}

func (w *RecordingWriter) flush() error {
	if w.n == 0 {
		return nil
	}
	if w.boxes != nil {
		w.fillBoxes()
	}
	rec := w.b.NewRecordBatch()
	defer rec.Release()
	w.n = 0
	if err := w.fw.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", w.out.Name(), err)
	}
	return nil
}

// Close writes the last batch and the footer, then moves the file into place.
func (w *RecordingWriter) Close() error {
	defer w.b.Release()
	return w.out.Close(func() error {
		if len(w.queue) > 0 {
			// Boxes after the last event join its row; without events they have no row to sit in.
			if w.n == 0 {
				return fmt.Errorf("%s: %d boxes but no events: a recording's boxes sit in its event rows", w.out.Name(), len(w.queue))
			}
			for _, b := range w.queue {
				w.placed = append(w.placed, placedBox{row: w.n - 1, box: b})
			}
			w.queue = w.queue[:0]
		}
		return finishIPC(w.flush, w.fw, w.out)
	})
}

// Abort discards the output.
func (w *RecordingWriter) Abort() { w.out.Abort() }

// finishIPC writes the last batch and the footer of an IPC file.
func finishIPC(flush func() error, fw *ipc.FileWriter, out *output.File) error {
	if err := flush(); err != nil {
		return err
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("finish %s: %w", out.Name(), err)
	}
	return nil
}

// DatasetWriter streams samples into a dataset-layout file.
type DatasetWriter struct {
	rowFile
	lists [4]*array.ListBuilder
	t     *array.Int64Builder
	x, y  *array.Uint16Builder
	p     *array.Uint8Builder
	// batchEvents counts the events of the pending batch.
	batchEvents int
	samples     int
	events      int64
}

// CreateDataset creates a dataset file at path (atomically).
func CreateDataset(path string, meta events.Meta, o Options) (*DatasetWriter, error) {
	return output.Start(path, func(out *output.File) (*DatasetWriter, error) { return newDatasetWriter(out, meta, o) })
}

// NewDatasetWriter writes a dataset to w (not atomically); name is used in errors.
func NewDatasetWriter(w io.Writer, name string, meta events.Meta, o Options) (*DatasetWriter, error) {
	return newDatasetWriter(output.New(w, name), meta, o)
}

func newDatasetWriter(out *output.File, meta events.Meta, o Options) (*DatasetWriter, error) {
	rf, err := newRowFile(out, DatasetSchema(meta), o, len(meta.Classes))
	if err != nil {
		return nil, err
	}
	rf.numBoxes = len(meta.BoxClasses)
	rb := rf.b
	w := &DatasetWriter{rowFile: rf}
	w.beforeNext = w.reserve
	for i := 0; i < 4; i++ {
		w.lists[i] = rb.Field(2 + i).(*array.ListBuilder)
	}
	w.t = w.lists[0].ValueBuilder().(*array.Int64Builder)
	w.x = w.lists[1].ValueBuilder().(*array.Uint16Builder)
	w.y = w.lists[2].ValueBuilder().(*array.Uint16Builder)
	w.p = w.lists[3].ValueBuilder().(*array.Uint8Builder)
	return w, nil
}

// WriteSample appends one sample. Labels must be NoLabel or a valid class index when classes are known.
func (w *DatasetWriter) WriteSample(s *events.Sample) error {
	if err := w.checkBoxes(s.ID, s.Boxes); err != nil {
		return err
	}
	if err := w.appendKey(s.ID, s.Label); err != nil {
		return err
	}
	if w.boxes != nil {
		w.boxes.appendRow(s.Boxes, false)
	}
	for _, l := range w.lists {
		l.Append(true)
	}
	e := &s.Events
	w.t.AppendValues(e.T, nil)
	w.x.AppendValues(e.X, nil)
	w.y.AppendValues(e.Y, nil)
	w.p.AppendValues(e.P, nil)
	w.samples++
	w.events += int64(e.Len())
	w.batchEvents += e.Len()
	return w.rowDone()
}

// reserve runs after each batch: the builders start empty, so reserve what the last batch needed, and the
// next one does not regrow its buffers by doubling (and clear each new buffer) a dozen times.
func (w *DatasetWriter) reserve() {
	if n := w.batchEvents; n > 0 {
		w.t.Reserve(n)
		w.x.Reserve(n)
		w.y.Reserve(n)
		w.p.Reserve(n)
	}
	w.batchEvents = 0
}

// Samples returns the number of samples written so far.
func (w *DatasetWriter) Samples() int { return w.samples }

// rowFile is what the row-per-sample writers (datasets, tensors) share: the label and id columns (the
// schema's first two), record batches of perBatch rows, and the atomic output file.
type rowFile struct {
	out        *output.File
	fw         *ipc.FileWriter
	b          *array.RecordBuilder
	label      *array.Int32Builder
	id         *array.StringBuilder
	numLabels  int
	perBatch   int
	pending    int
	beforeNext func()      // called after each batch is written, before the next row
	boxes      *boxBuilder // the boxes column; nil when the file has none
	numBoxes   int         // box classes, when named
}

// newRowFile starts an IPC file writer for schema (plus evtool.batch_samples) on out.
func newRowFile(out *output.File, schema *arrow.Schema, o Options, numLabels int) (rowFile, error) {
	per := o.BatchSamples
	if per <= 0 {
		per = defaultBatchSamples
	}
	schema = withBatchSamples(schema, per)
	opts, err := ipcOptions(schema, o.Compression)
	if err != nil {
		return rowFile{}, err
	}
	fw, err := ipc.NewFileWriter(out, opts...)
	if err != nil {
		return rowFile{}, fmt.Errorf("arrow writer for %s: %w", out.Name(), err)
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	return rowFile{out: out, fw: fw, b: rb, perBatch: per, numLabels: numLabels,
		label: rb.Field(0).(*array.Int32Builder), id: rb.Field(1).(*array.StringBuilder), boxes: newBoxBuilder(rb)}, nil
}

// checkBoxes is checked before a row is started: a file without a boxes column refuses a sample that
// has boxes (they would be lost; the file has one when events.Meta.Boxes is set), and boxes must be in
// time order, finite, and of the named classes.
func (w *rowFile) checkBoxes(id string, boxes []events.Box) error {
	if w.boxes == nil {
		if len(boxes) > 0 {
			return fmt.Errorf("%s: sample %q has %d boxes, but the file was created without a boxes column (events.Meta.Boxes)", w.out.Name(), id, len(boxes))
		}
		return nil
	}
	return checkBoxClasses(boxes, w.numBoxes, fmt.Sprintf("%s: sample %q", w.out.Name(), id))
}

// appendKey starts a row: its label (NoLabel, or a valid class index when classes are known) and id.
func (w *rowFile) appendKey(id string, label int32) error {
	if label < events.NoLabel || (w.numLabels > 0 && int(label) >= w.numLabels) {
		return fmt.Errorf("sample %q: label %d is outside the %d classes", id, label, w.numLabels)
	}
	if label == events.NoLabel {
		w.label.AppendNull()
	} else {
		w.label.Append(label)
	}
	w.id.Append(id)
	return nil
}

// rowDone counts a row and writes the batch when it is full.
func (w *rowFile) rowDone() error {
	w.pending++
	if w.pending == w.perBatch {
		return w.flush()
	}
	return nil
}

func (w *rowFile) flush() error {
	if w.pending == 0 {
		return nil
	}
	rec := w.b.NewRecordBatch()
	defer rec.Release()
	w.pending = 0
	if w.beforeNext != nil {
		w.beforeNext()
	}
	if err := w.fw.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", w.out.Name(), err)
	}
	return nil
}

// Close writes the last batch and the footer, then moves the file into place.
func (w *rowFile) Close() error {
	defer w.b.Release()
	return w.out.Close(func() error { return finishIPC(w.flush, w.fw, w.out) })
}

// Abort discards the output.
func (w *rowFile) Abort() { w.out.Abort() }
