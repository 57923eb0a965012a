package prophesee

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/formattest"
)

// genEVT3Words appends EVT3 words for about n events in bursts like a real HD sensor: a TIME_HIGH every
// 4096 µs, a TIME_LOW per burst, rows addressed by ADDR_Y, then single ADDR_X events and vectors.
func genEVT3Words(dst []byte, rng *rand.Rand, n int, t0 int64) ([]byte, int64) {
	put := func(w uint16) { dst = binary.LittleEndian.AppendUint16(dst, w) }
	t := t0
	for emitted := 0; emitted < n; {
		t += int64(rng.IntN(3))
		put(0x8000 | uint16(t>>12&0xFFF))
		put(0x6000 | uint16(t&0xFFF))
		for row := 0; row < 4; row++ {
			put(uint16(rng.IntN(720)))
			for k := 0; k < 3; k++ {
				put(0x2000 | uint16(rng.IntN(2))<<11 | uint16(rng.IntN(1280)))
				emitted++
			}
			put(0x3000 | uint16(rng.IntN(2))<<11 | uint16(rng.IntN(1200)))
			m := uint16(rng.IntN(1 << 12))
			put(0x4000 | m)
			m8 := uint16(rng.IntN(1 << 8))
			put(0x5000 | m8)
			emitted += popcount(m) + popcount(m8)
		}
	}
	return dst, t
}

func popcount(v uint16) int {
	c := 0
	for ; v != 0; v &= v - 1 {
		c++
	}
	return c
}

const evt3BenchHeader = "% evt 3.0\n% format EVT3;height=720;width=1280\n% end\n"

func benchRead(b *testing.B, data []byte, want int, open func(io.Reader) (events.Reader, error)) {
	formattest.BenchRead(b, data, want, open)
}

func benchEvents(n int) *events.Batch {
	rng := rand.New(rand.NewPCG(7, 8))
	out := events.NewBatch(n)
	var t int64
	for i := 0; i < n; i++ {
		t += int64(rng.IntN(2))
		out.Append(t, uint16(rng.IntN(1280)), uint16(rng.IntN(720)), uint8(rng.IntN(2)))
	}
	return out
}

var benchMeta = events.Meta{Geometry: events.Geometry{Width: 1280, Height: 720}}

func BenchmarkEVT2Read(b *testing.B) {
	var buf bytes.Buffer
	w, _ := NewEVT2Writer(&buf, "b.raw", benchMeta, formats.Options{})
	w.Write(benchEvents(2_000_000))
	w.Close()
	benchRead(b, buf.Bytes(), 2_000_000, func(r io.Reader) (events.Reader, error) {
		return NewRawReader(r, "b.raw", formats.Options{})
	})
}

func BenchmarkEVT3Read(b *testing.B) {
	data, _ := genEVT3Words([]byte(evt3BenchHeader), rand.New(rand.NewPCG(1, 1)), 2_000_000, 0)
	r, _ := NewRawReader(bytes.NewReader(data), "b.raw", formats.Options{})
	all, _ := events.ReadAll(r)
	benchRead(b, data, all.Len(), func(r io.Reader) (events.Reader, error) {
		return NewRawReader(r, "b.raw", formats.Options{})
	})
}

func BenchmarkDATRead(b *testing.B) {
	var buf bytes.Buffer
	w, _ := NewDATWriter(&buf, "b.dat", benchMeta, formats.Options{})
	w.Write(benchEvents(2_000_000))
	w.Close()
	benchRead(b, buf.Bytes(), 2_000_000, func(r io.Reader) (events.Reader, error) {
		return NewDATReader(r, "b.dat", formats.Options{})
	})
}

func BenchmarkEVT2Write(b *testing.B) {
	ev := benchEvents(1_000_000)
	b.ReportAllocs()
	cpu0 := formattest.CPUSeconds()
	for i := 0; i < b.N; i++ {
		w, _ := NewEVT2Writer(io.Discard, "b.raw", benchMeta, formats.Options{})
		w.Write(ev)
		w.Close()
	}
	formattest.ReportRate(b, float64(ev.Len())*float64(b.N), cpu0)
}

// BenchmarkEVT3BigFile streams a generated ~2 GB EVT3 file through the reader and reports the peak Go
// heap and the process's peak RSS. It writes to $TMPDIR and deletes the file afterwards. It runs only
// with EVTOOL_BIG=1 (GB_SIZE=<GB> to change the size): go test -run '^$' -bench EVT3BigFile -benchtime 1x
func BenchmarkEVT3BigFile(b *testing.B) {
	if os.Getenv("EVTOOL_BIG") != "1" {
		b.Skip("set EVTOOL_BIG=1 to stream a generated ~2 GB EVT3 file")
	}
	size := int64(2 << 30)
	if s, err := strconv.ParseFloat(os.Getenv("GB_SIZE"), 64); err == nil {
		size = int64(s * (1 << 30))
	}
	path := filepath.Join(b.TempDir(), "big.raw")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(path)
	bw := bufio.NewWriterSize(f, 1<<20)
	bw.WriteString(evt3BenchHeader)
	rng := rand.New(rand.NewPCG(5, 6))
	var chunk []byte
	var t int64
	for written := int64(0); written < size; written += int64(len(chunk)) {
		chunk, t = genEVT3Words(chunk[:0], rng, 1<<16, t)
		bw.Write(chunk)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ResetTimer()
	var peakHeap uint64
	var n int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		r, err := OpenRaw(path, formats.Options{})
		if err != nil {
			b.Fatal(err)
		}
		buf := events.NewBatch(1 << 16)
		var ms runtime.MemStats
		for k := 0; ; k++ {
			err := r.Read(buf)
			n += int64(buf.Len())
			if k%256 == 0 {
				runtime.ReadMemStats(&ms)
				peakHeap = max(peakHeap, ms.HeapInuse)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		r.Close()
	}
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peakRSS())/(1<<10), "peak-RSS-MiB")
	b.ReportMetric(float64(n)/time.Since(start).Seconds()/1e6, "Mev/s")
	b.ReportMetric(float64(size)/(1<<30), "file-GiB")
}

// peakRSS returns VmHWM from /proc/self/status in KiB (0 where unavailable).
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return v
		}
	}
	return 0
}
