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

// tensorGolden are the SHA-256 sums of what convert wrote for these chains before the tensor formats went
// through the registry (made by the code of that time, with the same source text and fixtures): tensor
// outputs must stay byte-identical, whatever is refactored underneath. A deliberate change of a tensor
// layout updates them, and says so in its commit.
var tensorGolden = []struct {
	spec, ext string
	dataset   bool // the N-MNIST Train folder, else its recording Train/0/00002.bin
	sum       string
}{
	{"frames(bins=10)", ".arrow", true, "3cc36243589bbdf5a32675b24f2f952fbcd644b37b32ccfaedaf1d2f511e881d"},
	{"frames(bins=10)", ".arrow", false, "df4a5d4112b057517ef8a7e5a0d31d9731a9d15a627094e9ebbf170db624210d"},
	{"frames(bins=10)", ".npz", true, "c7b8cf29fbe76978d17d31332bae9e7af41117797cc585a5819a6ef6d51107e4"},
	{"frames(bins=10)", ".npz", false, "a896151ad41afd8df22e3f3f738f90915af5498cbd9ce62b263f3436fe722c81"},
	{"frames(bins=10)", ".npy", true, "3184d6c0b12eed6d681d4b271e0c0dd71ec979e553a729d3b827bad8330561ab"},
	{"frames(bins=10)", ".npy", false, "1dc5dbe0a2f115db8777edcb8619c0f3abe05ee4153ca70c583213b4a38b09c0"},
	{"frames(window=20ms)", ".arrow", true, "fc0144536fc976c12932837cbe46de3951f0e069b5ef25cd134fef1fc620f25b"},
	{"frames(window=20ms)", ".arrow", false, "97ab89d3f634087d36c7e36090158a36223aa33464fec49276ad498159e464c2"},
	{"frames(window=20ms)", ".npz", true, "8ec61fc9bc004ebee1401ab5ac186ad72f6293cbb853bb46e73941dbf783ccd1"},
	{"frames(window=20ms)", ".npz", false, "c2c181228e4974236424925a301bbbcf586c476591196b1130829134cb795b33"},
	{"frames(window=20ms)", ".npy", true, "7d2897dff775534b0a721645a7f7fc3841310f9f46ee24881176f95f24d043e1"},
	{"frames(window=20ms)", ".npy", false, "b3a23ab3e764bc11950d26b950a174258aadaac4bcd8a94c0552d7de6e3ba678"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".arrow", true, "1aedb8ef96b23ebcb09e2d1a395810e84b06919dfd2f40f0871347f03e36e179"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".arrow", false, "0db2db946b08073de5ca1c724642ce9e30d7b935353a7b22f4b7576c7cd48208"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".npz", true, "9f06a9d1a9cb69a2f343b2d2c14b21f59213eae0d0b8236d4661a10f44416d1c"},
	{"denoise(dt=5ms) | voxel(bins=5)", ".npz", false, "afaf66c490d9f809b0e7a95704195e96a6413476a4fb76766b2a8661c299e75d"},
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
