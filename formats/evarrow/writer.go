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
	cur    *recColumns // the batch being gathered
	sets   columnSets[recColumns]
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

// appendEvents appends events [lo, hi) of b.
func (c *recColumns) appendEvents(b *events.Batch, lo, hi int) {
	c.t = append(c.t, b.T[lo:hi]...)
	c.x = append(c.x, b.X[lo:hi]...)
	c.y = append(c.y, b.Y[lo:hi]...)
	c.p = append(c.p, b.P[lo:hi]...)
}

// reset empties the columns, keeping their memory.
func (c *recColumns) reset() { c.t, c.x, c.y, c.p = c.t[:0], c.x[:0], c.y[:0], c.p[:0] }

// data returns the t, x, y and p columns as Arrow data over the slices (not copied), without nulls.
func (c *recColumns) data() [4]arrow.ArrayData {
	n := len(c.t)
	col := func(t arrow.DataType, values []byte) arrow.ArrayData {
		return array.NewData(t, n, []*memory.Buffer{nil, memory.NewBufferBytes(values)}, nil, 0, 0)
	}
	return [4]arrow.ArrayData{
		col(arrow.PrimitiveTypes.Int64, arrow.Int64Traits.CastToBytes(c.t)),
		col(arrow.PrimitiveTypes.Uint16, arrow.Uint16Traits.CastToBytes(c.x)),
		col(arrow.PrimitiveTypes.Uint16, arrow.Uint16Traits.CastToBytes(c.y)),
		col(arrow.PrimitiveTypes.Uint8, c.p),
	}
}

// columnSets recycles a writer's column sets: a batch's set comes back once the batch is encoded, for a
// later batch, so that at most one set per encoder and the one being gathered are ever made.
type columnSets[T any] struct {
	free chan *T
	made int
}

func newColumnSets[T any](iw *ipcWriter) columnSets[T] {
	// Every batch in flight (one per encoder, one gathered) has its set.
	return columnSets[T]{free: make(chan *T, cap(iw.encoders)+2)}
}

// get returns a recycled set, or the one fresh makes when none is free.
func (s *columnSets[T]) get(fresh func() *T) *T {
	select {
	case c := <-s.free:
		return c
	default:
		s.made++
		return fresh()
	}
}

// put hands back an encoded batch's set (emptied by the caller).
func (s *columnSets[T]) put(c *T) {
	select {
	case s.free <- c:
	default:
	}
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
	w := &RecordingWriter{out: out, iw: iw, schema: schema, limit: limit, sets: newColumnSets[recColumns](iw),
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
			w.cur = w.sets.get(func() *recColumns {
				c := &recColumns{}
				if w.count+int64(off) >= int64(w.limit) {
					// Not the first batch: the next ones will be full too.
					c.grow(w.limit)
				}
				return c
			})
		}
		c := w.cur
		row := len(c.t)
		n := min(b.Len()-off, w.limit-row)
		if row+n > cap(c.t) {
			// The first batch: grown by doubling (a short recording does not take a whole batch's
			// columns), then to the batch size exactly.
			c.grow(min(max(2*cap(c.t), row+n, 4096), w.limit))
		}
		c.appendEvents(b, off, off+n)
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
	var cols []arrow.Array
	for _, d := range c.data() {
		cols = append(cols, array.MakeFromData(d))
		d.Release()
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
		c.reset()
		w.sets.put(c)
	})
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
//
// Like RecordingWriter, it gathers a batch's events in plain column slices (dsColumns) rather than in
// arrow-go builders, and hands them to the encoders as list arrays over those same slices, reused once
// encoded: builders made every batch's buffers anew and cleared them (4 % of the CPU of preparing SHD),
// 13 bytes of garbage per event. The label, id and boxes columns, a few bytes a sample, keep their
// builders.
type DatasetWriter struct {
	rowFile
	listTypes [4]arrow.DataType // the t, x, y and p list columns' types, from the schema
	boxesCol  int               // position of the boxes column; -1 without one
	cur       *dsColumns        // the batch being gathered
	sets      columnSets[dsColumns]
	// lastEvents counts the events of the last batch written: a new column set is made for a little more.
	lastEvents int
	samples    int
	events     int64
}

