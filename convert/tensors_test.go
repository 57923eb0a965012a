package convert

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/tensors"
	"github.com/evtool/evtool/transforms"
)

// expectedTensors computes, sample by sample, what a chain must write.
func expectedTensors(t *testing.T, plan *sources.Plan, chain *transforms.Chain) []*tensors.Tensor {
	t.Helper()
	rep, err := chain.Representation()
	if err != nil {
		t.Fatal(err)
	}
	var out []*tensors.Tensor
	for _, it := range plan.Items {
		var s events.Sample
		s.ID = it.ID
		if err := sources.ReadFile(it.Path, it.Format, Options{}.Format, &s.Events); err != nil {
			t.Fatal(err)
		}
		in := transforms.Shape{Geometry: events.Geometry{Width: 34, Height: 34}, Polarities: 2}
		sh, err := chain.ApplySample(&s, in, 0)
		if err != nil {
			t.Fatal(err)
		}
		tt, err := rep.Compute(&s.Events, sh)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tt)
	}
	return out
}

func readArrowTensors(t *testing.T, path string) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var recs []arrow.RecordBatch
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.RecordBatchAt(i)
		if err != nil {
			t.Fatal(err)
		}
		rec.Retain()
		recs = append(recs, rec)
	}
	return r.Schema(), recs
}

// A chain ending in frames(bins) writes Arrow's fixed_shape_tensor, one row per sample, equal to
// computing the frames sample by sample; frames by window write variable_shape_tensor with each shape.
func TestConvertToArrowTensors(t *testing.T) {
	plan, err := sources.Discover([]string{fixtures.Path(t, "nmnist/Train")}, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		spec  string
		fixed bool
	}{{"refractory(period=1ms) | frames(bins=4)", true}, {"frames(window=70ms)", false}} {
		chain, err := transforms.Parse(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "t.arrow")
		res, err := Run(context.Background(), plan, out, Options{Chain: chain})
		if err != nil {
			t.Fatal(err)
		}
		if res.Kind != events.KindTensors || res.Samples != len(plan.Items) {
			t.Fatalf("%s: result %+v", c.spec, res)
		}
		want := expectedTensors(t, plan, chain)
		schema, recs := readArrowTensors(t, out)
		md := schema.Metadata()
		if v, _ := md.GetValue(evarrow.KeyKind); v != "tensors" {
			t.Fatalf("evtool.kind %q", v)
		}
		if v, _ := md.GetValue(evarrow.KeyClasses); v != `["0","1","2","3","4","5","6","7","8","9"]` {
			t.Fatalf("evtool.classes %q", v)
		}
		if v, _ := md.GetValue(evarrow.KeyTransforms); v != chain.String() {
			t.Fatalf("evtool.transforms %q, want %q", v, chain.String())
		}
		field := schema.Field(2)
		name, _ := field.Metadata.GetValue("ARROW:extension:name")
		extMeta, _ := field.Metadata.GetValue("ARROW:extension:metadata")
		row := 0
		for _, rec := range recs {
			labels := rec.Column(0).(*array.Int32)
			ids := rec.Column(1).(*array.String)
			for i := 0; i < int(rec.NumRows()); i++ {
				w := want[row]
				var got []uint16
				var shape []int
				if c.fixed {
					l := rec.Column(2).(*array.FixedSizeList)
					vals := counts(l.ListValues()) // stored as int16 by default
					n := w.Len()
					got, shape = vals[i*n:(i+1)*n], w.Shape
				} else {
					st := rec.Column(2).(*array.Struct)
					data := st.Field(0).(*array.List)
					s, e := data.ValueOffsets(i)
					got = counts(data.ListValues())[s:e]
					shp := st.Field(1).(*array.FixedSizeList).ListValues().(*array.Int32).Values()[i*4 : i*4+4]
					for _, d := range shp {
						shape = append(shape, int(d))
					}
				}
				if ids.Value(i) != plan.Items[row].ID || labels.Value(i) != plan.Items[row].Label {
					t.Fatalf("row %d: id %q label %d, want %q %d", row, ids.Value(i), labels.Value(i),
						plan.Items[row].ID, plan.Items[row].Label)
				}
				if !slices.Equal(shape, w.Shape) || !slices.Equal(got, w.U16) {
					t.Fatalf("%s row %d: shape %v (want %v), values differ: %v", c.spec, row, shape, w.Shape,
						!slices.Equal(got, w.U16))
				}
				row++
			}
			rec.Release()
		}
		if row != len(want) {
			t.Fatalf("%d rows, want %d", row, len(want))
		}
		if c.fixed && (name != "arrow.fixed_shape_tensor" || extMeta != `{"shape":[4,2,34,34]}`) {
			t.Fatalf("fixed: extension %q %q", name, extMeta)
		}
		if !c.fixed && (name != "arrow.variable_shape_tensor" || extMeta != `{"uniform_shape":[null,2,34,34]}`) {
			t.Fatalf("variable: extension %q %q", name, extMeta)
		}
	}
	// An evtool reader refuses the file with a sentence, not a crash.
	if _, _, err := formats.Open(filepath.Join(dir, "t.arrow"), "", formats.Options{}); err == nil || !strings.Contains(err.Error(), "tensors") {
		t.Fatalf("reading tensors as events: %v", err)
	}
}

