package parquet

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/fixtures"
)

// duckdbCheck runs tools/duckdb-check/check.mjs on a file and decodes its JSON. It skips when node or
// the npm package is missing, and fails instead when $CI is set (scripts/test.sh installs them).
func duckdbCheck(t *testing.T, path, kind string) duckdbReport {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(here), "..", "..", "tools", "duckdb-check")
	skip := func(why string) {
		fixtures.MissingTool(t, "DuckDB check: "+why, "npm install --prefix tools/duckdb-check --no-audit --no-fund")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node is not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api")); err != nil {
		skip("@duckdb/node-api is not installed in " + dir)
	}
	cmd := exec.Command(node, filepath.Join(dir, "check.mjs"), path, kind)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("DuckDB could not read %s: %v\n%s", path, err, stderr)
	}
	var rep duckdbReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("DuckDB check printed %q: %v", out, err)
	}
	return rep
}

type duckdbReport struct {
	Counts   map[string]any    `json:"counts"`
	Types    map[string]string `json:"types"`
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

func sums(samples []events.Sample) (n, x, y, on, tmax int64) {
	for i := range samples {
		e := &samples[i].Events
		for j := range e.T {
			n++
			x += int64(e.X[j])
			y += int64(e.Y[j])
			on += int64(e.P[j])
			tmax = max(tmax, e.T[j])
		}
	}
	return
}

// TestDuckDBReadsDataset: a dataset file written by us opens in DuckDB (from npm) with every event, the
// column types of the layout and the evtool metadata as plain key-value pairs.
func TestDuckDBReadsDataset(t *testing.T) {
	samples := nmnistSamples(t)
	samples[3].Label = events.NoLabel
	path := filepath.Join(t.TempDir(), "nmnist.parquet")
	w, err := CreateDataset(path, nmnistMeta(), Options{RowGroupSamples: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range samples {
		if err := w.WriteSample(&samples[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rep := duckdbCheck(t, path, "dataset")
	n, x, y, on, tmax := sums(samples)
	for key, want := range map[string]int64{"rows": int64(len(samples)), "events": n, "sum_x": x, "sum_y": y,
		"on_events": on, "t_max": tmax, "labelled": int64(len(samples) - 1)} {
		if got := rep.num(t, key); got != want {
			t.Errorf("DuckDB %s = %d; want %d", key, got, want)
		}
	}
	for col, typ := range map[string]string{"label": "INTEGER", "id": "VARCHAR", "t": "BIGINT[]",
		"x": "USMALLINT[]", "y": "USMALLINT[]", "p": "UTINYINT[]"} {
		if rep.Types[col] != typ {
			t.Errorf("DuckDB sees column %s as %q; want %s", col, rep.Types[col], typ)
		}
	}
	for k, v := range map[string]string{"evtool.kind": "dataset", "evtool.width": "34", "evtool.height": "34",
		"evtool.time_unit": "us", "evtool.source": "nmnist", "evtool.classes": `["0","1","2","3","4","5","6","7","8","9"]`} {
		if rep.Metadata[k] != v {
			t.Errorf("DuckDB metadata %s = %q; want %q", k, rep.Metadata[k], v)
		}
	}
}

// TestDuckDBReadsRecording: the recording layout, over several row groups.
func TestDuckDBReadsRecording(t *testing.T) {
	samples := nmnistSamples(t)
	all := events.NewBatch(0)
	for i := range samples[:4] {
		all.AppendBatch(&samples[i].Events)
	}
	path := filepath.Join(t.TempDir(), "rec.parquet")
	w, err := CreateRecording(path, events.Meta{Geometry: events.Geometry{Width: 34, Height: 34}, Source: "x.bin"},
		Options{RowGroupEvents: 5000, Compression: "snappy"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(all); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rep := duckdbCheck(t, path, "recording")
	n, x, y, on, tmax := sums([]events.Sample{{Events: *all}})
	for key, want := range map[string]int64{"rows": n, "events": n, "sum_x": x, "sum_y": y, "on_events": on, "t_max": tmax} {
		if got := rep.num(t, key); got != want {
			t.Errorf("DuckDB %s = %d; want %d", key, got, want)
		}
	}
	for col, typ := range map[string]string{"t": "BIGINT", "x": "USMALLINT", "y": "USMALLINT", "p": "UTINYINT"} {
		if rep.Types[col] != typ {
			t.Errorf("DuckDB sees column %s as %q; want %s", col, rep.Types[col], typ)
		}
	}
	if rep.Metadata["evtool.kind"] != "recording" || rep.Metadata["evtool.source"] != "x.bin" {
		t.Errorf("DuckDB metadata = %v", rep.Metadata)
	}
}
