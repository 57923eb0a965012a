package synth

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/nmnist"
	"github.com/evtool/evtool/imagesrc"
	"github.com/evtool/evtool/internal/fixtures"
)

// Reference figures of the 1,100 real recordings (docs/synth.md#real-n-mnist-statistics); the test also recomputes them from
// the files and checks both.
const (
	refMean   = 4108.0
	refMedian = 4164.0
	refON     = 0.498
)

var refShares = [3]float64{0.362, 0.331, 0.307}

// setStats summarises a set of 34×34 samples.
type setStats struct {
	n            int
	mean, median float64
	p5, p95      float64
	on           float64
	shares       [3]float64
	tmaxMedian   float64
	tmaxMin      float64
	tmaxMax      float64
	outside      int
	pixelMap     []float64 // mean events per sample, per pixel
	rate         []float64 // mean events per sample, per 5 ms bin over 0..350 ms
	// polMap is ON minus OFF events per pixel and saccade (3×34×34): where each leg's ON and OFF edges
	// fall. It tells the direction of the brightness change, which the other statistics cannot see.
	polMap []float64
}

const rateBinUs = 5000
const rateBins = 70

func newSetStats() *setStats {
	return &setStats{pixelMap: make([]float64, 34*34), rate: make([]float64, rateBins), polMap: make([]float64, 3*34*34)}
}

type setAcc struct {
	counts []float64
	tmax   []float64
	on     int64
	total  int64
	share  [3]int64
	st     *setStats
}

func (a *setAcc) add(b *events.Batch) {
	n := b.Len()
	a.counts = append(a.counts, float64(n))
	var tmax int64
	for i := 0; i < n; i++ {
		t, x, y := b.T[i], int(b.X[i]), int(b.Y[i])
		tmax = max(tmax, t)
		if b.P[i] == 1 {
			a.on++
		}
		switch {
		case t < 105000:
			a.share[0]++
		case t < 210000:
			a.share[1]++
		default:
			a.share[2]++
		}
		if x >= 34 || y >= 34 {
			a.st.outside++
			continue
		}
		a.st.pixelMap[y*34+x]++
		leg := min(int(t/105000), 2)
		if b.P[i] == 1 {
			a.st.polMap[leg*34*34+y*34+x]++
		} else {
			a.st.polMap[leg*34*34+y*34+x]--
		}
		if bin := t / rateBinUs; bin >= 0 && bin < rateBins {
			a.st.rate[bin]++
		}
	}
	a.total += int64(n)
	a.tmax = append(a.tmax, float64(tmax))
}

func (a *setAcc) finish() *setStats {
	s := a.st
	s.n = len(a.counts)
	sort.Float64s(a.counts)
	sort.Float64s(a.tmax)
	var sum float64
	for _, c := range a.counts {
		sum += c
	}
	s.mean = sum / float64(s.n)
	s.median = quantile(a.counts, 0.5)
	s.p5, s.p95 = quantile(a.counts, 0.05), quantile(a.counts, 0.95)
	s.on = float64(a.on) / float64(a.total)
	for k := range s.shares {
		s.shares[k] = float64(a.share[k]) / float64(a.total)
	}
	s.tmaxMedian = quantile(a.tmax, 0.5) / 1000
	s.tmaxMin, s.tmaxMax = a.tmax[0]/1000, a.tmax[len(a.tmax)-1]/1000
	for i := range s.pixelMap {
		s.pixelMap[i] /= float64(s.n)
	}
	for i := range s.rate {
		s.rate[i] /= float64(s.n)
	}
	return s
}

// quantile of sorted values, with linear interpolation (numpy's default).
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}

func pearson(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		da, db := a[i]-ma, b[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	return sab / math.Sqrt(saa*sbb)
}

func realStats(t *testing.T) *setStats {
	root := fixtures.Path(t, "nmnist-small")
	var paths []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".bin") {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	acc := &setAcc{st: newSetStats()}
	var b events.Batch // reused: 1,100 files, one buffer
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b.Reset()
		if err := nmnist.Decode(data, p, &b); err != nil {
			t.Fatal(err)
		}
		acc.add(&b)
	}
	return acc.finish()
}

