package evarrow

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/internal/output"
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

// KindTensors is the evtool.kind of the tensors layout.
const KindTensors events.Kind = "tensors"

// Tensor layout keys and columns.
const (
	KeyTensorShape = "evtool.tensor_shape" // JSON list, null where the size varies per sample
	KeyTensorDType = "evtool.tensor_dtype" // "uint16" or "float32"
	ColTensor      = "tensor"

	extName     = "ARROW:extension:name"
	extMetadata = "ARROW:extension:metadata"
)

// TensorSpec says what a tensors file holds.
type TensorSpec struct {
	DType string // "uint16" or "float32"
	// Shape of every tensor; a negative size varies per sample (then the variable-shape type is used).
	Shape []int
	// Plain leaves out the extension declaration: the same columns as plain Arrow types, for readers
	// that refuse extension types (nodejs-polars with polars core 0.55 does).
	Plain bool
}

func (s TensorSpec) fixed() bool {
	for _, d := range s.Shape {
		if d < 0 {
			return false
		}
	}
	return true
}

func (s TensorSpec) size() int {
	n := 1
	for _, d := range s.Shape {
		n *= d
	}
	return n
}

// shapeJSON renders the shape with null for varying sizes.
func (s TensorSpec) shapeJSON() string {
	parts := make([]any, len(s.Shape))
	for i, d := range s.Shape {
		if d >= 0 {
			parts[i] = d
		}
	}
	b, _ := json.Marshal(parts)
	return string(b)
}

// TensorSchema is the schema of the tensors layout.
func TensorSchema(meta events.Meta, spec TensorSpec) (*arrow.Schema, error) {
	var elem arrow.DataType
	switch spec.DType {
	case "uint16":
		elem = arrow.PrimitiveTypes.Uint16
	case "float32":
		elem = arrow.PrimitiveTypes.Float32
	default:
		return nil, fmt.Errorf("tensor element type %q: want uint16 or float32", spec.DType)
	}
	if len(spec.Shape) == 0 {
		return nil, fmt.Errorf("tensors need at least one dimension")
	}
	var typ arrow.DataType
	var ext arrow.Metadata
	if spec.fixed() {
		typ = arrow.FixedSizeListOf(int32(spec.size()), elem)
		ext = arrow.NewMetadata([]string{extName, extMetadata},
			[]string{"arrow.fixed_shape_tensor", `{"shape":` + spec.shapeJSON() + `}`})
	} else {
		typ = arrow.StructOf(
			arrow.Field{Name: "data", Type: arrow.ListOf(elem)},
			arrow.Field{Name: "shape", Type: arrow.FixedSizeListOf(int32(len(spec.Shape)), arrow.PrimitiveTypes.Int32)},
		)
		ext = arrow.NewMetadata([]string{extName, extMetadata},
			[]string{"arrow.variable_shape_tensor", `{"uniform_shape":` + spec.shapeJSON() + `}`})
	}
	meta.Kind = KindTensors
	md := MetaToMetadata(meta)
	keys := append(append([]string{}, md.Keys()...), KeyTensorShape, KeyTensorDType)
	vals := append(append([]string{}, md.Values()...), spec.shapeJSON(), spec.DType)
	smd := arrow.NewMetadata(keys, vals)
	if spec.Plain {
		ext = arrow.Metadata{}
	}
	return arrow.NewSchema([]arrow.Field{
		{Name: ColLabel, Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: ColID, Type: arrow.BinaryTypes.String},
		{Name: ColTensor, Type: typ, Metadata: ext},
	}, &smd), nil
}

// TensorWriter streams tensors into a tensors-layout file.
type TensorWriter struct {
	rowFile
	spec      TensorSpec
	fixedList *array.FixedSizeListBuilder
	strct     *array.StructBuilder
	data      *array.ListBuilder
	shape     *array.FixedSizeListBuilder
	shapeVals *array.Int32Builder
	u16       *array.Uint16Builder
	f32       *array.Float32Builder
	samples   int
}

// CreateTensors creates a tensors file at path (atomically: nothing appears unless Close succeeds).
func CreateTensors(path string, meta events.Meta, spec TensorSpec, o Options) (*TensorWriter, error) {
	return output.Start(path, func(out *output.File) (*TensorWriter, error) { return newTensorWriter(out, meta, spec, o) })
}

