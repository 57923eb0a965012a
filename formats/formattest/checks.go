package formattest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
)

// timeout bounds every single read or write the kit makes: a reader that hangs fails the check.
const timeout = 20 * time.Second

// within runs fn with a deadline; a hang fails the test (the stuck goroutine is left behind).
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("%s did not return within %v: a hang", what, timeout)
	}
}

// file makes a file holding c (through the writer, or Encode) and returns its path and bytes.
func (k *kit[C]) file(t *testing.T, c C) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "content"+k.ext())
	if k.Create != nil {
		var err error
		within(t, "writing", func() { err = k.write(path, c) })
		if err != nil {
			t.Fatalf("write %s: %v", k.describe(c), err)
		}
	} else {
		data, err := k.Encode(c)
		if err != nil {
			t.Fatalf("encode %s: %v", k.describe(c), err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read back the written file: %v", err)
	}
	return path, data
}

// write writes c with the format's writer: Create, Write, Close (Abort after a failed Write).
func (k *kit[C]) write(path string, c C) error {
	w, err := k.Create(path)
	if err != nil {
		return err
	}
	if err := w.Write(c); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// read reads through Codec.Read under the hang guard.
func (k *kit[C]) read(t *testing.T, r io.Reader, name string, chunk int) (got C, err error) {
	t.Helper()
	within(t, "reading "+name, func() { got, err = k.Read(r, name, chunk) })
	var ce *ContractError
	if errors.As(err, &ce) {
		t.Fatalf("%s: %v", name, err)
	}
	return got, err
}

// same fails unless got equals want and err is nil.
func (k *kit[C]) same(t *testing.T, what string, got, want C, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v (after %d of %d units)", what, err, k.Units(got), k.Units(want))
	}
	if d := k.Diff(got, want); d != "" {
		t.Fatalf("%s: %s", what, d)
	}
	if k.Units(got) != k.Units(want) {
		t.Fatalf("%s: %d units read, %d written", what, k.Units(got), k.Units(want))
	}
}

func (k *kit[C]) identity(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var cases []struct {
		name string
		c    C
	}
	for _, n := range []int{0, 1, 500} {
		if n >= k.MinUnits {
			cases = append(cases, struct {
				name string
				c    C
			}{map[int]string{0: "empty", 1: "one", 500: "random"}[n], k.Generate(rng, n)})
		}
	}
	if k.Units(k.Extremes) > 0 {
		cases = append(cases, struct {
			name string
			c    C
		}{"extremes", k.Extremes})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, data := k.file(t, tc.c)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := k.read(t, f, path, 4096)
			f.Close()
			k.same(t, "read from the file", got, tc.c, err)
			got, err = k.read(t, bytes.NewReader(data), path, 4096)
			k.same(t, "read from memory", got, tc.c, err)
		})
	}
}

// sample is a file the checks read, with the content it holds.
type sample[C any] struct {
	path    string
	data    []byte
	c       C
	fixture bool // one of Files, not generated
}

// samples returns the files a check reads: one holding n generated units (seeded by seed) when the kit
// can make content, and each of the fixture Files with what the reader reads from it intact.
func (k *kit[C]) samples(t *testing.T, n int, seed uint64) []sample[C] {
	t.Helper()
	var out []sample[C]
	if k.Create != nil || k.Encode != nil {
		c := k.Generate(rand.New(rand.NewPCG(seed, seed+1)), n)
		path, data := k.file(t, c)
		out = append(out, sample[C]{path: path, data: data, c: c})
	}
	for _, rel := range k.Files {
		path := fixtures.Path(t, rel)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := k.read(t, bytes.NewReader(data), path, 4096)
		if err != nil {
			t.Fatalf("the fixture %s does not read: %v", rel, err)
		}
		out = append(out, sample[C]{path: path, data: data, c: c, fixture: true})
	}
	return out
}

func (k *kit[C]) batchSizes(t *testing.T) {
	for _, s := range k.samples(t, 300, 3) {
		for _, chunk := range []int{1, 7, 4096} {
			got, err := k.read(t, bytes.NewReader(s.data), s.path, chunk)
			k.same(t, fmt.Sprintf("%d per Read", chunk), got, s.c, err)
		}
	}
}

