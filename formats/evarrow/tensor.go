package evarrow

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
	"github.com/evtool/evtool/formats/internal/output"
	"github.com/evtool/evtool/tensors"
)

// The tensors layout (docs/FORMAT.md): what a transform chain ending in a representation (frames, voxel
// grid…) makes of a dataset. One row per sample: label:int32 (null when unknown), id:utf8, and tensor in
// one of Arrow's canonical tensor extension types, so pyarrow hands back numpy arrays directly:
//   - arrow.fixed_shape_tensor when every sample has one shape (frames by bins, voxel grids): storage
//     fixed_size_list<T>[∏shape], metadata {"shape": [...]}, row-major;
//   - arrow.variable_shape_tensor otherwise (frames by window): storage struct<data: list<T>,
//     shape: fixed_size_list<int32>[ndim]>, metadata {"uniform_shape": [...]} with null where sizes vary.
// The extension is declared through the field's ARROW:extension:* metadata, which is how the IPC format
// carries it; readers that do not know it see the storage type.

// Tensor layout keys and columns.
const (
	KeyTensorShape = "evtool.tensor_shape" // JSON list, null where the size varies per sample
	KeyTensorDType = "evtool.tensor_dtype" // "uint16" or "float32"
	ColTensor      = "tensor"

	extName     = "ARROW:extension:name"
	extMetadata = "ARROW:extension:metadata"
)

// shapeJSON renders a shape with null for varying sizes.
func shapeJSON(shape []int) string {
	parts := make([]any, len(shape))
	for i, d := range shape {
		if d >= 0 {
			parts[i] = d
		}
	}
	b, _ := json.Marshal(parts)
	return string(b)
}

// TensorSchema is the schema of the tensors layout. plain leaves out the extension declaration: the same
// columns as plain Arrow types, for readers that refuse extension types (nodejs-polars with polars core
// 0.55 does).
func TensorSchema(meta events.Meta, spec tensors.Spec, plain bool) (*arrow.Schema, error) {
	var elem arrow.DataType
	switch spec.DType {
	case tensors.Uint16:
		elem = arrow.PrimitiveTypes.Uint16
	case tensors.Int16:
		elem = arrow.PrimitiveTypes.Int16
	case tensors.Float32:
		elem = arrow.PrimitiveTypes.Float32
	default:
		return nil, fmt.Errorf("tensor element type %q: want int16, uint16 or float32", spec.DType)
	}
	if len(spec.Shape) == 0 {
		return nil, fmt.Errorf("tensors need at least one dimension")
	}
	var typ arrow.DataType
	var ext arrow.Metadata
	if spec.Fixed() {
		typ = arrow.FixedSizeListOf(int32(spec.Size()), elem)
		ext = arrow.NewMetadata([]string{extName, extMetadata},
			[]string{"arrow.fixed_shape_tensor", `{"shape":` + shapeJSON(spec.Shape) + `}`})
	} else {
		typ = arrow.StructOf(
			arrow.Field{Name: "data", Type: arrow.ListOf(elem)},
			arrow.Field{Name: "shape", Type: arrow.FixedSizeListOf(int32(len(spec.Shape)), arrow.PrimitiveTypes.Int32)},
		)
		ext = arrow.NewMetadata([]string{extName, extMetadata},
			[]string{"arrow.variable_shape_tensor", `{"uniform_shape":` + shapeJSON(spec.Shape) + `}`})
	}
	meta.Kind = events.KindTensors
	md := MetaToMetadata(meta)
	keys := append(append([]string{}, md.Keys()...), KeyTensorShape, KeyTensorDType)
	vals := append(append([]string{}, md.Values()...), shapeJSON(spec.Shape), string(spec.DType))
	if plain {
		ext = arrow.Metadata{}
	}
	fields, smd := withBoxes([]arrow.Field{
		{Name: ColLabel, Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: ColID, Type: arrow.BinaryTypes.String},
		{Name: ColTensor, Type: typ, Metadata: ext},
	}, arrow.NewMetadata(keys, vals), meta)
	return arrow.NewSchema(fields, &smd), nil
}

