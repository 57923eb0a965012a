package parquet

import (
	"bytes"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/formats/internal/output"
)

// coordDict dictionary-encodes one row group's coordinates. A Parquet dictionary index takes
// ceil(log2(dictionary size)) bits, bit-packed; zstd cannot model 4..7-bit symbols that straddle bytes, but
// its entropy coder squeezes whole bytes to their entropy. So a dictionary of 9..128 values is padded with
// unused values to 129, which makes every index exactly one byte: on N-MNIST (34 distinct x) this saves
// 0.7 bits per coordinate. Larger and tiny dictionaries are left as they are.
type coordDict struct {
	index    [1 << 16]int32 // value → dictionary index, valid for the values in dict
	seen     [1 << 16]bool
	dict     []int32
	used     int // the first used entries of dict occur in the row group; the rest is padding
	min, max int32
	indices  []int32
}

// encode builds the dictionary of vals and their indices.
func (c *coordDict) encode(vals []uint16) {
	for _, v := range c.dict {
		c.seen[v] = false
	}
	c.dict = c.dict[:0]
	c.min, c.max = 1<<16, -1
	for _, v := range vals {
		if !c.seen[v] {
			c.seen[v] = true
			c.dict = append(c.dict, int32(v))
			c.min, c.max = min(c.min, int32(v)), max(c.max, int32(v))
		}
	}
	c.used = len(c.dict)
	if n := len(c.dict); n > 8 && n <= 128 {
		for v := 0; len(c.dict) < 129; v++ {
			if !c.seen[v] {
				c.seen[v] = true
				c.dict = append(c.dict, int32(v))
			}
		}
	}
	for i, v := range c.dict {
		c.index[v] = int32(i)
	}
	c.indices = c.indices[:0]
	for _, v := range vals {
		c.indices = append(c.indices, c.index[v])
	}
}

// dictionarySeeder is the part of arrow-go's dictionary encoder that takes a whole dictionary up front
// (the encoder's own type is internal to arrow-go; pqarrow seeds dictionaries the same way).
type dictionarySeeder interface {
	PutDictionary(arrow.Array) error
}

// int32Array wraps values as an Arrow array without copying.
func int32Array(values []int32) arrow.Array {
	return array.NewInt32Data(array.NewData(arrow.PrimitiveTypes.Int32, len(values),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(values))}, nil, 0, 0))
}

// write writes one column chunk of coordinates with c's dictionary, and the page statistics of the values
// that occur (the padding must not widen min/max).
func (c *coordDict) write(cw *file.Int32ColumnChunkWriter, vals []uint16, def, rep []int16, valid []byte) error {
	seeder, ok := cw.CurrentEncoder().(dictionarySeeder)
	if !ok || len(vals) == 0 { // not dictionary-encoded, or only levels (empty samples)
		c.indices = c.indices[:0]
		for _, v := range vals {
			c.indices = append(c.indices, int32(v))
		}
		return writeInt32s(cw, c.indices, def, rep, valid)
	}
	c.encode(vals)
	dict := int32Array(c.dict)
	err := seeder.PutDictionary(dict)
	dict.Release()
	if err != nil {
		return err
	}
	if st, ok := cw.PageStatistics().(*metadata.Int32Statistics); ok {
		// As the writer counts for other columns: levels without a value (empty samples) are nulls.
		st.IncNulls(int64(max(len(def)-len(vals), 0)))
		st.IncNumValues(int64(len(vals)))
		st.SetMinMax(c.min, c.max)
	}
	idx := int32Array(c.indices)
	defer idx.Release()
	return cw.WriteDictIndices(idx, def, rep)
}

// writeInt32s writes an int32 column chunk: values with levels def and rep (both nil for a recording).
func writeInt32s(cw *file.Int32ColumnChunkWriter, vals []int32, def, rep []int16, valid []byte) error {
	if def != nil {
		cw.WriteBatchSpaced(vals, def, rep, valid, 0)
		return nil
	}
	_, err := cw.WriteBatch(vals, def, rep)
	return err
}

// allValid returns a validity bitmap of at least n set bits, for WriteBatchSpaced. Columns with levels are
// written "spaced" although no event is null: arrow-go v18.4.1's WriteBatch formats an assertion message
// for every level it writes, which made a dataset write several times slower.
func (s *sink) allValid(n int) []byte {
	if need := (n + 7) / 8; len(s.valid) < need {
		s.valid = bytes.Repeat([]byte{0xFF}, need)
	}
	return s.valid
}

// sink is what both writers share: the Parquet file writer, the pending row group's events and the output.
type sink struct {
	out   *output.File
	fw    *file.Writer
	ev    events.Batch // the pending row group's events
	x, y  coordDict
	p     []int32
	valid []byte // all set: see allValid
	name  string
}

