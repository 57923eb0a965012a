package evarrow

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/evtool/evtool/events"
)

// The optional boxes column (docs/FORMAT.md, "Boxes"): labels that change over time, beside the events,
// as a list of structs per row. A dataset or tensors row holds its sample's boxes (an empty list for
// none); a recording's boxes are spread over its event rows — each in the row of the first event at or
// after its time, the last row for boxes after every event, null in rows without boxes — so that reading
// the rows in order gives the boxes in time order, a record batch at a time.

// Boxes column and metadata key.
const (
	ColBoxes      = "boxes"
	KeyBoxClasses = "evtool.box_classes" // JSON list: box class i is named box_classes[i]
)

// boxFields are the struct fields of a box, in the order evtool writes them.
var boxFields = []arrow.Field{
	{Name: "t", Type: arrow.PrimitiveTypes.Int64},
	{Name: "x", Type: arrow.PrimitiveTypes.Float32},
	{Name: "y", Type: arrow.PrimitiveTypes.Float32},
	{Name: "w", Type: arrow.PrimitiveTypes.Float32},
	{Name: "h", Type: arrow.PrimitiveTypes.Float32},
	{Name: "class", Type: arrow.PrimitiveTypes.Uint32},
	{Name: "track", Type: arrow.PrimitiveTypes.Uint32},
	{Name: "confidence", Type: arrow.PrimitiveTypes.Float32},
}

// BoxType is the boxes column's type: list<struct<t: int64, x, y, w, h: float32, class, track: uint32,
// confidence: float32>>.
var BoxType = arrow.ListOf(arrow.StructOf(boxFields...))

// withBoxes appends the boxes column and the box classes to a schema when meta says there are boxes.
func withBoxes(fields []arrow.Field, md arrow.Metadata, meta events.Meta) ([]arrow.Field, arrow.Metadata) {
	if !meta.Boxes {
		return fields, md
	}
	classes := meta.BoxClasses
	if classes == nil {
		classes = []string{}
	}
	b, _ := json.Marshal(classes)
	keys := append(append([]string{}, md.Keys()...), KeyBoxClasses)
	vals := append(append([]string{}, md.Values()...), string(b))
	return append(fields, arrow.Field{Name: ColBoxes, Type: BoxType, Nullable: true}), arrow.NewMetadata(keys, vals)
}

// boxBuilder appends rows of the boxes column.
type boxBuilder struct {
	list  *array.ListBuilder
	strct *array.StructBuilder
	t     *array.Int64Builder
	xywh  [4]*array.Float32Builder
	class *array.Uint32Builder
	track *array.Uint32Builder
	conf  *array.Float32Builder
}

// newBoxBuilder wraps the record builder's boxes column, or returns nil when the schema has none.
func newBoxBuilder(rb *array.RecordBuilder) *boxBuilder {
	idx := rb.Schema().FieldIndices(ColBoxes)
	if len(idx) == 0 {
		return nil
	}
	l := rb.Field(idx[0]).(*array.ListBuilder)
	s := l.ValueBuilder().(*array.StructBuilder)
	b := &boxBuilder{list: l, strct: s, t: s.FieldBuilder(0).(*array.Int64Builder),
		class: s.FieldBuilder(5).(*array.Uint32Builder), track: s.FieldBuilder(6).(*array.Uint32Builder),
		conf: s.FieldBuilder(7).(*array.Float32Builder)}
	for i := range b.xywh {
		b.xywh[i] = s.FieldBuilder(1 + i).(*array.Float32Builder)
	}
	return b
}

// appendRow appends one row: the list of boxes, or null when null is set.
func (b *boxBuilder) appendRow(boxes []events.Box, null bool) {
	if null {
		b.list.AppendNull()
		return
	}
	b.list.Append(true)
	for _, bx := range boxes {
		b.appendBox(bx)
	}
}

// appendBox appends one box to the row begun last.
func (b *boxBuilder) appendBox(bx events.Box) {
	b.strct.Append(true)
	b.t.Append(bx.T)
	b.xywh[0].Append(bx.X)
	b.xywh[1].Append(bx.Y)
	b.xywh[2].Append(bx.W)
	b.xywh[3].Append(bx.H)
	b.class.Append(bx.Class)
	b.track.Append(bx.Track)
	b.conf.Append(bx.Confidence)
}

// checkBoxClass refuses a box whose class is not one of the named classes.
func checkBoxClasses(boxes []events.Box, classes int, what string) error {
	if err := events.CheckBoxes(boxes); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if classes == 0 {
		return nil
	}
	for i, b := range boxes {
		if int64(b.Class) >= int64(classes) {
			return fmt.Errorf("%s: box %d has class %d, outside the %d box classes", what, i, b.Class, classes)
		}
	}
	return nil
}

// findBoxes returns the position of the boxes column, or -1 when the file has none, and checks its type:
// a list or large list of structs with the box fields, found by name (pyarrow and polars may reorder
// them); integer and floating-point fields may be of any width.
func findBoxes(s *arrow.Schema) (int, error) {
	idx := s.FieldIndices(ColBoxes)
	switch len(idx) {
	case 0:
		return -1, nil
	case 1:
	default:
		return 0, fmt.Errorf("column %q appears %d times", ColBoxes, len(idx))
	}
	typ := s.Field(idx[0]).Type
	if _, err := boxStruct(typ); err != nil {
		return 0, fmt.Errorf("column %q has type %s; want %s (%v)", ColBoxes, typ, BoxType, err)
	}
	return idx[0], nil
}

