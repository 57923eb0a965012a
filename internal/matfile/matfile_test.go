package matfile

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/evtool/evtool/internal/fixtures"
)

type scipyValues struct {
	Values map[string]json.RawMessage `json:"values"`
}

func TestMain(m *testing.M) {
	code := m.Run()
	fixtures.CleanupGenerated()
	os.Exit(code)
}

func generate(t *testing.T) (string, map[string]json.RawMessage) {
	t.Helper()
	dir, out := fixtures.Generate(t, "testdata/scipy_gen.py", "scipy", "h5py", "numpy")
	var v scipyValues
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	return dir, v.Values
}

func floats(t *testing.T, raw json.RawMessage) []float64 {
	var v []float64
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func ints(t *testing.T, raw json.RawMessage) []int64 {
	var v []int64
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustRead(t *testing.T, m *File, name string) *Var {
	t.Helper()
	v, err := m.Read(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// TestScipyFiles reads what scipy.io.savemat wrote (versions 4 and 5, compressed or not) and a MATLAB
// 7.3 layout written with h5py, and compares every value.
func TestScipyFiles(t *testing.T) {
	dir, want := generate(t)
	for _, name := range []string{"v5.mat", "v5z.mat", "v4.mat", "v73.mat"} {
		t.Run(name, func(t *testing.T) {
			m, err := Open(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			ts := mustRead(t, m, "ts")
			got, _ := ts.Float64s()
			if !reflect.DeepEqual(got, floats(t, want["ts"])) || !reflect.DeepEqual(ts.Dims, []int{300, 1}) {
				t.Errorf("ts: %v… dims %v", got[:3], ts.Dims)
			}
			mat := mustRead(t, m, "matrix")
			mg, _ := mat.Float64s()
			if !reflect.DeepEqual(mg, floats(t, want["matrix"])) || !reflect.DeepEqual(mat.Dims, []int{3, 4}) {
				t.Errorf("matrix %v dims %v (column-major)", mg, mat.Dims)
			}
			x := mustRead(t, m, "x")
			xi, err := x.Int64s()
			if err != nil {
				t.Fatal(err)
			}
			wx := floats(t, want["x"])
			for i := range xi {
				if float64(xi[i]) != wx[i] {
					t.Fatalf("x[%d] = %d, want %v", i, xi[i], wx[i])
				}
			}
			switch name {
			case "v4.mat":
				lbl, _ := mustRead(t, m, "label").String()
				if lbl != "hello" {
					t.Errorf("label %q", lbl)
				}
				return
			case "v73.mat":
				checkV73(t, m)
				return
			}
			checkV5(t, m, want)
		})
	}
}

func checkV5(t *testing.T, m *File, want map[string]json.RawMessage) {
	for _, k := range []string{"int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"} {
		v := mustRead(t, m, k)
		got, err := v.Int64s()
		if err != nil || !reflect.DeepEqual(got, ints(t, want[k])) || v.Class.String() != k {
			t.Errorf("%s: class %s, %v, %v", k, v.Class, got, err)
		}
	}
	s := mustRead(t, m, "single")
	sg, _ := s.Float64s()
	if !reflect.DeepEqual(sg, floats(t, want["single"])) || s.Class != Single {
		t.Errorf("single: %v", sg)
	}
	l := mustRead(t, m, "logical")
	lg, _ := l.Int64s()
	if !reflect.DeepEqual(lg, ints(t, want["logical"])) || l.Class != Logical {
		t.Errorf("logical: class %s %v", l.Class, lg)
	}
	if lbl, _ := mustRead(t, m, "label").String(); lbl != "a" {
		t.Errorf("label %q", lbl)
	}
	c := mustRead(t, m, "cell")
	if c.Class != Cell || len(c.Cells) != 3 {
		t.Fatalf("cell: %s with %d cells", c.Class, len(c.Cells))
	}
	if s, _ := c.Cells[1].String(); s != "text" {
		t.Errorf("cell{2} = %q", s)
	}
	if v, _ := c.Cells[2].Int64s(); !reflect.DeepEqual(v, []int64{7}) || c.Cells[2].Class != Int16 {
		t.Errorf("cell{3} = %v (%s)", v, c.Cells[2].Class)
	}
	st := mustRead(t, m, "st")
	if st.Class != Struct || st.Field("name") == nil || st.Field("inner").Field("k") == nil {
		t.Fatalf("struct: %+v", st)
	}
	if k, _ := st.Field("inner").Field("k").Float64s(); !reflect.DeepEqual(k, []float64{3}) {
		t.Errorf("st.inner.k = %v", k)
	}
	big := mustRead(t, m, "big")
	bg, _ := big.Float64s()
	var sum float64
	for _, v := range bg {
		sum += v
	}
	var wsum float64
	json.Unmarshal(want["big_sum"], &wsum)
	if sum != wsum || len(bg) != 100000 {
		t.Errorf("big: %d values summing to %v, want %v", len(bg), sum, wsum)
	}
	if e := mustRead(t, m, "empty"); e.Len() != 0 {
		t.Errorf("empty: dims %v", e.Dims)
	}
}

func checkV73(t *testing.T, m *File) {
	names, err := m.Names()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n[0] == '#' {
			t.Errorf("variable list includes MATLAB's internal %q", n)
		}
	}
	if lbl, _ := mustRead(t, m, "label").String(); lbl != "asl" {
		t.Errorf("label %q", lbl)
	}
	st := mustRead(t, m, "st")
	if st.Field("TD") == nil || st.Field("TD").Field("p") == nil {
		t.Fatalf("struct st: %+v", st)
	}
	c := mustRead(t, m, "cell")
	if c.Class != Cell || len(c.Cells) != 2 {
		t.Fatalf("cell: %+v", c)
	}
	if v, _ := c.Cells[0].Float64s(); !reflect.DeepEqual(v, []float64{1.5, 2.5}) || !reflect.DeepEqual(c.Cells[0].Dims, []int{1, 2}) {
		t.Errorf("cell{1} = %v dims %v", v, c.Cells[0].Dims)
	}
	if e := mustRead(t, m, "empty"); e.Len() != 0 {
		t.Errorf("empty: dims %v", e.Dims)
	}
}

// TestSTMNISTFixture reads the real ST-MNIST sample exactly as EXPECTED.md describes it.
func TestSTMNISTFixture(t *testing.T) {
	m, err := Open(fixtures.Path(t, "other/stmnist/sample_stmnist.mat"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Version != 5 {
		t.Errorf("version %d", m.Version)
	}
	v := mustRead(t, m, "spiketrain")
	if v.Class != Double || !reflect.DeepEqual(v.Dims, []int{101, 2346}) {
		t.Fatalf("spiketrain: %s %v", v.Class, v.Dims)
	}
	rows := v.Dims[0]
	var n, on, off int
	tmin, tmax := math.Inf(1), math.Inf(-1)
	type ev struct {
		taxel, pol int
		t          float64
	}
	var first []ev
	for c := 0; c < v.Dims[1]; c++ {
		col := v.Floats[c*rows : (c+1)*rows]
		ts := col[100]
		for r := 0; r < 100; r++ {
			if col[r] == 0 {
				continue
			}
			n++
			if col[r] > 0 {
				on++
			} else {
				off++
			}
			tmin, tmax = min(tmin, ts), max(tmax, ts)
			if len(first) < 3 {
				first = append(first, ev{r, int(col[r]), ts})
			}
		}
	}
	if n != 2346 || on != 1601 || off != 745 {
		t.Errorf("events %d (ON %d OFF %d), want 2346 (1601, 745)", n, on, off)
	}
	if math.Abs(tmin-0.196626480) > 5e-10 || math.Abs(tmax-0.895744992) > 5e-10 {
		t.Errorf("t range [%.9f, %.9f]", tmin, tmax)
	}
	want := []ev{{45, -1, 0.19662648}, {45, -1, 0.196626496}, {45, -1, 0.19990248}}
	for i, w := range want {
		if first[i].taxel != w.taxel || first[i].pol != w.pol || math.Abs(first[i].t-w.t) > 5e-10 {
			t.Errorf("event %d = %+v, want %+v", i, first[i], w)
		}
	}
}

func TestNotMAT(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.mat")
	os.WriteFile(p, []byte("this is not a mat file at all, only some text of moderate length"), 0o644)
	if _, err := Open(p); err == nil {
		t.Fatal("opened a text file as a MAT-file")
	}
}
