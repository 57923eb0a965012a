package demo

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

func TestQuickDemo(t *testing.T) {
	var log bytes.Buffer
	res, err := Run(context.Background(), Options{OutDir: t.TempDir(), Quick: true, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if res.TrainSamples != 2000 || res.TestSamples != 400 || res.Events < 2000*1000 || res.BytesPerEvent <= 0 || res.BytesPerEvent > 5 {
		t.Fatalf("result = %+v", res)
	}
	// Far above chance (10 %): the synthetic digits are learnable by the spiking network.
	if res.Accuracy < 0.7 || res.Classes != 10 {
		t.Fatalf("test accuracy %.3f over %d classes; want ≥ 0.7", res.Accuracy, res.Classes)
	}
	if fi, err := os.Stat(res.GIF); err != nil || fi.Size() == 0 {
		t.Fatalf("no predictions GIF: %v", err)
	}
	for _, want := range []string{"evtool synth", "evtool info", "evtool train", "evtool eval", "evtool render"} {
		if !strings.Contains(log.String(), want) {
			t.Fatalf("the tour should print the commands a user would type (%q):\n%s", want, log.String())
		}
	}
}
