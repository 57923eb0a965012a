package shards

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
)

// A reader told it is read in order keeps one plain shard open (one per interleaved label partition),
// not minOpen, and reads the same samples.
func TestSequentialKeepsWhatOrderNeeds(t *testing.T) {
	meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 8, Height: 8}, Classes: []string{"a", "b", "c"}}
	for _, c := range []struct {
		o    Options
		keep int
	}{
		{Options{Samples: 2}, 1},
		{Options{Samples: 2, ByLabel: true}, 3}, // labels alternate: three shards interleave
	} {
		dir := filepath.Join(t.TempDir(), "set")
		w, err := Create(dir, meta, c.o)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 24; i++ {
			s := events.Sample{Label: int32(i % 3), ID: fmt.Sprint(i)}
			s.Events.Append(int64(i), uint16(i%8), 1, 1)
			if err := w.WriteSample(&s); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := Open(dir, defaultOptions)
		if err != nil {
			t.Fatal(err)
		}
		r.Sequential()
		var s events.Sample
		for i := 0; i < r.NumSamples(); i++ {
			if err := r.ReadSample(i, &s); err != nil {
				t.Fatal(err)
			}
			if s.ID != fmt.Sprint(i) || s.Events.T[0] != int64(i) {
				t.Fatalf("%+v: sample %d reads as %q at %d", c.o, i, s.ID, s.Events.T[0])
			}
			if len(r.open) > c.keep {
				t.Fatalf("%+v: %d shards open after sample %d, want at most %d", c.o, len(r.open), i, c.keep)
			}
		}
		r.Close()
	}
}
