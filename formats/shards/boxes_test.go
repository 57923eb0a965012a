package shards_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/formattest"
	"github.com/evtool/evtool/formats/shards"
)

var (
	boxClasses = []string{"car", "pedestrian"}
	boxedMeta  = func() events.Meta {
		m := meta
		m.Boxes, m.BoxClasses = true, boxClasses
		return m
	}()
)

// boxedSamples are randomSamples with none, one or several boxes each.
func boxedSamples(seed uint64, n int) []events.Sample {
	out := randomSamples(seed, n)
	rng := rand.New(rand.NewPCG(seed, 2))
	for i := range out {
		out[i].Boxes = formattest.RandomBoxes(rng, rng.IntN(4), sensor, len(boxClasses))
	}
	return out
}

// sameBoxedSamples is sameSamples with the boxes compared too.
func sameBoxedSamples(t *testing.T, what string, got, want []events.Sample) {
	t.Helper()
	sameSamples(t, what, got, want)
	for i := range want {
		if !slices.Equal(got[i].Boxes, want[i].Boxes) {
			t.Fatalf("%s: sample %d (%q) has boxes %+v, want %+v", what, i, want[i].ID, got[i].Boxes, want[i].Boxes)
		}
	}
}

// A dataset with boxes written as Arrow shards — several shards, label partitions, parts of an array job
// merged — reads back sample for sample as the single .arrow file does, boxes included, and its reader
// and manifest say it has boxes of these classes.
func TestBoxesInArrowShards(t *testing.T) {
	samples := boxedSamples(11, 90)
	tmp := t.TempDir()
	single := filepath.Join(tmp, "single.arrow")
	writeFileWith(t, single, boxedMeta, samples)
	_, _, want := readSource(t, single, formats.Options{})
	sameBoxedSamples(t, "the single .arrow file", want, samples)

	check := func(t *testing.T, root string) {
		t.Helper()
		m, _, got := readSource(t, root, formats.Options{})
		sameBoxedSamples(t, root, got, want)
		if !m.Boxes || !slices.Equal(m.BoxClasses, boxClasses) {
			t.Fatalf("reader meta: boxes %v, classes %q; want true, %q", m.Boxes, m.BoxClasses, boxClasses)
		}
		if man := manifestOf(t, root); !man.Boxes || !slices.Equal(man.BoxClasses, boxClasses) {
			t.Fatalf("manifest: boxes %v, classes %q; want true, %q", man.Boxes, man.BoxClasses, boxClasses)
		}
		// Random access in any order gives each sample's boxes from its shard.
		r, err := shards.Open(root, formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var s events.Sample
		for _, i := range rand.New(rand.NewPCG(5, 6)).Perm(len(want)) {
			if err := r.ReadSample(i, &s); err != nil {
				t.Fatal(err)
			}
			sameBoxedSamples(t, fmt.Sprintf("random access to %d", i), []events.Sample{s}, want[i:i+1])
		}
	}
	for _, o := range []shards.Options{{Samples: 7}, {Bytes: 3000}, {ByLabel: true, Samples: 4}} {
		t.Run(fmt.Sprintf("size%d-bytes%d-label%v", o.Samples, o.Bytes, o.ByLabel), func(t *testing.T) {
			root := writeWith(t, filepath.Join(t.TempDir(), "out"), boxedMeta, samples, o)
			if n := len(manifestOf(t, root).Shards); n < 3 {
				t.Fatalf("%d shards; the test wants several", n)
			}
			check(t, root)
		})
	}
	t.Run("2 parts merged", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "parts")
		for i := 1; i >= 0; i-- {
			p := shards.Part{Index: i, Count: 2}
			lo, hi := p.Range(len(samples))
			writeWith(t, dir, boxedMeta, samples[lo:hi], shards.Options{Part: p, Samples: 10})
		}
		if _, err := shards.Merge(dir, nil); err != nil {
			t.Fatal(err)
		}
		check(t, dir)
	})
	t.Run("shard folder and arrow file merged", func(t *testing.T) {
		a := writeWith(t, filepath.Join(t.TempDir(), "a"), boxedMeta, samples[:40], shards.Options{Samples: 9})
		b := filepath.Join(t.TempDir(), "b.arrow")
		writeFileWith(t, b, boxedMeta, samples[40:])
		out := filepath.Join(t.TempDir(), "ab")
		if _, err := shards.Merge(out, []string{a, b}); err != nil {
			t.Fatal(err)
		}
		check(t, out)
	})
}

