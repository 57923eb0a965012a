package evarrow

import (
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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

// RecordingWriter streams events into a recording-layout file.
//
// It gathers a batch's events in plain column slices and hands them to the encoders as Arrow arrays over
// those same slices (no builder: no copy into Arrow buffers, no buffer regrown by doubling and cleared
// for every batch); once a batch is encoded its slices gather a later batch.
type RecordingWriter struct {
	out    *output.File
	iw     *ipcWriter
	schema *arrow.Schema
	limit  int
	cur    *recColumns      // the batch being gathered
	free   chan *recColumns // encoded batches' columns, for reuse
	sets   int              // column sets made
	count  int64
	// The boxes column (nil without one): boxes given but not yet placed (after every event written),
	// and those placed in the pending batch with their rows.
	boxes    *boxBuilder
	rb       *array.RecordBuilder // holds boxes' builders (its event columns stay empty)
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

// recColumns are the columns of one recording batch.
type recColumns struct {
	t    []int64
	x, y []uint16
	p    []uint8
}

// grow makes room for n events in each column.
func (c *recColumns) grow(n int) {
	c.t = growTo(c.t, n)
	c.x = growTo(c.x, n)
	c.y = growTo(c.y, n)
	c.p = growTo(c.p, n)
}

// growTo returns s with a capacity of n (at least its length), its values kept.
func growTo[T any](s []T, n int) []T {
	if n <= cap(s) {
		return s
	}
	g := make([]T, len(s), n)
	copy(g, s)
	return g
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
	iw, err := newIPCWriter(out, schema, o.Compression)
	if err != nil {
		return nil, err
	}
	limit := o.BatchEvents
	if limit <= 0 {
		limit = defaultBatchEvents
	}
	// Every batch in flight (one per encoder, one gathered) has its columns.
	w := &RecordingWriter{out: out, iw: iw, schema: schema, limit: limit, free: make(chan *recColumns, cap(iw.encoders)+2),
		numBoxes: len(meta.BoxClasses), lastBox: math.MinInt64}
	if len(schema.FieldIndices(ColBoxes)) > 0 {
		// The boxes column (null in rows without boxes) is built by a builder; the event columns are not.
		w.rb = array.NewRecordBuilder(memory.DefaultAllocator, schema)
		w.boxes = newBoxBuilder(w.rb)
	}
	return w, nil
}

// Write appends events; a full record batch is written when the next event comes (or at Close), so
// that boxes after the last event can still join its last row.
func (w *RecordingWriter) Write(b *events.Batch) error {
	for off := 0; off < b.Len(); {
		if w.cur != nil && len(w.cur.t) >= w.limit {
			if err := w.flush(); err != nil {
				return err
			}
		}
		if w.cur == nil {
			select {
			case w.cur = <-w.free:
			default:
				w.cur = &recColumns{}
				w.sets++
				if w.count+int64(off) >= int64(w.limit) {
					// Not the first batch: the next ones will be full too.
					w.cur.grow(w.limit)
				}
			}
		}
		c := w.cur
		row := len(c.t)
		n := min(b.Len()-off, w.limit-row)
		if row+n > cap(c.t) {
			// The first batch: grown by doubling (a short recording does not take a whole batch's
			// columns), then to the batch size exactly.
			c.grow(min(max(2*cap(c.t), row+n, 4096), w.limit))
		}
		c.t = append(c.t, b.T[off:off+n]...)
		c.x = append(c.x, b.X[off:off+n]...)
		c.y = append(c.y, b.Y[off:off+n]...)
		c.p = append(c.p, b.P[off:off+n]...)
		if len(w.queue) > 0 {
			w.place(row, b.T[off:off+n])
		}
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

// place gives the queued boxes up to the last of the events T (just appended at row base of the pending
// batch) the row of the first of them at or after their time.
func (w *RecordingWriter) place(base int, T []int64) {
	k := 0
	for ; k < len(w.queue) && w.queue[k].T <= T[len(T)-1]; k++ {
		i := sort.Search(len(T), func(i int) bool { return T[i] >= w.queue[k].T })
		w.placed = append(w.placed, placedBox{row: base + i, box: w.queue[k]})
	}
	w.queue = append(w.queue[:0], w.queue[k:]...)
}

// fillBoxes builds the boxes column of the pending batch of n rows: null in rows without boxes.
func (w *RecordingWriter) fillBoxes(n int) {
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
	w.boxes.list.AppendNulls(n - row)
	w.placed = w.placed[:0]
}

func (w *RecordingWriter) flush() error {
	c := w.cur
	if c == nil || len(c.t) == 0 {
		return nil
	}
	w.cur = nil
	n := len(c.t)
	cols := []arrow.Array{
		primitive(arrow.PrimitiveTypes.Int64, n, arrow.Int64Traits.CastToBytes(c.t)),
		primitive(arrow.PrimitiveTypes.Uint16, n, arrow.Uint16Traits.CastToBytes(c.x)),
		primitive(arrow.PrimitiveTypes.Uint16, n, arrow.Uint16Traits.CastToBytes(c.y)),
		primitive(arrow.PrimitiveTypes.Uint8, n, c.p),
	}
	if w.boxes != nil {
		w.fillBoxes(n)
		cols = append(cols, w.boxes.list.NewArray())
	}
	rec := array.NewRecordBatch(w.schema, cols, int64(n))
	for _, a := range cols {
		a.Release()
	}
	return w.iw.write(rec, func() {
		c.t, c.x, c.y, c.p = c.t[:0], c.x[:0], c.y[:0], c.p[:0]
		select {
		case w.free <- c:
		default:
		}
	})
}

// primitive is an Arrow array of n fixed-width values without nulls, over values (not copied).
func primitive(t arrow.DataType, n int, values []byte) arrow.Array {
	data := array.NewData(t, n, []*memory.Buffer{nil, memory.NewBufferBytes(values)}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// Close writes the last batch and the footer, then moves the file into place.
func (w *RecordingWriter) Close() error {
	if w.rb != nil {
		defer w.rb.Release()
	}
	return w.out.Close(func() error {
		if len(w.queue) > 0 {
			// Boxes after the last event join its row; without events they have no row to sit in.
			if w.cur == nil || len(w.cur.t) == 0 {
				return fmt.Errorf("%s: %d boxes but no events: a recording's boxes sit in its event rows", w.out.Name(), len(w.queue))
			}
			for _, b := range w.queue {
				w.placed = append(w.placed, placedBox{row: len(w.cur.t) - 1, box: b})
			}
			w.queue = w.queue[:0]
		}
		return finishIPC(w.flush, w.iw)
	})
}

// Abort discards the output.
func (w *RecordingWriter) Abort() {
	w.iw.abort()
	w.out.Abort()
	if w.rb != nil {
		w.rb.Release()
	}
}

// finishIPC writes the last batch and the rest of an IPC file; after a failure it waits for the batches
// still being encoded.
func finishIPC(flush func() error, iw *ipcWriter) error {
	err := flush()
	if err == nil {
		err = iw.close()
	}
	if err != nil {
		iw.abort()
	}
	return err
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
	iw         *ipcWriter
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
	iw, err := newIPCWriter(out, schema, o.Compression)
	if err != nil {
		return rowFile{}, err
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	return rowFile{out: out, iw: iw, b: rb, perBatch: per, numLabels: numLabels,
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
	w.pending = 0
	if w.beforeNext != nil {
		w.beforeNext()
	}
	return w.iw.write(rec, nil)
}

// Close writes the last batch and the footer, then moves the file into place.
func (w *rowFile) Close() error {
	defer w.b.Release()
	return w.out.Close(func() error { return finishIPC(w.flush, w.iw) })
}

// Abort discards the output.
func (w *rowFile) Abort() { w.iw.abort(); w.out.Abort() }