// .npz holds x (N, B, P, H, W), y, ids and classes, as numpy.load sees them.
func TestConvertToNPZ(t *testing.T) {
	py := fixtures.NumPy(t)
	plan, err := sources.Discover([]string{fixtures.Path(t, "nmnist/Train")}, "")
	if err != nil {
		t.Fatal(err)
	}
	chain, err := transforms.Parse("frames(bins=3)")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "x.npz")
	if _, err := Run(context.Background(), plan, out, Options{Chain: chain}); err != nil {
		t.Fatal(err)
	}
	script := `
import json, sys
import numpy as np
z = np.load(sys.argv[1])
x = z["x"]
print(json.dumps({"shape": list(x.shape), "dtype": str(x.dtype), "sums": [int(v) for v in x.reshape(x.shape[0], -1).sum(axis=1)],
  "y": [int(v) for v in z["y"]], "ids": [str(v) for v in z["ids"]], "classes": [str(v) for v in z["classes"]]}))
`
	o, err := exec.Command(py, "-c", script, out).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, o)
	}
	var got struct {
		Shape   []int
		Dtype   string
		Sums    []int
		Y       []int32
		IDs     []string
		Classes []string
	}
	if err := json.Unmarshal(o, &got); err != nil {
		t.Fatalf("%v: %s", err, o)
	}
	want := expectedTensors(t, plan, chain)
	n := len(plan.Items)
	if !slices.Equal(got.Shape, []int{n, 3, 2, 34, 34}) || got.Dtype != "int16" || len(got.Y) != n {
		t.Fatalf("x %v %s, %d labels", got.Shape, got.Dtype, len(got.Y))
	}
	for i, it := range plan.Items {
		sum := 0
		for _, v := range want[i].U16 {
			sum += int(v)
		}
		if got.Sums[i] != sum || got.Y[i] != it.Label || got.IDs[i] != it.ID {
			t.Fatalf("sample %d: sum %d label %d id %q; want %d %d %q", i, got.Sums[i], got.Y[i], got.IDs[i], sum, it.Label, it.ID)
		}
	}
	if strings.Join(got.Classes, ",") != strings.Join(plan.Classes, ",") {
		t.Fatalf("classes %v, want %v", got.Classes, plan.Classes)
	}
}

// Outputs that cannot hold tensors, and .npz with shapes that vary, are errors that leave no file.
func TestTensorOutputErrors(t *testing.T) {
	plan, err := sources.Discover([]string{fixtures.Path(t, "nmnist/Train")}, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	frames, _ := transforms.Parse("frames(bins=2)")
	if _, err := Run(context.Background(), plan, filepath.Join(dir, "x.bin"), Options{Chain: frames}); err == nil ||
		!strings.Contains(err.Error(), ".npz") {
		t.Fatalf("tensors to .bin: %v", err)
	}
	// Frames of 1000 events: the samples hold different numbers of events, so of frames.
	windows, _ := transforms.Parse("frames(count=1000, include-incomplete=true)")
	if _, err := Run(context.Background(), plan, filepath.Join(dir, "x.npz"), Options{Chain: windows}); err == nil ||
		!strings.Contains(err.Error(), "one shape") {
		t.Fatalf("varying shapes to .npz: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// Every tensor format reads back, through the registry, what convert wrote: the Arrow layout fixed and
// variable, .npz and .npy.
func TestReadTensorsBack(t *testing.T) {
	plan, err := sources.Discover([]string{fixtures.Path(t, "nmnist/Train")}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ spec, ext string }{
		{"frames(bins=3)", ".arrow"}, {"frames(count=1500, include-incomplete=true)", ".arrow"}, {"voxel(bins=2)", ".arrow"},
		{"frames(bins=3)", ".npz"}, {"voxel(bins=2)", ".npz"}, {"frames(bins=3)", ".npy"}, {"voxel(bins=2)", ".npy"},
	} {
		chain, _ := transforms.Parse(c.spec)
		out := filepath.Join(t.TempDir(), "t"+c.ext)
		if _, err := Run(context.Background(), plan, out, Options{Chain: chain}); err != nil {
			t.Fatal(err)
		}
		want := expectedTensors(t, plan, chain)
		r, f, err := formats.OpenTensors(out, "", formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if f.Name != strings.TrimPrefix(c.ext, ".") || r.NumSamples() != len(want) || r.Meta().Kind != events.KindTensors {
			t.Fatalf("%s %s: format %s, %d tensors, kind %s", c.spec, c.ext, f.Name, r.NumSamples(), r.Meta().Kind)
		}
		var got tensors.Sample
		for i := len(want) - 1; i >= 0; i-- { // backwards: random access across record batches and streams
			if err := r.ReadSample(i, &got); err != nil {
				t.Fatal(err)
			}
			id, label := plan.Items[i].ID, plan.Items[i].Label
			if c.ext == ".npy" { // a bare array: neither ids nor labels
				id, label = fmt.Sprint(i), events.NoLabel
			}
			g := &got.Tensor
			if got.ID != id || got.Label != label || !slices.Equal(g.Shape, want[i].Shape) || !sameValues(g, want[i]) {
				t.Fatalf("%s %s: tensor %d differs (id %q label %d shape %v, want %q %d %v)", c.spec, c.ext, i,
					got.ID, got.Label, g.Shape, id, label, want[i].Shape)
			}
		}
		r.Close()
	}
}

// counts are the values of an int16 array (counts are stored as int16 by default) as uint16.
func counts(a arrow.Array) []uint16 {
	v := a.(*array.Int16).Int16Values()
	out := make([]uint16, len(v))
	for i, x := range v {
		out[i] = uint16(x)
	}
	return out
}

// sameValues reports whether got holds want's values: counts stored as int16 (the default) read back as
// float32 values.
func sameValues(got, want *tensors.Tensor) bool {
	if want.U16 == nil || got.U16 != nil {
		return slices.Equal(got.U16, want.U16) && slices.Equal(got.F32, want.F32)
	}
	if len(got.F32) != len(want.U16) {
		return false
	}
	for i, v := range want.U16 {
		if got.F32[i] != float32(v) {
			return false
		}
	}
	return true
}