// Boxes are never dropped: Parquet shards refuse a dataset with boxes (naming .arrow), and a dataset
// created without boxes refuses a sample that has some.
func TestBoxesRefused(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	_, err := shards.Create(root, boxedMeta, shards.Options{Format: "parquet"})
	if err == nil || !strings.Contains(err.Error(), "cannot store them: write .arrow") {
		t.Fatalf("parquet shards with boxes: %v; want a refusal naming .arrow", err)
	}
	if _, serr := os.Stat(root); serr == nil {
		t.Fatal("the refused writer left its folder")
	}
	// The registry's format says the same for the shards format with parquet shards.
	sf, err := formats.Lookup("shards")
	if err != nil {
		t.Fatal(err)
	}
	pq := formats.Options{Params: map[string]string{"shard-format": "parquet"}}
	var out events.Meta
	err = sf.CarryBoxes(&out, boxedMeta, pq)
	if err == nil || !strings.Contains(err.Error(), "format shards of parquet files cannot store them: write .arrow, or shards of arrow files") {
		t.Fatalf("CarryBoxes to parquet shards: %v", err)
	}
	if sf.StoresBoxes(pq) || !sf.StoresBoxes(formats.Options{}) {
		t.Fatalf("shards store boxes: %v with parquet shards, %v with arrow ones; want false, true", sf.StoresBoxes(pq), sf.StoresBoxes(formats.Options{}))
	}
	if err := sf.CarryBoxes(&out, boxedMeta, formats.Options{}); err != nil || !out.Boxes || !slices.Equal(out.BoxClasses, boxClasses) {
		t.Fatalf("CarryBoxes to arrow shards: %v, %+v", err, out)
	}

	for _, format := range []string{"arrow", "parquet"} {
		w, err := shards.Create(filepath.Join(t.TempDir(), "out"), meta, shards.Options{Format: format})
		if err != nil {
			t.Fatal(err)
		}
		s := boxedSamples(12, 1)[0]
		s.Boxes = append(s.Boxes, events.Box{T: 1, W: 1, H: 1})
		if err := w.WriteSample(&s); err == nil || !strings.Contains(err.Error(), "created without boxes") {
			t.Errorf("%s shards without boxes took a sample with boxes: %v", format, err)
		}
		w.Abort()
	}
}

// Merge refuses parts that disagree on boxes: some with boxes and some without, or other box classes.
func TestMergeRefusesBoxes(t *testing.T) {
	samples := boxedSamples(13, 20)
	plain := randomSamples(13, 20)
	other := boxedMeta
	other.BoxClasses = []string{"car", "truck"}
	for _, c := range []struct {
		name   string
		second events.Meta
		s      []events.Sample
		want   string
	}{
		{"boxes and none", meta, plain, "part-00001-of-00002.json has no boxes but"},
		{"box classes", other, samples, `has box classes ["car" "truck"] but`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "parts")
			writeWith(t, dir, boxedMeta, samples[:10], shards.Options{Part: shards.Part{Index: 0, Count: 2}})
			writeWith(t, dir, c.second, c.s[10:], shards.Options{Part: shards.Part{Index: 1, Count: 2}})
			_, err := shards.Merge(dir, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "merged parts must agree") {
				t.Fatalf("merge: %v; want an error saying %q", err, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, shards.ManifestName)); err == nil {
				t.Fatal("a refused merge wrote a manifest")
			}
		})
	}
}

// A manifest that says no boxes over shards that have them (or other box classes) is refused when the
// shard opens, not read as if the boxes were not there.
func TestReaderChecksShardBoxes(t *testing.T) {
	root := writeWith(t, filepath.Join(t.TempDir(), "out"), boxedMeta, boxedSamples(14, 10), shards.Options{Samples: 4})
	for _, c := range []struct {
		edit func(m *shards.Manifest)
		want string
	}{
		{func(m *shards.Manifest) { m.Boxes, m.BoxClasses = false, nil }, "has boxes, the manifest says it has no boxes"},
		{func(m *shards.Manifest) { m.BoxClasses = []string{"a", "b"} }, "names box classes"},
	} {
		m := manifestOf(t, root)
		c.edit(m)
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		// The edited manifest beside copies of the shards.
		dir := t.TempDir()
		path := filepath.Join(dir, shards.ManifestName)
		for _, s := range m.Shards {
			data, err := os.ReadFile(filepath.Join(root, s.File))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, s.File), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := shards.Open(dir, formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var s events.Sample
		err = r.ReadSample(0, &s)
		r.Close()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("read: %v; want an error saying %q", err, c.want)
		}
	}
}
