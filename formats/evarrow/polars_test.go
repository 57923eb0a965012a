package evarrow

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/crosscheck"
)

// polarsCheck reads an Arrow file with nodejs-polars — an Arrow implementation independent of arrow-go
// (Rust) — and returns what tools/polars-check/check.js reports.
func polarsCheck(t *testing.T, path string) map[string]any {
	t.Helper()
	var res []map[string]any
	crosscheck.Polars.Run(t, &res, path)
	if len(res) != 1 {
		t.Fatalf("check.js printed %d reports for %s", len(res), path)
	}
	return res[0]
}

func sums(b *events.Batch) (sumX, sumT int64) {
	for i := range b.T {
		sumX += int64(b.X[i])
		sumT += b.T[i]
	}
	return
}

// Our files open in polars as they are: both layouts, every compression.
func TestReadByPolars(t *testing.T) {
	samples := nmnistSamples(t)
	samples[3].Label = events.NoLabel
	var all events.Batch
	for i := range samples {
		all.AppendBatch(&samples[i].Events)
	}
	wantX, wantT := sums(&all)
	dir := t.TempDir()
	for _, comp := range []string{"zstd", "lz4", "none"} {
		ds := filepath.Join(dir, comp+"-ds.arrow")
		meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 34, Height: 34},
			Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}
		w, err := CreateDataset(ds, meta, Options{Compression: comp, BatchSamples: 7})
		if err != nil {
			t.Fatal(err)
		}
		for i := range samples {
			w.WriteSample(&samples[i])
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		res := polarsCheck(t, ds)
		if int(res["rows"].(float64)) != len(samples) || int64(res["events"].(float64)) != int64(all.Len()) ||
			int64(res["sum_x"].(float64)) != wantX || res["sum_t"].([]any)[0] != strconv.FormatInt(wantT, 10) {
			t.Fatalf("%s dataset read by polars: %v", comp, res)
		}
		labels := res["labels"].([]any)
		ids := res["ids"].([]any)
		for i := range samples {
			l := labels[i]
			if (samples[i].Label == events.NoLabel && l != nil) || (samples[i].Label >= 0 && l != float64(samples[i].Label)) || ids[i] != samples[i].ID {
				t.Fatalf("%s: sample %d label %v id %v; want %d %s", comp, i, l, ids[i], samples[i].Label, samples[i].ID)
			}
		}

		rec := filepath.Join(dir, comp+"-rec.arrow")
		rw, err := CreateRecording(rec, events.Meta{Geometry: meta.Geometry}, Options{Compression: comp, BatchEvents: 10000})
		if err != nil {
			t.Fatal(err)
		}
		rw.Write(&all)
		if err := rw.Close(); err != nil {
			t.Fatal(err)
		}
		res = polarsCheck(t, rec)
		if int64(res["events"].(float64)) != int64(all.Len()) || int64(res["sum_x"].(float64)) != wantX ||
			res["sum_t"].([]any)[0] != strconv.FormatInt(wantT, 10) {
			t.Fatalf("%s recording read by polars: %v", comp, res)
		}
	}
}
