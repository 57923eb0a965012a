package hdf5

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/evtool/evtool/internal/fixtures"
)

// expectation is one line of what h5py_gen.py wrote.
type expectation struct {
	File    string                       `json:"file"`
	Path    string                       `json:"path"`
	Shape   []uint64                     `json:"shape"`
	Kind    string                       `json:"kind"`
	Sha     string                       `json:"sha"`
	Members map[string]map[string]string `json:"members"`
	Strings []string                     `json:"strings"`
	VLen    bool                         `json:"vlen"`
	Lens    []int                        `json:"lens"`
	Missing bool                         `json:"missing"`
	Attrs   map[string]string            `json:"attrs"`
	AttrNum map[string][]float64         `json:"attr_numbers"`
	Links   int                          `json:"links"`
	First   string                       `json:"first"`
	Last    string                       `json:"last"`
	Refs    []string                     `json:"refs"`
}

func TestMain(m *testing.M) {
	code := m.Run()
	fixtures.CleanupGenerated()
	os.Exit(code)
}

// generate runs a Python generator with h5py (once per test binary) and decodes its JSON report.
func generate(t *testing.T, script string) (string, []expectation) {
	t.Helper()
	dir, out := fixtures.Generate(t, script, "h5py", "numpy")
	var exp []expectation
	if err := json.Unmarshal(out, &exp); err != nil {
		t.Fatalf("generator output: %v", err)
	}
	return dir, exp
}

func shaInts(v []int64) string {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func shaFloats(v []float64) string {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestH5pyFiles reads every dataset, group and attribute h5py wrote and compares it with what numpy held.
func TestH5pyFiles(t *testing.T) {
	dir, exp := generate(t, "testdata/h5py_gen.py")
	checkFiles(t, dir, exp)
}

// TestH5pluginFiles reads datasets compressed with hdf5plugin's Blosc (every compressor, byte and bit
// shuffle) and LZ4 filters.
func TestH5pluginFiles(t *testing.T) {
	dir, out := fixtures.Generate(t, "testdata/h5plugin_gen.py", "h5py", "hdf5plugin", "numpy")
	var exp []expectation
	if err := json.Unmarshal(out, &exp); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, exp)
}

func checkFiles(t *testing.T, dir string, exp []expectation) {
	files := map[string]*File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, e := range exp {
		f := files[e.File]
		if f == nil {
			var err error
			if f, err = Open(filepath.Join(dir, e.File)); err != nil {
				t.Fatalf("%s: %v", e.File, err)
			}
			files[e.File] = f
		}
		t.Run(e.File+e.Path, func(t *testing.T) { checkExpectation(t, f, e) })
	}
}

func checkExpectation(t *testing.T, f *File, e expectation) {
	o, err := f.Get(e.Path)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case e.Links > 0:
		links, err := o.Links()
		if err != nil {
			t.Fatal(err)
		}
		if len(links) != e.Links || links[0].Name != e.First || links[len(links)-1].Name != e.Last {
			t.Fatalf("%d links %q…%q, want %d %q…%q", len(links), links[0].Name, links[len(links)-1].Name, e.Links, e.First, e.Last)
		}
		return
	case e.Attrs != nil || e.AttrNum != nil:
		for name, want := range e.Attrs {
			a, err := o.Attr(name)
			if err != nil || a == nil {
				t.Fatalf("attribute %s: %v", name, err)
			}
			got, err := a.String()
			if err != nil || got != want {
				t.Errorf("attribute %s = %q, %v; want %q", name, got, err, want)
			}
		}
		for name, want := range e.AttrNum {
			a, err := o.Attr(name)
			if err != nil || a == nil {
				t.Fatalf("attribute %s: %v", name, err)
			}
			got, err := a.Float64s()
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("attribute %s = %v, %v; want %v", name, got, err, want)
			}
		}
		return
	case e.Refs != nil:
		d, err := o.Dataset()
		if err != nil {
			t.Fatal(err)
		}
		addrs, err := d.References()
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range e.Refs {
			wantObj, err := f.Get(want)
			if err != nil {
				t.Fatal(err)
			}
			if addrs[i] != wantObj.Addr {
				t.Errorf("reference %d points at %#x, want %s at %#x", i, addrs[i], want, wantObj.Addr)
			}
		}
		return
	}
	d, err := o.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	if e.VLen {
		var all []float64
		elems := make([][]float64, len(e.Lens))
		for i := range e.Lens {
			v := vlenFloats(t, d, i)
			if len(v) != e.Lens[i] {
				t.Fatalf("element %d holds %d values, want %d", i, len(v), e.Lens[i])
			}
			all = append(all, v...)
			elems[i] = v
		}
		if got := shaFloats(all); got != e.Sha {
			t.Errorf("vlen values differ from h5py's")
		}
		// Backwards: every element from a window of references read afresh, its collection from memory
		// another one lent.
		for i := len(e.Lens) - 1; i >= 0; i-- {
			if v := vlenFloats(t, d, i); !reflect.DeepEqual(v, elems[i]) {
				t.Fatalf("element %d read backwards differs", i)
			}
		}
		return
	}
	if !reflect.DeepEqual(append([]uint64{}, d.Dims...), append([]uint64{}, e.Shape...)) {
		t.Fatalf("shape %v, want %v", d.Dims, e.Shape)
	}
	if e.Missing {
		d.FillMissing = false
		if _, err := d.ReadAll(); err == nil {
			t.Error("FillMissing=false read an unwritten chunk without an error")
		}
		d.FillMissing = true
	}
	switch {
	case e.Strings != nil:
		got, err := d.Strings()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e.Strings) {
			t.Errorf("strings %q, want %q", got, e.Strings)
		}
	case e.Members != nil:
		raw, err := d.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range e.Members {
			fl, err := d.Field(name, 0)
			if err != nil {
				t.Fatal(err)
			}
			checkValues(t, name, fl, raw, d.RowBytes(), int(d.Rows()), want["kind"], want["sha"])
		}
	default:
		raw, err := d.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		fl := Field{Type: d.Type}
		checkValues(t, "", fl, raw, d.Type.Size, int(d.Len()), e.Kind, e.Sha)
		// Reading by rows in uneven pieces gives the same bytes (chunk boundaries, edges, the cache).
		if d.Rows() > 1 {
			var got []byte
			var buf []byte
			for r := uint64(0); r < d.Rows(); {
				n := min(d.Rows()-r, 1+r%377)
				b, err := d.ReadRows(r, n, buf)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, b...)
				buf, r = b, r+n
			}
			if !reflect.DeepEqual(got, raw) {
				t.Error("reading by rows differs from reading all")
			}
		}
	}
}

