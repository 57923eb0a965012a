package evarrow

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/evtool/evtool/events"
)

// columns says where each column of a layout sits in a file's schema. Columns are found by name, never
// by position: pyarrow and polars write them in whatever order a table has them (x, y, t, p), and may
// add columns of their own, which are ignored.
type columns struct {
	t, x, y, p int // recording: the event columns; dataset: the list columns
	label, id  int // dataset and tensors
	tensor     int // tensors
	boxes      int // the optional boxes column of every layout; -1 when the file has none
}

// What each column must hold. A dataset's list columns may be Arrow lists or large lists (polars writes
// large lists), and its id column any of Arrow's three string types (polars writes string views).
var (
	eventTypes = map[string]arrow.DataType{
		ColT: arrow.PrimitiveTypes.Int64,
		ColX: arrow.PrimitiveTypes.Uint16,
		ColY: arrow.PrimitiveTypes.Uint16,
		ColP: arrow.PrimitiveTypes.Uint8,
	}
	stringTypes = []arrow.Type{arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW}
)

// findColumn returns the position of the column called name, or an error when it is missing or repeated.
func findColumn(s *arrow.Schema, name string, kind events.Kind, needs string) (int, error) {
	idx := s.FieldIndices(name)
	switch len(idx) {
	case 0:
		return 0, fmt.Errorf("column %q is missing (a %s file has the columns %s)", name, kind, needs)
	case 1:
		return idx[0], nil
	}
	return 0, fmt.Errorf("column %q appears %d times", name, len(idx))
}

// findColumns locates the columns of the layout kind in s and checks their types.
func findColumns(s *arrow.Schema, kind events.Kind) (columns, error) {
	var c columns
	var needs string
	switch kind {
	case events.KindRecording:
		needs = "t:int64, x:uint16, y:uint16, p:uint8"
	case events.KindDataset:
		needs = "label:int32, id:utf8, t:list<int64>, x:list<uint16>, y:list<uint16>, p:list<uint8>"
	default:
		needs = "label:int32, id:utf8, tensor (a fixed- or variable-shape tensor)"
	}
	find := func(name string, dst *int, ok func(arrow.DataType) bool, want string) error {
		i, err := findColumn(s, name, kind, needs)
		if err != nil {
			return err
		}
		if typ := s.Field(i).Type; !ok(typ) {
			return fmt.Errorf("column %q has type %s; want %s", name, typ, want)
		}
		*dst = i
		return nil
	}
	if kind != events.KindRecording {
		if err := find(ColLabel, &c.label, func(t arrow.DataType) bool { return t.ID() == arrow.INT32 }, "int32"); err != nil {
			return c, err
		}
		isString := func(t arrow.DataType) bool {
			for _, id := range stringTypes {
				if t.ID() == id {
					return true
				}
			}
			return false
		}
		if err := find(ColID, &c.id, isString, "utf8"); err != nil {
			return c, err
		}
	}
	var err error
	if c.boxes, err = findBoxes(s); err != nil {
		return c, err
	}
	if kind == events.KindTensors {
		return c, find(ColTensor, &c.tensor, isTensorType, "a fixed-size list (fixed shape) or struct<data: list, shape: fixed_size_list<int32>>")
	}
	for _, ev := range []struct {
		name string
		dst  *int
	}{{ColT, &c.t}, {ColX, &c.x}, {ColY, &c.y}, {ColP, &c.p}} {
		elem := eventTypes[ev.name]
		ok := func(t arrow.DataType) bool { return arrow.TypeEqual(t, elem) }
		want := elem.String()
		if kind == events.KindDataset {
			ok = func(t arrow.DataType) bool {
				switch lt := t.(type) {
				case *arrow.ListType:
					return arrow.TypeEqual(lt.Elem(), elem)
				case *arrow.LargeListType:
					return arrow.TypeEqual(lt.Elem(), elem)
				}
				return false
			}
			want = "list<" + want + ">"
		}
		if err := find(ev.name, ev.dst, ok, want); err != nil {
			return c, err
		}
	}
	return c, nil
}

