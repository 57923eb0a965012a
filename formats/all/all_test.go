package all_test

import (
	"testing"

	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/formats/formattest"
)

// TestEveryFormat runs the conformance kit on every registered format: registering a format puts it
// under test. One format: go test ./formats/all -run 'TestEveryFormat/nmnist'.
func TestEveryFormat(t *testing.T) {
	all := formats.All()
	if len(all) == 0 {
		t.Fatal("no format is registered")
	}
	for _, f := range all {
		t.Run(f.Name, func(t *testing.T) { formattest.Run(t, f) })
	}
}
