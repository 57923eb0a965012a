package hostile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/internal/fixtures"
)

// The limits every run is held to: the data segment (prlimit --data, as a user's ulimit -d would) and the
// wall time. A run that allocates what a file claims instead of what it holds dies of the first; one
// that loops on a lie, of the second.
const (
	dataLimit = 2 << 30
	runLimit  = 90 * time.Second
)

// outcome is what a case expects of a verb.
type outcome int

const (
	ok      outcome = iota + 1 // exit 0
	refused                    // exit 1, naming the input file, leaving no output
	either                     // ok or refused: the file is legal, but an output format may not hold it
)

func (o outcome) String() string { return [...]string{"", "exit 0", "exit 1", "exit 0 or 1"}[o] }

// A case is one hostile input and what each verb must do with it.
type hcase struct {
	name    string
	file    string // the input, in the suite's folder
	dataset bool   // the input holds labelled samples: train and eval read it
	// expect gives the outcome per verb ("info", "convert", "convert:<format>", "render", "view", "train",
	// "eval"); a verb not listed gets def.
	expect map[string]outcome
	def    outcome
	// warn, when set, must appear in the stderr of every run that reads the file and succeeds.
	warn string
	// only, when set, replaces the standard verbs: runs whose arguments are built from the input's path
	// (a model file is read by eval and train, not by info or convert).
	only []extraRun
	// extra runs follow the standard verbs.
	extra []extraRun
}

// extraRun is a run beyond the standard verbs, checked against the case's outcome for verb.
type extraRun struct {
	verb string
	args func(in string) []string
}

func (c *hcase) outcome(verb string) outcome {
	if o, ok := c.expect[verb]; ok {
		return o
	}
	f, to, isConvert := strings.Cut(verb, ":")
	if o, ok := c.expect[f]; ok && isConvert {
		return o
	}
	if isConvert && c.def == ok && !universal[to] {
		// Formats made for one camera family refuse what they cannot store (a sensor size, a time range),
		// naming their output.
		return either
	}
	return c.def
}

// universal are the output formats that store any events: a valid input must convert to them.
var universal = map[string]bool{"arrow": true, "parquet": true, "csv": true, "npy": true}

var evtool string // the binary under test

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "evtool-hostile-")
	if err != nil {
		panic(err)
	}
	_, here, _, _ := runtime.Caller(0)
	evtool = filepath.Join(dir, "evtool")
	build := exec.Command("go", "build", "-o", evtool, "./cmd/evtool")
	build.Dir = filepath.Join(filepath.Dir(here), "..", "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic("building evtool: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of evtool.
type result struct {
	args   []string
	code   int
	stderr string
	out    string // the output path given, if any
	outDir string // the folder the output was written into (checked for leftovers)
}

// runEvtool runs evtool under the data limit and the time limit, in dir (its own output folder).
func runEvtool(t *testing.T, env []string, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, prlimit(t), append([]string{fmt.Sprintf("--data=%d", dataLimit), "--", evtool}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	r := result{args: args, stderr: stderr.String(), outDir: dir}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Errorf("evtool %s: still running after %v (a hang)\n%s", strings.Join(args, " "), runLimit, r.stderr)
		r.code = -1
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("evtool %s: %v", strings.Join(args, " "), err)
	}
	return r
}

var prlimitPath struct {
	once sync.Once
	path string
}

func prlimit(t *testing.T) string {
	prlimitPath.once.Do(func() { prlimitPath.path, _ = exec.LookPath("prlimit") })
	if prlimitPath.path == "" {
		fixtures.MissingTool(t, "prlimit (util-linux) is not installed: the suite holds evtool to a 2 GB data limit with it",
			"apt-get install util-linux")
	}
	return prlimitPath.path
}

// check applies the rules every run obeys, and the case's outcome for the verb.
func check(t *testing.T, c *hcase, verb string, r result) {
	t.Helper()
	cmdline := "evtool " + strings.Join(r.args, " ")
	for _, sign := range []string{"panic:", "goroutine ", "fatal error:", "runtime error", "out of memory", "SIGSEGV"} {
		if strings.Contains(r.stderr, sign) {
			t.Errorf("%s: %s crashed (%q):\n%s", c.name, cmdline, sign, clip(r.stderr))
			return
		}
	}
	want := c.outcome(verb)
	switch {
	case r.code == 0 && want != refused:
		if c.warn != "" && verb != "view" && !strings.Contains(r.stderr, c.warn) {
			t.Errorf("%s: %s said nothing of %q:\n%s", c.name, cmdline, c.warn, clip(r.stderr))
		}
	case r.code == 1 && want != ok:
		// A refusal names the file it is about: the input, or the output a format cannot hold it in.
		if !strings.Contains(r.stderr, c.file) && (r.out == "" || !strings.Contains(r.stderr, r.out)) {
			t.Errorf("%s: %s: the error does not name %s:\n%s", c.name, cmdline, c.file, clip(r.stderr))
		}
		if left := entries(t, r.outDir); len(left) > 0 {
			t.Errorf("%s: %s failed and left %v behind", c.name, cmdline, left)
		}
	case r.code >= 0:
		t.Errorf("%s: %s: exit %d, want %s:\n%s", c.name, cmdline, r.code, want, clip(r.stderr))
	}
	// No run leaves a temporary file, whatever its outcome.
	for _, e := range entries(t, r.outDir) {
		if strings.HasPrefix(e, ".") {
			t.Errorf("%s: %s left the temporary %s", c.name, cmdline, e)
		}
	}
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:1000] + "\n…\n" + s[len(s)-1000:]
	}
	return s
}