// errBoom is the failure the kit's failing sources return.
var errBoom = errors.New("formattest: the source failed")

// stallReader gives its data, then (0, nil) forever.
type stallReader struct{ data []byte }

func (s *stallReader) Read(p []byte) (int, error) {
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

// shortReader gives 1 to 13 bytes per Read.
type shortReader struct {
	r   io.Reader
	rng *rand.Rand
}

func (s *shortReader) Read(p []byte) (int, error) {
	return s.r.Read(p[:min(len(p), 1+s.rng.IntN(13))])
}

// atReader serves a file by ReadAt, returning the last bytes together with io.EOF (as io.ReaderAt
// allows), and failing every read that reaches failAt when err is set.
type atReader struct {
	*bytes.Reader
	data   []byte
	failAt int64
	err    error
}

func (a *atReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if a.err != nil && off+int64(len(p)) > a.failAt {
		return 0, a.err
	}
	if off >= int64(len(a.data)) {
		return 0, io.EOF
	}
	n := copy(p, a.data[off:])
	if off+int64(n) == int64(len(a.data)) {
		return n, io.EOF
	}
	return n, nil
}

func newAtReader(data []byte, failAt int64, err error) *atReader {
	return &atReader{Reader: bytes.NewReader(data), data: data, failAt: failAt, err: err}
}

func (k *kit[C]) hostileSources(t *testing.T) {
	for _, s := range k.samples(t, 300, 5) {
		k.hostile(t, s.path, s.data, s.c)
	}
}

func (k *kit[C]) hostile(t *testing.T, path string, data []byte, c C) {
	half := len(data) / 2
	if k.Format.RandomAccess {
		got, err := k.read(t, newAtReader(data, 0, nil), path, 4096)
		k.same(t, "ReadAt giving io.EOF with the last bytes", got, c, err)
		got, err = k.read(t, newAtReader(data, int64(half), errBoom), path, 4096)
		k.failed(t, "ReadAt failing past the middle", got, c, err, errBoom)
		// A stream cannot serve a format that needs random access: that is an error, not a hang.
		_, err = k.read(t, iotest.OneByteReader(bytes.NewReader(data)), path, 4096)
		if err == nil {
			t.Fatalf("a plain stream gave no error, but %s needs random access", k.Format.Name)
		}
		return
	}
	for _, s := range []struct {
		name string
		r    io.Reader
	}{
		{"OneByteReader", iotest.OneByteReader(bytes.NewReader(data))},
		{"DataErrReader", iotest.DataErrReader(bytes.NewReader(data))},
		{"HalfReader", iotest.HalfReader(bytes.NewReader(data))},
		{"short reads", &shortReader{bytes.NewReader(data), rand.New(rand.NewPCG(7, 8))}},
	} {
		got, err := k.read(t, s.r, path, 4096)
		k.same(t, s.name, got, c, err)
	}
	got, err := k.read(t, io.MultiReader(bytes.NewReader(data[:half]), iotest.ErrReader(errBoom)), path, 4096)
	k.failed(t, "a source failing in the middle", got, c, err, errBoom)
	got, err = k.read(t, &stallReader{data[:half]}, path, 4096)
	k.failed(t, "a source stalling in the middle", got, c, err, io.ErrNoProgress)
	// A failure after the last byte a format needs is no failure (npy and aedat4 know where they end).
	if got, err = k.read(t, iotest.TimeoutReader(bytes.NewReader(data)), path, 4096); err != nil || k.Units(got) != k.Units(c) {
		k.failed(t, "iotest.TimeoutReader", got, c, err, iotest.ErrTimeout)
	}
}

// failed checks the outcome of a source that failed with cause: a prefix of the content, then an error
// wrapping cause (a *events.DecodeError once the header is read).
func (k *kit[C]) failed(t *testing.T, what string, got, want C, err, cause error) {
	t.Helper()
	if d := k.Diff(got, want); d != "" {
		t.Fatalf("%s: %s", what, d)
	}
	if !errors.Is(err, cause) {
		t.Fatalf("%s: error %v after %d units; want one wrapping %q", what, err, k.Units(got), cause)
	}
	var de *events.DecodeError
	if k.Units(got) > 0 && !errors.As(err, &de) {
		t.Fatalf("%s: error %v is not a *events.DecodeError naming the file and offset", what, err)
	}
}

// cuts returns the lengths the truncation check cuts a file of n bytes to: every one when there are
// at most 3·edge, else every one within edge bytes of both ends and an even spread between.
func cuts(n, edge int) []int {
	if n <= 3*edge {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	var out []int
	for i := 0; i < edge; i++ {
		out = append(out, i)
	}
	for step, i := (n-2*edge)/edge+1, edge; i < n-edge; i += step {
		out = append(out, i)
	}
	for i := n - edge; i < n; i++ {
		out = append(out, i)
	}
	return out
}

func (k *kit[C]) truncation(t *testing.T) {
	for _, s := range k.samples(t, 40, 9) {
		if s.fixture {
			k.truncate(t, s.path, s.data, s.c, 100, false) // fixture files are long: a few hundred cuts
		} else {
			k.truncate(t, s.path, s.data, s.c, 1000, k.Prefix != nil)
		}
	}
}

// truncate cuts one file everywhere; records says to check that no complete record is lost, when the
// format only appends (c's prefixes are files whose content is a prefix of data).
func (k *kit[C]) truncate(t *testing.T, path string, data []byte, c C, edge int, records bool) {
	var ends []int // where each complete record ends
	if records {
		ends = k.recordEnds(t, c, data)
	}
	prev := 0
	for _, cut := range cuts(len(data), edge) {
		got, err := k.read(t, bytes.NewReader(data[:cut]), path, 4096)
		n := k.Units(got)
		if d := k.Diff(got, c); d != "" {
			t.Fatalf("cut to %d of %d bytes: %s", cut, len(data), d)
		}
		if err != nil {
			var de *events.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, events.ErrTruncated) {
				t.Fatalf("cut to %d of %d bytes: %v; want a *events.DecodeError wrapping events.ErrTruncated", cut, len(data), err)
			}
			if de.Offset < 0 || de.Offset > int64(cut) {
				t.Fatalf("cut to %d bytes: the error names byte %d, outside the file: %v", cut, de.Offset, err)
			}
		}
		if n < prev {
			t.Fatalf("cut to %d bytes: %d units, fewer than the %d of a shorter cut", cut, n, prev)
		}
		prev = n
		for len(ends) > 0 && ends[0] <= cut {
			ends = ends[1:]
		}
		if complete := k.Units(c) - len(ends); ends != nil && n < complete {
			t.Fatalf("cut to %d bytes: %d units read, but %d complete records lie before the cut", cut, n, complete)
		}
		if cut == len(data)-1 && err == nil && n < k.Units(c) {
			t.Fatalf("dropping the last byte of the file lost data silently: %d of %d units and no error", n, k.Units(c))
		}
		if k.Framed && err == nil {
			t.Fatalf("cut to %d of %d bytes: %d units read without an error, but the file states its length", cut, len(data), n)
		}
	}
}

// recordEnds returns, when the files of c's prefixes are prefixes of data (an append-only format),
// the size of the file of each prefix of 1..n units; else nil.
func (k *kit[C]) recordEnds(t *testing.T, c C, data []byte) []int {
	n := k.Units(c)
	ends := make([]int, 0, n)
	for i := 1; i <= n; i++ {
		_, part := k.file(t, k.Prefix(c, i))
		if !bytes.HasPrefix(data, part) {
			return nil
		}
		ends = append(ends, len(part))
	}
	return ends
}

func (k *kit[C]) allocations(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	_, short := k.file(t, k.Generate(rng, 1000))
	_, long := k.file(t, k.Generate(rng, 100_000))
	var allocs [2]float64
	for i, data := range [][]byte{short, long} {
		var err error
		allocs[i] = testing.AllocsPerRun(3, func() { err = k.Drain(bytes.NewReader(data), "allocs"+k.ext()) })
		if err != nil {
			t.Fatal(err)
		}
	}
	// A little slack for libraries that allocate per page (Parquet) or vary with pools (Arrow); one
	// allocation per event, or per 4096-event packet, is far above it. A format whose library allocates
	// per run of values says how much (LibraryAllocs).
	growth := 8 + allocs[0]/50 + k.LibraryAllocs*99
	if allocs[1] > allocs[0]+growth {
		t.Fatalf("reading 1,000 units allocates %.0f times, 100,000 units %.0f times: allocation grows with the file (%.0f more allowed)", allocs[0], allocs[1], growth)
	}
}

func (k *kit[C]) detect(t *testing.T) {
	for _, s := range k.samples(t, 50, 13) {
		k.detectOne(t, s.data)
	}
}

func (k *kit[C]) detectOne(t *testing.T, data []byte) {
	head := data[:min(len(data), formats.HeadSize)]
	if k.Format.Detect != nil && !k.Format.Detect(head) {
		t.Fatalf("%s's Detect does not recognise its own output", k.Format.Name)
	}
	f, err := formats.DetectBytes("file"+k.ext(), head)
	if err != nil || f != k.Format {
		name := "nothing"
		if f != nil {
			name = f.Name
		}
		t.Fatalf("the registry takes %s's output for %s (%v)", k.Format.Name, name, err)
	}
}

func (k *kit[C]) abort(t *testing.T) {
	c := k.Generate(rand.New(rand.NewPCG(15, 16)), 200)
	for _, n := range []int{0, 200} {
		dir := t.TempDir()
		within(t, "Abort", func() {
			w, err := k.Create(filepath.Join(dir, "out"+k.ext()))
			if err != nil {
				t.Errorf("Create: %v", err)
				return
			}
			if n > 0 {
				if err := w.Write(c); err != nil {
					t.Errorf("Write: %v", err)
				}
			}
			w.Abort()
		})
		if left := listDir(t, dir); len(left) > 0 {
			t.Fatalf("Abort after %d units left %v behind", n, left)
		}
	}
	// Abort after a successful Close is a no-op: the output stays, whole.
	if k.Read != nil {
		path, data := k.file(t, c)
		w, err := k.Create(path + ".again" + k.ext())
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		w.Abort()
		again, err := os.ReadFile(path + ".again" + k.ext())
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("Abort after Close damaged the output (%v)", err)
		}
	}
}