// TensorWriter streams tensors into a tensors-layout file.
type TensorWriter struct {
	rowFile
	spec      tensors.Spec
	fixedList *array.FixedSizeListBuilder
	strct     *array.StructBuilder
	data      *array.ListBuilder
	shape     *array.FixedSizeListBuilder
	shapeVals *array.Int32Builder
	u16       *array.Uint16Builder
	i16       *array.Int16Builder
	f32       *array.Float32Builder
	conv      []float32 // counts stored as float32
	conv16    []int16   // counts stored as int16
	samples   int
}

// CreateTensors creates a tensors file at path (atomically: nothing appears unless Close succeeds).
func CreateTensors(path string, meta events.Meta, spec tensors.Spec, o Options) (*TensorWriter, error) {
	return output.Start(path, func(out *output.File) (*TensorWriter, error) { return newTensorWriter(out, meta, spec, o) })
}

// NewTensorWriter writes a tensors file to w (not atomically); name is used in errors.
func NewTensorWriter(w io.Writer, name string, meta events.Meta, spec tensors.Spec, o Options) (*TensorWriter, error) {
	return newTensorWriter(output.New(w, name), meta, spec, o)
}

func newTensorWriter(out *output.File, meta events.Meta, spec tensors.Spec, o Options) (*TensorWriter, error) {
	stored := spec
	if o.TensorDType != "" {
		if spec.DType == tensors.Float32 && o.TensorDType != tensors.Float32 {
			return nil, fmt.Errorf("%s: float32 tensors cannot be stored as %s", out.Name(), o.TensorDType)
		}
		stored.DType = o.TensorDType
	}
	schema, err := TensorSchema(meta, stored, o.PlainTensors)
	if err != nil {
		return nil, err
	}
	rf, err := newRowFile(out, schema, o, len(meta.Classes))
	if err != nil {
		return nil, err
	}
	rf.numBoxes = len(meta.BoxClasses)
	rb := rf.b
	w := &TensorWriter{rowFile: rf, spec: spec}
	w.spec.Shape = append([]int(nil), spec.Shape...)
	var vb array.Builder
	if spec.Fixed() {
		w.fixedList = rb.Field(2).(*array.FixedSizeListBuilder)
		vb = w.fixedList.ValueBuilder()
	} else {
		w.strct = rb.Field(2).(*array.StructBuilder)
		w.data = w.strct.FieldBuilder(0).(*array.ListBuilder)
		w.shape = w.strct.FieldBuilder(1).(*array.FixedSizeListBuilder)
		w.shapeVals = w.shape.ValueBuilder().(*array.Int32Builder)
		vb = w.data.ValueBuilder()
	}
	switch b := vb.(type) {
	case *array.Uint16Builder:
		w.u16 = b
	case *array.Int16Builder:
		w.i16 = b
	case *array.Float32Builder:
		w.f32 = b
	}
	return w, nil
}

// Write appends one sample's tensor, which must fit the spec the file was created with.
func (w *TensorWriter) Write(s *tensors.Sample) error {
	t := &s.Tensor
	if err := w.spec.Check(t); err != nil {
		return fmt.Errorf("%s: sample %q: %w", w.out.Name(), s.ID, err)
	}
	if err := w.checkBoxes(s.ID, s.Boxes); err != nil {
		return err
	}
	if w.i16 != nil {
		if err := formats.CheckStored(t, tensors.Int16); err != nil {
			return fmt.Errorf("%s: sample %q: %w", w.out.Name(), s.ID, err)
		}
	}
	if err := w.appendKey(s.ID, s.Label); err != nil {
		return err
	}
	if w.boxes != nil {
		w.boxes.appendRow(s.Boxes, false)
	}
	if w.fixedList != nil {
		w.fixedList.Append(true)
	} else {
		w.strct.Append(true)
		w.data.Append(true)
		w.shape.Append(true)
		for _, d := range t.Shape {
			w.shapeVals.Append(int32(d))
		}
	}
	switch {
	case w.u16 != nil:
		w.u16.AppendValues(t.U16, nil)
	case w.i16 != nil:
		w.conv16 = w.conv16[:0]
		for _, v := range t.U16 {
			w.conv16 = append(w.conv16, int16(v)) // checked above: v ≤ 32767
		}
		w.i16.AppendValues(w.conv16, nil)
	case t.U16 != nil: // counts stored as float32
		w.conv = w.conv[:0]
		for _, v := range t.U16 {
			w.conv = append(w.conv, float32(v))
		}
		w.f32.AppendValues(w.conv, nil)
	default:
		w.f32.AppendValues(t.F32, nil)
	}
	w.samples++
	return w.rowDone()
}