// entries lists what a folder holds, recursively, relative to it.
func entries(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// outputFormats are the writable formats convert is run to, with the output name each gets.
func outputFormats(dataset bool) map[string]string {
	out := map[string]string{}
	for _, f := range formats.All() {
		if f.Create == nil || (dataset && !f.DatasetCreate) {
			continue
		}
		name := "out-" + f.Name // a folder (N-MNIST samples, shards)
		if len(f.Extensions) > 0 && !(dataset && f.Name == "nmnist") {
			name = "out" + f.Extensions[0]
		}
		out[f.Name] = name
	}
	return out
}

func TestHostileFiles(t *testing.T) {
	dir := t.TempDir()
	cases := makeCases(t, dir)
	model := trainModel(t, dir)
	display := fixtures.Xvfb(t)
	runs := 0
	start := time.Now()
	for i := range cases {
		c := &cases[i]
		t.Run(c.name, func(t *testing.T) {
			in := filepath.Join(dir, c.file)
			c.file = in
			work := t.TempDir()
			fresh := func(verb string) string {
				d := filepath.Join(work, fmt.Sprintf("%02d-%s", runs, strings.NewReplacer(":", "-", "/", "-").Replace(verb)))
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
				return d
			}
			do := func(verb string, env []string, args ...string) result {
				runs++
				r := runEvtool(t, env, fresh(verb), args...)
				for i, a := range args {
					if a == "-o" && i+1 < len(args) {
						r.out = args[i+1]
					}
				}
				check(t, c, verb, r)
				return r
			}

			if c.only != nil {
				for _, x := range c.only {
					do(x.verb, nil, x.args(in)...)
				}
				return
			}
			do("info", nil, "info", in)
			for name, out := range outputFormats(c.dataset) {
				verb := "convert:" + name
				r := do(verb, nil, "convert", in, "-o", out, "--to", name)
				if r.code == 0 {
					// What evtool writes, evtool reads (a folder of samples: by converting it back).
					back := runEvtool(t, nil, r.outDir, "info", out)
					if st, err := os.Stat(filepath.Join(r.outDir, out)); err == nil && st.IsDir() {
						back = runEvtool(t, nil, r.outDir, "convert", out, "-o", "back.arrow")
					}
					if back.code != 0 {
						t.Errorf("%s: convert --to %s wrote %s, which evtool info refuses:\n%s", c.name, name, out, clip(back.stderr))
					}
				}
			}
			do("render", nil, "render", in, "-o", "out.png")
			do("render", nil, "render", in, "-o", "out.gif", "--max-frames", "40")
			do("view", []string{"DISPLAY=" + display, "WAYLAND_DISPLAY="}, "view", in, "--frames", "3")
			do("train", nil, "train", "--data", in, "-o", "m.safetensors", "--model", "mlp", "--hidden", "8",
				"--epochs", "1", "--bins", "2", "--workers", "1", "--shift", "0")
			do("eval", nil, "eval", "--model", model, "--data", in, "--workers", "1")
			for _, x := range c.extra {
				do(x.verb, nil, x.args(in)...)
			}
		})
	}
	t.Logf("%d cases, %d runs of evtool in %v", len(cases), runs, time.Since(start).Round(time.Second))
}