// dsColumns are the event columns of one dataset batch: the events of its samples one after the other,
// and the offsets where each sample starts (one more than the samples: the last is where they end),
// which the four list columns share.
//
// The events are the set's own buffers, copied into, or — while every sample of the batch lies right
// after the one before in one decoder's buffer (WriteSampleIn) — that buffer's run of them, kept by
// hold until the batch is encoded.
type dsColumns struct {
	offsets []int32
	recColumns
	own  recColumns    // the set's own buffers, while recColumns are a run of in's
	in   *events.Batch // the buffer the batch's events lie in; nil when they are copied
	lo   int           // where in in they start
	hold *events.Hold
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
	schema := rf.b.Schema()
	w := &DatasetWriter{rowFile: rf, boxesCol: -1, sets: newColumnSets[dsColumns](rf.iw)}
	w.newBatch = w.newRecordBatch
	for i := range w.listTypes {
		w.listTypes[i] = schema.Field(2 + i).Type
	}
	if idx := schema.FieldIndices(ColBoxes); len(idx) > 0 {
		w.boxesCol = idx[0]
	}
	return w, nil
}

// WriteSample appends one sample. Labels must be NoLabel or a valid class index when classes are known.
func (w *DatasetWriter) WriteSample(s *events.Sample) error {
	return w.writeSample(s, nil, nil)
}

// WriteSampleIn is WriteSample for a sample whose events lie in buf, a buffer that samples were decoded
// into one after the other (events.Batch.Rest), which hold keeps from being reused. While each sample of
// a batch lies right after the one before in the same buffer, the batch's columns are that run of buf as
// it is, not copied, and the writer keeps hold until the batch is encoded; otherwise the sample is
// copied, as by WriteSample. The file is the same either way.
func (w *DatasetWriter) WriteSampleIn(s *events.Sample, buf *events.Batch, hold *events.Hold) error {
	return w.writeSample(s, buf, hold)
}

func (w *DatasetWriter) writeSample(s *events.Sample, buf *events.Batch, hold *events.Hold) error {
	e := &s.Events
	n := len(e.T)
	if len(e.X) != n || len(e.Y) != n || len(e.P) != n {
		// The four list columns share their offsets.
		return fmt.Errorf("%s: sample %q has columns of %d, %d, %d and %d events", w.out.Name(), s.ID, n, len(e.X), len(e.Y), len(e.P))
	}
	if err := w.checkBoxes(s.ID, s.Boxes); err != nil {
		return err
	}
	c := w.columns()
	if int64(len(c.t))+int64(n) > math.MaxInt32 {
		// A list column's offsets are int32.
		return fmt.Errorf("%s: sample %q: a record batch of %d samples would hold more than %d events (lower the samples per batch)",
			w.out.Name(), s.ID, w.perBatch, math.MaxInt32)
	}
	if err := w.appendKey(s.ID, s.Label); err != nil {
		return err
	}
	if w.boxes != nil {
		w.boxes.appendRow(s.Boxes, false)
	}
	if c.extendRun(e, buf, hold) {
		c.offsets = append(c.offsets, int32(len(c.t)))
		w.samples++
		w.events += int64(n)
		return w.rowDone()
	}
	c.copyRun()
	if row := len(c.t); row+n > cap(c.t) {
		// The first batch's columns grow by doubling; later a set is made a little bigger than the last
		// batch (columns) and kept, so one grows only for a batch bigger than those before, and by a
		// quarter (a set of big samples is hundreds of MB).
		grown := 2 * cap(c.t)
		if w.lastEvents > 0 {
			grown = cap(c.t) + cap(c.t)/4
		}
		c.grow(max(grown, row+n, 4096))
	}
	c.appendEvents(e, 0, n)
	c.offsets = append(c.offsets, int32(len(c.t)))
	w.samples++
	w.events += int64(n)
	return w.rowDone()
}

// columns returns the column set of the pending batch: a recycled one, else a new one an eighth bigger
// than the last batch written (the batches of a dataset have about as many events, give or take).
func (w *DatasetWriter) columns() *dsColumns {
	if w.cur != nil {
		return w.cur
	}
	w.cur = w.sets.get(func() *dsColumns {
		c := &dsColumns{offsets: make([]int32, 0, w.perBatch+1)}
		c.grow(w.lastEvents + w.lastEvents/8)
		return c
	})
	w.cur.offsets = append(w.cur.offsets, 0)
	return w.cur
}

