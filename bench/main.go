// Command bench times whole evtool commands on real fixtures and on generated data, several runs each, and
// prints one table. Where the peer (tonic, from its source tree, with NumPy) is available it is timed in the
// same run, on the same files, and the table gives the ratio. With -before it also times an older evtool
// binary, so one run gives the before/after table of a change.
//
//	go build -o /tmp/evtool ./cmd/evtool
//	go run ./bench -evtool /tmp/evtool -tonic ~/src/tonic            # every case
//	go run ./bench -evtool /tmp/evtool -cases a,b,c -runs 5
//
// It never uses the network. Generated data (a 60,000-file N-MNIST tree, ≥ 1 GB EVT3 and AEDAT 4
// recordings) is written once under -work and reused by later runs. docs/performance.md explains the cases
// and keeps the latest table.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// config is what the flags say.
type config struct {
	evtool, before string
	fixtures       string
	tonic, python  string
	work           string
	runs           int
	cases          map[string]bool
	bigBytes       int64
	treeFiles      int
}

func main() {
	var c config
	var cases string
	flag.StringVar(&c.evtool, "evtool", "", "evtool binary to measure (default: build ./cmd/evtool into -work)")
	flag.StringVar(&c.before, "before", "", "an older evtool binary, timed in the same run for a before/after table")
	flag.StringVar(&c.fixtures, "fixtures", envOr("EVTOOL_FIXTURES", "../shared/fixtures"), "the shared fixtures")
	flag.StringVar(&c.tonic, "tonic", os.Getenv("TONIC_SRC"), "tonic source tree (git clone of neuromorphs/tonic); empty: no peer")
	flag.StringVar(&c.python, "python", envOr("PYTHON", "python3"), "Python with NumPy, for the peer")
	flag.StringVar(&c.work, "work", envOr("EVTOOL_BENCH_WORK", filepath.Join(os.TempDir(), "evtool-bench")), "folder for generated data and outputs (reused)")
	flag.IntVar(&c.runs, "runs", 3, "runs per command; the table gives the fastest")
	flag.StringVar(&cases, "cases", "a,b,c,d,e,f,g", "cases to run (see docs/performance.md)")
	flag.Int64Var(&c.bigBytes, "big-bytes", 1<<30, "size of the generated EVT3 recording (case e)")
	flag.IntVar(&c.treeFiles, "tree-files", 60000, "files in the generated N-MNIST tree (case d)")
	flag.Parse()
	c.cases = map[string]bool{}
	for _, s := range strings.Split(cases, ",") {
		c.cases[strings.TrimSpace(s)] = true
	}
	if err := run(&c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// row is one line of the table.
type row struct {
	name     string
	what     string  // what is measured
	unit     string  // "M events/s" or "files/s"
	amount   float64 // events (in M) or files per run
	evtool   timing
	before   *timing
	peer     *timing
	peerWhat string
	command  string
}

// timing is the fastest of several runs of one command.
type timing struct {
	seconds float64
	rssMB   float64 // peak resident set of that run (0 when not measured, e.g. in-process)
	err     error
}

func run(c *config) error {
	if err := os.MkdirAll(c.work, 0o755); err != nil {
		return err
	}
	if c.evtool == "" {
		c.evtool = filepath.Join(c.work, "evtool")
		fmt.Fprintln(os.Stderr, "building", c.evtool)
		build := exec.Command("go", "build", "-o", c.evtool, "./cmd/evtool")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build evtool: %w", err)
		}
	}
	peer := c.tonic != ""
	if peer {
		if _, err := os.Stat(filepath.Join(c.tonic, "tonic", "io.py")); err != nil {
			return fmt.Errorf("-tonic %s is not a tonic source tree: %w", c.tonic, err)
		}
	}
	fmt.Fprintf(os.Stderr, "machine: %d cores (GOMAXPROCS %d), %s/%s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	var rows []row
	for _, cs := range allCases {
		if !c.cases[cs.name] {
			continue
		}
		fmt.Fprintf(os.Stderr, "case %s: %s\n", cs.name, cs.what)
		r, err := cs.run(c)
		if err != nil {
			return fmt.Errorf("case %s: %w", cs.name, err)
		}
		rows = append(rows, r...)
	}
	printTable(os.Stdout, c, rows)
	return nil
}

// measure runs argv c.runs times (removing out before each run) and keeps the fastest run.
func measure(c *config, out string, argv ...string) timing {
	best := timing{seconds: -1}
	for i := 0; i < c.runs; i++ {
		if out != "" {
			os.RemoveAll(out)
		}
		t := runOnce(argv...)
		if t.err != nil {
			return t
		}
		if best.seconds < 0 || t.seconds < best.seconds {
			best = t
		}
	}
	return best
}

func runOnce(argv ...string) timing {
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	el := time.Since(start).Seconds()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 400 {
			msg = msg[len(msg)-400:]
		}
		return timing{err: fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, msg)}
	}
	var rss float64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	return timing{seconds: el, rssMB: rss}
}

