package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDemoCommands runs `evtool demo --quick` as CI does, checks its sim-to-real figure, then runs every
// command the tour tells the user to type ("yourself: …") inside its folder: the tour tells the truth.
func TestDemoCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the quick demo")
	}
	out := filepath.Join(t.TempDir(), "tour")
	stdout, stderr, code := run(t, "demo", "--quick", "--out", out)
	if code != 0 {
		t.Fatalf("demo: exit %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`([0-9.]+) % of the real recordings classified right`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no sim-to-real figure:\n%s", stdout)
	}
	if acc, _ := strconv.ParseFloat(m[1], 64); acc < 40 {
		t.Fatalf("the quick tour should classify well above chance (10 %%): %s %%", m[1])
	}
	var cmds []string
	for _, line := range strings.Split(stdout, "\n") {
		if _, c, ok := strings.Cut(line, "yourself: "); ok {
			cmds = append(cmds, c)
		}
	}
	if len(cmds) != 6 {
		t.Fatalf("%d commands in the tour:\n%s", len(cmds), stdout)
	}
	for _, c := range cmds {
		cmd := exec.Command("sh", "-c", c)
		cmd.Dir = out
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"))
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: %v\n%s", c, err, errb.String())
		}
	}
	// The real recordings come back as N-MNIST's own files, byte for byte.
	a, _ := os.ReadFile(filepath.Join(out, "N-MNIST", "Test", "7", "00001.bin"))
	b, _ := os.ReadFile(filepath.Join(out, "my-N-MNIST-Test", "7", "00001.bin"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("the shipped recordings do not convert back to the same .bin files")
	}
}
