package parquet

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/internal/crosscheck"
)

// duckdbReport is what tools/duckdb-check/check.mjs prints for one file.
type duckdbReport struct {
	Counts   map[string]any    `json:"counts"`
	Types    map[string]string `json:"types"`
	Codecs   []string          `json:"codecs"`
	Metadata map[string]string `json:"metadata"`
}

// num reads a count DuckDB printed (HUGEINT sums arrive as strings, counts as numbers).
func (r duckdbReport) num(t *testing.T, key string) int64 {
	t.Helper()
	switch v := r.Counts[key].(type) {
	case float64:
		return int64(v)
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("DuckDB %s = %q", key, v)
		}
		return n
	}
	t.Fatalf("DuckDB report has no %s: %v", key, r.Counts)
	return 0
}

// sums are the figures check.mjs computes, from the events themselves.
func sums(samples []events.Sample) map[string]int64 {
	s := map[string]int64{}
	for i := range samples {
		e := &samples[i].Events
		for j := range e.T {
			s["events"]++
			s["sum_x"] += int64(e.X[j])
			s["sum_y"] += int64(e.Y[j])
			s["on_events"] += int64(e.P[j])
			s["sum_t"] += e.T[j]
			s["t_max"] = max(s["t_max"], e.T[j])
		}
	}
	return s
}

// duckdbCodecs are DuckDB's names for Codecs.
var duckdbCodecs = map[string]string{"zstd": "ZSTD", "snappy": "SNAPPY", "gzip": "GZIP", "lz4": "LZ4_RAW", "none": "UNCOMPRESSED"}

// TestDuckDBReadsEveryCodec: for every codec evtool offers, a dataset (with an unlabelled and an empty
// sample) and a recording over several row groups are written, their column chunks carry that codec,
// evtool reads them back, and DuckDB (from npm) reads every event, the layout's column types and the
// evtool metadata as plain key-value pairs.
func TestDuckDBReadsEveryCodec(t *testing.T) {
	samples := nmnistSamples(t)
	samples[3].Label = events.NoLabel
	samples = append(samples, events.Sample{Label: 1, ID: "empty"})
	rec := events.NewBatch(0)
	for i := range samples[:4] {
		rec.AppendBatch(&samples[i].Events)
	}
	recMeta := events.Meta{Geometry: events.Geometry{Width: 34, Height: 34}, Source: "x.bin"}
	dir := t.TempDir()
	var args []string
	for _, c := range Codecs {
		ds := filepath.Join(dir, c.Name+"-dataset.parquet")
		createDataset(t, ds, nmnistMeta(), Options{Compression: c.Name, RowGroupSamples: 10}, samples)
		rp := filepath.Join(dir, c.Name+"-recording.parquet")
		createRecording(t, rp, recMeta, Options{Compression: c.Name, RowGroupEvents: 5000}, rec)
		checkCodec(t, ds, c.Name)
		checkCodec(t, rp, c.Name)
		checkReadBack(t, ds, samples)
		checkReadBack(t, rp, []events.Sample{{Events: *rec}})
		args = append(args, ds, "dataset", rp, "recording")
	}
	var reps []duckdbReport
	crosscheck.DuckDB.Run(t, &reps, args...)
	if len(reps) != 2*len(Codecs) {
		t.Fatalf("DuckDB reported on %d files; want %d", len(reps), 2*len(Codecs))
	}
	for i, c := range Codecs {
		for _, layout := range []struct {
			rep     duckdbReport
			samples []events.Sample
			want    map[string]int64
			types   map[string]string
			meta    map[string]string
		}{{
			rep: reps[2*i], samples: samples,
			want: map[string]int64{"rows": int64(len(samples)), "labelled": int64(len(samples) - 1)},
			types: map[string]string{"label": "INTEGER", "id": "VARCHAR", "t": "BIGINT[]",
				"x": "USMALLINT[]", "y": "USMALLINT[]", "p": "UTINYINT[]"},
			meta: map[string]string{"evtool.kind": "dataset", "evtool.width": "34", "evtool.height": "34",
				"evtool.time_unit": "us", "evtool.source": "nmnist", "evtool.classes": `["0","1","2","3","4","5","6","7","8","9"]`},
		}, {
			rep: reps[2*i+1], samples: []events.Sample{{Events: *rec}},
			want:  map[string]int64{"rows": int64(rec.Len())},
			types: map[string]string{"t": "BIGINT", "x": "USMALLINT", "y": "USMALLINT", "p": "UTINYINT"},
			meta:  map[string]string{"evtool.kind": "recording", "evtool.source": "x.bin"},
		}} {
			for k, v := range sums(layout.samples) {
				layout.want[k] = v
			}
			for key, want := range layout.want {
				if got := layout.rep.num(t, key); got != want {
					t.Errorf("%s: DuckDB %s = %d; want %d", c.Name, key, got, want)
				}
			}
			for col, typ := range layout.types {
				if layout.rep.Types[col] != typ {
					t.Errorf("%s: DuckDB sees column %s as %q; want %s", c.Name, col, layout.rep.Types[col], typ)
				}
			}
			for k, v := range layout.meta {
				if layout.rep.Metadata[k] != v {
					t.Errorf("%s: DuckDB metadata %s = %q; want %q", c.Name, k, layout.rep.Metadata[k], v)
				}
			}
			if strings.Join(layout.rep.Codecs, ",") != duckdbCodecs[c.Name] {
				t.Errorf("%s: DuckDB sees codecs %v", c.Name, layout.rep.Codecs)
			}
		}
	}
}