// NewTensorWriter writes a tensors file to w (not atomically); name is used in errors.
func NewTensorWriter(w io.Writer, name string, meta events.Meta, spec TensorSpec, o Options) (*TensorWriter, error) {
	return newTensorWriter(output.New(w, name), meta, spec, o)
}

func newTensorWriter(out *output.File, meta events.Meta, spec TensorSpec, o Options) (*TensorWriter, error) {
	schema, err := TensorSchema(meta, spec)
	if err != nil {
		return nil, err
	}
	rf, err := newRowFile(out, schema, o, len(meta.Classes))
	if err != nil {
		return nil, err
	}
	rb := rf.b
	w := &TensorWriter{rowFile: rf, spec: spec}
	var vb array.Builder
	if spec.fixed() {
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
	case *array.Float32Builder:
		w.f32 = b
	}
	return w, nil
}

// WriteTensor appends one sample's tensor: shape and its row-major values, in u16 or f32 as the spec's
// element type says.
func (w *TensorWriter) WriteTensor(id string, label int32, shape []int, u16 []uint16, f32 []float32) error {
	if len(shape) != len(w.spec.Shape) {
		return fmt.Errorf("sample %q: tensor of %d dimensions, the file holds %d", id, len(shape), len(w.spec.Shape))
	}
	n := 1
	for i, d := range shape {
		if want := w.spec.Shape[i]; (want >= 0 && d != want) || d < 0 {
			return fmt.Errorf("sample %q: tensor shape %v, the file holds %s", id, shape, w.spec.shapeJSON())
		}
		n *= d
	}
	if (w.u16 != nil && len(u16) != n) || (w.f32 != nil && len(f32) != n) {
		return fmt.Errorf("sample %q: %d values for a tensor of shape %v (element type %s)", id, max(len(u16), len(f32)), shape, w.spec.DType)
	}
	if err := w.appendKey(id, label); err != nil {
		return err
	}
	if w.fixedList != nil {
		w.fixedList.Append(true)
	} else {
		w.strct.Append(true)
		w.data.Append(true)
		w.shape.Append(true)
		for _, d := range shape {
			w.shapeVals.Append(int32(d))
		}
	}
	if w.u16 != nil {
		w.u16.AppendValues(u16, nil)
	} else {
		w.f32.AppendValues(f32, nil)
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
	out := make([]int, len(parts))
	for i, p := range parts {
		out[i] = -1
		if p != nil {
			out[i] = *p
		}
	}
	return out, nil
}

// checkTensorColumns checks the tensors layout's columns.
func checkTensorColumns(s *arrow.Schema) error {
	if s.NumFields() != 3 || s.Field(0).Name != ColLabel || s.Field(1).Name != ColID || s.Field(2).Name != ColTensor {
		return fmt.Errorf("want the columns label, id, tensor")
	}
	if s.Field(0).Type.ID() != arrow.INT32 || s.Field(1).Type.ID() != arrow.STRING {
		return fmt.Errorf("want label:int32 and id:utf8")
	}
	switch t := s.Field(2).Type.(type) {
	case *arrow.FixedSizeListType:
	case *arrow.StructType:
		if t.NumFields() != 2 || t.Field(0).Name != "data" || t.Field(1).Name != "shape" {
			return fmt.Errorf("a variable-shape tensor column is struct<data, shape>")
		}
	default:
		return fmt.Errorf("tensor column of type %s", t)
	}
	return nil
}

// TensorReader reads a tensors-layout file by sample index.
type TensorReader struct {
	d    *DatasetReader // the row and batch bookkeeping datasets use
	Spec TensorSpec
}

// OpenTensors opens a tensors-layout file.
func OpenTensors(path string) (*TensorReader, error) {
	fl, err := openFile(path)
	if err != nil {
		return nil, err
	}
	if fl.meta.Kind != KindTensors {
		fl.close()
		return nil, fmt.Errorf("%s holds events (%s layout), not tensors", path, fl.meta.Kind)
	}
	return newTensorReader(fl)
}

func newTensorReader(fl *file) (*TensorReader, error) {
	path := fl.path
	md := fl.r.Schema().Metadata()
	var err error
	spec := TensorSpec{}
	if v, ok := md.GetValue(KeyTensorDType); ok {
		spec.DType = v
	}
	if v, ok := md.GetValue(KeyTensorShape); ok {
		if spec.Shape, err = ParseTensorShape(v); err != nil {
			fl.close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	d, err := newDatasetReader(fl)
	if err != nil {
		return nil, err
	}
	return &TensorReader{d: d, Spec: spec}, nil
}

// Meta describes the file (Kind is KindTensors).
func (r *TensorReader) Meta() events.Meta { return r.d.meta }

// NumSamples is the number of tensors.
func (r *TensorReader) NumSamples() int { return r.d.NumSamples() }

// Close closes the file.
func (r *TensorReader) Close() error { return r.d.Close() }

// Tensor is one row of a tensors file.
type Tensor struct {
	ID    string
	Label int32
	Shape []int
	U16   []uint16
	F32   []float32
}

// ReadTensor reads tensor i (its values are copied out of the record batch).
func (r *TensorReader) ReadTensor(i int) (*Tensor, error) {
	d := r.d
	if i < 0 || i >= d.NumSamples() {
		return nil, fmt.Errorf("%s: tensor %d does not exist (the file holds %d)", d.path, i, d.NumSamples())
	}
	b := d.batchOf(i)
	rec, err := d.load(b)
	if err != nil {
		return nil, err
	}
	row := i - d.starts[b]
	if row >= int(rec.NumRows()) {
		return nil, fmt.Errorf("%s: record batch %d holds %d rows, expected at least %d", d.path, b, rec.NumRows(), row+1)
	}
	t := &Tensor{Label: events.NoLabel, ID: rec.Column(1).(*array.String).Value(row)}
	if labels := rec.Column(0).(*array.Int32); !labels.IsNull(row) {
		t.Label = labels.Value(row)
	}
	var values arrow.Array
	var lo, hi int64
	switch col := rec.Column(2).(type) {
	case *array.FixedSizeList:
		n := int64(col.DataType().(*arrow.FixedSizeListType).Len())
		if !r.Spec.fixed() || int64(r.Spec.size()) != n {
			return nil, fmt.Errorf("%s: %s=%s does not describe tensors of %d values", d.path, KeyTensorShape, r.Spec.shapeJSON(), n)
		}
		t.Shape = append([]int(nil), r.Spec.Shape...)
		values, lo, hi = col.ListValues(), int64(row)*n, int64(row+1)*n
	case *array.Struct:
		data, ok1 := col.Field(0).(*array.List)
		shape, ok2 := col.Field(1).(*array.FixedSizeList)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: malformed variable-shape tensor column", d.path)
		}
		dims := shape.ListValues().(*array.Int32).Int32Values()
		nd := len(r.Spec.Shape)
		if (row+1)*nd > len(dims) {
			return nil, fmt.Errorf("%s: tensor %d has no shape", d.path, i)
		}
		n := int64(1)
		for _, v := range dims[row*nd : (row+1)*nd] {
			t.Shape = append(t.Shape, int(v))
			n *= int64(v)
		}
		values = data.ListValues()
		lo, hi = data.ValueOffsets(row)
		if hi-lo != n {
			return nil, fmt.Errorf("%s: tensor %d holds %d values for shape %v", d.path, i, hi-lo, t.Shape)
		}
	default:
		return nil, fmt.Errorf("%s: tensor column of type %s", d.path, col.DataType())
	}
	switch v := values.(type) {
	case *array.Uint16:
		if hi > int64(v.Len()) {
			return nil, fmt.Errorf("%s: tensor %d lies past its column", d.path, i)
		}
		t.U16 = append([]uint16(nil), v.Uint16Values()[lo:hi]...)
	case *array.Float32:
		if hi > int64(v.Len()) {
			return nil, fmt.Errorf("%s: tensor %d lies past its column", d.path, i)
		}
		t.F32 = append([]float32(nil), v.Float32Values()[lo:hi]...)
	default:
		return nil, fmt.Errorf("%s: tensor values of type %s", d.path, values.DataType())
	}
	return t, nil
}
