package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/evtool/evtool/internal/fixtures"
)

// goProgram builds the Go source as a program of this module and returns the binary's path.
func goProgram(t *testing.T, source string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "prog")
	build := exec.Command("go", "build", "-o", prog, src)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the program does not build: %v\n%s\n%s", err, out, source)
	}
	return prog
}

// TestREADMEGoProgram builds the README's Go program as it is written and runs it on an N-MNIST
// recording and a dataset converted from the fixtures: it prints the recording's event count and the
// eighth sample of the dataset.
func TestREADMEGoProgram(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) != 1 {
		t.Fatalf("the README has %d Go blocks; want one program", len(blocks))
	}
	prog := goProgram(t, blocks[0][1])
	dir := t.TempDir()
	rec := fixtures.Path(t, "nmnist/Train/0/00002.bin")
	if err := os.Symlink(rec, filepath.Join(dir, "00002.bin")); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "convert", fixtures.Path(t, "nmnist/Train"), "-q", "-o", filepath.Join(dir, "train.arrow")); code != 0 {
		t.Fatalf("convert: %s", stderr)
	}
	cmd := exec.Command(prog)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README program failed: %v\n%s", err, out)
	}
	n := fixtures.ExpectedEvents(t)["nmnist/Train/0/00002.bin"].N
	// Sample 7 in sorted path order: Train/3/00008.bin (0/00002, 1/00004, 1/00007, 1/00009, 1/00015,
	// 2/00006, 2/00017, 3/00008).
	n7 := fixtures.ExpectedEvents(t)["nmnist/Train/3/00008.bin"].N
	want := "nmnist " + strconv.FormatInt(n, 10) + " events\n3/00008.bin is a 3 of " + strconv.FormatInt(n7, 10) + " events\n"
	if string(out) != want {
		t.Fatalf("the README program printed\n%s\nwant\n%s", out, want)
	}
}

// A program that imports formats but not formats/all gets an error that says how to register the
// formats, in library terms (no CLI flag).
func TestGoAPIWithoutFormatsAll(t *testing.T) {
	prog := goProgram(t, `package main

import (
	"fmt"
	"os"

	"github.com/evtool/evtool/formats"
)

func main() {
	_, _, err := formats.Open(os.Args[1], "", formats.Options{})
	fmt.Println(err)
}
`)
	out, err := exec.Command(prog, fixtures.Path(t, "aedat4/tonic_dvxplorer_sample.aedat4")).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	msg := string(out)
	if !strings.Contains(msg, "tonic_dvxplorer_sample.aedat4") || !strings.Contains(msg, "import github.com/evtool/evtool/formats/all") ||
		strings.Contains(msg, "--from") {
		t.Fatalf("error: %s", msg)
	}
}
