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
// without a zip, kept their sums); then .npz entries deflated by klauspost/compress instead of the standard
// library (the same arrays, 5 % smaller, half the CPU).
var tensorGolden = []struct {
	spec, ext string
	dataset   bool // the N-MNIST Train folder, else its recording Train/0/00002.bin
	sum       string
}{
	{"frames(bins=10)", ".arrow", true, "f009518c4f71651f0869e08619ecfe9c321ab59ae4f7be6b80c6f9a68c465299"},
	{"frames(bins=10)", ".arrow", false, "0ce361defd7e232104112f4efccd5e3bc75085382e23e4a8369dc235aef14a06"},
	{"frames(bins=10)", ".npz", true, "5984f6d212e6cdba5ff5dfc330cba8329e29bcc7f7a50105eb3de2a7baa93389"},
	{"frames(bins=10)", ".npz", false, "7b43023e7c86d65ef8bb8a726ce90055a2c7633f6232b87655154390dba9b617"},
	{"frames(bins=10)", ".npy", true, "a863acf15c734e956e6a42238c38b00c6aeb0ad9f62d8376276416f22bcf590b"},
	{"frames(bins=10)", ".npy", false, "f8d664d4ca40dfc44679f5288a0f229c595dc840d44eca1ba53114d9a97e2b92"},
	{"frames(window=20ms)", ".arrow", true, "e3a1a3285692c2039226027b240180fb03e7034fb97d9284e3c659b36c678945"},
	{"frames(window=20ms)", ".arrow", false, "7f8d5a397329e335c24e38a01345533546fe6880fd4e989615aa1cdf4cbd4f39"},
	{"frames(window=20ms)", ".npz", true, "c1ce12b7e30d3f6cf5187416dc7b4de2d7c27a20d78c00ed7cda385346e0e25a"},
	{"frames(window=20ms)", ".npz", false, "c5c8db42af6066a085fb270127fe96df23dda77fc8db6f6e35353e8c024015ab"},
	{"frames(window=20ms)", ".npy", true, "148141691d4e37d7f23c9e72384fd28ddb8a51a3a26271d4259ca96eb1811171"},
	{"frames(window=20ms)", ".npy", false, "8ac6e59032bb0a3675513e283e461538bd228539c6301db73d34f931a55cf718"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".arrow", true, "1aedb8ef96b23ebcb09e2d1a395810e84b06919dfd2f40f0871347f03e36e179"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".arrow", false, "0db2db946b08073de5ca1c724642ce9e30d7b935353a7b22f4b7576c7cd48208"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".npz", true, "805d7914c72ac0ccc087d394bbe5902c0ddb0bce7f8af716dec0f00f51adefe6"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".npz", false, "ba9030a255ae331186d1ce52c0f11cb5df0f93bb1dc66a4386be144c7fd4cd77"},
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