func synthStats(t *testing.T, p Params, n int) *setStats {
	src, err := imagesrc.OpenIDX(fixtures.Path(t, "mnist/original/t10k-images-idx3-ubyte.gz"), "")
	if err != nil {
		t.Fatal(err)
	}
	acc := &setAcc{st: newSetStats()}
	err = Generate(context.Background(), src, p, GenerateOptions{Limit: n}, func(s *events.Sample) error {
		acc.add(&s.Events)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return acc.finish()
}

func (s *setStats) log(t *testing.T, name string) {
	t.Logf("%-9s n=%d mean=%.0f median=%.0f p5=%.0f p95=%.0f ON=%.3f shares=%.3f/%.3f/%.3f t_max median=%.1f ms [%.1f, %.1f]",
		name, s.n, s.mean, s.median, s.p5, s.p95, s.on, s.shares[0], s.shares[1], s.shares[2], s.tmaxMedian, s.tmaxMin, s.tmaxMax)
}

// TestNMNISTCalibration synthesises the first 1,000 MNIST test digits with the nmnist preset and
// compares them with the 1,100 real N-MNIST recordings of the fixtures (and docs/synth.md#real-n-mnist-statistics).
func TestNMNISTCalibration(t *testing.T) {
	real := realStats(t)
	syn := synthStats(t, NMNIST(), 1000)
	real.log(t, "real")
	syn.log(t, "synthetic")
	mapCorr := pearson(syn.pixelMap, real.pixelMap)
	rateCorr := pearson(syn.rate, real.rate)
	polCorr := pearson(syn.polMap, real.polMap)
	t.Logf("per-pixel event-rate map correlation %.3f; event-rate-over-time (5 ms bins) correlation %.3f; "+
		"per-saccade ON−OFF map correlation %.3f", mapCorr, rateCorr, polCorr)

	// The fixtures hold the figures of docs/synth.md#real-n-mnist-statistics.
	if real.n != 1100 || math.Abs(real.mean-refMean) > 1 || math.Abs(real.median-refMedian) > 1 || math.Abs(real.on-refON) > 0.001 {
		t.Errorf("real fixture statistics n=%d mean=%.1f median=%.1f ON=%.4f differ from docs/synth.md (1100, %.0f, %.0f, %.3f)",
			real.n, real.mean, real.median, real.on, refMean, refMedian, refON)
	}
	within := func(name string, got, want, tol float64) {
		if math.Abs(got-want) > tol*want {
			t.Errorf("%s = %.1f; want within %.0f %% of %.1f", name, got, tol*100, want)
		}
	}
	within("mean events per sample", syn.mean, real.mean, 0.10)
	within("median events per sample", syn.median, real.median, 0.10)
	if syn.on < 0.45 || syn.on > 0.55 {
		t.Errorf("ON fraction %.3f; want 0.45..0.55", syn.on)
	}
	for k := range syn.shares {
		if d := math.Abs(syn.shares[k] - real.shares[k]); d > 0.03 {
			t.Errorf("saccade %d share %.3f vs real %.3f: %.1f points apart; want ≤ 3", k+1, syn.shares[k], real.shares[k], 100*d)
		}
		if d := math.Abs(syn.shares[k] - refShares[k]); d > 0.03 {
			t.Errorf("saccade %d share %.3f vs docs/synth.md %.3f: more than 3 points apart", k+1, syn.shares[k], refShares[k])
		}
	}
	if syn.tmaxMin < 290 || syn.tmaxMax > 340 {
		t.Errorf("durations %.1f..%.1f ms; want every sample within 290..340", syn.tmaxMin, syn.tmaxMax)
	}
	if syn.outside != 0 {
		t.Errorf("%d events outside 34x34", syn.outside)
	}
	if mapCorr < 0.9 {
		t.Errorf("per-pixel map correlation %.3f; want ≥ 0.9", mapCorr)
	}
	if rateCorr < 0.85 {
		t.Errorf("event-rate-over-time correlation %.3f; want ≥ 0.85", rateCorr)
	}
	// Where ON and OFF fall in each saccade: a display or direction error makes this negative (a
	// classifier trained on such data reads real recordings at chance level).
	if polCorr < 0.5 {
		t.Errorf("per-saccade ON−OFF map correlation %.3f; want ≥ 0.5", polCorr)
	}
}

// TestBuiltinDigitsResembleNMNIST: the demo's procedurally drawn digits, synthesised with the nmnist
// preset, should look like N-MNIST to anything downstream.
func TestBuiltinDigitsResembleNMNIST(t *testing.T) {
	real := realStats(t)
	acc := &setAcc{st: newSetStats()}
	err := Generate(context.Background(), imagesrc.NewDigits(300, "train", 0), NMNIST(), GenerateOptions{}, func(s *events.Sample) error {
		acc.add(&s.Events)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	syn := acc.finish()
	syn.log(t, "builtin")
	mapCorr, rateCorr := pearson(syn.pixelMap, real.pixelMap), pearson(syn.rate, real.rate)
	t.Logf("map correlation %.3f, rate correlation %.3f", mapCorr, rateCorr)
	if math.Abs(syn.mean-real.mean) > 0.25*real.mean || syn.on < 0.45 || syn.on > 0.55 || mapCorr < 0.8 || rateCorr < 0.8 {
		t.Errorf("built-in digits: mean %.0f (real %.0f), ON %.3f, map %.3f, rate %.3f", syn.mean, real.mean, syn.on, mapCorr, rateCorr)
	}
}