// Samples returns the number of tensors written so far.
func (w *TensorWriter) Samples() int { return w.samples }

// ParseTensorShape reads the evtool.tensor_shape value (null → −1).
func ParseTensorShape(s string) ([]int, error) {
	var parts []*int
	if err := json.Unmarshal([]byte(s), &parts); err != nil {
		return nil, fmt.Errorf("%s=%q: want a JSON list of sizes: %w", KeyTensorShape, s, err)
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("%s=%q: a tensor has at least one dimension", KeyTensorShape, s)
	}
	out := make([]int, len(parts))
	for i, p := range parts {
		out[i] = -1
		if p != nil {
			out[i] = *p
		}
	}
	return out, nil
}

// checkTensorBatch checks the offsets a tensors batch is read through (arrow-go loads them unchecked).
func checkTensorBatch(rec arrow.RecordBatch, c columns) error {
	if err := checkIDs(rec, c); err != nil {
		return err
	}
	if st, ok := rec.Column(c.tensor).(*array.Struct); ok {
		if data, ok := st.Field(0).(*array.List); ok {
			if err := checkOffsets(data.Offsets(), data.Data().Offset(), data.Len(), data.ListValues().Len()); err != nil {
				return fmt.Errorf("column %q: %w", ColTensor, err)
			}
		}
	}
	return nil
}

// TensorReader reads a tensors-layout file by sample index; it implements tensors.Reader.
type TensorReader struct {
	d    *DatasetReader // the row and batch bookkeeping datasets use
	spec tensors.Spec
}

// OpenTensors opens a tensors-layout file. Given an Arrow file of events it returns an error wrapping
// tensors.ErrNotTensors.
func OpenTensors(path string) (*TensorReader, error) {
	return input.Open(path, func(f *os.File) (*TensorReader, error) { return NewTensorReader(f, path) })
}

// NewTensorReader reads a tensors-layout file from src, which must give random access (an *os.File, a
// *bytes.Reader, an *io.SectionReader); it is closed by Close when it is an io.Closer. name is used in
// errors.
func NewTensorReader(src io.Reader, name string) (*TensorReader, error) {
	return newTensorReaderOpts(src, name, formats.Options{})
}

// newTensorReaderOpts is NewTensorReader with the reading options (the notices' listener).
func newTensorReaderOpts(src io.Reader, name string, o formats.Options) (*TensorReader, error) {
	fl, err := openStream(src, name, o)
	if err != nil {
		return nil, err
	}
	if fl.meta.Kind != events.KindTensors {
		fl.r.Close()
		return nil, fmt.Errorf("%s: %w (Arrow %s layout)", name, tensors.ErrNotTensors, fl.meta.Kind)
	}
	return newTensorReader(fl)
}

