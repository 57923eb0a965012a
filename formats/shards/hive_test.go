package shards_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/shards"
	"github.com/evtool/evtool/internal/crosscheck"
)

// DuckDB's read_parquet('out/**/*.parquet', hive_partitioning = true) and polars' scanParquet read a tree
// of hive-partitioned Parquet shards — two splits written by two runs, labels in label=K folders, several
// shards per label, unlabelled samples in label=__HIVE_DEFAULT_PARTITION__ — as one table: the rows and
// events of every (split, label) are the ones written.
func TestHivePartitionsReadAsOneTable(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	type key struct{ split, label string }
	want := map[key][2]int64{}
	for i, split := range []string{"train", "test"} {
		samples := randomSamples(uint64(10+i), 70+10*i)
		for _, s := range samples {
			label := "null"
			if s.Label >= 0 {
				label = strconv.Itoa(int(s.Label))
			}
			k := key{split, label}
			want[k] = [2]int64{want[k][0] + 1, want[k][1] + int64(s.Events.Len())}
		}
		dir := write(t, root, samples, shards.Options{Format: "parquet", ByLabel: true, Samples: 6, Within: []string{"split=" + split}})
		sameSamples(t, split, readAll(t, dir, formats.Options{}), samples)
	}
	for _, tool := range []crosscheck.Tool{crosscheck.DuckDBHive, crosscheck.PolarsHive} {
		var rows []struct {
			Split  string  `json:"split"`
			Label  *string `json:"label"`
			Rows   string  `json:"rows"`
			Events string  `json:"events"`
		}
		tool.Run(t, &rows, root, "split", "label")
		got := map[key][2]int64{}
		for _, r := range rows {
			label := "null"
			if r.Label != nil {
				label = *r.Label
			}
			n, _ := strconv.ParseInt(r.Rows, 10, 64)
			e, _ := strconv.ParseInt(r.Events, 10, 64)
			got[key{r.Split, label}] = [2]int64{n, e}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s counts (rows, events) per (split, label):\n%v\nwritten:\n%v", tool.What, got, want)
		}
	}
}
