package formattest

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// runFolder checks a format kept as a folder of other formats' files (Format.Index: sharded datasets).
// Its files are Arrow or Parquet files, which the kit checks byte by byte as those formats; here the
// folder is checked as a whole: write → open (the folder and its index file) gives the same samples (boxes
// included, when the shards store them: DatasetCodec), for empty, small and larger datasets, and the
// writer's Abort and bounded output.
func runFolder(t *testing.T, f *formats.Format) {
	c := DatasetCodec(f)
	c.Read = nil // the byte-level checks read one file; a folder is read through Open below
	t.Run("identity", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, n := range []int{0, 1, 7, 150} {
			want := c.Generate(rng, n)
			dir := filepath.Join(t.TempDir(), "out")
			w, err := c.Create(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(want); err != nil {
				t.Fatalf("%d samples: %v", n, err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("%d samples: Close: %v", n, err)
			}
			for _, p := range []string{dir, filepath.Join(dir, f.Index)} {
				got := readFolder(t, f, p)
				if d := c.Diff(got, want); d != "" || len(got) != len(want) {
					t.Fatalf("%d samples through %s: read %d: %s", n, p, len(got), d)
				}
			}
		}
	})
	RunCodec(t, c)
}

// readFolder reads every sample of a folder format through the registry's Open.
func readFolder(t *testing.T, f *formats.Format, path string) []events.Sample {
	t.Helper()
	src, got, err := formats.Open(path, "", f.Conformance.Options)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	if got != f || src.Samples == nil {
		t.Fatalf("open %s: format %s (samples %v), want %s's dataset", path, got.Name, src.Samples != nil, f.Name)
	}
	var out []events.Sample
	for i := 0; i < src.Samples.NumSamples(); i++ {
		var s events.Sample
		if err := src.Samples.ReadSample(i, &s); err != nil {
			t.Fatalf("%s sample %d: %v", path, i, err)
		}
		out = append(out, s)
	}
	return out
}
