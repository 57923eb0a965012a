package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The quick tour (the one CI runs) does every step on the shipped data: it unpacks the real recordings
// byte for byte as N-MNIST ships them, synthesises 300 digits, trains on them for 3 epochs and tests on
// the 80 real recordings, well above chance.
func TestQuickDemo(t *testing.T) {
	var log bytes.Buffer
	dir := t.TempDir()
	res, err := Run(context.Background(), Options{Dir: dir, Quick: true, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v\n%s", res, log.String())
	if res.Digits != 500 || res.RealSamples != realRecordings || res.RealEvents != 304909 ||
		res.SynthEvents < 500*2000 || res.BytesPerEvent <= 0 || res.BytesPerEvent > 5 {
		t.Fatalf("result = %+v", res)
	}
	// Far above chance (10 %), from synthetic events alone.
	if res.RealAccuracy < 0.4 {
		t.Fatalf("real test accuracy %.3f; want ≥ 0.4", res.RealAccuracy)
	}
	for _, f := range []string{res.Synth, res.Real, res.Model, res.GIF, "N-MNIST/Test/7/00001.bin", "mnist/" + digitsImages, "shipped/" + realFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Fatalf("%s was not written: %v", f, err)
		}
	}
	// The real recordings come out as N-MNIST's files.
	n, _ := filepath.Glob(filepath.Join(dir, "N-MNIST", "Test", "*", "*.bin"))
	if len(n) != realRecordings {
		t.Fatalf("%d .bin files unpacked", len(n))
	}
	for _, want := range []string{"evtool synth", "evtool convert", "evtool info", "evtool train", "evtool eval", "evtool render"} {
		if !strings.Contains(log.String(), want) {
			t.Fatalf("the tour should print the commands a user would type (%q):\n%s", want, log.String())
		}
	}
}
