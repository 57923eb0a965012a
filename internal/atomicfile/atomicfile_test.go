package atomicfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// resume undoes Interrupt, for the next test (a process never resumes).
func resume(t *testing.T) {
	t.Cleanup(func() {
		gate.Lock()
		interrupted = false
		stopped.Store(false)
		gate.Unlock()
	})
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestFileCommitAndAbort(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.bin")
	f, err := Create(out)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the output is visible before Commit")
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "new" {
		t.Fatalf("content %q", b)
	}
	g, _ := Create(out)
	g.WriteString("other")
	g.Abort()
	if b, _ := os.ReadFile(out); string(b) != "new" {
		t.Fatalf("Abort changed the previous output: %q", b)
	}
	if n := entries(t, dir); len(n) != 1 {
		t.Fatalf("left behind: %v", n)
	}
}

// A write error names the final path, never the hidden temporary one.
func TestErrorsNameTheFinalPath(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.bin")
	f, err := Create(out)
	if err != nil {
		t.Fatal(err)
	}
	f.File.Close() // make the next write fail
	_, err = f.Write([]byte("x"))
	if err == nil || !strings.Contains(err.Error(), out) || strings.Contains(err.Error(), ".tmp-") {
		t.Fatalf("error %v; want one naming %s and no temporary name", err, out)
	}
	f.Abort()
	if _, err := Create(filepath.Join(dir, "missing", "x.bin")); err == nil || strings.Contains(err.Error(), ".tmp-") {
		t.Fatalf("create error %v", err)
	}
}

// Interrupt removes every temporary output at once — files, output folders with their content, scratch
// folders — refuses later creations and commits, and leaves previous outputs as they were.
func TestInterrupt(t *testing.T) {
	resume(t)
	dir := t.TempDir()
	prev := filepath.Join(dir, "prev.bin")
	os.WriteFile(prev, []byte("previous"), 0o644)
	f, err := Create(prev)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("half")
	prevDir := filepath.Join(dir, "folder")
	os.MkdirAll(filepath.Join(prevDir, "0"), 0o755)
	os.WriteFile(filepath.Join(prevDir, "0", "a.bin"), []byte("old"), 0o644)
	d, err := CreateDir(prevDir, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"0/a.bin", "1/b.bin"} {
		h, err := d.Create(rel)
		if err != nil {
			t.Fatal(err)
		}
		h.WriteString("new")
		h.Close()
	}
	scratch, err := TempDir(dir, "extract")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(scratch, "x"), []byte("x"), 0o644)

	Interrupt()

	if got := entries(t, dir); strings.Join(got, " ") != "folder prev.bin" {
		t.Fatalf("after Interrupt the folder holds %v; want only the previous outputs", got)
	}
	if _, err := f.Write([]byte("more")); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Write after Interrupt: %v", err)
	}
	if _, err := d.Create("2/c.bin"); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Dir.Create after Interrupt: %v", err)
	}
	if err := f.Commit(); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Commit after Interrupt: %v", err)
	}
	if err := d.Commit(); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Dir.Commit after Interrupt: %v", err)
	}
	if _, err := Create(filepath.Join(dir, "new.bin")); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Create after Interrupt: %v", err)
	}
	if b, _ := os.ReadFile(prev); string(b) != "previous" {
		t.Fatalf("previous file now %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(prevDir, "0", "a.bin")); string(b) != "old" {
		t.Fatalf("previous folder's file now %q", b)
	}
	if got := entries(t, dir); strings.Join(got, " ") != "folder prev.bin" {
		t.Fatalf("after the commits the folder holds %v", got)
	}
}

func TestDirReplace(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.MkdirAll(filepath.Join(out, "old"), 0o755)
	if _, err := CreateDir(out, false); err == nil {
		t.Fatal("an existing folder was accepted without replace")
	}
	d, err := CreateDir(out, true)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := d.Create("new/a.bin")
	h.Close()
	if _, err := os.Stat(filepath.Join(out, "old")); err != nil {
		t.Fatal("the old folder went before the new one was complete")
	}
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, out); strings.Join(got, " ") != "new" {
		t.Fatalf("replaced folder holds %v", got)
	}
	if got := entries(t, dir); strings.Join(got, " ") != "out" {
		t.Fatalf("left behind: %v", got)
	}
}

func TestCommitAll(t *testing.T) {
	dir := t.TempDir()
	var files []*File
	for _, n := range []string{"a.png", "b.png", "c.png"} {
		f, err := Create(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(n)
		if err := f.Finish(); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(entries(t, dir)) != 3 {
		t.Fatal("want three temporary files")
	}
	if err := CommitAll(files); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, dir); strings.Join(got, " ") != "a.png b.png c.png" {
		t.Fatalf("after CommitAll: %v", got)
	}
}

// A file written in uneven pieces past several writeback steps holds exactly what was written, and
// its writeback was started up to less than a step from its end.
func TestWritebackKeepsTheBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.bin")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 3*writebackStep+12345)
	for i := range want {
		want[i] = byte(i * 7 / 5)
	}
	for off, k := 0, 1; off < len(want); k = k*3 + 1 {
		n := min(len(want)-off, k%(writebackStep/3)+1)
		if _, err := f.Write(want[off : off+n]); err != nil {
			t.Fatal(err)
		}
		off += n
	}
	if f.written-f.flushed >= writebackStep || f.flushed > f.written || f.written != int64(len(want)) {
		t.Fatalf("writeback started up to %d of %d bytes written (%d)", f.flushed, f.written, len(want))
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the committed file differs from what was written")
	}
}