// listDir lists what lies under dir (files and folders, hidden ones included).
func listDir(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if p != dir {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// treeSize is the total size of the files under dir.
func treeSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// runaway is how much a writer may write in the bounded-output check before the kit stops the test
// binary: a writer without a bound would otherwise fill the disk (the AEDAT 4 → .es case wrote 78 GB).
const runaway = 256 << 20

func (k *kit[C]) bounded(t *testing.T) {
	for i, c := range k.Oversized {
		dir := t.TempDir()
		bound := int64(MaxFixedBytes) + int64(MaxBytesPerEvent)*int64(k.Units(c))
		stop := make(chan struct{})
		go func() { // the watchdog: a write cannot be interrupted, so a runaway one ends the process
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
					if n := treeSize(dir); n > runaway {
						panic(fmt.Sprintf("formattest: the %s writer wrote %d bytes for oversized input %d (%d units): its output has no bound",
							k.Format.Name, n, i, k.Units(c)))
					}
				}
			}
		}()
		var err error
		within(t, "writing oversized content", func() { err = k.write(filepath.Join(dir, "out"+k.ext()), c) })
		close(stop)
		size := treeSize(dir)
		switch {
		case err != nil:
			if !errors.Is(err, formats.ErrTimeRange) {
				t.Errorf("oversized input %d (%d units): refused with %v; want an error wrapping formats.ErrTimeRange (naming the fix)", i, k.Units(c), err)
			}
			if left := listDir(t, dir); len(left) > 0 {
				t.Errorf("oversized input %d: the refused write left %v behind", i, left)
			}
		case size > bound: // stop here: the larger inputs that follow would run away
			t.Fatalf("oversized input %d: %d units written as %d bytes, more than the bound of %d", i, k.Units(c), size, bound)
		}
	}
}
