package shards_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/formats/formattest"
	"github.com/evtool/evtool/formats/shards"
)

var (
	classes = []string{"zero", "one", "two", "three"}
	sensor  = events.Geometry{Width: 40, Height: 30}
	meta    = events.Meta{Kind: events.KindDataset, Geometry: sensor, Classes: classes, Source: "test", Transforms: "crop(x0=1)"}
)

// randomSamples makes n samples with every kind of label (unlabelled ones too) and some empty ones, in
// the label order of a shuffled dataset.
func randomSamples(seed uint64, n int) []events.Sample {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]events.Sample, n)
	for i := range out {
		out[i] = events.Sample{Label: int32(rng.IntN(len(classes)+1)) - 1, ID: fmt.Sprintf("s/%05d", i),
			Events: *formattest.RandomEvents(rng, rng.IntN(40), sensor)}
	}
	return out
}

// write writes samples as a sharded dataset (or one part of it) and returns the writer's folder.
func write(t *testing.T, root string, samples []events.Sample, o shards.Options) string {
	t.Helper()
	return writeWith(t, root, meta, samples, o)
}

// writeWith is write with the metadata m.
func writeWith(t *testing.T, root string, m events.Meta, samples []events.Sample, o shards.Options) string {
	t.Helper()
	w, err := shards.Create(root, m, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range samples {
		if err := w.WriteSample(&samples[i]); err != nil {
			w.Abort()
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.Root()
}

// readAll reads every sample of a sharded dataset through the registry.
func readAll(t *testing.T, path string, o formats.Options) []events.Sample {
	t.Helper()
	_, f, out := readSource(t, path, o)
	if f.Name != "shards" {
		t.Fatalf("%s opened as %s", path, f.Name)
	}
	return out
}

// readSource reads the metadata, the format and every sample of a dataset file or folder.
func readSource(t *testing.T, path string, o formats.Options) (events.Meta, *formats.Format, []events.Sample) {
	t.Helper()
	src, f, err := formats.Open(path, "", o)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Samples == nil {
		t.Fatalf("%s opened as a recording", path)
	}
	out := make([]events.Sample, src.Samples.NumSamples())
	for i := range out {
		if err := src.Samples.ReadSample(i, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return src.Samples.Meta(), f, out
}

func sameSamples(t *testing.T, what string, got, want []events.Sample) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d samples, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := &got[i], &want[i]
		if g.ID != w.ID || g.Label != w.Label || !slices.Equal(g.Events.T, w.Events.T) || !slices.Equal(g.Events.X, w.Events.X) ||
			!slices.Equal(g.Events.Y, w.Events.Y) || !slices.Equal(g.Events.P, w.Events.P) {
			t.Fatalf("%s: sample %d is (%q, label %d, %d events), want (%q, %d, %d)", what, i, g.ID, g.Label, g.Events.Len(),
				w.ID, w.Label, w.Events.Len())
		}
	}
}

func manifestOf(t *testing.T, path string) *shards.Manifest {
	t.Helper()
	r, err := shards.Open(path, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.Manifest()
}

// The layouts a writer makes all read back as the samples written, in the order written.
func TestRoundTrip(t *testing.T) {
	samples := randomSamples(1, 120)
	for _, o := range []shards.Options{
		{},
		{Samples: 7},
		{Format: "parquet", Samples: 50},
		{Bytes: 3000},
		{Format: "parquet", ByLabel: true},
		{ByLabel: true, Samples: 3},
		{Format: "parquet", ByLabel: true, Within: []string{"split=train"}, Samples: 10},
	} {
		name := fmt.Sprintf("%s-size%d-bytes%d-label%v-%v", o.Format, o.Samples, o.Bytes, o.ByLabel, o.Within)
		t.Run(name, func(t *testing.T) {
			root := write(t, filepath.Join(t.TempDir(), "out"), samples, o)
			if len(o.Within) > 0 && filepath.Base(root) != o.Within[0] {
				t.Fatalf("the dataset went into %s, want a folder %s", root, o.Within[0])
			}
			sameSamples(t, "folder", readAll(t, root, formats.Options{}), samples)
			sameSamples(t, "manifest", readAll(t, filepath.Join(root, shards.ManifestName), formats.Options{}), samples)
			m := manifestOf(t, root)
			var labels [5]int64
			for _, s := range samples {
				labels[s.Label+1]++
			}
			if m.Samples != len(samples) || m.Unlabelled != labels[0] || !slices.Equal(m.Labels, labels[1:]) {
				t.Fatalf("manifest counts %d samples, %d unlabelled, %v; want %d, %d, %v", m.Samples, m.Unlabelled, m.Labels,
					len(samples), labels[0], labels[1:])
			}
			for _, s := range m.Shards {
				switch {
				case o.Samples > 0 && s.Samples > o.Samples:
					t.Errorf("shard %s holds %d samples, more than %d", s.File, s.Samples, o.Samples)
				case o.ByLabel && !strings.HasPrefix(s.File, "label="):
					t.Errorf("shard %s is in no label partition", s.File)
				}
				if o.ByLabel {
					n := 0
					for _, c := range s.Labels {
						if c > 0 {
							n++
						}
					}
					if n+min(int(s.Unlabelled), 1) != 1 {
						t.Errorf("shard %s holds %d labels, want one", s.File, n+min(int(s.Unlabelled), 1))
					}
				}
			}
			if o.Samples > 0 && !o.ByLabel && len(m.Shards) != (len(samples)+o.Samples-1)/o.Samples {
				t.Errorf("%d shards, want %d", len(m.Shards), (len(samples)+o.Samples-1)/o.Samples)
			}
			// Random access in any order gives the same samples.
			r, err := shards.Open(root, formats.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			rng := rand.New(rand.NewPCG(3, 4))
			var s events.Sample
			for _, i := range rng.Perm(len(samples)) {
				if err := r.ReadSample(i, &s); err != nil {
					t.Fatal(err)
				}
				sameSamples(t, fmt.Sprintf("random access to %d", i), []events.Sample{s}, samples[i:i+1])
			}
			if err := r.ReadSample(len(samples), &s); err == nil {
				t.Fatal("sample past the end read without an error")
			}
		})
	}
}

// Shard bytes: the shards come out near the target once the compression ratio is known.
func TestShardBytes(t *testing.T) {
	samples := randomSamples(2, 400)
	root := write(t, filepath.Join(t.TempDir(), "out"), samples, shards.Options{Bytes: 8000, Files: formats.Options{Compression: "none"}})
	m := manifestOf(t, root)
	if len(m.Shards) < 5 {
		t.Fatalf("%d shards for %d samples of 8000 bytes each", len(m.Shards), m.Samples)
	}
	for _, s := range m.Shards[1 : len(m.Shards)-1] {
		if s.Bytes < 4000 || s.Bytes > 12000 {
			t.Errorf("shard %s holds %d bytes; the target was 8000", s.File, s.Bytes)
		}
	}
}

// Parts written by separate jobs into one folder and merged are the dataset one run writes, for any
// number of parts (more parts than samples too), with or without shard sizes and label partitions.
func TestPartsMergeToTheWhole(t *testing.T) {
	samples := randomSamples(3, 60)
	for _, n := range []int{1, 3, 4, 61, 100} {
		for _, o := range []shards.Options{{}, {Samples: 4}, {Format: "parquet", ByLabel: true}} {
			t.Run(fmt.Sprintf("%d-parts-%d-%v", n, o.Samples, o.ByLabel), func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "parts")
				for i := n - 1; i >= 0; i-- { // jobs finish in any order
					p := shards.Part{Index: i, Count: n}
					lo, hi := p.Range(len(samples))
					po := o
					po.Part = p
					write(t, dir, samples[lo:hi], po)
					// A part on its own reads as its samples.
					sameSamples(t, "part", readAll(t, filepath.Join(dir, shards.PartManifestName(p)), formats.Options{}), samples[lo:hi])
				}
				m, err := shards.Merge(dir, nil)
				if err != nil {
					t.Fatal(err)
				}
				if m.Part != nil || m.Samples != len(samples) {
					t.Fatalf("merged manifest: part %v, %d samples", m.Part, m.Samples)
				}
				sameSamples(t, "merged", readAll(t, dir, formats.Options{Params: map[string]string{"verify": "true"}}), samples)
			})
		}
	}
}

// Parts in several folders merge into a folder of their own, which names the shards where they are.
func TestMergeFolders(t *testing.T) {
	samples := randomSamples(4, 30)
	tmp := t.TempDir()
	var inputs []string
	for i := 0; i < 3; i++ {
		p := shards.Part{Index: i, Count: 3}
		lo, hi := p.Range(len(samples))
		dir := filepath.Join(tmp, fmt.Sprintf("node%d", i))
		write(t, dir, samples[lo:hi], shards.Options{Part: p, Samples: 4})
		inputs = append(inputs, dir)
	}
	out := filepath.Join(tmp, "all")
	if _, err := shards.Merge(out, []string{inputs[2], inputs[0], inputs[1]}); err != nil {
		t.Fatal(err)
	}
	sameSamples(t, "merged", readAll(t, out, formats.Options{}), samples)
	if f := manifestOf(t, out).Shards[0].File; !strings.HasPrefix(f, "../node0/") {
		t.Errorf("shard %s: want a path relative to the merged folder", f)
	}
	// Whole datasets — a shard folder and single dataset files — join in the order given.
	a := filepath.Join(tmp, "a.parquet")
	writeFile(t, a, samples[:10])
	b := write(t, filepath.Join(tmp, "b"), samples[10:25], shards.Options{Samples: 6})
	c := filepath.Join(tmp, "c.arrow")
	writeFile(t, c, samples[25:])
	if _, err := shards.Merge(filepath.Join(tmp, "abc"), []string{a, b, c}); err == nil ||
		!strings.Contains(err.Error(), "shard format") {
		t.Fatalf("parquet and arrow shards merged: %v", err)
	}
	c = filepath.Join(tmp, "c.parquet")
	writeFile(t, c, samples[25:])
	b = write(t, filepath.Join(tmp, "b2"), samples[10:25], shards.Options{Samples: 6, Format: "parquet"})
	if _, err := shards.Merge(filepath.Join(tmp, "abc"), []string{a, b, c}); err != nil {
		t.Fatal(err)
	}
	sameSamples(t, "merged wholes", readAll(t, filepath.Join(tmp, "abc"), formats.Options{Params: map[string]string{"verify": "1"}}), samples)
}

func writeFile(t *testing.T, path string, samples []events.Sample) {
	t.Helper()
	writeFileWith(t, path, meta, samples)
}

// writeFileWith writes samples with the metadata m as one dataset file of the format path's extension says.
func writeFileWith(t *testing.T, path string, m events.Meta, samples []events.Sample) {
	t.Helper()
	f, err := formats.OutputFormat(path, "")
	if err != nil {
		t.Fatal(err)
	}
	sink, err := f.Create(path, m, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range samples {
		if err := sink.Samples.WriteSample(&samples[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

// Merge refuses what would not make the single-run dataset, and says why.
func TestMergeRefuses(t *testing.T) {
	samples := randomSamples(5, 40)
	parts := func(t *testing.T, n int, skip int, o shards.Options) string {
		dir := filepath.Join(t.TempDir(), "parts")
		for i := 0; i < n; i++ {
			if i == skip {
				continue
			}
			p := shards.Part{Index: i, Count: n}
			lo, hi := p.Range(len(samples))
			po := o
			po.Part = p
			write(t, dir, samples[lo:hi], po)
		}
		return dir
	}
	expect := func(t *testing.T, dir string, inputs []string, want string) {
		t.Helper()
		_, err := shards.Merge(dir, inputs)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("merge: %v; want an error saying %q", err, want)
		}
		if _, err := os.Stat(filepath.Join(dir, shards.ManifestName)); err == nil {
			t.Fatal("a refused merge wrote a manifest")
		}
	}
	t.Run("missing part", func(t *testing.T) {
		expect(t, parts(t, 4, 2, shards.Options{}), nil, "part 2 of 4 missing (no part-00002-of-00004.json")
	})
	t.Run("no parts", func(t *testing.T) {
		expect(t, t.TempDir(), nil, "no part manifests")
	})
	t.Run("parts of different splits", func(t *testing.T) {
		dir := parts(t, 4, -1, shards.Options{})
		write(t, dir, samples[:5], shards.Options{Part: shards.Part{Index: 1, Count: 8}})
		expect(t, dir, nil, "different numbers of parts")
	})
	t.Run("missing shard", func(t *testing.T) {
		dir := parts(t, 3, -1, shards.Options{})
		os.Remove(filepath.Join(dir, "part-00001-of-00003.arrow"))
		expect(t, dir, nil, "part-00001-of-00003.arrow: ")
	})
	t.Run("changed shard", func(t *testing.T) {
		dir := parts(t, 3, -1, shards.Options{})
		f, _ := os.OpenFile(filepath.Join(dir, "part-00001-of-00003.arrow"), os.O_APPEND|os.O_WRONLY, 0)
		f.Write([]byte("more"))
		f.Close()
		expect(t, dir, nil, "but the file holds")
	})
	t.Run("classes disagree", func(t *testing.T) {
		dir := parts(t, 3, 1, shards.Options{})
		other := meta
		other.Classes = []string{"a", "b", "c", "d"}
		w, err := shards.Create(dir, other, shards.Options{Part: shards.Part{Index: 1, Count: 3}})
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		expect(t, dir, nil, "has classes")
	})
	t.Run("sensor disagrees", func(t *testing.T) {
		dir := parts(t, 3, 1, shards.Options{})
		other := meta
		other.Geometry = events.Geometry{Width: 41, Height: 30}
		w, err := shards.Create(dir, other, shards.Options{Part: shards.Part{Index: 1, Count: 3}})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteSample(&samples[0]); err != nil {
			t.Fatal(err)
		}
		w.Close()
		expect(t, dir, nil, "give every job the same --sensor")
	})
	t.Run("parts and wholes", func(t *testing.T) {
		dir := parts(t, 2, -1, shards.Options{})
		whole := write(t, filepath.Join(t.TempDir(), "w"), samples, shards.Options{})
		expect(t, filepath.Join(t.TempDir(), "out"), []string{dir, whole}, "merge the parts first")
	})
}

// A rerun of a part replaces what the earlier run wrote, also files it no longer writes; other parts
// stay. Abort removes the part's files only.
func TestPartRerunAndAbort(t *testing.T) {
	samples := randomSamples(6, 40)
	dir := filepath.Join(t.TempDir(), "parts")
	p0, p1 := shards.Part{Index: 0, Count: 2}, shards.Part{Index: 1, Count: 2}
	write(t, dir, samples[:20], shards.Options{Part: p0, Samples: 2})
	write(t, dir, samples[20:], shards.Options{Part: p1, Samples: 3})
	os.WriteFile(filepath.Join(dir, ".part-00000-of-00002-00009.arrow.tmp-123"), []byte("a killed job's"), 0o644)
	write(t, dir, samples[:20], shards.Options{Part: p0, Samples: 8})
	names := listNames(t, dir)
	want := []string{"part-00000-of-00002-00000.arrow", "part-00000-of-00002-00001.arrow", "part-00000-of-00002-00002.arrow",
		"part-00000-of-00002.json"}
	for i := 0; i < 7; i++ {
		want = append(want, fmt.Sprintf("part-00001-of-00002-%05d.arrow", i))
	}
	want = append(want, "part-00001-of-00002.json")
	if !slices.Equal(names, want) {
		t.Fatalf("after the rerun the folder holds %v, want %v", names, want)
	}
	if _, err := shards.Merge(dir, nil); err != nil {
		t.Fatal(err)
	}
	sameSamples(t, "merged after a rerun", readAll(t, dir, formats.Options{}), samples)

	w, err := shards.Create(dir, meta, shards.Options{Part: shards.Part{Index: 0, Count: 3}, Samples: 2, ByLabel: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range samples {
		w.WriteSample(&samples[i])
	}
	w.Abort()
	want = append(want, shards.ManifestName)
	slices.Sort(want)
	if got := listNames(t, dir); !slices.Equal(got, want) {
		t.Fatalf("Abort left %v, want %v", got, want)
	}
}

func listNames(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(names)
	return names
}

// A whole dataset appears at Close only; Abort leaves nothing.
func TestWholeIsAtomic(t *testing.T) {
	samples := randomSamples(7, 20)
	tmp := t.TempDir()
	root := filepath.Join(tmp, "out")
	w, err := shards.Create(root, meta, shards.Options{Samples: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := range samples {
		if err := w.WriteSample(&samples[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(root); err == nil {
		t.Fatal("the folder appeared before Close")
	}
	w.Abort()
	if names := listNames(t, tmp); len(names) > 0 {
		t.Fatalf("Abort left %v", names)
	}
	write(t, root, samples, shards.Options{})
	if _, err := shards.Create(root, meta, shards.Options{}); err == nil {
		t.Fatal("Create over an existing dataset folder")
	}
	bad := samples[0]
	bad.Label = 4
	w, _ = shards.Create(filepath.Join(tmp, "bad"), meta, shards.Options{})
	if err := w.WriteSample(&bad); err == nil || !strings.Contains(err.Error(), "label 4") {
		t.Fatalf("label outside the classes: %v", err)
	}
	w.Abort()
}

// verify finds a changed shard by its checksum; a shard that is not the manifest's is refused on open.
func TestVerify(t *testing.T) {
	samples := randomSamples(8, 30)
	root := write(t, filepath.Join(t.TempDir(), "out"), samples, shards.Options{Samples: 10, Files: formats.Options{Compression: "none"}})
	verify := formats.Options{Params: map[string]string{"verify": "true"}}
	r, err := shards.Open(root, verify)
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Meta().Extra["sha256"]; v != "verified (3 shards)" {
		t.Errorf("Extra sha256 = %v", v)
	}
	r.Close()
	shard := filepath.Join(root, "part-00001.arrow")
	data, _ := os.ReadFile(shard)
	// Flip one byte of an event value: the file still decodes, only the checksum tells.
	i := bytes.LastIndex(data, []byte("ARROW1")) - 200
	data[i] ^= 1
	os.WriteFile(shard, data, 0o644)
	if _, err := shards.Open(root, verify); err == nil || !strings.Contains(err.Error(), "shard part-00001.arrow has sha256") {
		t.Fatalf("verify of a changed shard: %v", err)
	}
	// Another dataset's file in place of a shard.
	writeFile(t, shard, samples[:4])
	r, err = shards.Open(root, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var s events.Sample
	if err := r.ReadSample(15, &s); err == nil || !strings.Contains(err.Error(), "holds 4 samples, the manifest says 10") {
		t.Fatalf("reading a replaced shard: %v", err)
	}
}
