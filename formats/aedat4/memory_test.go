package aedat4

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// TestLargeFileMemory writes an AEDAT 4 file of EVTOOL_AEDAT4_BIG_GB gigabytes (LZ4) in a temporary
// directory, streams it back through the reader and logs the peak Go heap and the peak RSS. It is
// skipped unless that variable is set, because it takes minutes and gigabytes of disk:
//
//	EVTOOL_AEDAT4_BIG_GB=2 go test -run LargeFileMemory -v ./formats/aedat4/
func TestLargeFileMemory(t *testing.T) {
	gb, err := strconv.ParseFloat(os.Getenv("EVTOOL_AEDAT4_BIG_GB"), 64)
	if err != nil || gb <= 0 {
		t.Skip("set EVTOOL_AEDAT4_BIG_GB to run")
	}
	g := events.Geometry{Width: 640, Height: 480}
	path := filepath.Join(t.TempDir(), "big.aedat4") // removed by the test framework
	w, err := Create(path, g, WriterOptions{Compression: "lz4"})
	if err != nil {
		t.Fatal(err)
	}
	chunk := randomBatch(rand.New(rand.NewPCG(9, 9)), 1<<20, g)
	span := chunk.T[chunk.Len()-1] + 1
	target := int64(gb * (1 << 30))
	var written int64
	for written < target { // an estimate: the actual size is logged at the end
		if err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		written += int64(chunk.Len()) * 9 // ≈ LZ4-compressed bytes per random event
		for i := range chunk.T {
			chunk.T[i] += span
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	base := rssKB()

	r, err := Open(path, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := events.NewBatch(1 << 16)
	var n int64
	var peakHeap uint64
	var ms runtime.MemStats
	for i := 0; ; i++ {
		err := r.Read(buf)
		n += int64(buf.Len())
		if i%256 == 0 {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
		}
		if err != nil {
			break
		}
	}
	t.Logf("file %.2f GB, %d events read; peak heap in use while reading %.1f MB; RSS before reading %d MB, peak RSS of the process %d MB",
		float64(st.Size())/(1<<30), n, float64(peakHeap)/(1<<20), base/1024, peakRSSKB()/1024)
}

// rssKB and peakRSSKB read /proc/self/status (Linux); they return 0 elsewhere.
func rssKB() int64     { return procStatus("VmRSS:") }
func peakRSSKB() int64 { return procStatus("VmHWM:") }

func procStatus(key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v
		}
	}
	return 0
}