// measureFunc times an in-process function c.runs times and keeps the fastest run.
func measureFunc(c *config, f func() error) timing {
	best := timing{seconds: -1}
	for i := 0; i < c.runs; i++ {
		start := time.Now()
		if err := f(); err != nil {
			return timing{err: err}
		}
		if el := time.Since(start).Seconds(); best.seconds < 0 || el < best.seconds {
			best.seconds = el
		}
	}
	return best
}

func printTable(w *os.File, c *config, rows []row) {
	fmt.Fprintf(w, "\nmachine: %d cores, %s/%s; fastest of %d runs; peer: %s\n\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, c.runs, peerName(c))
	head := "| case | what | evtool | rate | peak RSS |"
	sep := "|---|---|---|---|---|"
	if c.before != "" {
		head += " before | speed-up |"
		sep += "---|---|"
	}
	head += " peer | peer rate | evtool ÷ peer |"
	sep += "---|---|---|"
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, sep)
	for _, r := range rows {
		line := fmt.Sprintf("| %s | %s | %s | %s | %s |", r.name, r.what, secs(r.evtool), rate(r.evtool, r.amount, r.unit), rss(r.evtool))
		if c.before != "" {
			if r.before != nil {
				line += fmt.Sprintf(" %s | %s |", secs(*r.before), ratio(r.before.seconds, r.evtool.seconds, r.before.err == nil && r.evtool.err == nil))
			} else {
				line += " – | – |"
			}
		}
		if r.peer != nil {
			line += fmt.Sprintf(" %s %s | %s | %s |", r.peerWhat, secs(*r.peer), rate(*r.peer, r.amount, r.unit),
				ratio(r.peer.seconds, r.evtool.seconds, r.peer.err == nil && r.evtool.err == nil))
		} else {
			line += " – | – | – |"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w, "\ncommands:")
	for _, r := range rows {
		fmt.Fprintf(w, "  %s: %s\n", r.name, r.command)
	}
	for _, r := range rows {
		for _, t := range []*timing{&r.evtool, r.before, r.peer} {
			if t != nil && t.err != nil {
				fmt.Fprintf(w, "  %s failed: %v\n", r.name, t.err)
			}
		}
	}
}

func peerName(c *config) string {
	if c.tonic == "" {
		return "none (set -tonic or TONIC_SRC to a tonic source tree)"
	}
	return "tonic from " + c.tonic + ", timed inside Python (start-up not counted)"
}

func secs(t timing) string {
	if t.err != nil {
		return "failed"
	}
	return fmt.Sprintf("%.3f s", t.seconds)
}

func rate(t timing, amount float64, unit string) string {
	if t.err != nil || t.seconds <= 0 {
		return "–"
	}
	v := amount / t.seconds
	if v >= 100 {
		return fmt.Sprintf("%.0f %s", v, unit)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

func rss(t timing) string {
	if t.err != nil || t.rssMB == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f MB", t.rssMB)
}

// ratio is how many times faster b is than a (a/b seconds).
func ratio(a, b float64, ok bool) string {
	if !ok || b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f×", a/b)
}