func newSink(out *output.File, layout *arrow.Schema, kind events.Kind, o Options) (s *sink, err error) {
	name := out.Name()
	props, err := writerProperties(kind, o)
	if err != nil {
		return nil, err
	}
	sc, err := parquetSchema(kind)
	if err != nil {
		return nil, fmt.Errorf("parquet schema for %s: %w", name, err)
	}
	kv := metadata.NewKeyValueMetadata()
	md := layout.Metadata()
	for i, k := range md.Keys() {
		if err := kv.Append(k, md.Values()[i]); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	stored, err := storedArrowSchema(layout)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := kv.Append("ARROW:schema", stored); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer recoverWrite(name, &err)
	// output.File is not an io.Closer (its Close takes the trailer), so the file writer cannot close it.
	fw := file.NewParquetWriter(out, sc, file.WithWriterProps(props), file.WithWriteMetadata(kv))
	return &sink{out: out, fw: fw, name: name}, nil
}

// recoverWrite turns a panic inside arrow-go's writer (it panics when the output fails at some points)
// into an error.
func recoverWrite(name string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("write %s: %v", name, r)
	}
}

// rowGroup writes one row group: columns in schema order, each written by the function for its index.
func (s *sink) rowGroup(write func(i int, cw file.ColumnChunkWriter) error) (err error) {
	defer recoverWrite(s.name, &err)
	rg := s.fw.AppendRowGroup()
	for i := 0; i < s.fw.NumColumns(); i++ {
		cw, err := rg.NextColumn()
		if err != nil {
			return fmt.Errorf("write %s: %w", s.name, err)
		}
		if err := write(i, cw); err != nil {
			return fmt.Errorf("write %s, column %s: %w", s.name, cw.Descr().Path(), err)
		}
	}
	if err := rg.Close(); err != nil {
		return fmt.Errorf("write %s: %w", s.name, err)
	}
	return nil
}

// writeEvents writes the pending events as the t, x, y, p columns (i = 0..3), with levels def and rep
// (nil for a recording).
func (s *sink) writeEvents(i int, cw file.ColumnChunkWriter, def, rep []int16) error {
	e := &s.ev
	valid := s.allValid(e.Len())
	switch i {
	case 0:
		if def != nil {
			cw.(*file.Int64ColumnChunkWriter).WriteBatchSpaced(e.T, def, rep, valid, 0)
			return nil
		}
		_, err := cw.(*file.Int64ColumnChunkWriter).WriteBatch(e.T, def, rep)
		return err
	case 1:
		return s.x.write(cw.(*file.Int32ColumnChunkWriter), e.X, def, rep, valid)
	case 2:
		return s.y.write(cw.(*file.Int32ColumnChunkWriter), e.Y, def, rep, valid)
	}
	s.p = s.p[:0]
	for _, v := range e.P {
		s.p = append(s.p, int32(v))
	}
	return writeInt32s(cw.(*file.Int32ColumnChunkWriter), s.p, def, rep, valid)
}

// finish writes the last row group and the footer, then moves the file into place.
func (s *sink) finish(flush func() error) error {
	return s.out.Close(func() error {
		if err := flush(); err != nil {
			return err
		}
		return s.close()
	})
}

func (s *sink) close() (err error) {
	defer recoverWrite(s.name, &err)
	if err := s.fw.Close(); err != nil {
		return fmt.Errorf("finish %s: %w", s.name, err)
	}
	return nil
}

func (s *sink) abort() { s.out.Abort() }

// RecordingWriter streams events into a recording-layout Parquet file.
type RecordingWriter struct {
	*sink
	limit int
}

// CreateRecording creates a recording file at path; nothing appears there unless Close succeeds.
func CreateRecording(path string, meta events.Meta, o Options) (*RecordingWriter, error) {
	return output.Start(path, func(out *output.File) (*RecordingWriter, error) { return newRecordingWriter(out, meta, o) })
}

// NewRecordingWriter writes a recording to w (not atomically); name is used in errors.
func NewRecordingWriter(w io.Writer, name string, meta events.Meta, o Options) (*RecordingWriter, error) {
	return newRecordingWriter(output.New(w, name), meta, o)
}

func newRecordingWriter(out *output.File, meta events.Meta, o Options) (*RecordingWriter, error) {
	o = o.withDefaults()
	s, err := newSink(out, evarrow.RecordingSchema(meta), events.KindRecording, o)
	if err != nil {
		return nil, err
	}
	return &RecordingWriter{sink: s, limit: o.RowGroupEvents}, nil
}