// checkCodec checks that every column chunk of a file is compressed with the named codec.
func checkCodec(t *testing.T, path, name string) {
	t.Helper()
	want, err := codec(name)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	md := pr.MetaData()
	for g := 0; g < md.NumRowGroups(); g++ {
		for c := 0; c < md.RowGroup(g).NumColumns(); c++ {
			cc, err := md.RowGroup(g).ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Compression() != want {
				t.Fatalf("%s: row group %d column %d is %s; want %s", path, g, c, cc.Compression(), want)
			}
		}
	}
}

// checkReadBack reads a file with evtool: a recording must hold the one sample's events, a dataset every
// sample.
func checkReadBack(t *testing.T, path string, want []events.Sample) {
	t.Helper()
	src, err := Open(path, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Events != nil {
		got, err := events.ReadAll(src.Events)
		if err != nil || !got.Equal(&want[0].Events) {
			t.Fatalf("%s: %v; %d events, first difference at %d", path, err, got.Len(), got.FirstDifference(&want[0].Events))
		}
	} else {
		r := src.Samples
		if r.NumSamples() != len(want) {
			t.Fatalf("%s: %d samples; want %d", path, r.NumSamples(), len(want))
		}
		var s events.Sample
		for i := range want {
			if err := r.ReadSample(i, &s); err != nil {
				t.Fatal(err)
			}
			if s.Label != want[i].Label || s.ID != want[i].ID || !s.Events.Equal(&want[i].Events) {
				t.Fatalf("%s: sample %d differs", path, i)
			}
		}
	}
}

// TestReadsDuckDBFiles: files DuckDB wrote in the two layouts (its own list structure, nullability,
// encodings, snappy pages, row groups of its choosing) read, with every value and the metadata;
// tools/duckdb-check/write.mjs gives the formulas recomputed here.
func TestReadsDuckDBFiles(t *testing.T) {
	dir := t.TempDir()
	rec, ds := filepath.Join(dir, "recording.parquet"), filepath.Join(dir, "dataset.parquet")
	var none []any
	crosscheck.DuckDBWriter.Run(t, &none, rec, ds)

	want := events.NewBatch(300000)
	for i := int64(0); i < 300000; i++ {
		want.Append(37*i, uint16(i%34), uint16(7*i%34), uint8(i%2))
	}
	checkReadBack(t, rec, []events.Sample{{Events: *want}})
	pr, err := file.OpenParquetFile(rec, false)
	if err != nil {
		t.Fatal(err)
	}
	groups := pr.NumRowGroups()
	pr.Close()
	if groups < 2 {
		t.Errorf("DuckDB wrote %d row group(s); the test wants several", groups)
	}

	var samples []events.Sample
	for s := int64(0); s < 50; s++ {
		smp := events.Sample{Label: int32(s % 10), ID: fmt.Sprintf("s%d", s)}
		if s == 3 {
			smp.Label = events.NoLabel
		}
		for j := int64(0); j < 7*s; j++ {
			smp.Events.Append(1000000*s+13*j, uint16((5*j+s)%34), uint16(3*j%34), uint8((j+s)%2))
		}
		samples = append(samples, smp)
	}
	checkReadBack(t, ds, samples)
	d, err := OpenDataset(ds)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if m := d.Meta(); m.Source != "duckdb" || len(m.Classes) != 10 || m.Geometry != (events.Geometry{Width: 34, Height: 34}) {
		t.Fatalf("meta %+v", m)
	}
}

// TestPolarsReadsParquet: polars (Rust; it takes the column types from ARROW:schema) sees in our Parquet
// files exactly what it sees in the Arrow IPC files of the same events: the same columns, dtypes, labels,
// ids and sums.
func TestPolarsReadsParquet(t *testing.T) {
	samples := nmnistSamples(t)
	samples[3].Label = events.NoLabel
	dir := t.TempDir()
	all := events.NewBatch(0)
	for i := range samples {
		all.AppendBatch(&samples[i].Events)
	}
	recMeta := events.Meta{Geometry: events.Geometry{Width: 34, Height: 34}}
	ds := [2]string{filepath.Join(dir, "dataset.parquet"), filepath.Join(dir, "dataset.arrow")}
	rec := [2]string{filepath.Join(dir, "recording.parquet"), filepath.Join(dir, "recording.arrow")}
	createDataset(t, ds[0], nmnistMeta(), Options{RowGroupSamples: 7}, samples)
	createRecording(t, rec[0], recMeta, Options{RowGroupEvents: 20000}, all)
	aw, err := evarrow.CreateDataset(ds[1], nmnistMeta(), evarrow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range samples {
		if err := aw.WriteSample(&samples[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	ar, err := evarrow.CreateRecording(rec[1], recMeta, evarrow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ar.Write(all); err != nil {
		t.Fatal(err)
	}
	if err := ar.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{ds, rec} {
		var fromParquet, fromArrow []map[string]any
		crosscheck.Polars.Run(t, &fromParquet, pair[0])
		crosscheck.Polars.Run(t, &fromArrow, pair[1])
		if len(fromParquet) != 1 || len(fromArrow) != 1 {
			t.Fatalf("polars printed %d and %d reports", len(fromParquet), len(fromArrow))
		}
		got, want := fmt.Sprint(fromParquet[0]), fmt.Sprint(fromArrow[0])
		if got != want {
			t.Errorf("polars reads %s as\n%s\nand the Arrow file as\n%s", filepath.Base(pair[0]), got, want)
		}
		if fromParquet[0]["events"] != float64(sums(samples)["events"]) {
			t.Errorf("polars counts %v events in %s", fromParquet[0]["events"], pair[0])
		}
	}
}
