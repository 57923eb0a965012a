package datasets

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/nmnist"
	"github.com/evtool/evtool/internal/fixtures"
)

// BenchmarkPrepareNMNISTTree prepares a generated N-MNIST-sized tree: 60,000 .bin files of ~4,100
// events in Train/<digit>/ (set EVTOOL_BENCH_FILES to change the count). It reports samples/s on all cores.
func BenchmarkPrepareNMNISTTree(b *testing.B) {
	n := 60000
	if v := os.Getenv("EVTOOL_BENCH_FILES"); v != "" {
		fmt.Sscan(v, &n)
	}
	root := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	ev := events.NewBatch(8000)
	for i := 0; i < n; i++ {
		ev.Reset()
		m := 2000 + rng.IntN(4200)
		var t int64
		for j := 0; j < m; j++ {
			t += rng.Int64N(150)
			ev.Append(t, uint16(rng.IntN(34)), uint16(rng.IntN(34)), uint8(rng.IntN(2)))
		}
		p := filepath.Join(root, "Train", fmt.Sprint(i%10), fmt.Sprintf("%05d.bin", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		w, err := nmnist.Create(p, events.Meta{}, formats.Options{})
		if err != nil {
			b.Fatal(err)
		}
		w.Write(ev)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	out := filepath.Join(b.TempDir(), "train.arrow")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		os.Remove(out)
		res, err := prepare(registry["nmnist"], root, out, Selection{Split: "train"}, 0)
		if err != nil {
			b.Fatal(err)
		}
		if res.Samples != n {
			b.Fatalf("%d samples", res.Samples)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

var peerTimed bool // the peer's timing runs once, not once per b.N round

// BenchmarkPrepareSHD prepares an SHD-like file written with h5py: 10,000 samples of ~5,000 spikes
// (EVTOOL_BENCH_SAMPLES and EVTOOL_BENCH_SPIKES change them), to a dataset file with the compression of
// EVTOOL_BENCH_COMPRESSION (zstd by default), and reports events/s on all cores. With -v it also times
// the peer's read path (tonic's SHD.__getitem__ through h5py) over the same file.
func BenchmarkPrepareSHD(b *testing.B) {
	py, dir, spikes := shdBenchFile(b)
	def := registry["shd"]
	dst := filepath.Join(b.TempDir(), "shd.arrow")
	// A fixed source, so that the output (its digest logged below) does not depend on the temporary folder.
	o := convert.Options{Source: "shd-bench", Format: formats.Options{Compression: os.Getenv("EVTOOL_BENCH_COMPRESSION")}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// The last run's output goes first, untimed: freeing a 158 MB file's blocks is no part of a conversion.
		b.StopTimer()
		os.Remove(dst)
		b.StartTimer()
		plan, err := Inputs(def, dir, Selection{Split: "train"})
		if err != nil {
			b.Fatal(err)
		}
		res, err := convert.Run(context.Background(), plan, dst, o)
		if err != nil {
			b.Fatal(err)
		}
		if res.Events != spikes {
			b.Fatalf("%d events, want %d", res.Events, spikes)
		}
	}
	b.ReportMetric(float64(spikes)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
	b.StopTimer()
	if testing.Verbose() {
		// The output's digest, to compare before and after a change that must not alter a byte.
		f, err := os.ReadFile(dst)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("output sha256 %x (%d bytes)", sha256.Sum256(f), len(f))
	}
	if testing.Verbose() && !peerTimed {
		peerTimed = true
		peer, err := exec.Command(py, "testdata/shd_bench_tonic.py", filepath.Join(dir, "shd_train.h5")).Output()
		if err != nil {
			b.Fatal(err)
		}
		var evs int64
		var secs float64
		fmt.Sscan(string(peer), &evs, &secs)
		b.Logf("peer (tonic's SHD read path via h5py): %d events in %.2f s = %.2f M events/s (read only, nothing written)", evs, secs, float64(evs)/secs/1e6)
	}
}

// shdBenchFile writes the SHD-like file of the benchmarks with h5py: 10,000 samples of ~5,000 spikes
// (EVTOOL_BENCH_SAMPLES and EVTOOL_BENCH_SPIKES change them). It returns the Python interpreter, the
// file's folder and its number of spikes.
func shdBenchFile(b *testing.B) (py, dir string, spikes int64) {
	n, mean := 10000, 5000
	if v := os.Getenv("EVTOOL_BENCH_SAMPLES"); v != "" {
		fmt.Sscan(v, &n)
	}
	if v := os.Getenv("EVTOOL_BENCH_SPIKES"); v != "" {
		fmt.Sscan(v, &mean)
	}
	py = fixtures.Python(b, "h5py", "numpy")
	dir = b.TempDir()
	out, err := exec.Command(py, "testdata/shd_bench_gen.py", dir, fmt.Sprint(n), fmt.Sprint(mean)).Output()
	if err != nil {
		b.Fatal(err)
	}
	fmt.Sscan(string(out), &spikes)
	return py, dir, spikes
}

// BenchmarkReadSHD reads the samples of BenchmarkPrepareSHD's file, a group at a time as a conversion
// does, and writes nothing: the part of preparing SHD that is not the output's.
func BenchmarkReadSHD(b *testing.B) {
	_, dir, spikes := shdBenchFile(b)
	plan, err := Inputs(registry["shd"], dir, Selection{Split: "train"})
	if err != nil {
		b.Fatal(err)
	}
	var samples []events.Sample
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var got int64
		for g := range plan.Groups.Len() {
			if samples, err = plan.Groups.Read(g, samples); err != nil {
				b.Fatal(err)
			}
			for k := range samples {
				got += int64(samples[k].Events.Len())
			}
		}
		if got != spikes {
			b.Fatalf("%d events, want %d", got, spikes)
		}
	}
	b.ReportMetric(float64(spikes)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}
