package parquet

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/evarrow"
)

// valueType is what a column holds, as evtool sees it. Each maps onto one Parquet physical type plus
// logical type, the mapping pyarrow, polars and DuckDB apply (uint16 → INT32 with Int(16, unsigned), …).
type valueType int

const (
	int64Value  valueType = iota // t
	uint16Value                  // x, y
	uint8Value                   // p
	int32Value                   // label
	stringValue                  // id
)

func (v valueType) String() string {
	return [...]string{"int64", "uint16", "uint8", "int32", "utf8"}[v]
}

// layoutColumn is one top-level column of a layout.
type layoutColumn struct {
	name     string
	typ      valueType
	list     bool // dataset event columns: one list per sample
	nullable bool // label: null when the sample has no label
}

var (
	recordingColumns = []layoutColumn{
		{name: evarrow.ColT, typ: int64Value},
		{name: evarrow.ColX, typ: uint16Value},
		{name: evarrow.ColY, typ: uint16Value},
		{name: evarrow.ColP, typ: uint8Value},
	}
	datasetColumns = []layoutColumn{
		{name: evarrow.ColLabel, typ: int32Value, nullable: true},
		{name: evarrow.ColID, typ: stringValue},
		{name: evarrow.ColT, typ: int64Value, list: true},
		{name: evarrow.ColX, typ: uint16Value, list: true},
		{name: evarrow.ColY, typ: uint16Value, list: true},
		{name: evarrow.ColP, typ: uint8Value, list: true},
	}
)

func layoutOf(kind events.Kind) []layoutColumn {
	if kind == events.KindDataset {
		return datasetColumns
	}
	return recordingColumns
}

func describe(cols []layoutColumn) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.name + ":" + c.typ.String()
		if c.list {
			parts[i] = c.name + ":list<" + c.typ.String() + ">"
		}
	}
	return strings.Join(parts, ", ")
}

// arrowType is the Arrow type arrow-go's record reader decodes the column into.
func (v valueType) arrowType() arrow.DataType {
	switch v {
	case int64Value:
		return arrow.PrimitiveTypes.Int64
	case stringValue:
		return arrow.BinaryTypes.String
	}
	return arrow.PrimitiveTypes.Int32
}

// physical gives the Parquet physical and logical type of a value type.
func (v valueType) physical() (parquet.Type, schema.LogicalType) {
	switch v {
	case int64Value:
		return parquet.Types.Int64, schema.NewIntLogicalType(64, true)
	case uint16Value:
		return parquet.Types.Int32, schema.NewIntLogicalType(16, false)
	case uint8Value:
		return parquet.Types.Int32, schema.NewIntLogicalType(8, false)
	case int32Value:
		return parquet.Types.Int32, schema.NewIntLogicalType(32, true)
	}
	return parquet.Types.ByteArray, schema.StringLogicalType{}
}

// parquetSchema is the file schema of a layout, the one Arrow writers give evarrow's Arrow schema: lists in
// the three-level form (a required group with the LIST annotation, a repeated group "list", an optional
// "element": Arrow's list items are nullable), so pyarrow, polars and DuckDB see the same types as for a
// file pyarrow wrote.
func parquetSchema(kind events.Kind) (*schema.GroupNode, error) {
	var fields schema.FieldList
	for _, c := range layoutOf(kind) {
		phys, logical := c.typ.physical()
		rep := parquet.Repetitions.Required
		if c.nullable || c.list {
			rep = parquet.Repetitions.Optional
		}
		leaf, err := schema.NewPrimitiveNodeLogical(c.name, rep, logical, phys, -1, -1)
		if err != nil {
			return nil, err
		}
		var node schema.Node = leaf
		if c.list {
			if node, err = schema.ListOf(leaf, parquet.Repetitions.Required, -1); err != nil {
				return nil, err
			}
		}
		fields = append(fields, node)
	}
	// A required root, as Arrow C++ (pyarrow) writes it.
	return schema.NewGroupNode("schema", parquet.Repetitions.Required, fields, -1)
}

// storedArrowSchema is the layout's Arrow schema serialised the way Arrow writers store it under
// ARROW:schema (an IPC stream holding only the schema, base64), with list items named "element" as their
// Parquet groups are. Arrow readers take the column types and the evtool metadata from it.
func storedArrowSchema(s *arrow.Schema) (string, error) {
	fields := s.Fields()
	for i, f := range fields {
		if l, ok := f.Type.(*arrow.ListType); ok {
			elem := l.ElemField()
			elem.Name = "element"
			fields[i].Type = arrow.ListOfField(elem)
		}
	}
	md := s.Metadata()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(arrow.NewSchema(fields, &md)))
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// leafColumn is a layout column found in a file: the leaf's index and the levels that tell its rows apart.
type leafColumn struct {
	layoutColumn
	index int
	// maxDef: the definition level of a present value. entryDef (lists): the level of a list entry, present
	// or null; below it a row's list is empty (or null, read as empty).
	maxDef, entryDef int16
}

// findColumns locates the columns of a layout in a file schema by name and checks their types. Files from
// other writers differ in nullability (a required or optional list, required or optional items, a
// required label) and that changes no value, so any of those reads.
func findColumns(sc *schema.Schema, kind events.Kind) ([]leafColumn, error) {
	want := layoutOf(kind)
	out := make([]leafColumn, 0, len(want))
	for _, c := range want {
		index := -1
		for i := 0; i < sc.NumColumns(); i++ {
			if path := sc.Column(i).ColumnPath(); len(path) > 0 && path[0] == c.name {
				if index >= 0 {
					return nil, fmt.Errorf("column %q is nested (want %s)", c.name, describe(want))
				}
				index = i
			}
		}
		if index < 0 {
			return nil, fmt.Errorf("column %q is missing (want %s)", c.name, describe(want))
		}
		col := sc.Column(index)
		reps := int16(0)
		if c.list {
			reps = 1
		}
		if col.MaxRepetitionLevel() != reps || !typeMatches(col, c.typ) {
			return nil, fmt.Errorf("column %q has type %s; want %s", c.name, columnType(col), describe([]layoutColumn{c})[len(c.name)+1:])
		}
		lc := leafColumn{layoutColumn: c, index: index, maxDef: col.MaxDefinitionLevel()}
		lc.entryDef = lc.maxDef
		if col.SchemaNode().RepetitionType() == parquet.Repetitions.Optional {
			lc.entryDef--
		}
		out = append(out, lc)
	}
	return out, nil
}

// typeMatches accepts the physical and logical types an Arrow reader maps onto the wanted type; an int64
// or int32 column without a logical type is a signed integer.
func typeMatches(col *schema.Column, v valueType) bool {
	phys, logical := v.physical()
	if col.PhysicalType() != phys {
		return false
	}
	got := col.LogicalType()
	if got == nil || got.Equals(schema.NoLogicalType{}) {
		return v == int64Value || v == int32Value
	}
	return got.Equals(logical)
}

func columnType(col *schema.Column) string {
	s := col.PhysicalType().String()
	if lt := col.LogicalType(); lt != nil && !lt.Equals(schema.NoLogicalType{}) {
		s += " (" + lt.String() + ")"
	}
	if col.MaxRepetitionLevel() > 0 {
		s = fmt.Sprintf("%s repeated %d deep", s, col.MaxRepetitionLevel())
	}
	return s
}
