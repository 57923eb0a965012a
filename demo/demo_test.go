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
	if res.Samples != 40 || res.Events == 0 || res.BytesPerEvent <= 0 || res.BytesPerEvent > 5 {
		t.Fatalf("result = %+v", res)
	}
	if !strings.Contains(log.String(), "evtool info") {
		t.Fatalf("the tour should print the commands a user would type:\n%s", log.String())
	}
}
