package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
)

// TestFormatOptionsAccepted: a -O key that only one of the formats of a run takes — the input's, the
// output's tensor writer's, or the shard files' format of a sharded output — is accepted and used.
// (Refused keys and values are TestExitCodes' cases.)
func TestFormatOptionsAccepted(t *testing.T) {
	dir := t.TempDir()
	bin := fixtures.Path(t, "nmnist/Train/0/00002.bin")
	train := fixtures.Path(t, "nmnist/Train")
	csv := filepath.Join(dir, "in.csv")
	// x,y,p,t order without a header: only -O columns (a key of the csv reader alone) reads it right.
	if err := os.WriteFile(csv, []byte("3,4,1,10\n5,6,0,20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"the input format's key", []string{"convert", csv, "-o", filepath.Join(dir, "csv.arrow"), "--sensor", "8x8", "-O", "columns=x,y,p,t", "-O", "header=false"}},
		{"the tensor writer's key", []string{"convert", bin, "-o", filepath.Join(dir, "t.npz"), "-t", "frames(bins=2)", "-O", "dtype=float32"}},
		{"the shard files' key", []string{"convert", train, "-o", filepath.Join(dir, "pq"), "--shard-size", "40", "--shard-format", "parquet",
			"-O", "row-group-samples=7"}},
		{"the shards' own key", []string{"convert", train, "-o", filepath.Join(dir, "arrow-shards"), "-O", "shard-size=40", "--to", "shards",
			"-O", "batch-samples=5"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, stderr, code := run(t, append(c.args, "-q")...); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
		})
	}
	// The options took effect: the columns as given, float32 tensors, row groups of 7 samples.
	src, _, err := formats.Open(filepath.Join(dir, "csv.arrow"), "", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Events == nil {
		t.Fatal("csv.arrow holds no recording")
	}
	b, err := events.ReadAll(src.Events)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.T) != 2 || b.T[0] != 10 || b.X[0] != 3 || b.Y[1] != 6 || b.P[1] != 0 {
		t.Errorf("csv read with -O columns=x,y,p,t: t=%v x=%v y=%v p=%v", b.T, b.X, b.Y, b.P)
	}
	pf, err := file.OpenParquetFile(filepath.Join(dir, "pq", "part-00000.parquet"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if rows, groups := pf.NumRows(), pf.NumRowGroups(); rows != 20 || groups != 3 {
		t.Errorf("parquet shard of %d samples in %d row groups, want 20 in 3 (-O row-group-samples=7)", rows, groups)
	}
	out, stderr, code := run(t, "info", filepath.Join(dir, "t.npz"))
	if code != 0 || !strings.Contains(out, "float32") {
		t.Errorf("info t.npz (exit %d): %s%s: want float32 tensors", code, out, stderr)
	}
}
