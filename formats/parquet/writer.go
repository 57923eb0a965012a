package parquet

import (
	"encoding/base64"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/formats/internal/output"
)

// Coordinates are handed to the Parquet writer as Arrow dictionary arrays so that evtool chooses each
// row group's dictionary (see coordDict); the file's declared Arrow schema stays evarrow's plain one.
var coordDictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint16, ValueType: arrow.PrimitiveTypes.Uint16}

// writeSchema is the Arrow schema given to pqarrow: the layout's schema with x and y (or their list
// elements) dictionary-typed.
func writeSchema(s *arrow.Schema) *arrow.Schema {
	fields := s.Fields()
	for i, f := range fields {
		if f.Name != evarrow.ColX && f.Name != evarrow.ColY {
			continue
		}
		if l, ok := f.Type.(*arrow.ListType); ok {
			elem := l.ElemField()
			elem.Type = coordDictType
			fields[i].Type = arrow.ListOfField(elem)
		} else {
			fields[i].Type = coordDictType
		}
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

// storedSchema serialises the layout's plain schema the way pqarrow stores ARROW:schema (list elements
// named "element", as their Parquet groups are).
func storedSchema(s *arrow.Schema) string {
	fields := s.Fields()
	for i, f := range fields {
		if l, ok := f.Type.(*arrow.ListType); ok {
			elem := l.ElemField()
			elem.Name = "element"
			fields[i].Type = arrow.ListOfField(elem)
		}
	}
	md := s.Metadata()
	return base64.StdEncoding.EncodeToString(flight.SerializeSchema(arrow.NewSchema(fields, &md), memory.DefaultAllocator))
}

// coordDict dictionary-encodes one row group's coordinates. A Parquet dictionary index takes
// ceil(log2(dictionary size)) bits, bit-packed; zstd cannot model 4..7-bit symbols that straddle bytes, but
// its entropy coder squeezes whole bytes to their entropy. So a dictionary of 9..128 values is padded with
// unused values to 129, which makes every index exactly one byte: on N-MNIST (34 distinct x) this saves
// 0.7 bits per coordinate. Larger and tiny dictionaries are left as they are.
type coordDict struct {
	index [1 << 16]uint16 // value → dictionary index, valid for the values in dict
	seen  [1 << 16]bool
	dict  []uint16
}

// encode returns the dictionary array for vals (the caller releases it).
func (c *coordDict) encode(vals []uint16) arrow.Array {
	for _, v := range c.dict {
		c.seen[v] = false
	}
	c.dict = c.dict[:0]
	for _, v := range vals {
		if !c.seen[v] {
			c.seen[v] = true
			c.dict = append(c.dict, v)
		}
	}
	if n := len(c.dict); n > 8 && n <= 128 {
		for v := 0; len(c.dict) < 129; v++ {
			if !c.seen[v] {
				c.seen[v] = true
				c.dict = append(c.dict, uint16(v))
			}
		}
	}
	for i, v := range c.dict {
		c.index[v] = uint16(i)
	}
	idx := make([]uint16, len(vals))
	for i, v := range vals {
		idx[i] = c.index[v]
	}
	dict := array.NewUint16Data(array.NewData(arrow.PrimitiveTypes.Uint16, len(c.dict),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Uint16Traits.CastToBytes(append([]uint16(nil), c.dict...)))}, nil, 0, 0))
	defer dict.Release()
	indices := array.NewUint16Data(array.NewData(arrow.PrimitiveTypes.Uint16, len(idx),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Uint16Traits.CastToBytes(idx))}, nil, 0, 0))
	defer indices.Release()
	return array.NewDictionaryArray(coordDictType, indices, dict)
}

// sink is what both writers share: the Parquet writer, the pending row group's events and the output.
type sink struct {
	out    *output.File
	fw     *pqarrow.FileWriter
	schema *arrow.Schema // as given to pqarrow
	ev     events.Batch  // the pending row group's events
	x, y   coordDict
	name   string
}

func newSink(out *output.File, layout *arrow.Schema, kind events.Kind, o Options) (*sink, error) {
	name := out.Name()
	props, err := writerProperties(kind, o)
	if err != nil {
		return nil, err
	}
	schema := writeSchema(layout)
	fw, err := pqarrow.NewFileWriter(schema, out, props,
		pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(memory.DefaultAllocator)))
	if err != nil {
		return nil, fmt.Errorf("parquet writer for %s: %w", name, err)
	}
	if err := fw.AppendKeyValueMetadata("ARROW:schema", storedSchema(layout)); err != nil {
		return nil, fmt.Errorf("parquet writer for %s: %w", name, err)
	}
	return &sink{out: out, fw: fw, schema: schema, name: name}, nil
}

