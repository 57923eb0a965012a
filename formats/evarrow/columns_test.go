package evarrow

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/crosscheck"
	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/tensors"
)

// column builds an array of typ from values with b (a builder of that type).
func column[T any](typ arrow.DataType, values []T, valid []bool) arrow.Array {
	b := array.NewBuilder(memory.DefaultAllocator, typ)
	defer b.Release()
	for i, v := range values {
		if valid != nil && !valid[i] {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.Int64Builder:
			b.Append(any(v).(int64))
		case *array.Uint16Builder:
			b.Append(any(v).(uint16))
		case *array.Uint8Builder:
			b.Append(any(v).(uint8))
		case *array.Int32Builder:
			b.Append(any(v).(int32))
		case *array.Float64Builder:
			b.Append(any(v).(float64))
		case *array.StringBuilder:
			b.Append(any(v).(string))
		case *array.LargeStringBuilder:
			b.Append(any(v).(string))
		}
	}
	return b.NewArray()
}

// listColumn builds a list (or large list) column of elem values, one list per sample.
func listColumn[T any](typ arrow.DataType, lists [][]T) arrow.Array {
	b := array.NewBuilder(memory.DefaultAllocator, typ).(array.ListLikeBuilder)
	defer b.Release()
	for _, l := range lists {
		b.Append(true)
		for _, v := range l {
			switch vb := b.ValueBuilder().(type) {
			case *array.Int64Builder:
				vb.Append(any(v).(int64))
			case *array.Uint16Builder:
				vb.Append(any(v).(uint16))
			case *array.Uint8Builder:
				vb.Append(any(v).(uint8))
			}
		}
	}
	return b.NewArray()
}

var testEvents = []events.Event{{T: 5, X: 1, Y: 2, P: 1}, {T: 9, X: 300, Y: 4, P: 0}, {T: 9, X: 7, Y: 65535, P: 1}}

func eventColumns(ev []events.Event, valid []bool) map[string]arrow.Array {
	var ts []int64
	var xs, ys []uint16
	var ps []uint8
	for _, e := range ev {
		ts, xs, ys, ps = append(ts, e.T), append(xs, e.X), append(ys, e.Y), append(ps, e.P)
	}
	return map[string]arrow.Array{
		ColT: column(arrow.PrimitiveTypes.Int64, ts, valid),
		ColX: column(arrow.PrimitiveTypes.Uint16, xs, nil),
		ColY: column(arrow.PrimitiveTypes.Uint16, ys, nil),
		ColP: column(arrow.PrimitiveTypes.Uint8, ps, nil),
	}
}

