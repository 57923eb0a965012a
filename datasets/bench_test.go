package datasets

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/nmnist"
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
		w, err := nmnist.Create(p, false)
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
