//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evtool/evtool/internal/fixtures"
)

// signalCase is one verb interrupted while it writes: its output path, the previous output that must
// survive, and when the write is under way.
type signalCase struct {
	name string
	args func(dir string) []string // the command, its output inside dir
	// previous makes the output an earlier run left (a file or a folder), which must stay as it is.
	previous func(t *testing.T, dir string)
	// underway reports whether the command is writing now (a temporary output exists, or a checkpoint).
	underway func(dir string) bool
}

// hiddenEntries lists the hidden files and folders in dir: the temporary outputs of evtool.
func hiddenEntries(dir string) []string {
	es, _ := os.ReadDir(dir)
	var out []string
	for _, e := range es {
		if strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// tempUnderway reports whether a temporary output holds data: a hidden file of some bytes, or a hidden
// folder with a file in it.
func tempUnderway(dir string) bool {
	for _, h := range hiddenEntries(dir) {
		p := filepath.Join(dir, h)
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !st.IsDir() && st.Size() > 0 {
			return true
		}
		if st.IsDir() && len(snapshotNames(p)) > 0 {
			return true
		}
	}
	return false
}

// snapshotNames lists the files under root.
func snapshotNames(root string) []string {
	var names []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	return names
}

// snapshot records every file under root (relative path → content) so that a test can tell whether a
// previous output changed.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		files[rel] = string(b)
		return nil
	})
	return files
}

func previousFile(name string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("the previous output"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func previousFolder(name string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		if err := os.MkdirAll(filepath.Join(dir, name, "7"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "7", "00001.bin"), []byte("the previous output"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSignalsMidWrite sends SIGINT and SIGTERM to every verb that writes while it is writing — convert
// to a file and to a folder, synth, render (a PNG sequence and a GIF), train — and checks that it exits
// 130 or 143 saying it was interrupted, that no temporary output remains, and that the previous output
// (replaced only on success, here with --force) is exactly as it was.
func TestSignalsMidWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("interrupts long runs")
	}
	train := fixtures.Path(t, "nmnist-small/Train")
	es := fixtures.Path(t, "es/dvs.es")
	// The noise makes each conversion far longer than the test waits: 100,000 events per sample.
	noise := "uniform-noise(n=100000)"
	cases := []signalCase{
		{"convert to a file", func(dir string) []string {
			return []string{"convert", train, "-t", noise, "--force", "-o", filepath.Join(dir, "out.arrow")}
		}, previousFile("out.arrow"), tempUnderway},
		{"convert to a folder", func(dir string) []string {
			return []string{"convert", train, "-t", noise, "--to", "nmnist", "--force", "-o", filepath.Join(dir, "out")}
		}, previousFolder("out"), tempUnderway},
		{"synth to a file", func(dir string) []string {
			return []string{"synth", "--images", "builtin:digits:1000000", "--force", "-o", filepath.Join(dir, "s.arrow")}
		}, previousFile("s.arrow"), tempUnderway},
		{"synth to a folder", func(dir string) []string {
			return []string{"synth", "--images", "builtin:digits:1000000", "--to", "nmnist", "--force", "-o", filepath.Join(dir, "s")}
		}, previousFolder("s"), tempUnderway},
		{"render a PNG sequence", func(dir string) []string {
			return []string{"render", es, "--window", "100us", "--max-frames", "100000", "--force", "-o", filepath.Join(dir, "f_%05d.png")}
		}, previousFile("f_00000.png"), func(dir string) bool { return len(hiddenEntries(dir)) >= 20 }},
		{"render a GIF", func(dir string) []string {
			return []string{"render", es, "--window", "500us", "--max-frames", "1500", "--force", "-o", filepath.Join(dir, "clip.gif")}
		}, previousFile("clip.gif"), tempUnderway},
		{"demo", func(dir string) []string {
			return []string{"demo", "--quick", "--force", "--out", filepath.Join(dir, "tour")}
		}, previousFolder("tour"), tempUnderway},
		{"train", func(dir string) []string {
			return []string{"train", "--data", filepath.Join(dir, "..", "train.arrow"), "--model", "mlp", "--epochs", "1000",
				"--force", "-o", filepath.Join(dir, "m.safetensors")}
		}, previousFile("m.safetensors"), func(dir string) bool {
			_, err := os.Stat(filepath.Join(dir, "m.ckpt.safetensors"))
			return err == nil
		}},
	}
	base := t.TempDir()
	if _, stderr, code := run(t, "convert", train, "-q", "-o", filepath.Join(base, "train.arrow")); code != 0 {
		t.Fatalf("convert: %s", stderr)
	}
	for _, c := range cases {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(c.name+" "+sig.String(), func(t *testing.T) {
				dir, err := os.MkdirTemp(base, "run-")
				if err != nil {
					t.Fatal(err)
				}
				c.previous(t, dir)
				before := snapshot(t, dir)
				cmd := exec.Command(binary, c.args(dir)...)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				exited := make(chan error, 1)
				go func() { exited <- cmd.Wait() }()
				deadline := time.After(2 * time.Minute)
			wait:
				for !c.underway(dir) {
					select {
					case err := <-exited:
						t.Fatalf("the command ended (%v) before it was under way: %s", err, stderr.String())
					case <-deadline:
						cmd.Process.Kill()
						t.Fatal("the command never got under way")
					case <-time.After(5 * time.Millisecond):
						continue wait
					}
				}
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				sent := time.Now()
				select {
				case <-exited:
				case <-time.After(30 * time.Second):
					cmd.Process.Kill()
					t.Fatalf("still running 30 s after %v", sig)
				}
				want := 128 + int(sig)
				if code := cmd.ProcessState.ExitCode(); code != want {
					t.Fatalf("exit code %d after %v, want %d; stderr: %s", code, sig, want, stderr.String())
				}
				if !strings.Contains(stderr.String(), "interrupted") || strings.Contains(stderr.String(), "context canceled") {
					t.Errorf("stderr should say interrupted (and no \"context canceled\"): %q", stderr.String())
				}
				if h := hiddenEntries(dir); len(h) > 0 {
					t.Errorf("temporary output left behind: %v", h)
				}
				after := snapshot(t, dir)
				delete(after, "m.ckpt.safetensors") // train keeps its last complete checkpoint, and says so
				if len(after) != len(before) {
					t.Errorf("files before the run: %d, after: %d (%v)", len(before), len(after), keys(after))
				}
				for rel, content := range before {
					if after[rel] != content {
						t.Errorf("the previous output %s changed", rel)
					}
				}
				if c.name == "train" && !strings.Contains(stderr.String(), "--resume") {
					t.Errorf("train should name its last checkpoint: %q", stderr.String())
				}
				t.Logf("%v: exited %v after the signal", sig, time.Since(sent).Round(time.Millisecond))
			})
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