// boxStruct returns the positions of the box fields in the struct of a boxes column's type.
func boxStruct(typ arrow.DataType) ([8]int, error) {
	var pos [8]int
	var elem arrow.DataType
	switch lt := typ.(type) {
	case *arrow.ListType:
		elem = lt.Elem()
	case *arrow.LargeListType:
		elem = lt.Elem()
	default:
		return pos, fmt.Errorf("not a list")
	}
	st, ok := elem.(*arrow.StructType)
	if !ok {
		return pos, fmt.Errorf("the list's elements are not structs")
	}
	for k, f := range boxFields {
		i, ok := st.FieldIdx(f.Name)
		if !ok {
			return pos, fmt.Errorf("the struct has no field %q", f.Name)
		}
		got := st.Field(i).Type
		isInt, isFloat := arrow.IsInteger(got.ID()), got.ID() == arrow.FLOAT32 || got.ID() == arrow.FLOAT64
		switch {
		case f.Name == "t" && got.ID() != arrow.INT64:
			return pos, fmt.Errorf("field t is %s, not int64", got)
		case f.Type.ID() == arrow.UINT32 && !isInt:
			return pos, fmt.Errorf("field %s is %s, not an integer", f.Name, got)
		case f.Type.ID() == arrow.FLOAT32 && !isInt && !isFloat:
			return pos, fmt.Errorf("field %s is %s, not a number", f.Name, got)
		}
		pos[k] = i
	}
	return pos, nil
}

// boxColumn reads the boxes of a record batch's boxes column.
type boxColumn struct {
	list   array.ListLike
	fields [8]arrow.Array
}

// openBoxColumn checks the column of a loaded batch: list offsets inside the values and never going
// back, and no null box or box field (a box has every field).
func openBoxColumn(col arrow.Array) (*boxColumn, error) {
	l, ok := col.(array.ListLike)
	if !ok {
		return nil, fmt.Errorf("column %q is not a list", ColBoxes)
	}
	pos, err := boxStruct(col.DataType())
	if err != nil {
		return nil, fmt.Errorf("column %q: %w", ColBoxes, err)
	}
	values, ok := l.ListValues().(*array.Struct)
	if !ok {
		return nil, fmt.Errorf("column %q does not hold structs", ColBoxes)
	}
	rows := l.Len()
	if err := checkListOffsets(l, rows, values.Len()); err != nil {
		return nil, fmt.Errorf("column %q: %w", ColBoxes, err)
	}
	// Null rows are allowed (recording rows without boxes); a null box or a null inside a box is not.
	if values.NullN() > 0 {
		return nil, fmt.Errorf("column %q holds %d null boxes", ColBoxes, values.NullN())
	}
	bc := &boxColumn{list: l}
	for k, i := range pos {
		f := values.Field(i)
		if f.Len() < values.Len() {
			return nil, fmt.Errorf("column %q: field %s holds %d values for %d boxes", ColBoxes, boxFields[k].Name, f.Len(), values.Len())
		}
		if f.NullN() > 0 {
			return nil, fmt.Errorf("column %q: field %s holds %d nulls (a box has every field)", ColBoxes, boxFields[k].Name, f.NullN())
		}
		bc.fields[k] = f
	}
	return bc, nil
}

// appendRow appends the boxes of row to dst (none for a null row).
func (c *boxColumn) appendRow(dst []events.Box, row int) ([]events.Box, error) {
	if c.list.IsNull(row) {
		return dst, nil
	}
	start, end := c.list.ValueOffsets(row)
	for i := int(start); i < int(end); i++ {
		b := events.Box{T: c.fields[0].(*array.Int64).Value(i)}
		for k, dst := range [4]*float32{&b.X, &b.Y, &b.W, &b.H} {
			*dst = float32(floatAt(c.fields[1+k], i))
		}
		class, ok1 := uintAt(c.fields[5], i)
		track, ok2 := uintAt(c.fields[6], i)
		if !ok1 || !ok2 {
			return dst, fmt.Errorf("row %d: box %d has class %d, track %d: want 0 … 2³²−1", row, i-int(start), class, track)
		}
		b.Class, b.Track = uint32(class), uint32(track)
		b.Confidence = float32(floatAt(c.fields[7], i))
		dst = append(dst, b)
	}
	return dst, nil
}

// floatAt reads value i of a numeric array as a float64.
func floatAt(a arrow.Array, i int) float64 {
	switch a := a.(type) {
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	}
	v, _ := intAt(a, i)
	return float64(v)
}

// uintAt reads value i of an integer array and reports whether it fits a uint32.
func uintAt(a arrow.Array, i int) (int64, bool) {
	v, ok := intAt(a, i)
	return v, ok && v >= 0 && v <= math.MaxUint32
}

func intAt(a arrow.Array, i int) (int64, bool) {
	switch a := a.(type) {
	case *array.Int8:
		return int64(a.Value(i)), true
	case *array.Int16:
		return int64(a.Value(i)), true
	case *array.Int32:
		return int64(a.Value(i)), true
	case *array.Int64:
		return a.Value(i), true
	case *array.Uint8:
		return int64(a.Value(i)), true
	case *array.Uint16:
		return int64(a.Value(i)), true
	case *array.Uint32:
		return int64(a.Value(i)), true
	case *array.Uint64:
		return int64(a.Value(i)), a.Value(i) <= math.MaxInt64
	}
	return 0, false
}
