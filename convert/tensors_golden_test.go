package convert

import (
	"context"
	"crypto/sha256"
	"fmt"
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
// without a zip, kept their sums).
var tensorGolden = []struct {
	spec, ext string
	dataset   bool // the N-MNIST Train folder, else its recording Train/0/00002.bin
	sum       string
}{
	{"frames(bins=10)", ".arrow", true, "f009518c4f71651f0869e08619ecfe9c321ab59ae4f7be6b80c6f9a68c465299"},
	{"frames(bins=10)", ".arrow", false, "0ce361defd7e232104112f4efccd5e3bc75085382e23e4a8369dc235aef14a06"},
	{"frames(bins=10)", ".npz", true, "c40d7002e7dddc5d2c55b97ea20aacf274bd2981bbc5a239d93a51ff96736a8a"},
	{"frames(bins=10)", ".npz", false, "cf6aa135d87fad2eacf753c87598c885fa83ee90e726288b6a469f4ec51ba2c9"},
	{"frames(bins=10)", ".npy", true, "a863acf15c734e956e6a42238c38b00c6aeb0ad9f62d8376276416f22bcf590b"},
	{"frames(bins=10)", ".npy", false, "f8d664d4ca40dfc44679f5288a0f229c595dc840d44eca1ba53114d9a97e2b92"},
	{"frames(window=20ms)", ".arrow", true, "e3a1a3285692c2039226027b240180fb03e7034fb97d9284e3c659b36c678945"},
	{"frames(window=20ms)", ".arrow", false, "7f8d5a397329e335c24e38a01345533546fe6880fd4e989615aa1cdf4cbd4f39"},
	{"frames(window=20ms)", ".npz", true, "3f2ef21d9323fd82502c5b23b8e43a56630dd2620cf38efb28ae49502c7508cd"},
	{"frames(window=20ms)", ".npz", false, "3779ef8ea8cbfb1cd0b87c4d8ebddb189252f88ca420b1b425181455240d0793"},
	{"frames(window=20ms)", ".npy", true, "148141691d4e37d7f23c9e72384fd28ddb8a51a3a26271d4259ca96eb1811171"},
	{"frames(window=20ms)", ".npy", false, "8ac6e59032bb0a3675513e283e461538bd228539c6301db73d34f931a55cf718"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".arrow", true, "1aedb8ef96b23ebcb09e2d1a395810e84b06919dfd2f40f0871347f03e36e179"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".arrow", false, "0db2db946b08073de5ca1c724642ce9e30d7b935353a7b22f4b7576c7cd48208"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".npz", true, "eba8c1d12581cdbb3f6a9e13bdca3b3613c24c206eb6c979ba3d1f682fbd8ded"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".npz", false, "5f3f9b2235ef484f35d0519c06d2fb0b1a42e7cb14efa7bbaaa167006d81f848"},
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
	}
}
