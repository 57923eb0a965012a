package evarrow

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/tensors"
)

var boxClasses = []string{"car", "pedestrian"}

// boxesAt makes n boxes at time t with distinct values.
func boxesAt(t int64, n int) []events.Box {
	out := make([]events.Box, n)
	for i := range out {
		out[i] = events.Box{T: t, X: float32(t%300) + 0.25, Y: float32(i) * 1.5, W: 10 + float32(i), H: 20.75, Class: uint32(i % 2),
			Track: uint32(t) + uint32(i), Confidence: 1 - float32(i)/8}
	}
	return out
}

// A dataset keeps every sample's boxes (none, one, several); the box classes travel in the metadata.
func TestDatasetBoxes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ds.arrow")
	meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 304, Height: 240}, Boxes: true, BoxClasses: boxClasses}
	w, err := CreateDataset(path, meta, Options{BatchSamples: 3})
	if err != nil {
		t.Fatal(err)
	}
	var want []events.Sample
	for i := 0; i < 8; i++ {
		s := events.Sample{Label: events.NoLabel, ID: fmt.Sprint("s", i), Boxes: boxesAt(int64(1000*i), i%3)}
		s.Events.Append(int64(1000*i), uint16(i), 2, 1)
		if err := w.WriteSample(&s); err != nil {
			t.Fatal(err)
		}
		want = append(want, s)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if m := d.Meta(); !m.Boxes || !reflect.DeepEqual(m.BoxClasses, boxClasses) {
		t.Fatalf("meta %+v", m)
	}
	var got events.Sample
	for _, i := range []int{7, 0, 4, 1, 5} {
		if err := d.ReadSample(i, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Boxes) != len(want[i].Boxes) || (len(got.Boxes) > 0 && !reflect.DeepEqual(got.Boxes, want[i].Boxes)) {
			t.Fatalf("sample %d: boxes %+v, want %+v", i, got.Boxes, want[i].Boxes)
		}
	}
	res := polarsCheck(t, path)
	if want := []any{"t", "x", "y", "w", "h", "class", "track", "confidence"}; !reflect.DeepEqual(res["box_fields"], want) {
		t.Fatalf("polars box fields %v", res["box_fields"])
	}
	if got := fmt.Sprint(res["box_rows"]); got != "[[1 1] [2 2] [4 1] [5 2] [7 1]]" {
		t.Fatalf("polars: rows with boxes %s", got)
	}
	var all []events.Box
	for _, s := range want {
		all = append(all, s.Boxes...)
	}
	checkPolarsBoxes(t, res, all)
}