func newTensorReader(fl *file) (*TensorReader, error) {
	path := fl.path
	md := fl.r.Schema().Metadata()
	var err error
	spec := tensors.Spec{}
	if v, ok := md.GetValue(KeyTensorDType); ok {
		spec.DType = tensors.DType(v)
		if spec.DType == tensors.Int16 {
			spec.DType, spec.Stored = tensors.Float32, tensors.Int16 // counts stored as int16 read as values
		}
	}
	if v, ok := md.GetValue(KeyTensorShape); ok {
		if spec.Shape, err = ParseTensorShape(v); err != nil {
			fl.r.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	d, err := newDatasetReader(fl)
	if err != nil {
		return nil, err
	}
	spec.Samples = d.NumSamples()
	return &TensorReader{d: d, spec: spec}, nil
}

// Meta describes the file (Kind is events.KindTensors).
func (r *TensorReader) Meta() events.Meta { return r.d.meta }

// Spec is the element type and shape the file declares (−1 where the size varies per sample).
func (r *TensorReader) Spec() tensors.Spec {
	s := r.spec
	s.Shape = append([]int(nil), s.Shape...)
	return s
}

// NumSamples is the number of tensors.
func (r *TensorReader) NumSamples() int { return r.d.NumSamples() }

// Close closes the file.
func (r *TensorReader) Close() error { return r.d.Close() }

// ReadSample reads tensor i into dst (its values are copied out of the record batch into dst's buffers).
func (r *TensorReader) ReadSample(i int, dst *tensors.Sample) (err error) {
	d := r.d
	dst.Reset()
	if i < 0 || i >= d.NumSamples() {
		return fmt.Errorf("%s: tensor %d does not exist (the file holds %d)", d.path, i, d.NumSamples())
	}
	b := d.batchOf(i)
	rec, err := d.load(b)
	if err != nil {
		return err
	}
	row := i - d.starts[b]
	if row >= int(rec.NumRows()) {
		return fmt.Errorf("%s: record batch %d holds %d rows, expected at least %d", d.path, b, rec.NumRows(), row+1)
	}
	defer guard(d.path, &err) // a corrupt validity bitmap or string view: an error, not a panic
	dst.ID = stringAt(rec.Column(d.cols.id), row)
	if labels := rec.Column(d.cols.label).(*array.Int32); !labels.IsNull(row) {
		dst.Label = labels.Value(row)
	}
	t := &dst.Tensor
	var values arrow.Array
	var lo, hi int64
	switch col := rec.Column(d.cols.tensor).(type) {
	case *array.FixedSizeList:
		n := int64(col.DataType().(*arrow.FixedSizeListType).Len())
		if !r.spec.Fixed() || int64(r.spec.Size()) != n {
			return fmt.Errorf("%s: %s=%s does not describe tensors of %d values", d.path, KeyTensorShape, shapeJSON(r.spec.Shape), n)
		}
		t.Shape = append(t.Shape, r.spec.Shape...)
		values, lo, hi = col.ListValues(), int64(row)*n, int64(row+1)*n
	case *array.Struct:
		data, ok1 := col.Field(0).(*array.List)
		shape, ok2 := col.Field(1).(*array.FixedSizeList)
		if !ok1 || !ok2 {
			return fmt.Errorf("%s: malformed variable-shape tensor column", d.path)
		}
		dims := shape.ListValues().(*array.Int32).Int32Values()
		nd := len(r.spec.Shape)
		if (row+1)*nd > len(dims) {
			return fmt.Errorf("%s: tensor %d has no shape", d.path, i)
		}
		n := int64(1)
		for _, v := range dims[row*nd : (row+1)*nd] {
			if v < 0 {
				return fmt.Errorf("%s: tensor %d has a negative size in its shape %v", d.path, i, dims[row*nd:(row+1)*nd])
			}
			t.Shape = append(t.Shape, int(v))
			n *= int64(v)
		}
		values = data.ListValues()
		lo, hi = data.ValueOffsets(row)
		if hi-lo != n {
			return fmt.Errorf("%s: tensor %d holds %d values for shape %v", d.path, i, hi-lo, t.Shape)
		}
	default:
		return fmt.Errorf("%s: tensor column of type %s", d.path, col.DataType())
	}
	switch v := values.(type) {
	case *array.Uint16:
		if lo < 0 || hi < lo || hi > int64(v.Len()) {
			return fmt.Errorf("%s: tensor %d lies past its column", d.path, i)
		}
		t.U16 = append(t.U16, v.Uint16Values()[lo:hi]...)
		t.F32 = nil
	case *array.Int16:
		if lo < 0 || hi < lo || hi > int64(v.Len()) {
			return fmt.Errorf("%s: tensor %d lies past its column", d.path, i)
		}
		t.F32 = t.F32[:0]
		if t.F32 == nil {
			t.F32 = []float32{}
		}
		for _, x := range v.Int16Values()[lo:hi] {
			t.F32 = append(t.F32, float32(x))
		}
		t.U16 = nil
	case *array.Float32:
		if lo < 0 || hi < lo || hi > int64(v.Len()) {
			return fmt.Errorf("%s: tensor %d lies past its column", d.path, i)
		}
		if t.F32 == nil {
			t.F32 = []float32{} // non-nil even when empty: the element type is float32
		}
		t.F32 = append(t.F32, v.Float32Values()[lo:hi]...)
		t.U16 = nil
	default:
		return fmt.Errorf("%s: tensor values of type %s", d.path, values.DataType())
	}
	return d.readBoxes(row, i, &dst.Boxes)
}