// newRecordBatch makes the pending batch's record batch: the event columns are list arrays over its
// column set's slices, which the encoder hands back (done) once encoded.
//
// The bytes are those of the same lists built by arrow-go's ListBuilder: arrow-go's IPC writer writes no
// validity bitmap for an array without nulls (NullN() == 0, which a builder's lists have too: no sample
// is null), writes the offsets as they are when they start at zero and number exactly rows+1, and writes
// the values' bytes up to the last offset, the values buffers being exactly as long as the values (as a
// builder trims them).
func (w *DatasetWriter) newRecordBatch() (arrow.RecordBatch, func()) {
	c := w.cur
	w.cur = nil
	schema := w.b.Schema()
	rows := len(c.offsets) - 1
	w.lastEvents = len(c.t)
	cols := make([]arrow.Array, schema.NumFields())
	cols[0] = w.label.NewArray()
	cols[1] = w.id.NewArray()
	offsets := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.offsets))
	for i, values := range c.data() {
		list := array.NewData(w.listTypes[i], rows, []*memory.Buffer{nil, offsets}, []arrow.ArrayData{values}, 0, 0)
		cols[2+i] = array.MakeFromData(list)
		list.Release()
		values.Release()
	}
	if w.boxesCol >= 0 {
		cols[w.boxesCol] = w.boxes.list.NewArray()
	}
	rec := array.NewRecordBatch(schema, cols, int64(rows))
	for _, a := range cols {
		a.Release()
	}
	return rec, func() {
		c.offsets = c.offsets[:0]
		c.endRun()
		c.reset()
		w.sets.put(c)
	}
}

// extendRun adds e's events to the batch as a run of buf, without copying, and reports whether it
// could: a batch with no events yet starts a run where e lies in buf; a run grows by e when e lies right
// after it in the same buffer (an empty e always does).
func (c *dsColumns) extendRun(e *events.Batch, buf *events.Batch, hold *events.Hold) bool {
	if buf == nil {
		return false
	}
	n := len(e.T)
	if c.in == nil {
		if len(c.t) > 0 || n == 0 {
			return false // copied already, or nothing to place yet
		}
		lo, ok := buf.Offset(e)
		if !ok {
			return false
		}
		hold.Keep()
		c.in, c.hold, c.lo, c.own = buf, hold, lo, c.recColumns
		c.recColumns = recColumns{t: buf.T[lo : lo+n], x: buf.X[lo : lo+n], y: buf.Y[lo : lo+n], p: buf.P[lo : lo+n]}
		return true
	}
	if buf != c.in {
		return false
	}
	if n == 0 {
		return true
	}
	if lo, ok := buf.Offset(e); !ok || lo != c.lo+len(c.t) {
		return false
	}
	hi := c.lo + len(c.t) + n
	c.recColumns = recColumns{t: buf.T[c.lo:hi], x: buf.X[c.lo:hi], y: buf.Y[c.lo:hi], p: buf.P[c.lo:hi]}
	return true
}

// copyRun makes a run's events the batch's own: copied into the set's buffers, the buffer's hold dropped.
func (c *dsColumns) copyRun() {
	if c.in == nil {
		return
	}
	run, hold := c.recColumns, c.hold
	hold.Keep() // until copied: endRun's drop may hand the buffer back to its decoder
	c.endRun()
	c.grow(len(run.t) + len(run.t)/4)
	c.appendEvents(&events.Batch{T: run.t, X: run.x, Y: run.y, P: run.p}, 0, len(run.t))
	hold.Drop()
}

// endRun ends the batch's run, if any: the set gets its own (emptied) buffers back and the buffer's hold
// is dropped.
func (c *dsColumns) endRun() {
	if c.in == nil {
		return
	}
	c.recColumns, c.own = c.own, recColumns{}
	c.reset()
	h := c.hold
	c.in, c.hold = nil, nil
	h.Drop()
}

// Samples returns the number of samples written so far.
func (w *DatasetWriter) Samples() int { return w.samples }

// Abort discards the output, and lets go of the buffer the pending batch's events lie in, if any.
func (w *DatasetWriter) Abort() {
	if w.cur != nil {
		w.cur.endRun()
	}
	w.rowFile.Abort()
}

// rowFile is what the row-per-sample writers (datasets, tensors) share: the label and id columns (the
// schema's first two), record batches of perBatch rows, and the atomic output file.
type rowFile struct {
	out       *output.File
	iw        *ipcWriter
	b         *array.RecordBuilder
	label     *array.Int32Builder
	id        *array.StringBuilder
	numLabels int
	perBatch  int
	pending   int
	boxes     *boxBuilder // the boxes column; nil when the file has none
	numBoxes  int         // box classes, when named
	// newBatch, when set, makes the pending batch's record batch instead of the record builder, and
	// returns what to call once it is encoded (ipcWriter.write's done).
	newBatch func() (arrow.RecordBatch, func())
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
	w.pending = 0
	if w.newBatch != nil {
		return w.iw.write(w.newBatch())
	}
	return w.iw.write(w.b.NewRecordBatch(), nil)
}

// Close writes the last batch and the footer, then moves the file into place.
func (w *rowFile) Close() error {
	defer w.b.Release()
	return w.out.Close(func() error { return finishIPC(w.flush, w.iw) })
}

// Abort discards the output.
func (w *rowFile) Abort() { w.iw.abort(); w.out.Abort() }
