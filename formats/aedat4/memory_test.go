package aedat4

import (
	"io"
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

// memoryBound is what reading may hold at any time, whatever the file's size: the read window, one
// packet's payload, one batch of events, the decoder state.
const memoryBound = 16 << 20

// TestLargeFileMemory writes an AEDAT 4 file (LZ4) of 96 MiB — or EVTOOL_AEDAT4_BIG_GB gigabytes — in a
// temporary folder, streams it back, and checks that every event comes back and that neither the Go heap
// in use nor the process's resident memory grows by more than memoryBound while reading: memory stays
// constant in the file's length.
//
//	EVTOOL_AEDAT4_BIG_GB=2 go test -run LargeFileMemory -v ./formats/aedat4/
func TestLargeFileMemory(t *testing.T) {
	target := int64(96 << 20)
	if gb, err := strconv.ParseFloat(os.Getenv("EVTOOL_AEDAT4_BIG_GB"), 64); err == nil && gb > 0 {
		target = int64(gb * (1 << 30))
	}
	g := events.Geometry{Width: 640, Height: 480}
	path := filepath.Join(t.TempDir(), "big.aedat4") // removed by the test framework
	w, err := Create(path, events.Meta{Geometry: g}, formats.Options{Compression: "lz4"})
	if err != nil {
		t.Fatal(err)
	}
	chunk := randomBatch(rand.New(rand.NewPCG(9, 9)), 1<<20, g)
	span := chunk.T[chunk.Len()-1] + 1
	var written int64
	for written*9 < target { // ≈ 9 bytes per random event once LZ4-compressed; the actual size is logged
		if err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		written += int64(chunk.Len())
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
	chunk = nil
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap0, rss0 := ms.HeapInuse, rssKB()

	r, err := Open(path, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := events.NewBatch(1 << 16)
	var n int64
	var peakHeap uint64
	var peakRSS int64
	for i := 0; ; i++ {
		err := r.Read(buf)
		n += int64(buf.Len())
		if i%64 == 0 {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
			peakRSS = max(peakRSS, rssKB())
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("file %.0f MiB, %d events; heap in use %.1f → peak %.1f MiB; RSS %d → peak %d MiB",
		float64(st.Size())/(1<<20), n, float64(heap0)/(1<<20), float64(peakHeap)/(1<<20), rss0/1024, peakRSS/1024)
	if n != written {
		t.Fatalf("read %d events, wrote %d", n, written)
	}
	if grow := int64(peakHeap) - int64(heap0); grow > memoryBound {
		t.Errorf("the heap in use grew by %d MiB while reading a %d MiB file", grow>>20, st.Size()>>20)
	}
	if rss0 > 0 && (peakRSS-rss0)*1024 > memoryBound {
		t.Errorf("resident memory grew by %d MiB while reading a %d MiB file", (peakRSS-rss0)/1024, st.Size()>>20)
	}
}

// rssKB reads VmRSS from /proc/self/status (Linux); it returns 0 elsewhere, and the RSS check is skipped.
func rssKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v
		}
	}
	return 0
}
