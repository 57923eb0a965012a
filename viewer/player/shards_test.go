package player

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/shards"
)

// TestOpenShardFolder: the player takes a sharded dataset's folder (or its manifest) as the dataset file
// it was cut from: the same samples, labels and events in the same order.
func TestOpenShardFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "set.arrow")
	f, err := formats.Lookup("arrow")
	if err != nil {
		t.Fatal(err)
	}
	meta := events.Meta{Kind: events.KindDataset, Geometry: testGeom, Classes: []string{"zero", "one", "two"}}
	sink, err := f.Create(file, meta, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := shards.Create(filepath.Join(dir, "shards"), meta, shards.Options{Samples: 2, Format: "parquet", ByLabel: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 7; i++ {
		s := events.Sample{Events: *movingBar(uint64(i), int64(i)*1000, 50_000), Label: int32(i % 3), ID: fmt.Sprint(i)}
		if err := sink.Samples.WriteSample(&s); err != nil {
			t.Fatal(err)
		}
		if err := sw.WriteSample(&s); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	want, err := Open(file, "", formats.Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	for _, path := range []string{filepath.Join(dir, "shards"), filepath.Join(dir, "shards", shards.ManifestName)} {
		got, err := Open(path, "", formats.Options{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got.Len() != want.Len() || got.Geometry() != want.Geometry() {
			t.Fatalf("%s: %d samples on %s, want %d on %s", path, got.Len(), got.Geometry(), want.Len(), want.Geometry())
		}
		for i := 0; i < want.Len(); i++ {
			gr, gl, err := got.Open(i)
			if err != nil {
				t.Fatal(err)
			}
			wr, wl, err := want.Open(i)
			if err != nil {
				t.Fatal(err)
			}
			if ge, we := rangeAll(t, gr), rangeAll(t, wr); gl != wl || !slices.Equal(ge.T, we.T) || !slices.Equal(ge.X, we.X) {
				t.Fatalf("%s sample %d: %q with %d events, want %q with %d", path, i, gl, ge.Len(), wl, we.Len())
			}
		}
		got.Close()
	}
}

// rangeAll collects every event of a recording.
func rangeAll(t *testing.T, r Recording) *events.Batch {
	t.Helper()
	first, last, _ := r.Span()
	all := events.NewBatch(0)
	if err := r.Range(first, last+1, func(b *events.Batch) { all.AppendBatch(b) }); err != nil {
		t.Fatal(err)
	}
	return all
}
