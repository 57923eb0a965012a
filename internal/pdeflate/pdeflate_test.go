package pdeflate

import (
	"bytes"
	"compress/flate" // the standard library's inflater: a reader independent of the writer's library
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	kflate "github.com/klauspost/compress/flate"

	"github.com/evtool/evtool/internal/fixtures"
)

// frames is data shaped like a stack of int16 event-count frames: mostly zeros, some small counts.
func frames(n int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	b := make([]byte, n)
	for i := 0; i+1 < n; i += 2 {
		if r.Intn(8) == 0 {
			b[i] = byte(1 + r.Intn(4))
		}
	}
	return b
}

// deflate compresses data with a Writer of the given workers, writing it in pieces of `piece` bytes.
func deflate(t testing.TB, data []byte, level, chunk, workers, piece int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := newWriter(&out, level, chunk, workers)
	if err != nil {
		t.Fatal(err)
	}
	for p := data; len(p) > 0; {
		k := min(piece, len(p))
		if n, err := w.Write(p[:k]); n != k || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
		p = p[k:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func inflate(t testing.TB, z []byte) []byte {
	t.Helper()
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(z)))
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return got
}

// TestRoundTrip: the standard library inflates exactly the input, whatever the size relative to a chunk.
func TestRoundTrip(t *testing.T) {
	const chunk = 64 << 10
	for _, n := range []int{0, 1, 100, chunk - 1, chunk, chunk + 1, 3*chunk + 12345, 20 * chunk} {
		data := frames(n, int64(n))
		z := deflate(t, data, 6, chunk, 4, 1000)
		if got := inflate(t, z); !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: inflated %d bytes that differ from the input", n, len(got))
		}
	}
}

// TestZlibInflates: zlib (through Python, what numpy.load uses) inflates a stream of many chunks to the input.
func TestZlibInflates(t *testing.T) {
	py := fixtures.Python(t, "zlib", "hashlib")
	data := frames(5<<20+321, 5)
	path := filepath.Join(t.TempDir(), "x.deflate")
	if err := os.WriteFile(path, deflate(t, data, 6, 256<<10, 2, 46240), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", `import hashlib, sys, zlib
d = zlib.decompress(open(sys.argv[1], "rb").read(), -15)
print(len(d), hashlib.sha256(d).hexdigest())`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("zlib: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("%d %x\n", len(data), sha256.Sum256(data)); string(out) != want {
		t.Fatalf("zlib inflated %q, want %q", out, want)
	}
}

// TestDeterministic: the bytes do not depend on the cores used nor on how the input was split into writes.
func TestDeterministic(t *testing.T) {
	const chunk = 32 << 10
	data := frames(10*chunk+777, 1)
	want := deflate(t, data, 6, chunk, 1, len(data))
	for _, c := range []struct{ workers, piece int }{{2, 1}, {3, 4093}, {8, chunk}, {16, chunk + 1}, {1, 7}} {
		if got := deflate(t, data, 6, chunk, c.workers, c.piece); !bytes.Equal(got, want) {
			t.Errorf("%d workers, writes of %d bytes: %d bytes, differ from one worker's %d", c.workers, c.piece, len(got), len(want))
		}
	}
}

// TestRatio: priming each chunk with the window before it keeps the ratio of one writer; without the
// priming, matches could not cross the cuts and this data (a pattern repeating every 20 KB) would cost more.
func TestRatio(t *testing.T) {
	rep := frames(20<<10, 7)
	var data []byte
	for len(data) < 4<<20 {
		data = append(data, rep...)
	}
	var one bytes.Buffer
	fw, _ := kflate.NewWriter(&one, 6)
	fw.Write(data)
	fw.Close()
	par := deflate(t, data, 6, 64<<10, 2, 1<<20)
	if float64(len(par)) > 1.02*float64(one.Len()) {
		t.Errorf("chunked: %d bytes, one writer: %d (more than 2 %% apart)", len(par), one.Len())
	}
	if got := inflate(t, par); !bytes.Equal(got, data) {
		t.Fatal("round trip differs")
	}
}

// TestWriteError: a failing output's error is returned (by the write that meets it or by Close) and sticks.
func TestWriteError(t *testing.T) {
	boom := errors.New("disk full")
	data := frames(5<<20, 3)
	w, err := NewWriter(errWriter{boom}, 6, 256<<10)
	if err != nil {
		t.Fatal(err)
	}
	_, werr := w.Write(data)
	cerr := w.Close()
	if !errors.Is(werr, boom) && !errors.Is(cerr, boom) {
		t.Fatalf("Write: %v, Close: %v; want %v", werr, cerr, boom)
	}
	if err := w.Close(); !errors.Is(err, boom) {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.Write([]byte{1}); err == nil {
		t.Fatal("Write after Close succeeded")
	}
}

type errWriter struct{ err error }

func (e errWriter) Write(p []byte) (int, error) { return 0, e.err }

func TestLevel(t *testing.T) {
	for _, l := range []int{-1, 0, 10} {
		if _, err := NewWriter(io.Discard, l, 0); err == nil {
			t.Errorf("level %d accepted", l)
		}
	}
}

// FuzzRoundTrip: any input, chunk size and write size round-trips, and one worker gives the same bytes.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("abcabcabcabc"), uint16(3), uint16(5))
	f.Add(frames(5000, 2), uint16(1000), uint16(999))
	f.Fuzz(func(t *testing.T, data []byte, chunk, piece uint16) {
		c, p := int(chunk)%8192+256, int(piece)%5000+1 // chunks of at least 256 bytes: each costs a writer reset
		z := deflate(t, data, 6, c, 3, p)
		if got := inflate(t, z); !bytes.Equal(got, data) {
			t.Fatal("round trip differs")
		}
		if one := deflate(t, data, 6, c, 1, len(data)+1); !bytes.Equal(one, z) {
			t.Fatal("one worker gives other bytes")
		}
	})
}

// BenchmarkWrite: the frames array of a 1,000-sample N-MNIST frames(bins=10) .npz is 46 MB.
func BenchmarkWrite(b *testing.B) {
	data := frames(46<<20, 1)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		w, _ := NewWriter(io.Discard, 6, 0)
		w.Write(data)
		w.Close()
	}
}

// BenchmarkOneWriter is the single deflate writer it replaces, for comparison.
func BenchmarkOneWriter(b *testing.B) {
	data := frames(46<<20, 1)
	b.SetBytes(int64(len(data)))
	fw, _ := kflate.NewWriter(io.Discard, 6)
	for i := 0; i < b.N; i++ {
		fw.Reset(io.Discard)
		fw.Write(data)
		fw.Close()
	}
}
