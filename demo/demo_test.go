package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestQuickDemo(t *testing.T) {
	var log bytes.Buffer
	res, err := Run(context.Background(), Options{OutDir: t.TempDir(), Quick: true, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if res.TrainSamples != 600 || res.TestSamples != 200 || res.Events < 600*1000 || res.BytesPerEvent <= 0 || res.BytesPerEvent > 5 {
		t.Fatalf("result = %+v", res)
	}
	for _, want := range []string{"evtool synth", "evtool info"} {
		if !strings.Contains(log.String(), want) {
			t.Fatalf("the tour should print the commands a user would type (%q):\n%s", want, log.String())
		}
	}
}