func isTensorType(t arrow.DataType) bool {
	switch t := t.(type) {
	case *arrow.FixedSizeListType:
		return true
	case *arrow.StructType:
		return t.NumFields() == 2 && t.Field(0).Name == "data" && t.Field(1).Name == "shape"
	}
	return false
}

// checkRecordingBatch refuses a recording batch whose event columns hold nulls: an event has every field.
func checkRecordingBatch(rec arrow.RecordBatch, c columns) error {
	for _, col := range []struct {
		name string
		i    int
	}{{ColT, c.t}, {ColX, c.x}, {ColY, c.y}, {ColP, c.p}} {
		if n := rec.Column(col.i).NullN(); n > 0 {
			return fmt.Errorf("column %q holds %d null values (an event has every field)", col.name, n)
		}
	}
	return nil
}

// checkDatasetBatch checks what a dataset batch's samples are read through: the list columns' offsets
// (arrow-go loads them unchecked) lie inside their values and never decrease, and no event field is null.
func checkDatasetBatch(rec arrow.RecordBatch, c columns) error {
	rows := int(rec.NumRows())
	for _, col := range []struct {
		name string
		i    int
	}{{ColT, c.t}, {ColX, c.x}, {ColY, c.y}, {ColP, c.p}} {
		l := rec.Column(col.i).(array.ListLike)
		values := l.ListValues()
		if err := checkListOffsets(l, rows, values.Len()); err != nil {
			return fmt.Errorf("column %q: %w", col.name, err)
		}
		if n := values.NullN(); n > 0 {
			return fmt.Errorf("column %q holds %d null events (an event has every field)", col.name, n)
		}
	}
	return checkIDs(rec, c)
}

// checkIDs checks the id column's offsets (a string view column is read under the readers' guard).
func checkIDs(rec arrow.RecordBatch, c columns) error {
	rows := int(rec.NumRows())
	var err error
	switch ids := rec.Column(c.id).(type) {
	case *array.String:
		err = checkOffsets(ids.ValueOffsets(), 0, rows, len(ids.ValueBytes()))
	case *array.LargeString:
		err = checkOffsets(ids.ValueOffsets(), 0, rows, len(ids.ValueBytes()))
	}
	if err != nil {
		return fmt.Errorf("column %q: %w", ColID, err)
	}
	return nil
}

// checkListOffsets is checkOffsets for a list or large-list column of rows lists over n values.
func checkListOffsets(l array.ListLike, rows, n int) error {
	switch l := l.(type) {
	case *array.List:
		return checkOffsets(l.Offsets(), l.Data().Offset(), rows, n)
	case *array.LargeList:
		return checkOffsets(l.Offsets(), l.Data().Offset(), rows, n)
	}
	return nil
}

// checkOffsets checks rows+1 offsets starting at off: present, non-negative, non-decreasing, at most n.
func checkOffsets[T int32 | int64](offsets []T, off, rows, n int) error {
	if off < 0 || len(offsets) < off+rows+1 {
		if rows == 0 {
			return nil // an empty column may have no offsets at all
		}
		return fmt.Errorf("%d offsets for %d rows", max(len(offsets)-off, 0), rows)
	}
	o := offsets[off : off+rows+1]
	if o[0] < 0 {
		return fmt.Errorf("row 0 starts at %d", o[0])
	}
	for i := 1; i < len(o); i++ {
		if o[i] < o[i-1] {
			return fmt.Errorf("row %d ends at %d, before it starts (%d)", i-1, o[i], o[i-1])
		}
	}
	if int64(o[rows]) > int64(n) {
		return fmt.Errorf("row %d ends at %d, past the %d values", rows-1, o[rows], n)
	}
	return nil
}

// stringAt is the value of a string column of any of Arrow's string types.
func stringAt(col arrow.Array, row int) string {
	switch s := col.(type) {
	case *array.String:
		return s.Value(row)
	case *array.LargeString:
		return s.Value(row)
	case *array.StringView:
		return s.Value(row)
	}
	return ""
}
