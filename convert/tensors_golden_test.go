package convert

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/transforms"
)

// tensorGolden are the SHA-256 sums of what convert writes for these chains (first made before the tensor
// formats went through the registry, with the same source text and fixtures): tensor outputs must stay
// byte-identical, whatever is refactored underneath. A deliberate change of a tensor layout updates them,
// and says so in its commit. Last change: counts are stored as int16 by default (torch.from_numpy takes
// it on every torch) and .npz entries carry the valid date 1980-01-01 (voxel grids' .arrow and .npy, float32
// without a zip, kept their sums); then .npz entries deflated by klauspost/compress instead of the standard
// library (the same arrays, 5 % smaller, half the CPU); then .npz entries deflated on all cores, in chunks
// (the same arrays: npzContent did not change).
var tensorGolden = []struct {
	spec, ext string
	dataset   bool // the N-MNIST Train folder, else its recording Train/0/00002.bin
	sum       string
}{
	{"frames(bins=10)", ".arrow", true, "f009518c4f71651f0869e08619ecfe9c321ab59ae4f7be6b80c6f9a68c465299"},
	{"frames(bins=10)", ".arrow", false, "0ce361defd7e232104112f4efccd5e3bc75085382e23e4a8369dc235aef14a06"},
	{"frames(bins=10)", ".npz", true, "b36bdc8f78cce8589ebbf93f214dc1e82f46568282debe0b25c9cd8df9589471"},
	{"frames(bins=10)", ".npz", false, "89d206497d5b01254d135b9298cf78af47f82d77d2e39e1303b1935da8993b46"},
	{"frames(bins=10)", ".npy", true, "a863acf15c734e956e6a42238c38b00c6aeb0ad9f62d8376276416f22bcf590b"},
	{"frames(bins=10)", ".npy", false, "f8d664d4ca40dfc44679f5288a0f229c595dc840d44eca1ba53114d9a97e2b92"},
	{"frames(window=20ms)", ".arrow", true, "e3a1a3285692c2039226027b240180fb03e7034fb97d9284e3c659b36c678945"},
	{"frames(window=20ms)", ".arrow", false, "7f8d5a397329e335c24e38a01345533546fe6880fd4e989615aa1cdf4cbd4f39"},
	{"frames(window=20ms)", ".npz", true, "689ea075b4b8d77209f7732ced4265eafdb8135d68a545369f88f7697d49eeed"},
	{"frames(window=20ms)", ".npz", false, "47b0df6d26356b8db12153f67142cbbd2496816974526f65cc3efb7fa2c1a103"},
	{"frames(window=20ms)", ".npy", true, "148141691d4e37d7f23c9e72384fd28ddb8a51a3a26271d4259ca96eb1811171"},
	{"frames(window=20ms)", ".npy", false, "8ac6e59032bb0a3675513e283e461538bd228539c6301db73d34f931a55cf718"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".arrow", true, "1aedb8ef96b23ebcb09e2d1a395810e84b06919dfd2f40f0871347f03e36e179"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".arrow", false, "0db2db946b08073de5ca1c724642ce9e30d7b935353a7b22f4b7576c7cd48208"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".npz", true, "aab7f455431786080f1ea617a43426d2b8e03358060d6c584de4726cd647e848"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".npz", false, "ec497037897b0d8edd6fee847834328e569f077ee18a9d0e3519973b3452807c"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".npy", true, "a48f704b7879e920e14c14cbd65a735d8b7613f082c1c11f68fab42b689ad1b3"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".npy", false, "c32cd9a4208414e2b39ac842c38a932023a308fa3281ab0088f25a88b16c830b"},
}

// Every tensor output — Arrow (fixed and variable shape), .npz and .npy, of a dataset and of a single
// recording, counts and float values — is byte for byte what it was.
func TestTensorOutputsByteIdentical(t *testing.T) {
	plan, err := sources.Discover([]string{fixtures.Path(t, "nmnist/Train")}, "")
	if err != nil {
		t.Fatal(err)
	}
	rec := &sources.Plan{Recording: fixtures.Path(t, "nmnist/Train/0/00002.bin")}
	for _, g := range tensorGolden {
		chain, err := transforms.Parse(g.spec)
		if err != nil {
			t.Fatal(err)
		}
		p := rec
		if g.dataset {
			p = plan
		}
		out := filepath.Join(t.TempDir(), "x"+g.ext)
		if _, err := Run(context.Background(), p, out, Options{Chain: chain, Source: "N-MNIST/Train", Workers: 2}); err != nil {
			t.Fatalf("%s to %s: %v", g.spec, g.ext, err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if sum := fmt.Sprintf("%x", sha256.Sum256(b)); sum != g.sum {
			t.Errorf("%s to %s (dataset %v): sha256 %s, want %s", g.spec, g.ext, g.dataset, sum, g.sum)
		}
		if g.ext == ".npz" {
			if sum := npzContentSum(t, b); sum != npzContent[g.spec+fmt.Sprint(g.dataset)] {
				t.Errorf("%s to %s (dataset %v): entries' content sha256 %s, want %s", g.spec, g.ext, g.dataset, sum, npzContent[g.spec+fmt.Sprint(g.dataset)])
			}
		}
	}
}

// npzContent are the sums of the .npz outputs' entries, inflated (npzContentSum): the arrays a reader
// gets, unchanged when only the compressed bytes change (as when the deflating went to all cores).
var npzContent = map[string]string{
	"frames(bins=10)true":                  "b5a8c503b86df49ac1dfb5ee5657ed8528bd8ae8f87302ab9b5d034d5b4b89f6",
	"frames(bins=10)false":                 "7dc7460de844977329e46d51db5cd4e6b93cc1a17e5660f1d85b09183ac2017c",
	"frames(window=20ms)true":              "83ba7329a5669327530e34d05487b3276bfd43cccf450db7010ae0e0fccd7f31",
	"frames(window=20ms)false":             "2a8e8d8664be461f98d0ee5db1b82c469379e20bf3b54bf52b167459c243b557",
	"denoise(dt=5ms) | voxel(bins=5)true":  "07412299cc5046aa2c9c769644ff951ff84d7ce0bf654bf9eb3ce39fb7b18392",
	"denoise(dt=5ms) | voxel(bins=5)false": "0a9bf62ebb7ff6132c19522c11aeebcc9b5c90bc0f0aec051c090196e039c0da",
}

// npzContentSum hashes each entry's name, header fields a reader sees and inflated bytes, in order.
func npzContentSum(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		fmt.Fprintf(h, "%s %d %v %d\n", f.Name, f.Method, f.Modified.UTC(), len(data))
		h.Write(data)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}