// A recording whose columns come in another order (x, y, t, p, as polars writes a DataFrame built that
// way) with an extra column reads as the same events.
func TestRecordingColumnsByName(t *testing.T) {
	cols := eventColumns(testEvents, nil)
	extra := column(arrow.PrimitiveTypes.Float64, []float64{0.5, 1.5, 2.5}, nil)
	path := filepath.Join(t.TempDir(), "xytp.arrow")
	fixtures.WriteArrowIPC(t, path, nil, []arrow.Field{
		{Name: "x", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
		{Name: "extra", Type: arrow.PrimitiveTypes.Float64},
		{Name: "y", Type: arrow.PrimitiveTypes.Uint16},
		{Name: "t", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "p", Type: arrow.PrimitiveTypes.Uint8},
	}, []arrow.Array{cols[ColX], extra, cols[ColY], cols[ColT], cols[ColP]})
	src, err := Open(path, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got, err := events.ReadAll(src.Events)
	if err != nil {
		t.Fatal(err)
	}
	if want := events.FromEvents(testEvents...); !got.Equal(want) {
		t.Fatalf("read %v; want %v", got, testEvents)
	}
}

// A dataset in another column order, with large lists and large strings (what polars writes), reads as
// the same samples; so does a tensors file whose columns are reordered.
func TestDatasetAndTensorColumnsByName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ds.arrow")
	lt := arrow.LargeListOf
	fixtures.WriteArrowIPC(t, path, map[string]string{KeyClasses: `["a","b"]`}, []arrow.Field{
		{Name: "p", Type: lt(arrow.PrimitiveTypes.Uint8)},
		{Name: "t", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)},
		{Name: "id", Type: arrow.BinaryTypes.LargeString},
		{Name: "x", Type: lt(arrow.PrimitiveTypes.Uint16)},
		{Name: "label", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "y", Type: lt(arrow.PrimitiveTypes.Uint16)},
	}, []arrow.Array{
		listColumn(lt(arrow.PrimitiveTypes.Uint8), [][]uint8{{1, 0}, {}}),
		listColumn(arrow.ListOf(arrow.PrimitiveTypes.Int64), [][]int64{{5, 9}, {}}),
		column(arrow.BinaryTypes.LargeString, []string{"first", "second"}, nil),
		listColumn(lt(arrow.PrimitiveTypes.Uint16), [][]uint16{{1, 300}, {}}),
		column(arrow.PrimitiveTypes.Int32, []int32{1, 0}, []bool{true, false}),
		listColumn(lt(arrow.PrimitiveTypes.Uint16), [][]uint16{{2, 4}, {}}),
	})
	src, err := Open(path, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Samples == nil || src.Samples.NumSamples() != 2 {
		t.Fatalf("not read as a dataset of 2 samples: %+v", src)
	}
	var s events.Sample
	if err := src.Samples.ReadSample(0, &s); err != nil {
		t.Fatal(err)
	}
	if want := events.FromEvents(testEvents[:2]...); s.ID != "first" || s.Label != 1 || !s.Events.Equal(want) {
		t.Fatalf("sample 0: %q label %d %v", s.ID, s.Label, s.Events)
	}
	if err := src.Samples.ReadSample(1, &s); err != nil || s.ID != "second" || s.Label != events.NoLabel || s.Events.Len() != 0 {
		t.Fatalf("sample 1: %q label %d %d events, %v", s.ID, s.Label, s.Events.Len(), err)
	}

	// Tensors, columns reversed.
	tpath := filepath.Join(dir, "tensors.arrow")
	fsl := arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Float32)
	tb := array.NewFixedSizeListBuilder(memory.DefaultAllocator, 2, arrow.PrimitiveTypes.Float32)
	tb.Append(true)
	tb.ValueBuilder().(*array.Float32Builder).AppendValues([]float32{0.25, -1}, nil)
	fixtures.WriteArrowIPC(t, tpath, map[string]string{KeyKind: "tensors", KeyTensorShape: "[2]", KeyTensorDType: "float32"},
		[]arrow.Field{{Name: "tensor", Type: fsl}, {Name: "id", Type: arrow.BinaryTypes.String}, {Name: "label", Type: arrow.PrimitiveTypes.Int32}},
		[]arrow.Array{tb.NewArray(), column(arrow.BinaryTypes.String, []string{"only"}, nil), column(arrow.PrimitiveTypes.Int32, []int32{3}, nil)})
	tr, err := OpenTensors(tpath)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var ts tensors.Sample
	if err := tr.ReadSample(0, &ts); err != nil {
		t.Fatal(err)
	}
	if ts.ID != "only" || ts.Label != 3 || len(ts.Tensor.F32) != 2 || ts.Tensor.F32[0] != 0.25 || ts.Tensor.F32[1] != -1 {
		t.Fatalf("tensor: %+v", ts)
	}
}

