package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evtool/evtool/internal/fixtures"
)

// digitSets synthesises small training and test sets of the built-in digits.
func digitSets(t *testing.T, dir string) (string, string) {
	t.Helper()
	train, test := filepath.Join(dir, "train.arrow"), filepath.Join(dir, "test.arrow")
	if _, stderr, code := run(t, "synth", "--images", "builtin:digits:240", "--split", "train", "-o", train, "-q"); code != 0 {
		t.Fatalf("synth: %s", stderr)
	}
	if _, stderr, code := run(t, "synth", "--images", "builtin:digits:60", "--split", "test", "--seed", "5", "-o", test, "-q"); code != 0 {
		t.Fatalf("synth: %s", stderr)
	}
	return train, test
}

// train prints one legend line, then one plain line per epoch; --json adds one record per epoch on
// stdout; eval reports its wall time.
func TestTrainEpochLinesAndJSON(t *testing.T) {
	dir := t.TempDir()
	train, test := digitSets(t, dir)
	model := filepath.Join(dir, "m.safetensors")
	stdout, stderr, code := run(t, "train", "--data", train, "--test", test, "--model", "mlp", "--epochs", "2", "--json", "-o", model)
	if code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	if strings.Count(stderr, "each epoch: ") != 1 || strings.Index(stderr, "each epoch: ") > strings.Index(stderr, "epoch 1 of 2: loss ") {
		t.Fatalf("want one legend line before the first epoch line:\n%s", stderr)
	}
	for _, want := range []string{"epoch 1 of 2: loss ", "epoch 2 of 2: loss ", "training accuracy ", "test accuracy ", " samples/s", "firing ", "after 2 epochs"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "skipped") || strings.Contains(stderr, "\r") {
		t.Errorf("jargon or progress bars without a terminal:\n%s", stderr)
	}
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("--json line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 2 || recs[1]["epoch"] != 2.0 || recs[0]["test_accuracy"].(float64) < 0 || recs[0]["samples_per_sec"].(float64) <= 0 {
		t.Fatalf("--json records: %v", recs)
	}
	out, stderr, code := run(t, "eval", "--model", model, "--data", test, "--json")
	if code != 0 {
		t.Fatalf("eval: %s", stderr)
	}
	var ev struct {
		Samples int     `json:"samples"`
		Seconds float64 `json:"seconds"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.Samples != 60 || ev.Seconds <= 0 {
		t.Fatalf("eval --json: %v %+v", err, ev)
	}
	if _, _, code := run(t, "train", "--data", train, "--model", "mlp", "--epochs", "1", "-q", "--force", "-o", model); code != 0 {
		t.Fatal("train -q failed")
	}
}

// On a terminal (script(1) gives train one), train draws progress bars for loading, each epoch and the
// test evaluation; --quiet silences them and the info lines.
func TestTrainProgressOnTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Fatal("script(1) is needed (Debian package bsdutils, in scripts/test-packages.txt)")
	}
	dir := t.TempDir()
	train, test := digitSets(t, dir)
	model := filepath.Join(dir, "m.safetensors")
	term := func(args ...string) string {
		cmdline := binary + " " + strings.Join(args, " ")
		cmd := exec.Command(script, "-qfec", cmdline, "/dev/null")
		cmd.Env = append(os.Environ(), "COLUMNS=120", "TERM=xterm")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", cmdline, err, out.String())
		}
		return out.String()
	}
	out := term("train", "--data", train, "--test", test, "--model", "mlp", "--epochs", "2", "-o", model)
	// Each epoch draws its bar (the running loss joins it once the 100 ms throttle lets a redraw through,
	// which a fast epoch of 240 samples may never do, so it is not asserted).
	for _, want := range []string{"loading " + train, "epoch 1/2", "epoch 2/2", "samples/s", "testing", "% |", "epoch 2 of 2: loss "} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
	out = term("eval", "--model", model, "--data", test)
	if !strings.Contains(out, "evaluating") || !strings.Contains(out, "time      ") {
		t.Errorf("eval on a terminal:\n%q", out)
	}
	out = term("train", "--data", train, "--model", "mlp", "--epochs", "1", "--quiet", "--force", "-o", model)
	if strings.Contains(out, "epoch") || strings.Contains(out, "% |") {
		t.Errorf("--quiet still talks:\n%q", out)
	}
}

// eval scores by class name: the 12 N-MNIST test recordings of the fixtures have no 3 and no 8, and a
// model trained on all ten digits still sees them as the digits they are.
func TestEvalTestSetLackingClasses(t *testing.T) {
	dir := t.TempDir()
	train, _ := digitSets(t, dir)
	model := filepath.Join(dir, "m.safetensors")
	if _, stderr, code := run(t, "train", "--data", train, "--model", "mlp", "--epochs", "1", "-q", "-o", model); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	nm := filepath.Join(dir, "nm.arrow")
	if _, stderr, code := run(t, "convert", fixtures.Path(t, "nmnist/Test"), "-o", nm, "-q"); code != 0 {
		t.Fatalf("convert: %s", stderr)
	}
	out, stderr, code := run(t, "eval", "--model", model, "--data", nm, "--json")
	if code != 0 {
		t.Fatalf("eval: %s", stderr)
	}
	var ev struct {
		Samples  int `json:"samples"`
		PerClass []struct {
			Class   string `json:"class"`
			Samples int    `json:"samples"`
		} `json:"per_class"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Samples != 12 || len(ev.PerClass) != 10 {
		t.Fatalf("%+v", ev)
	}
	for _, c := range ev.PerClass {
		// Every class but 3 and 8 has its recordings in the right row, by name.
		want := 1
		if c.Class == "3" || c.Class == "8" {
			want = 0
		}
		if c.Samples < want || (want == 0 && c.Samples != 0) {
			t.Fatalf("class %s: %d samples (%+v)", c.Class, c.Samples, ev.PerClass)
		}
	}
}
