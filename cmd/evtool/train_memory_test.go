package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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
// reaches the accuracy of training in memory within one point, on the same synthetic digits.
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

	cmd := exec.Command(timeBin, append([]string{"-v", binary}, append(args, "--memory", "128MiB", "-o", filepath.Join(dir, "b.safetensors"))...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("train --memory 128MiB: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "streamed from disk") {
		t.Fatalf("train --memory 128MiB did not stream:\n%s", stderr.String())
	}
	m := regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no peak memory in /usr/bin/time's report:\n%s", stderr.String())
	}
	kb, _ := strconv.ParseInt(m[1], 10, 64)
	streamed := accuracy(stdout.String())
	t.Logf("encoded %d MiB; peak resident %d MiB under a budget of %d MiB; test accuracy %.3f streamed, %.3f in memory",
		d.Bytes>>20, kb>>10, budget>>20, streamed, inMemory)
	if kb<<10 >= budget {
		t.Errorf("peak resident memory %d KiB is over the budget of %d KiB", kb, budget>>10)
	}
	if streamed < inMemory-0.01 || streamed > inMemory+0.01 {
		t.Errorf("streamed training reached %.3f, in memory %.3f: more than a point apart", streamed, inMemory)
	}
	os.RemoveAll(dir)
}
