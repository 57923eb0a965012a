package sysmem

import (
	"runtime"
	"testing"
)

// On the systems evtool's tests run on, the total is known and plausible.
func TestTotal(t *testing.T) {
	n := Total()
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" && runtime.GOOS != "windows" {
		t.Skipf("no memory query on %s", runtime.GOOS)
	}
	if n < 256<<20 || n > 1<<50 {
		t.Fatalf("Total() = %d bytes", n)
	}
	if p := physical(); p > 0 && n > p {
		t.Fatalf("Total %d is more than the physical %d", n, p)
	}
}