// A missing column, a column of the wrong type or a repeated one is refused when the file is opened,
// with the file and the column named; null event fields are refused when their batch is read.
func TestColumnErrors(t *testing.T) {
	dir := t.TempDir()
	cols := eventColumns(testEvents, nil)
	i64, u16, u8 := arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Uint16, arrow.PrimitiveTypes.Uint8
	for _, c := range []struct {
		name   string
		fields []arrow.Field
		cols   []arrow.Array
		want   string
	}{
		{"missing", []arrow.Field{{Name: "x", Type: u16}, {Name: "y", Type: u16}, {Name: "t", Type: i64}},
			[]arrow.Array{cols[ColX], cols[ColY], cols[ColT]}, `column "p" is missing`},
		{"wrong type", []arrow.Field{{Name: "t", Type: u16}, {Name: "x", Type: u16}, {Name: "y", Type: u16}, {Name: "p", Type: u8}},
			[]arrow.Array{cols[ColX], cols[ColX], cols[ColY], cols[ColP]}, `column "t" has type uint16; want int64`},
		{"twice", []arrow.Field{{Name: "t", Type: i64}, {Name: "x", Type: u16}, {Name: "y", Type: u16}, {Name: "p", Type: u8}, {Name: "x", Type: u16}},
			[]arrow.Array{cols[ColT], cols[ColX], cols[ColY], cols[ColP], cols[ColX]}, `column "x" appears 2 times`},
		{"null times", []arrow.Field{{Name: "t", Type: i64, Nullable: true}, {Name: "x", Type: u16}, {Name: "y", Type: u16}, {Name: "p", Type: u8}},
			[]arrow.Array{eventColumns(testEvents, []bool{true, false, true})[ColT], cols[ColX], cols[ColY], cols[ColP]}, `column "t" holds 1 null values`},
		{"dataset list of the wrong type", []arrow.Field{{Name: "label", Type: arrow.PrimitiveTypes.Int32}, {Name: "id", Type: arrow.BinaryTypes.String},
			{Name: "t", Type: arrow.ListOf(i64)}, {Name: "x", Type: arrow.ListOf(i64)}, {Name: "y", Type: arrow.ListOf(u16)}, {Name: "p", Type: arrow.ListOf(u8)}},
			[]arrow.Array{column(arrow.PrimitiveTypes.Int32, []int32{0}, nil), column(arrow.BinaryTypes.String, []string{"a"}, nil),
				listColumn(arrow.ListOf(i64), [][]int64{{1}}), listColumn(arrow.ListOf(i64), [][]int64{{1}}),
				listColumn(arrow.ListOf(u16), [][]uint16{{1}}), listColumn(arrow.ListOf(u8), [][]uint8{{1}})},
			`column "x" has type list<item: int64, nullable>; want list<uint16>`},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".arrow")
		fixtures.WriteArrowIPC(t, path, nil, c.fields, c.cols)
		src, err := Open(path, formats.Options{})
		if err == nil {
			if src.Events != nil {
				_, err = events.ReadAll(src.Events)
			} else {
				err = src.Samples.ReadSample(0, &events.Sample{})
			}
			src.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v; want an error naming %s and saying %q", c.name, err, path, c.want)
		}
	}
}

// Files polars writes itself (its column order, no evtool metadata, string views) read as the values
// tools/polars-check/write.js wrote.
func TestReadPolarsFiles(t *testing.T) {
	dir := t.TempDir()
	rec, ds := filepath.Join(dir, "polars-rec.arrow"), filepath.Join(dir, "polars-ds.arrow")
	var none []any
	crosscheck.PolarsWriter.Run(t, &none, rec, ds)

	src, err := Open(rec, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.ReadAll(src.Events)
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 10000 {
		t.Fatalf("recording: %d events; want 10000", got.Len())
	}
	for i := range got.T {
		if got.T[i] != int64(37*i) || got.X[i] != uint16(i%34) || got.Y[i] != uint16(7*i%34) || got.P[i] != uint8(i%2) {
			t.Fatalf("recording event %d: %v", i, got.At(i))
		}
	}

	src, err = Open(ds, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Samples == nil || src.Samples.NumSamples() != 20 {
		t.Fatalf("dataset: %+v", src)
	}
	var s events.Sample
	for i := 0; i < 20; i++ {
		if err := src.Samples.ReadSample(i, &s); err != nil {
			t.Fatal(err)
		}
		if s.ID != "s"+strconv.Itoa(i) || s.Label != int32(i%10) || s.Events.Len() != 3*i {
			t.Fatalf("sample %d: %q label %d, %d events", i, s.ID, s.Label, s.Events.Len())
		}
		for j := range s.Events.T {
			e := s.Events.At(j)
			if e.T != int64(1000*i+13*j) || e.X != uint16((5*j+i)%34) || e.Y != uint16(3*j%34) || e.P != uint8((j+i)%2) {
				t.Fatalf("sample %d event %d: %v", i, j, e)
			}
		}
	}
}
