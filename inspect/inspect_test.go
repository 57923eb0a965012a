package inspect

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/internal/fixtures"
)

// Files describes many files on all cores exactly as File describes each, in the given order, and a file
// that cannot be read gets its error without stopping the others.
func TestFilesMatchesFile(t *testing.T) {
	bins, err := filepath.Glob(filepath.Join(fixtures.Path(t, "nmnist-small/Train"), "*", "*.bin"))
	if err != nil || len(bins) < 100 {
		t.Fatalf("%d fixture files: %v", len(bins), err)
	}
	paths := append(bins[:100:100], filepath.Join(t.TempDir(), "missing.bin"), fixtures.Path(t, "aedat4/tonic_dvxplorer_sample.aedat4"))
	next := 0
	err = Files(context.Background(), paths, "", formats.Options{}, func(i int, rep *Report, err error) error {
		if i != next {
			t.Fatalf("report %d came before %d", i, next)
		}
		next++
		want, wantErr := File(paths[i], "", formats.Options{})
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%s: error %v, File says %v", paths[i], err, wantErr)
		}
		if !reflect.DeepEqual(rep, want) {
			t.Errorf("%s: %+v, File says %+v", paths[i], rep, want)
		}
		return nil
	})
	if err != nil || next != len(paths) {
		t.Fatalf("Files: %v after %d of %d reports", err, next, len(paths))
	}
}