// checkPolarsBoxes compares the boxes polars read with want, exactly.
func checkPolarsBoxes(t *testing.T, res map[string]any, want []events.Box) {
	t.Helper()
	rows, _ := res["boxes"].([]any)
	if len(rows) != len(want) {
		t.Fatalf("polars read %d boxes, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		v := r.([]any)
		if f, ok := v[0].(float64); ok { // polars gives an int64 as a number when it fits one
			v[0] = strconv.FormatFloat(f, 'f', -1, 64)
		}
		b := want[i]
		w := []any{fmt.Sprint(b.T), float64(b.X), float64(b.Y), float64(b.W), float64(b.H), float64(b.Class), float64(b.Track), float64(b.Confidence)}
		if !reflect.DeepEqual(v, w) {
			t.Fatalf("polars box %d: %v, want %v", i, v, w)
		}
	}
}

// A recording's boxes sit in the row of the first event at or after their time (the first row for boxes
// before every event, the last for those after every event), across record batches; reading gives each
// Read the boxes of its rows.
func TestRecordingBoxes(t *testing.T) {
	var ev events.Batch
	for i := 0; i < 20; i++ {
		ev.Append(int64(100*(i/2)), uint16(i), 0, 1) // pairs of equal times: 0, 0, 100, 100, …, 900, 900
	}
	boxes := append(append(append(append(boxesAt(-5, 1), boxesAt(100, 2)...), boxesAt(150, 1)...), boxesAt(899, 1)...), boxesAt(5000, 2)...)
	// Rows: -5 → 0; 100 → 2 (the first event at 100); 150 → 4 (t 200); 899 → 18 (t 900); 5000 → 19 (last).
	wantRows := "[[0 1] [2 2] [4 1] [18 1] [19 2]]"
	path := filepath.Join(t.TempDir(), "rec.arrow")
	meta := events.Meta{Geometry: events.Geometry{Width: 304, Height: 240}, Boxes: true, BoxClasses: boxClasses}
	w, err := CreateRecording(path, meta, Options{BatchEvents: 4})
	if err != nil {
		t.Fatal(err)
	}
	// Each piece's boxes come before its events, as a BoxReader's Read hands them out.
	pieces := []struct {
		events [2]int
		boxes  [2]int
	}{{[2]int{0, 3}, [2]int{0, 3}}, {[2]int{3, 8}, [2]int{3, 4}}, {[2]int{8, 20}, [2]int{4, 5}}, {[2]int{20, 20}, [2]int{5, 7}}}
	for _, p := range pieces {
		if err := w.WriteBoxes(boxes[p.boxes[0]:p.boxes[1]]); err != nil {
			t.Fatal(err)
		}
		part := ev.Slice(p.events[0], p.events[1])
		if err := w.Write(&part); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	res := polarsCheck(t, path)
	if got := fmt.Sprint(res["box_rows"]); got != wantRows {
		t.Fatalf("polars: rows with boxes %s, want %s", got, wantRows)
	}
	checkPolarsBoxes(t, res, boxes)

	r, err := OpenRecording(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if m := r.Meta(); !m.Boxes || !reflect.DeepEqual(m.BoxClasses, boxClasses) {
		t.Fatalf("meta %+v", m)
	}
	var got []events.Box
	buf := events.NewBatch(3)
	var all events.Batch
	for {
		err := r.Read(buf)
		all.AppendBatch(buf)
		for _, b := range r.Boxes() {
			// BoxReader: a box comes no later than the Read of the first event at or after it.
			if buf.Len() > 0 && b.T > buf.T[buf.Len()-1] && all.Len() < ev.Len() {
				t.Fatalf("box at %d came with events up to %d", b.T, buf.T[buf.Len()-1])
			}
		}
		got = append(got, r.Boxes()...)
		if err != nil {
			break
		}
	}
	if !reflect.DeepEqual(got, boxes) || all.FirstDifference(&ev) >= 0 {
		t.Fatalf("read boxes %+v\nwant %+v", got, boxes)
	}
}

// Writers refuse what they cannot store: boxes for a file without a boxes column, boxes out of time
// order, of an unnamed class, with a non-finite geometry, and a recording of boxes without events.
func TestBoxRefusals(t *testing.T) {
	dir := t.TempDir()
	plain := events.Meta{Kind: events.KindDataset}
	w, _ := CreateDataset(filepath.Join(dir, "plain.arrow"), plain, Options{})
	s := events.Sample{ID: "a", Boxes: boxesAt(0, 1)}
	if err := w.WriteSample(&s); err == nil || !strings.Contains(err.Error(), "without a boxes column") {
		t.Fatalf("boxes into a file without boxes: %v", err)
	}
	w.Abort()
	boxed := events.Meta{Kind: events.KindDataset, Boxes: true, BoxClasses: boxClasses}
	for _, c := range []struct {
		boxes []events.Box
		want  string
	}{
		{append(boxesAt(10, 1), boxesAt(5, 1)...), "goes back in time"},
		{[]events.Box{{T: 1, W: 1, H: 1, Class: 2}}, "outside the 2 box classes"},
		{[]events.Box{{T: 1, W: float32(math.NaN()), H: 1}}, "finite"},
		{[]events.Box{{T: 1, W: -1, H: 1}}, "size ≥ 0"},
	} {
		w, _ := CreateDataset(filepath.Join(dir, "b.arrow"), boxed, Options{})
		s := events.Sample{ID: "a", Boxes: c.boxes}
		if err := w.WriteSample(&s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.boxes, err, c.want)
		}
		w.Abort()
	}
	rw, _ := CreateRecording(filepath.Join(dir, "r.arrow"), events.Meta{Boxes: true}, Options{})
	rw.WriteBoxes(boxesAt(3, 2))
	if err := rw.Close(); err == nil || !strings.Contains(err.Error(), "no events") {
		t.Fatalf("boxes without events: %v", err)
	}
	rw, _ = CreateRecording(filepath.Join(dir, "r.arrow"), events.Meta{Boxes: true}, Options{})
	rw.WriteBoxes(boxesAt(30, 1))
	if err := rw.WriteBoxes(boxesAt(3, 1)); err == nil || !strings.Contains(err.Error(), "back in time") {
		t.Fatalf("boxes going back: %v", err)
	}
	rw.Abort()
}

// Tensors keep their sample's boxes.
func TestTensorBoxes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tensors.arrow")
	meta := events.Meta{Kind: events.KindTensors, Boxes: true, BoxClasses: boxClasses}
	spec := tensors.Spec{DType: tensors.Uint16, Shape: []int{2, 3}}
	w, err := CreateTensors(path, meta, spec, Options{BatchSamples: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		s := tensors.Sample{ID: fmt.Sprint(i), Label: events.NoLabel, Tensor: tensors.Tensor{Shape: []int{2, 3}, U16: make([]uint16, 6)}, Boxes: boxesAt(int64(i), i)}
		if err := w.Write(&s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenTensors(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var s tensors.Sample
	for i := 2; i >= 0; i-- {
		if err := r.ReadSample(i, &s); err != nil {
			t.Fatal(err)
		}
		if len(s.Boxes) != i || (i > 0 && !reflect.DeepEqual(s.Boxes, boxesAt(int64(i), i))) {
			t.Fatalf("tensor %d: boxes %+v", i, s.Boxes)
		}
	}
	if !r.Meta().Boxes {
		t.Fatal("tensors meta says no boxes")
	}
}

// boxFile writes a dataset whose boxes column is col (built by the caller), as another writer might.
func boxFile(t *testing.T, typ arrow.DataType, build func(b array.Builder)) []byte {
	t.Helper()
	md := arrow.NewMetadata([]string{KeyKind}, []string{"dataset"})
	schema := arrow.NewSchema(append(DatasetSchema(events.Meta{}).Fields(), arrow.Field{Name: ColBoxes, Type: typ, Nullable: true}), &md)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	rb.Field(0).(*array.Int32Builder).AppendNull()
	rb.Field(1).(*array.StringBuilder).Append("s")
	for i := 2; i < 6; i++ {
		rb.Field(i).(*array.ListBuilder).Append(true)
	}
	build(rb.Field(6))
	rec := rb.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	fw, err := ipc.NewFileWriter(&buf, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	fw.Close()
	return buf.Bytes()
}

// Box columns from other writers are read by field name and any numeric width (polars may reorder struct
// fields and widen numbers); a wrong type or a null box is an error naming the column.
func TestForeignBoxColumns(t *testing.T) {
	reordered := arrow.ListOf(arrow.StructOf(
		arrow.Field{Name: "confidence", Type: arrow.PrimitiveTypes.Float64}, arrow.Field{Name: "class", Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: "track", Type: arrow.PrimitiveTypes.Int32}, arrow.Field{Name: "h", Type: arrow.PrimitiveTypes.Float64},
		arrow.Field{Name: "w", Type: arrow.PrimitiveTypes.Int16}, arrow.Field{Name: "y", Type: arrow.PrimitiveTypes.Float32},
		arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64}, arrow.Field{Name: "t", Type: arrow.PrimitiveTypes.Int64}))
	fill := func(track int32) func(b array.Builder) {
		return func(b array.Builder) {
			l := b.(*array.ListBuilder)
			s := l.ValueBuilder().(*array.StructBuilder)
			l.Append(true)
			s.Append(true)
			s.FieldBuilder(0).(*array.Float64Builder).Append(0.5)
			s.FieldBuilder(1).(*array.Int64Builder).Append(1)
			s.FieldBuilder(2).(*array.Int32Builder).Append(track)
			s.FieldBuilder(3).(*array.Float64Builder).Append(4.5)
			s.FieldBuilder(4).(*array.Int16Builder).Append(3)
			s.FieldBuilder(5).(*array.Float32Builder).Append(2.25)
			s.FieldBuilder(6).(*array.Float64Builder).Append(1.125)
			s.FieldBuilder(7).(*array.Int64Builder).Append(77)
		}
	}
	src, err := NewReader(bytes.NewReader(boxFile(t, reordered, fill(9))), "foreign.arrow", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var s events.Sample
	if err := src.Samples.ReadSample(0, &s); err != nil {
		t.Fatal(err)
	}
	if want := []events.Box{{T: 77, X: 1.125, Y: 2.25, W: 3, H: 4.5, Class: 1, Track: 9, Confidence: 0.5}}; !reflect.DeepEqual(s.Boxes, want) {
		t.Fatalf("boxes %+v, want %+v", s.Boxes, want)
	}
	src.Close()
	src, _ = NewReader(bytes.NewReader(boxFile(t, reordered, fill(-1))), "neg.arrow", formats.Options{})
	if err := src.Samples.ReadSample(0, &s); err == nil || !strings.Contains(err.Error(), "track -1") {
		t.Fatalf("negative track: %v", err)
	}
	src.Close()

	for _, c := range []struct {
		typ  arrow.DataType
		want string
	}{
		{arrow.PrimitiveTypes.Int64, "not a list"},
		{arrow.ListOf(arrow.PrimitiveTypes.Float32), "not structs"},
		{arrow.ListOf(arrow.StructOf(arrow.Field{Name: "t", Type: arrow.PrimitiveTypes.Int64})), `no field "x"`},
		{arrow.ListOf(arrow.StructOf(append([]arrow.Field{{Name: "t", Type: arrow.PrimitiveTypes.Float64}}, boxFields[1:]...)...)), "field t is float64"},
		{arrow.ListOf(arrow.StructOf(append(append([]arrow.Field{}, boxFields[:5]...), arrow.Field{Name: "class", Type: arrow.BinaryTypes.String}, boxFields[6], boxFields[7])...)), "field class is utf8"},
	} {
		data := boxFile(t, c.typ, func(b array.Builder) { b.AppendNull() })
		_, err := NewReader(bytes.NewReader(data), "bad.arrow", formats.Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"boxes"`) {
			t.Errorf("%s: %v, want %q", c.typ, err, c.want)
		}
	}
	// A null box inside a list.
	data := boxFile(t, BoxType, func(b array.Builder) {
		l := b.(*array.ListBuilder)
		l.Append(true)
		l.ValueBuilder().AppendNull()
	})
	src, err = NewReader(bytes.NewReader(data), "null.arrow", formats.Options{})
	if err == nil {
		err = src.Samples.ReadSample(0, &s)
		src.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "null boxes") {
		t.Fatalf("a null box: %v", err)
	}
}