// Write appends events; each full row group is encoded and written as it fills.
func (w *RecordingWriter) Write(b *events.Batch) error {
	for off := 0; off < b.Len(); {
		n := min(b.Len()-off, w.limit-w.ev.Len())
		part := b.Slice(off, off+n)
		w.ev.AppendBatch(&part)
		off += n
		if w.ev.Len() == w.limit {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *RecordingWriter) flush() error {
	if w.ev.Len() == 0 {
		return nil
	}
	err := w.rowGroup(func(i int, cw file.ColumnChunkWriter) error { return w.writeEvents(i, cw, nil, nil) })
	w.ev.Reset()
	return err
}

// Close writes the last row group and the footer, then moves the file into place.
func (w *RecordingWriter) Close() error { return w.finish(w.flush) }

// Abort discards the output.
func (w *RecordingWriter) Abort() { w.abort() }

// DatasetWriter streams samples into a dataset-layout Parquet file.
type DatasetWriter struct {
	*sink
	labels     []int32 // of the pending samples, one slot each (unlabelled: a null slot)
	labelDef   []int16 // 1: labelled, 0: null
	labelValid []byte  // the labelled slots
	ids        []parquet.ByteArray
	def, rep   []int16 // list levels of the pending samples' events, shared by t, x, y and p
	samples    int
	maxSamples int
	maxEvents  int
	numClasses int
}

// CreateDataset creates a dataset file at path; nothing appears there unless Close succeeds.
func CreateDataset(path string, meta events.Meta, o Options) (*DatasetWriter, error) {
	return output.Start(path, func(out *output.File) (*DatasetWriter, error) { return newDatasetWriter(out, meta, o) })
}

// NewDatasetWriter writes a dataset to w (not atomically); name is used in errors.
func NewDatasetWriter(w io.Writer, name string, meta events.Meta, o Options) (*DatasetWriter, error) {
	return newDatasetWriter(output.New(w, name), meta, o)
}

func newDatasetWriter(out *output.File, meta events.Meta, o Options) (*DatasetWriter, error) {
	o = o.withDefaults()
	s, err := newSink(out, evarrow.DatasetSchema(meta), events.KindDataset, o)
	if err != nil {
		return nil, err
	}
	return &DatasetWriter{sink: s, maxSamples: o.RowGroupSamples, maxEvents: o.RowGroupEvents,
		numClasses: len(meta.Classes)}, nil
}

// List levels (the schema's required list of optional items): an event is an entry with a value
// (definition 2), an empty sample a row without entries (definition 0); repetition 0 starts a row.
const (
	defEmptyList = 0
	defEvent     = 2
)

// WriteSample appends one sample. Its label must be NoLabel or, when classes are known, a class index.
// A row group is written once it holds RowGroupSamples samples or RowGroupEvents events.
func (w *DatasetWriter) WriteSample(s *events.Sample) error {
	if s.Label < events.NoLabel || (w.numClasses > 0 && int(s.Label) >= w.numClasses) {
		return fmt.Errorf("%s: sample %q: label %d is outside the %d classes", w.name, s.ID, s.Label, w.numClasses)
	}
	if s.Events.Len() > 1<<31-1 {
		return fmt.Errorf("%s: sample %q has %d events; a Parquet list holds at most 2^31-1", w.name, s.ID, s.Events.Len())
	}
	if int64(w.ev.Len())+int64(s.Events.Len()) > 1<<31-1 {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if w.samples%8 == 0 {
		w.labelValid = append(w.labelValid, 0)
	}
	w.labels = append(w.labels, s.Label)
	if s.Label == events.NoLabel {
		w.labelDef = append(w.labelDef, 0)
	} else {
		w.labelDef = append(w.labelDef, 1)
		w.labelValid[w.samples/8] |= 1 << (w.samples % 8)
	}
	w.ids = append(w.ids, parquet.ByteArray(s.ID))
	if n := s.Events.Len(); n == 0 {
		w.def, w.rep = append(w.def, defEmptyList), append(w.rep, 0)
	} else {
		for i := 0; i < n; i++ {
			w.def, w.rep = append(w.def, defEvent), append(w.rep, 1)
		}
		w.rep[len(w.rep)-n] = 0
	}
	w.ev.AppendBatch(&s.Events)
	w.samples++
	if w.samples >= w.maxSamples || w.ev.Len() >= w.maxEvents {
		return w.flush()
	}
	return nil
}

func (w *DatasetWriter) flush() error {
	if w.samples == 0 {
		return nil
	}
	err := w.rowGroup(func(i int, cw file.ColumnChunkWriter) error {
		switch i {
		case 0:
			return writeInt32s(cw.(*file.Int32ColumnChunkWriter), w.labels, w.labelDef, nil, w.labelValid)
		case 1:
			_, err := cw.(*file.ByteArrayColumnChunkWriter).WriteBatch(w.ids, nil, nil)
			return err
		}
		return w.writeEvents(i-2, cw, w.def, w.rep)
	})
	w.ev.Reset()
	w.labels, w.labelDef, w.labelValid = w.labels[:0], w.labelDef[:0], w.labelValid[:0]
	w.ids, w.def, w.rep = w.ids[:0], w.def[:0], w.rep[:0]
	w.samples = 0
	return err
}

// Close writes the last row group and the footer, then moves the file into place.
func (w *DatasetWriter) Close() error { return w.finish(w.flush) }

// Abort discards the output.
func (w *DatasetWriter) Abort() { w.abort() }
