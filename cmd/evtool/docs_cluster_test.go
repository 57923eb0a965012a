package main

import (
	"bufio"
	"bytes"
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
)

// fencedBlock is a code block of a Markdown page: its language and its text.
type fencedBlock struct{ lang, text string }

func fencedBlocks(t *testing.T, path string) []fencedBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []fencedBlock
	var cur *fencedBlock
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```") && cur == nil:
			cur = &fencedBlock{lang: strings.TrimPrefix(line, "```")}
		case strings.HasPrefix(line, "```"):
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	return out
}

// TestDocArrayJobs runs docs/cluster.md's array jobs as written, with the environment each task gets:
// the sbatch script once per task of its --array (Slurm's variables), then one task resubmitted alone;
// the Kubernetes Indexed Job's command once per completion index. Each merged folder must equal the
// single-machine run, sample for sample. (TestDocCommands leaves their --shard auto lines to this test.)
func TestDocArrayJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the documented array jobs")
	}
	var script, yaml string
	for _, b := range fencedBlocks(t, filepath.Join("..", "..", "docs", "cluster.md")) {
		if b.lang == "bash" && strings.HasPrefix(b.text, "#!/bin/bash\n") && strings.Contains(b.text, "#SBATCH --array=") {
			script = b.text
		}
		if b.lang == "yaml" && strings.Contains(b.text, "completionMode: Indexed") {
			yaml = b.text
		}
	}
	if script == "" || yaml == "" {
		t.Fatal("docs/cluster.md shows no sbatch array script or no Indexed Job")
	}
	m := regexp.MustCompile(`(?m)^#SBATCH --array=(\d+)-(\d+)$`).FindStringSubmatch(script)
	if m == nil {
		t.Fatalf("the sbatch script has no --array=FIRST-LAST:\n%s", script)
	}
	first, _ := strconv.Atoi(m[1])
	last, _ := strconv.Atoi(m[2])
	var command []string
	if c := regexp.MustCompile(`(?m)^\s*command: (\[.*\])$`).FindStringSubmatch(yaml); c == nil || json.Unmarshal([]byte(c[1]), &command) != nil || len(command) < 2 || command[0] != "evtool" {
		t.Fatalf("the Indexed Job has no command [\"evtool\", …]:\n%s", yaml)
	}
	c := regexp.MustCompile(`(?m)^\s*completions: (\d+)$`).FindStringSubmatch(yaml)
	if c == nil {
		t.Fatalf("the Indexed Job has no completions:\n%s", yaml)
	}
	completions, _ := strconv.Atoi(c[1])

	// The folder the jobs run in: the dataset download at data/nmnist, as the page says.
	workspace := func() string {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(fixtures.Path(t, "nmnist"), filepath.Join(dir, "data", "nmnist")); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	runIn := func(dir string, env []string, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "SLURM_") && !strings.HasPrefix(kv, "JOB_COMPLETION_INDEX=") && !strings.HasPrefix(kv, "PATH=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, env...)
		cmd.Env = append(cmd.Env, "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s with %v: %v\n%s", name, strings.Join(args, " "), env, err, out)
		}
	}
	// single is the command's whole run: its arguments without the part, written to OUT-single.
	single := func(dir string, args []string) (out, whole string) {
		t.Helper()
		var rest []string
		for i := 0; i < len(args); i++ {
			switch args[i] {
			case "--shard", "--shard-count":
				i++
				continue
			case "-o":
				out = args[i+1]
				rest = append(rest, "-o", out+"-single")
				i++
				continue
			}
			rest = append(rest, args[i])
		}
		if out == "" {
			t.Fatalf("no -o in %v", args)
		}
		runIn(dir, nil, binary, rest...)
		return filepath.Join(dir, out), filepath.Join(dir, out+"-single")
	}

	// Slurm: every task of the array, last first, as sbatch --array=FIRST-LAST runs them.
	dir := workspace()
	if err := os.WriteFile(filepath.Join(dir, "prepare.sbatch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	slurm := func(id, lo, hi int) []string {
		return []string{fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d", id), fmt.Sprintf("SLURM_ARRAY_TASK_MIN=%d", lo),
			fmt.Sprintf("SLURM_ARRAY_TASK_MAX=%d", hi), fmt.Sprintf("SLURM_ARRAY_TASK_COUNT=%d", hi-lo+1),
			"SLURM_ARRAY_TASK_STEP=1", fmt.Sprintf("SLURM_ARRAY_JOB_ID=%d", 4242)}
	}
	for id := last; id >= first; id-- {
		runIn(dir, slurm(id, first, last), "bash", "prepare.sbatch")
	}
	var evtoolLine []string
	for _, line := range strings.Split(script, "\n") {
		if strings.HasPrefix(line, "evtool ") {
			evtoolLine = strings.Fields(line)[1:]
		}
	}
	out, whole := single(dir, evtoolLine)
	runIn(dir, nil, binary, "datasets", "merge", filepath.Base(out))
	sameDataset(t, out, whole)
	// A task resubmitted alone (sbatch --array=2 prepare.sbatch) redoes its own part.
	redo := (first + last + 1) / 2
	parts, _ := filepath.Glob(filepath.Join(out, fmt.Sprintf("part-%05d-of-*", redo-first)))
	if len(parts) < 2 {
		t.Fatalf("part %d wrote %v", redo-first, parts)
	}
	for _, p := range parts {
		os.Remove(p)
	}
	runIn(dir, slurm(redo, redo, redo), "bash", "prepare.sbatch")
	runIn(dir, nil, binary, "datasets", "merge", filepath.Base(out))
	sameDataset(t, out, whole)

	// Kubernetes: the Job's command in every pod, JOB_COMPLETION_INDEX 0 … completions-1.
	dir = workspace()
	for i := completions - 1; i >= 0; i-- {
		runIn(dir, []string{fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i)}, binary, command[1:]...)
	}
	out, whole = single(dir, command[1:])
	runIn(dir, nil, binary, "datasets", "merge", filepath.Base(out))
	sameDataset(t, out, whole)
	if names, _ := filepath.Glob(filepath.Join(out, "part-*-of-*.json")); len(names) != completions {
		t.Fatalf("the Job wrote %d part manifests, want %d: %v", len(names), completions, names)
	}
}
