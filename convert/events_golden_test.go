package convert

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/slicer"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/transforms"
)

// eventGolden are the SHA-256 sums of what `evtool convert` wrote from these fixtures before the speed work
// of the whole-command pipeline (the binary of that time, run from the fixture folder with these relative
// paths, which end up in evtool.source): event outputs — datasets at every compression, filtered datasets,
// recordings of every streaming format, sliced recordings, and a dataset written back to .bin files — must
// stay byte-identical however the pipeline is rearranged. A deliberate change of a layout updates them and
// says so in its commit.
var eventGolden = []struct {
	name, input, compression, chain string
	slice                           *slicer.Spec
	sum                             string
}{
	{"a.arrow", "nmnist-small/Train", "", "", nil, "68f3e03b76263da0eb9a914450bd9591b8ee29988d8baa3cd14bad986336a9c9"},
	{"a-lz4.arrow", "nmnist-small/Train", "lz4", "", nil, "ae9987f8cc3590d64b84aafe7cd7d4be29eff9e835f577790bfd160ffca9758b"},
	{"a-none.arrow", "nmnist-small/Train", "none", "", nil, "db7108de0d8d0a5cb7f8bf6e00554c3aaeb4cc6ad2b0c990c14c29976e808456"},
	{"c.arrow", "nmnist-small/Train", "", "denoise(dt=10ms)", nil, "c0102fa1b5cae747e528b477a3a3fb34d1d8caabf262a82126c81536713f3b66"},
	// The frames' counts are stored as int16 since main's 315a93b (tensor dtype default): main's own binary
	// writes this sum (before: 62c8a23e…, int32 counts).
	{"b.arrow", "nmnist-small/Train", "", "frames(bins=10)", nil, "e97cae141268b991973139d1ee311eb58b1b3d739d20c6996d5e7b10662d84f8"},
	{"evt3.arrow", "prophesee/evt3/expelliarmus_evt3_sample_gen41.raw", "", "", nil, "25c95832b97ae6d0b08f93caf5d10d46e9e76fdb8d716d3b4248eea7ac2554fe"},
	{"evt2.arrow", "prophesee/evt2/sparklers_gen3_vga.raw", "", "", nil, "4521fb2ad228c43c6d1956c3578e69485559ab33d307ccdf27e103366234045c"},
	{"dat.arrow", "prophesee/dat/NCARS_obj_004397_td.dat", "", "", nil, "6209f2ed3fa8e68bf304f3518f98114e99d00b0b61a5335cb1e059e95d6ee63d"},
	{"aedat4.arrow", "aedat4/tonic_dvxplorer_sample.aedat4", "", "", nil, "a961223f0e3584919365a1c890e6df5ce70462df0902671831cb65ec4b089736"},
	{"es.arrow", "es/dvs.es", "", "", nil, "29a0b36ff79285ad3539a8363a4ac6ea46a0f3bb863075d1f66cd7f755b5d8b6"},
	{"slices.arrow", "aedat4/tonic_dvxplorer_sample.aedat4", "", "", &slicer.Spec{Window: 100_000}, "92c8119b98e081ad12d4c4cc09d5c64d7f16b8694ce0580d9eb0cd10e6c6612b"},
}

// backGolden is the sum of `sha256sum` lines (sorted ./relative paths) of the .bin folder written back from
// a.arrow with --to nmnist: `find . -type f | sort | xargs sha256sum | sha256sum`.
const backGolden = "73457d96c8556838eea11113d4821dd02d4fff8665c5c4bca9814f933fbb3f03"

// Every event output is byte for byte what the CLI wrote before the pipeline was made fast, whatever the
// number of cores: run with 1 worker and with more.
func TestEventOutputsByteIdentical(t *testing.T) {
	root, err := filepath.Abs(fixtures.Path(t, "."))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range eventGolden {
		fixtures.Path(t, g.input)
	}
	t.Chdir(root) // the inputs' relative paths are recorded in the outputs
	for _, workers := range []int{1, max(runtime.GOMAXPROCS(0), 3)} {
		dir := t.TempDir()
		for _, g := range eventGolden {
			out := filepath.Join(dir, g.name)
			convertCLI(t, g.input, out, g.compression, g.chain, g.slice, "", workers)
			if sum := fileSum(t, out); sum != g.sum {
				t.Errorf("%s (%s, %d workers): sha256 %s, want %s", g.name, g.input, workers, sum, g.sum)
			}
		}
		// Back to .bin files, from the dataset just written (its relative name is recorded nowhere).
		t.Run(fmt.Sprint("back-", workers), func(t *testing.T) {
			t.Chdir(dir)
			convertCLI(t, "a.arrow", "back", "", "", nil, "nmnist", workers)
			if sum := treeSum(t, "back"); sum != backGolden {
				t.Errorf("a.arrow --to nmnist (%d workers): tree sum %s, want %s", workers, sum, backGolden)
			}
		})
	}
}

// convertCLI runs what `evtool convert INPUT -o OUT [--compression c] [-t chain] [--to to]` runs.
func convertCLI(t *testing.T, input, out, compression, chain string, slice *slicer.Spec, to string, workers int) {
	t.Helper()
	plan, err := sources.Discover([]string{input}, "")
	if err != nil {
		t.Fatal(err)
	}
	o := Options{To: to, Format: formats.Options{Compression: compression, Params: map[string]string{}}, Workers: workers, Slice: slice}
	if chain != "" {
		if o.Chain, err = transforms.Parse(chain); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Run(context.Background(), plan, out, o); err != nil {
		t.Fatalf("convert %s -o %s: %v", input, out, err)
	}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// treeSum is `cd dir && find . -type f | sort | xargs sha256sum | sha256sum`.
func treeSum(t *testing.T, dir string) string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, "./"+filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var lines strings.Builder
	for _, f := range files {
		fmt.Fprintf(&lines, "%s  %s\n", fileSum(t, filepath.Join(dir, f)), f)
	}
	return fmt.Sprintf("%x", sha256.Sum256([]byte(lines.String())))
}