func checkValues(t *testing.T, name string, fl Field, raw []byte, stride, n int, kind, sha string) {
	t.Helper()
	if kind == "int" {
		v := make([]int64, n)
		if _, err := fl.Int64s(raw, stride, n, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := shaInts(v); got != sha {
			t.Errorf("%s: integers differ from h5py's (first %v)", name, v[:min(n, 5)])
		}
		return
	}
	v := make([]float64, n)
	if _, err := fl.Float64s(raw, stride, n, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if got := shaFloats(v); got != sha {
		t.Errorf("%s: floats differ from h5py's (first %v)", name, v[:min(n, 5)])
	}
}

// The half-precision table agrees with the definition at the edges.
func TestHalf(t *testing.T) {
	for bits, want := range map[uint16]float64{0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: math.Pow(2, -24), 0x7c00: math.Inf(1), 0x3555: 0.333251953125} {
		if got := HalfToFloat64(bits); got != want {
			t.Errorf("half %#04x = %v, want %v", bits, got, want)
		}
	}
}

func TestNotHDF5(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.h5")
	os.WriteFile(p, []byte("definitely not hdf5, but long enough to look at"), 0o644)
	if _, err := Open(p); err == nil {
		t.Fatal("opened a text file as HDF5")
	}
}

// TestH5pyIndexKinds: the generated files exercise every chunk index, so TestH5pyFiles covers each.
func TestH5pyIndexKinds(t *testing.T) {
	dir, _ := generate(t, "testdata/h5py_gen.py")
	want := map[string]map[string]int{
		"layouts_earliest.h5": {"/chunked": indexBTree1, "/many_chunks": indexBTree1, "/unlimited": indexBTree1},
		"layouts_latest.h5": {"/chunked": indexFixedArray, "/many_chunks": indexFixedArray, "/unlimited": indexExtArray,
			"/unlimited_gzip": indexExtArray, "/single": indexSingle, "/single_gzip": indexSingle,
			"/two_unlimited": indexBTree2, "/two_unlimited_gzip": indexBTree2, "/unlim_second": indexExtArray,
			"/events_nx4": indexExtArray},
		"lowlevel.h5": {"/implicit": indexImplicit},
		"paged_ea.h5": {"/ea": indexExtArray},
	}
	for file, paths := range want {
		f, err := Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		for p, kind := range paths {
			d, err := f.Dataset(p)
			if err != nil {
				t.Fatal(err)
			}
			if d.idx == nil || d.idx.kind != kind {
				t.Errorf("%s%s: chunk index %v, want %s", file, p, d.idx, indexNames[kind])
			}
		}
		f.Close()
	}
}

// A closed file's heap collections serve the files opened next (freeCollections): every variable-
// length dataset h5py wrote reads the same in a file opened after others were read and closed, their
// collections' memory still holding those files' bytes.
func TestClosedFilesLendTheirCollections(t *testing.T) {
	dir, exp := generate(t, "testdata/h5py_gen.py")
	read := func(e expectation) string {
		f, err := Open(filepath.Join(dir, e.File))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		d, err := f.Dataset(e.Path)
		if err != nil {
			t.Fatal(err)
		}
		var all []float64
		for i := range e.Lens {
			all = append(all, vlenFloats(t, d, i)...)
		}
		return shaFloats(all)
	}
	var vlens []expectation
	for _, e := range exp {
		if e.VLen {
			vlens = append(vlens, e)
		}
	}
	if len(vlens) < 2 {
		t.Fatalf("the generator wrote %d variable-length datasets; the test needs two", len(vlens))
	}
	for round := 0; round < 3; round++ {
		for _, e := range vlens {
			if got := read(e); got != e.Sha {
				t.Fatalf("round %d: %s %s differs from h5py's", round, e.File, e.Path)
			}
		}
	}
}

// vlenFloats reads element i of a variable-length dataset as float64 values.
func vlenFloats(t *testing.T, d *Dataset, i int) []float64 {
	t.Helper()
	raw, n, err := d.VLen(uint64(i))
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float64, n)
	if _, err := d.Type.Base.Float64s(raw, d.Type.Base.Size, n, v); err != nil {
		t.Fatal(err)
	}
	return v
}
