package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/snn"
)

// TestTrainBeyondMemory: train on a sharded dataset whose encoding is larger than --memory streams it
// from disk, stays under the budget in peak resident memory (as /usr/bin/time -v measures it), and
// reaches the accuracy of training in memory within one point, on the same synthetic digits; eval of the
// same data under the same budget streams too, stays under it and scores exactly as in memory.
func TestTrainBeyondMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesises and trains on 11,000 digits")
	}
	timeBin, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		fixtures.MissingTool(t, "/usr/bin/time is not installed", "apt-get install time (scripts/test-packages.txt)")
	}
	const budget = 128 << 20
	dir := t.TempDir()
	data, test := filepath.Join(dir, "digits"), filepath.Join(dir, "test.arrow")
	mustRun(t, "synth", "--images", "builtin:digits:11000", "-o", data, "--shard-size", "500", "-q")
	mustRun(t, "synth", "--images", "builtin:digits:1000", "--split", "test", "-o", test, "-q")
	d, err := snn.OpenDataset(context.Background(), data, snn.Encoding{Bins: 10})
	if err != nil {
		t.Fatal(err)
	}
	if d.Streamed() || d.Bytes <= budget {
		t.Fatalf("the dataset encodes to %d bytes (streamed %v): not more than the budget of %d", d.Bytes, d.Streamed(), budget)
	}
	args := []string{"train", "--data", data, "--test", test, "--model", "mlp", "--hidden", "32", "--epochs", "2", "--json"}
	accuracy := func(stdout string) float64 {
		var last struct {
			TestAccuracy float64 `json:"test_accuracy"`
		}
		sc := bufio.NewScanner(strings.NewReader(stdout))
		for sc.Scan() {
			if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
				t.Fatalf("%q: %v", sc.Text(), err)
			}
		}
		return last.TestAccuracy
	}
	inMemory := accuracy(mustRun(t, append(args, "-o", filepath.Join(dir, "a.safetensors"))...))

	// peak runs evtool under /usr/bin/time -v: its stdout, stderr and peak resident memory in bytes.
	peak := func(args ...string) (string, string, int64) {
		t.Helper()
		cmd := exec.Command(timeBin, append([]string{"-v", binary}, args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("evtool %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		m := regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`).FindStringSubmatch(stderr.String())
		if m == nil {
			t.Fatalf("no peak memory in /usr/bin/time's report:\n%s", stderr.String())
		}
		kb, _ := strconv.ParseInt(m[1], 10, 64)
		return stdout.String(), stderr.String(), kb << 10
	}
	model := filepath.Join(dir, "b.safetensors")
	stdout, stderr, rss := peak(append(args, "--memory", "128MiB", "-o", model)...)
	if !strings.Contains(stderr, "streamed from disk") {
		t.Fatalf("train --memory 128MiB did not stream:\n%s", stderr)
	}
	streamed := accuracy(stdout)
	t.Logf("encoded %d MiB; train: peak resident %d MiB under a budget of %d MiB; test accuracy %.3f streamed, %.3f in memory",
		d.Bytes>>20, rss>>20, budget>>20, streamed, inMemory)
	if rss >= budget {
		t.Errorf("train: peak resident memory %d KiB is over the budget of %d KiB", rss>>10, budget>>10)
	}
	if streamed < inMemory-0.01 || streamed > inMemory+0.01 {
		t.Errorf("streamed training reached %.3f, in memory %.3f: more than a point apart", streamed, inMemory)
	}

	// eval of the whole training set under the same budget reads it from disk in chunks, stays under
	// the budget, and scores exactly as eval in memory.
	evalArgs := []string{"eval", "--model", model, "--data", data, "--json"}
	stdout, stderr, rss = peak(append(evalArgs, "--memory", "128MiB")...)
	if !strings.Contains(stderr, "read from disk in order") {
		t.Fatalf("eval --memory 128MiB did not stream:\n%s", stderr)
	}
	memOut, _, memRSS := peak(evalArgs...)
	t.Logf("eval of %d MiB encoded: peak resident %d MiB streamed under a budget of %d MiB, %d MiB in memory",
		d.Bytes>>20, rss>>20, budget>>20, memRSS>>20)
	if rss >= budget {
		t.Errorf("eval: peak resident memory %d KiB is over the budget of %d KiB", rss>>10, budget>>10)
	}
	var a, b map[string]any
	if json.Unmarshal([]byte(stdout), &a) != nil || json.Unmarshal([]byte(memOut), &b) != nil {
		t.Fatalf("eval --json: %q, %q", stdout, memOut)
	}
	for _, k := range []string{"accuracy", "loss", "confusion", "samples"} {
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			t.Errorf("eval %s: %v streamed, %v in memory", k, a[k], b[k])
		}
	}
	if a["samples"] != float64(11000) {
		t.Errorf("eval scored %v samples, want 11000", a["samples"])
	}
	os.RemoveAll(dir)
}
