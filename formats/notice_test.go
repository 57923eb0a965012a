package formats

import (
	"errors"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
)

func TestNotifyAndTally(t *testing.T) {
	var tally Tally
	o := Options{Warn: tally.Add}
	lost := Notice{Path: "a.aedat4", Kind: Lost, What: "damaged packets skipped", Count: 1, Events: -1}
	for _, off := range []int64{120, 4000, 9000} {
		n := lost
		n.Offset = off
		if err := o.Notify(n); err != nil {
			t.Fatal(err)
		}
	}
	w := NewWatch("b.raw", Altered, "timestamps clamped")
	for _, c := range []struct{ count, off int64 }{{0, 0}, {4, 64}, {4, 128}, {10, 256}} {
		if err := w.Check(o, c.count, c.off); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(tally.Lines(), "\n")
	want := "a.aedat4: damaged packets skipped: 3, at bytes 120, 4000 and 9000 (the events in them are lost)\n" +
		"b.raw: timestamps clamped: 10, in the data from bytes 64 and 256"
	if got != want {
		t.Fatalf("tally:\n%s\nwant:\n%s", got, want)
	}
	if !tally.HasLoss() {
		t.Fatal("HasLoss is false after a lost packet")
	}

	// Strict: a loss is an error naming the file and offset; an alteration is still only a warning.
	strict := Options{Strict: true, Warn: tally.Add}
	err := strict.Notify(Notice{Path: "c.dat", Offset: 77, Kind: Lost, What: "events outside the sensor dropped", Count: 5})
	var de *events.DecodeError
	if !errors.Is(err, ErrLoss) || !errors.As(err, &de) || de.Path != "c.dat" || de.Offset != 77 {
		t.Fatalf("strict loss: %v", err)
	}
	if err := strict.Notify(Notice{Path: "c.dat", Kind: Altered, What: "timestamps clamped", Count: 1}); err != nil {
		t.Fatalf("strict alteration: %v", err)
	}
	// No listener: nothing happens, nothing fails.
	if err := (Options{}).Notify(lost); err != nil {
		t.Fatal(err)
	}
}

func TestTallyManyPackets(t *testing.T) {
	var tally Tally
	for i := int64(0); i < 8; i++ {
		tally.Add(Notice{Path: "x", Offset: 100 * i, Kind: Lost, What: "damaged packets skipped", Count: 1, Events: 50})
	}
	want := "x: damaged packets skipped: 8, the first at bytes 0, 100, 200, 300 and 400 (400 events lost with them)"
	if got := tally.Lines(); len(got) != 1 || got[0] != want {
		t.Fatalf("%q; want %q", got, want)
	}
}