// eventColumns returns the pending events as Arrow arrays t, x, y, p (zero-copy for t and p).
func (s *sink) eventColumns() [4]arrow.Array {
	e := &s.ev
	n := e.Len()
	t := array.NewInt64Data(array.NewData(arrow.PrimitiveTypes.Int64, n,
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(e.T))}, nil, 0, 0))
	p := array.NewUint8Data(array.NewData(arrow.PrimitiveTypes.Uint8, n,
		[]*memory.Buffer{nil, memory.NewBufferBytes(e.P)}, nil, 0, 0))
	return [4]arrow.Array{t, s.x.encode(e.X), s.y.encode(e.Y), p}
}

// write writes one record batch as one row group and releases its columns.
func (s *sink) write(cols []arrow.Array, rows int) error {
	rec := array.NewRecordBatch(s.schema, cols, int64(rows))
	for _, c := range cols {
		c.Release()
	}
	defer rec.Release()
	if err := s.fw.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", s.name, err)
	}
	return nil
}

// finish writes the last row group and the footer, then moves the file into place.
func (s *sink) finish(flush func() error) error {
	return s.out.Close(func() error {
		if err := flush(); err != nil {
			return err
		}
		if err := s.fw.Close(); err != nil {
			return fmt.Errorf("finish %s: %w", s.name, err)
		}
		return nil
	})
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
	cols := w.eventColumns()
	err := w.write(cols[:], w.ev.Len())
	// The arrays shared the batch's memory; pqarrow has encoded them, so the batch can be reused.
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
	label      *array.Int32Builder
	id         *array.StringBuilder
	offsets    []int32 // list offsets of the pending samples into sink.ev
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
	return &DatasetWriter{sink: s, label: array.NewInt32Builder(memory.DefaultAllocator),
		id: array.NewStringBuilder(memory.DefaultAllocator), offsets: []int32{0},
		maxSamples: o.RowGroupSamples, maxEvents: o.RowGroupEvents, numClasses: len(meta.Classes)}, nil
}

// WriteSample appends one sample. Its label must be NoLabel or, when classes are known, a class index.
// A row group is written once it holds RowGroupSamples samples or RowGroupEvents events.
func (w *DatasetWriter) WriteSample(s *events.Sample) error {
	if s.Label < events.NoLabel || (w.numClasses > 0 && int(s.Label) >= w.numClasses) {
		return fmt.Errorf("%s: sample %q: label %d is outside the %d classes", w.name, s.ID, s.Label, w.numClasses)
	}
	if int64(w.ev.Len())+int64(s.Events.Len()) > 1<<31-1 {
		if err := w.flush(); err != nil {
			return err
		}
		if s.Events.Len() > 1<<31-1 {
			return fmt.Errorf("%s: sample %q has %d events; a Parquet list holds at most 2^31-1", w.name, s.ID, s.Events.Len())
		}
	}
	if s.Label == events.NoLabel {
		w.label.AppendNull()
	} else {
		w.label.Append(s.Label)
	}
	w.id.Append(s.ID)
	w.ev.AppendBatch(&s.Events)
	w.offsets = append(w.offsets, int32(w.ev.Len()))
	if len(w.offsets)-1 >= w.maxSamples || w.ev.Len() >= w.maxEvents {
		return w.flush()
	}
	return nil
}

func (w *DatasetWriter) flush() error {
	rows := len(w.offsets) - 1
	if rows == 0 {
		return nil
	}
	offsets := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(w.offsets))
	ev := w.eventColumns()
	cols := []arrow.Array{w.label.NewArray(), w.id.NewArray()}
	for i, values := range ev {
		lt := w.schema.Field(2 + i).Type
		data := array.NewData(lt, rows, []*memory.Buffer{nil, offsets}, []arrow.ArrayData{values.Data()}, 0, 0)
		cols = append(cols, array.MakeFromData(data))
		data.Release()
		values.Release()
	}
	err := w.write(cols, rows)
	w.ev.Reset()
	w.offsets = w.offsets[:1]
	return err
}

// Close writes the last row group and the footer, then moves the file into place.
func (w *DatasetWriter) Close() error {
	defer w.label.Release()
	defer w.id.Release()
	return w.finish(w.flush)
}

// Abort discards the output.
func (w *DatasetWriter) Abort() { w.abort() }
