package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/evtool/evtool/internal/fixtures"
)

var binary string

// TestMain builds the evtool binary once, so these tests run the program exactly as a user does.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "evtool-cli-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "evtool")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic("building evtool: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run executes evtool and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runBinary(t, binary, args...)
}

// runBinary executes an evtool binary and returns stdout, stderr and the exit code.
func runBinary(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

type infoJSON struct {
	Path    string   `json:"path"`
	Format  string   `json:"format"`
	Kind    string   `json:"kind"`
	Events  int64    `json:"events"`
	Width   int      `json:"width"`
	Height  int      `json:"height"`
	TFirst  *int64   `json:"t_first"`
	TLast   *int64   `json:"t_last"`
	On      int64    `json:"on"`
	Off     int64    `json:"off"`
	Samples *int     `json:"samples"`
	Classes []string `json:"classes"`
	Labels  []int    `json:"label_counts"`
}

func parseInfo(t *testing.T, out string) []infoJSON {
	t.Helper()
	var reps []infoJSON
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r infoJSON
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("info --json line %q: %v", line, err)
		}
		reps = append(reps, r)
	}
	return reps
}

// `evtool info --json` on every N-MNIST and N-Caltech101 fixture prints the counts, first/last timestamps
// and ON/OFF counts of EXPECTED.md, one JSON object per file per line.
func TestInfoJSONMatchesExpected(t *testing.T) {
	exp := fixtures.ExpectedEvents(t)
	var files []string
	for rel := range exp {
		if strings.HasPrefix(rel, "nmnist/") || strings.HasPrefix(rel, "ncaltech101/") {
			files = append(files, fixtures.Path(t, rel))
		}
	}
	if len(files) != 34 {
		t.Fatalf("found %d N-MNIST/N-Caltech101 fixtures in EXPECTED.md, want 34", len(files))
	}
	out, stderr, code := run(t, append([]string{"info", "--json"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	reps := parseInfo(t, out)
	if len(reps) != len(files) {
		t.Fatalf("%d JSON lines for %d files", len(reps), len(files))
	}
	root := fixtures.Root()
	for _, r := range reps {
		rel, _ := filepath.Rel(root, r.Path)
		e := exp[filepath.ToSlash(rel)]
		if e == nil {
			t.Fatalf("unexpected path %s", r.Path)
		}
		if r.Events != e.N || *r.TFirst != e.First[0].T || *r.TLast != e.Last.T || r.On != e.P1 || r.Off != e.P0 {
			t.Errorf("%s: events=%d t=[%d,%d] on=%d off=%d; want %d [%d,%d] %d %d", rel, r.Events, *r.TFirst,
				*r.TLast, r.On, r.Off, e.N, e.First[0].T, e.Last.T, e.P1, e.P0)
		}
		if r.Format != "nmnist" || r.Kind != "recording" {
			t.Errorf("%s: format %s kind %s", rel, r.Format, r.Kind)
		}
		wantW, wantH := 34, 34
		if strings.HasPrefix(rel, "ncaltech101") {
			wantW, wantH = int(e.XMax)+1, int(e.YMax)+1
		}
		if r.Width != wantW || r.Height != wantH {
			t.Errorf("%s: geometry %dx%d, want %dx%d", rel, r.Width, r.Height, wantW, wantH)
		}
	}
}

// The N-MNIST Train folder converts into one labelled dataset; converting it back gives the original
// files byte for byte; converting twice gives identical bytes.
func TestConvertFolderRoundTrip(t *testing.T) {
	train := fixtures.Path(t, "nmnist/Train")
	exp := fixtures.ExpectedEvents(t)
	var total int64
	for rel, e := range exp {
		if strings.HasPrefix(rel, "nmnist/Train/") {
			total += e.N
		}
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "train.arrow")
	if _, stderr, code := run(t, "convert", train, "-o", out); code != 0 {
		t.Fatalf("convert: exit %d: %s", code, stderr)
	}
	info, _, code := run(t, "info", "--json", out)
	if code != 0 {
		t.Fatal("info failed")
	}
	r := parseInfo(t, info)[0]
	if r.Kind != "dataset" || r.Samples == nil || *r.Samples != 20 || r.Events != total || r.Width != 34 || r.Height != 34 {
		t.Fatalf("info = %+v; want a 34x34 dataset of 20 samples and %d events", r, total)
	}
	if strings.Join(r.Classes, "") != "0123456789" {
		t.Fatalf("classes = %v", r.Classes)
	}
	// Label counts equal the number of files in each digit folder.
	for d := 0; d < 10; d++ {
		files, _ := filepath.Glob(filepath.Join(train, string(rune('0'+d)), "*.bin"))
		if r.Labels[d] != len(files) {
			t.Errorf("label %d: %d samples, want %d", d, r.Labels[d], len(files))
		}
	}
	back := filepath.Join(dir, "back")
	if _, stderr, code := run(t, "convert", out, "-o", back, "--to", "nmnist"); code != 0 {
		t.Fatalf("convert back: exit %d: %s", code, stderr)
	}
	n := 0
	filepath.WalkDir(train, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(train, p)
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join(back, rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs after the round trip (%v)", rel, err)
		}
		n++
		return nil
	})
	if n != 20 {
		t.Fatalf("compared %d files", n)
	}
	out2 := filepath.Join(dir, "again.arrow")
	if _, _, code := run(t, "convert", train, "-o", out2, "--workers", "1"); code != 0 {
		t.Fatal("second convert failed")
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(out2)
	if !bytes.Equal(a, b) {
		t.Fatal("converting twice (2 workers, then 1) gave different bytes")
	}
}

// A truncated input gives one clear error naming the file and byte offset, exit code 1, and no output.
func TestTruncatedInputLeavesNoOutput(t *testing.T) {
	src, err := os.ReadFile(fixtures.Path(t, "nmnist/Train/0/00002.bin"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.bin")
	os.WriteFile(bad, src[:1003], 0o644)
	out := filepath.Join(dir, "out.arrow")
	_, stderr, code := run(t, "convert", bad, "-o", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(stderr, "bad.bin") || !strings.Contains(stderr, "byte 1000") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("stderr = %q; want one line naming bad.bin and byte 1000", stderr)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("output folder holds %d entries; want only the input", len(ents))
	}
	// Same inside a folder conversion: nothing half-written.
	tree := filepath.Join(dir, "tree", "3")
	os.MkdirAll(tree, 0o755)
	os.WriteFile(filepath.Join(tree, "a.bin"), src, 0o644)
	os.WriteFile(filepath.Join(tree, "b.bin"), src[:1003], 0o644)
	_, stderr, code = run(t, "convert", filepath.Join(dir, "tree"), "-o", filepath.Join(dir, "ds.arrow"))
	if code != 1 || !strings.Contains(stderr, "b.bin") {
		t.Fatalf("folder convert: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "ds.arrow")); err == nil {
		t.Fatal("a partial dataset file was left behind")
	}
	ents, _ = os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Fatalf("temporary file %s left behind", e.Name())
		}
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"convert", "x.bin"},
		{"info"},
		{"convert", "--bogus"},
		{"convert", "a", "-o", "b", "--sensor", "12"},
	} {
		if _, _, code := run(t, args...); code != 2 {
			t.Errorf("evtool %v: exit %d, want 2", args, code)
		}
	}
	if _, stderr, code := run(t, "info", "/nonexistent/file.bin"); code != 1 || stderr == "" {
		t.Errorf("missing file: exit %d %q", code, stderr)
	}
}

func TestVersionAndCompletion(t *testing.T) {
	out, _, code := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "evtool ") {
		t.Fatalf("version: %d %q", code, out)
	}
	out, _, code = run(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "bash completion") {
		t.Fatalf("completion bash: %d", code)
	}
}

// docs/transforms.md carries the table `evtool transforms --markdown` prints: the docs stay true.
func TestTransformsDocMatchesRegistry(t *testing.T) {
	out, _, code := run(t, "transforms", "--markdown")
	if code != 0 {
		t.Fatal("transforms --markdown failed")
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "transforms.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), out) {
		t.Fatal("docs/transforms.md is out of date: regenerate its table with `evtool transforms --markdown`")
	}
}

// -t applies a chain in convert, records it, and a bad token is a usage error with its position.
func TestConvertWithTransforms(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d.arrow")
	if _, stderr, code := run(t, "convert", fixtures.Path(t, "nmnist/Train"), "-o", out, "-t", "crop(x0=1,y0=1,w=32,h=32)"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	info, _, _ := run(t, "info", "--json", out)
	r := parseInfo(t, info)[0]
	if r.Width != 32 || r.Height != 32 {
		t.Fatalf("cropped dataset is %dx%d", r.Width, r.Height)
	}
	_, stderr, code := run(t, "convert", fixtures.Path(t, "nmnist/Train"), "-o", out+"2", "-t", "denoise(dt=3days)")
	if code != 2 || !strings.Contains(stderr, "character 9") {
		t.Fatalf("bad spec: exit %d, %q", code, stderr)
	}
}

// docs/cli.md is the output of `evtool cli-reference`.
func TestCLIReferenceIsCurrent(t *testing.T) {
	out, _, code := run(t, "cli-reference")
	if code != 0 {
		t.Fatal("cli-reference failed")
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil || string(doc) != out {
		t.Fatal("docs/cli.md is out of date: regenerate it with `go run ./cmd/evtool cli-reference > docs/cli.md`")
	}
}
