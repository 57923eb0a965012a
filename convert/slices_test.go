package convert

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/slicer"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/transforms"
)

// A recording cut by time windows becomes a dataset whose samples are exactly the windows' events
// (rebased); labelled intervals carry their labels; tensors from slices go to Arrow.
func TestConvertSlices(t *testing.T) {
	in := fixtures.Path(t, "aedat4/tonic_dvxplorer_sample.aedat4")
	src, _, err := formats.Open(in, "", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := events.ReadAll(src.Events)
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plan, err := sources.Discover([]string{in}, "")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "w.arrow")
	spec := &slicer.Spec{Window: 100_000, Overlap: 30_000, Rebase: true}
	res, err := Run(context.Background(), plan, out, Options{Slice: spec})
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := formats.Open(out, "", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ds := d.Samples
	t0, D := all.T[0], all.T[all.Len()-1]+1-all.T[0]
	K := int((D-100_000)/70_000 + 1)
	if ds.NumSamples() != K || res.Samples != K {
		t.Fatalf("%d slices, want %d", ds.NumSamples(), K)
	}
	var s events.Sample
	for k := 0; k < K; k++ {
		start := t0 + int64(k)*70_000
		want := all.TimeSlice(start, start+100_000)
		if err := ds.ReadSample(k, &s); err != nil {
			t.Fatal(err)
		}
		if s.Events.Len() != want.Len() || s.Label != events.NoLabel || !strings.HasSuffix(s.ID, "@"+itoa(start)+"-"+itoa(start+100_000)) {
			t.Fatalf("slice %d: %q, %d events, want %d", k, s.ID, s.Events.Len(), want.Len())
		}
		for i := range want.T {
			if s.Events.T[i] != want.T[i]-start || s.Events.X[i] != want.X[i] {
				t.Fatalf("slice %d event %d differs", k, i)
			}
		}
	}
	// Labelled intervals, as DVSGesture's CSV files give them.
	csv := filepath.Join(dir, "labels.csv")
	a, b := t0+10_000, t0+200_000
	os.WriteFile(csv, []byte("class,startTime_usec,endTime_usec\n3,"+itoa(a)+","+itoa(a+50_000)+"\n1,"+itoa(b)+","+itoa(b+5_000)+"\n"), 0o644)
	ivs, err := slicer.ReadIntervals(csv, true)
	if err != nil {
		t.Fatal(err)
	}
	out2 := filepath.Join(dir, "l.arrow")
	if _, err := Run(context.Background(), plan, out2, Options{Slice: &slicer.Spec{Intervals: ivs}}); err != nil {
		t.Fatal(err)
	}
	d2, _, _ := formats.Open(out2, "", formats.Options{})
	defer d2.Close()
	l := d2.Samples
	for i, iv := range ivs {
		if err := l.ReadSample(i, &s); err != nil {
			t.Fatal(err)
		}
		want := all.TimeSlice(iv.Start, iv.End)
		if s.Label != iv.Label || s.Events.Len() != want.Len() || s.Events.T[0] != want.T[0] {
			t.Fatalf("interval %d: label %d, %d events; want %d, %d", i, s.Label, s.Events.Len(), iv.Label, want.Len())
		}
	}
	// Slices through a chain ending in frames: one tensor per slice.
	frames, _ := transforms.Parse("frames(bins=2)")
	res, err = Run(context.Background(), plan, filepath.Join(dir, "t.arrow"), Options{Chain: frames, Slice: &slicer.Spec{Count: 30_000}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Samples != all.Len()/30_000 || res.Kind != "tensors" {
		t.Fatalf("tensor slices: %+v", res)
	}
	// A window longer than the recording makes nothing: an error, and no file.
	out3 := filepath.Join(dir, "none.arrow")
	if _, err := Run(context.Background(), plan, out3, Options{Slice: &slicer.Spec{Window: 10_000_000}}); err == nil {
		t.Fatal("no slices, no error")
	}
	if _, err := os.Stat(out3); !os.IsNotExist(err) {
		t.Fatal("an empty output was left behind")
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// The events after the last whole window are told (a Notice with their count), not dropped silently;
// keeping the last short window tells nothing.
func TestSliceLeftOutIsTold(t *testing.T) {
	in := fixtures.Path(t, "aedat4/tonic_dvxplorer_sample.aedat4")
	plan, err := sources.Discover([]string{in}, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, incomplete := range []bool{false, true} {
		var notes []formats.Notice
		o := Options{Slice: &slicer.Spec{Window: 100_000, IncludeIncomplete: incomplete},
			Format: formats.Options{Warn: func(n formats.Notice) { notes = append(notes, n) }}}
		res, err := Run(context.Background(), plan, filepath.Join(dir, strconv.FormatBool(incomplete)+".arrow"), o)
		if err != nil {
			t.Fatal(err)
		}
		// EXPECTED.md: 111,954 events; 100 ms windows keep 98,551 of them.
		switch {
		case !incomplete && (len(notes) != 1 || notes[0].Count != 111954-res.Events || notes[0].Kind != formats.Omitted || notes[0].Path != in):
			t.Errorf("whole windows only (%d events kept): notices %+v", res.Events, notes)
		case incomplete && (len(notes) != 0 || res.Events != 111954):
			t.Errorf("with the last short window: %d events, notices %+v", res.Events, notes)
		}
	}
}
