package convert

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/sources"
)

// Several dataset files convert into one dataset holding all their samples, in order, ids prefixed by
// the file they came from; files that disagree on classes or sensor are refused.
func TestMergeDatasets(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.arrow"), filepath.Join(dir, "b.arrow")
	for in, out := range map[string]string{"nmnist/Train": a, "nmnist/Test": b} {
		plan, err := sources.Discover([]string{fixtures.Path(t, in)}, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Run(context.Background(), plan, out, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := sources.Discover([]string{a, b}, "")
	if err != nil {
		t.Fatal(err)
	}
	merged := filepath.Join(dir, "ab.arrow")
	res, err := Run(context.Background(), plan, merged, Options{})
	if err != nil {
		t.Fatal(err)
	}
	open := func(p string) events.SampleReader {
		src, _, err := formats.Open(p, "", formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { src.Close() })
		return src.Samples
	}
	ra, rb, rm := open(a), open(b), open(merged)
	if rm.NumSamples() != ra.NumSamples()+rb.NumSamples() || res.Samples != rm.NumSamples() {
		t.Fatalf("%d samples merged from %d + %d", rm.NumSamples(), ra.NumSamples(), rb.NumSamples())
	}
	if got := rm.Meta().Classes; strings.Join(got, ",") != strings.Join(ra.Meta().Classes, ",") {
		t.Fatalf("classes %v", got)
	}
	var want, got events.Sample
	for i := 0; i < rm.NumSamples(); i++ {
		src, j, name := ra, i, "a.arrow/"
		if i >= ra.NumSamples() {
			src, j, name = rb, i-ra.NumSamples(), "b.arrow/"
		}
		if err := src.ReadSample(j, &want); err != nil {
			t.Fatal(err)
		}
		if err := rm.ReadSample(i, &got); err != nil {
			t.Fatal(err)
		}
		// Class names are "0".."9" in both: the union keeps Train's order, so labels map by name.
		if src == rb {
			want.Label = int32(slices.Index(rm.Meta().Classes, rb.Meta().Classes[want.Label]))
		}
		if got.ID != name+want.ID || got.Label != want.Label || !got.Events.Equal(&want.Events) {
			t.Fatalf("merged sample %d: %q label %d, %d events; want %q label %d, %d events", i, got.ID, got.Label,
				got.Events.Len(), name+want.ID, want.Label, want.Events.Len())
		}
	}
	// A cropped dataset has another sensor size: refused.
	plan, _ = sources.Discover([]string{fixtures.Path(t, "nmnist/Train")}, "")
	c := filepath.Join(dir, "c.arrow")
	if _, err := Run(context.Background(), plan, c, Options{Format: formats.Options{Sensor: events.Geometry{Width: 40, Height: 40}}}); err != nil {
		t.Fatal(err)
	}
	plan, _ = sources.Discover([]string{a, c}, "")
	if _, err := Run(context.Background(), plan, filepath.Join(dir, "ac.arrow"), Options{}); err == nil || !strings.Contains(err.Error(), "must agree") {
		t.Fatalf("merging different sensors: %v", err)
	}
	plan, _ = sources.Discover([]string{a, fixtures.Path(t, "nmnist/Train/0/00002.bin")}, "")
	if _, err := Run(context.Background(), plan, filepath.Join(dir, "ax.arrow"), Options{}); err == nil || !strings.Contains(err.Error(), "recording") {
		t.Fatalf("merging a dataset and a recording: %v", err)
	}
}
