package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evtool/evtool/internal/fixtures"
)

func TestSynthVerb(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "digits.arrow")
	_, stderr, code := run(t, "synth", "--images", "builtin:digits:30", "-o", out, "--seed", "5")
	if code != 0 {
		t.Fatalf("synth exited %d: %s", code, stderr)
	}
	stdout, stderr, code := run(t, "info", "--json", out)
	if code != 0 {
		t.Fatalf("info exited %d: %s", code, stderr)
	}
	rep := parseInfo(t, stdout)[0]
	if rep.Kind != "dataset" || rep.Samples == nil || *rep.Samples != 30 || rep.Width != 34 || rep.Height != 34 ||
		len(rep.Classes) != 10 || rep.Events < 30*1000 {
		t.Errorf("info of the synthetic dataset: %+v", rep)
	}
	// Same seed, any worker count: same bytes.
	again := filepath.Join(dir, "again.arrow")
	if _, stderr, code := run(t, "synth", "--images", "builtin:digits:30", "-o", again, "--seed", "5", "--workers", "1"); code != 0 {
		t.Fatalf("synth exited %d: %s", code, stderr)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("same seed with 1 and all workers gave different files")
	}

	// N-MNIST layout from the MNIST test images.
	idx := fixtures.Path(t, "mnist/original/t10k-images-idx3-ubyte.gz")
	bins := filepath.Join(dir, "bins")
	if _, stderr, code := run(t, "synth", "--images", idx, "--to", "nmnist", "-o", bins, "--limit", "12"); code != 0 {
		t.Fatalf("synth --to nmnist exited %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(bins, "Test", "7", "00001.bin")); err != nil {
		t.Errorf("want N-MNIST's file name for t10k image 0: %v", err)
	}

	for _, bad := range [][]string{
		{"synth", "-o", filepath.Join(dir, "x.arrow")},
		{"synth", "--images", "builtin:digits:3", "-o", filepath.Join(dir, "x.arrow"), "--preset", "nope"},
		{"synth", "--images", "builtin:digits:3", "-o", filepath.Join(dir, "x.arrow"), "--set", "cpos=-1"},
		{"synth", "--images", "builtin:digits:3", "-o", filepath.Join(dir, "x.arrow"), "--set", "frobnicate=1"},
		{"synth", "--images", "builtin:digits:3", "-o", filepath.Join(dir, "x.csv")},
	} {
		if _, stderr, code := run(t, bad...); code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want usage error 2 with one line", bad[1:], code, stderr)
		}
	}
	if _, stderr, code := run(t, "synth", "--images", filepath.Join(dir, "missing.idx"), "-o", filepath.Join(dir, "y.arrow")); code != 1 {
		t.Errorf("missing image source: exit %d (%s); want 1", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "y.arrow")); err == nil {
		t.Error("a failed run left an output file")
	}
	if stdout, _, code := run(t, "synth", "--list-params", "--preset", "v2e-noisy"); code != 0 || !strings.Contains(stdout, "shot") || !strings.Contains(stdout, "Hz") {
		t.Errorf("--list-params: exit %d, %q", code, stdout)
	}
}
