package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
)

// readSamples reads every sample of a dataset file or folder.
func readSamples(t *testing.T, path string) []events.Sample {
	t.Helper()
	src, _, err := formats.Open(path, "", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Samples == nil {
		t.Fatalf("%s is no dataset", path)
	}
	out := make([]events.Sample, src.Samples.NumSamples())
	for i := range out {
		if err := src.Samples.ReadSample(i, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// sameDataset fails unless two datasets hold the same samples in the same order, with equal events and
// boxes.
func sameDataset(t *testing.T, got, want string) {
	t.Helper()
	g, w := readSamples(t, got), readSamples(t, want)
	if len(g) != len(w) || len(w) == 0 {
		t.Fatalf("%s holds %d samples, %s %d", got, len(g), want, len(w))
	}
	for i := range w {
		a, b := &g[i].Events, &w[i].Events
		if g[i].ID != w[i].ID || g[i].Label != w[i].Label || !slices.Equal(a.T, b.T) || !slices.Equal(a.X, b.X) ||
			!slices.Equal(a.Y, b.Y) || !slices.Equal(a.P, b.P) {
			t.Fatalf("sample %d: %s has (%q, %d, %d events), %s (%q, %d, %d)", i, got, g[i].ID, g[i].Label, a.Len(),
				want, w[i].ID, w[i].Label, b.Len())
		}
		if !slices.Equal(g[i].Boxes, w[i].Boxes) {
			t.Fatalf("sample %d (%q): %s has boxes %+v, %s %+v", i, w[i].ID, got, g[i].Boxes, want, w[i].Boxes)
		}
	}
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, code := run(t, args...)
	if code != 0 {
		t.Fatalf("evtool %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return out
}

// infoWithoutPath is `info --json` of a dataset with the fields that name the file itself taken out.
func infoWithoutPath(t *testing.T, path string) map[string]any {
	t.Helper()
	var rep map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, "info", "--json", path)), &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"path", "format", "details", "source"} {
		delete(rep, k)
	}
	return rep
}

// Array jobs, each preparing one part into a shared folder, then a merge: the single run's dataset,
// sample for sample; info, render and eval see the folder exactly as the file.
func TestShardedPrepareIsTheSingleRun(t *testing.T) {
	dir := t.TempDir()
	from := fixtures.Path(t, "nmnist")
	single := filepath.Join(dir, "single.arrow")
	mustRun(t, "datasets", "prepare", "nmnist", "--from", from, "-o", single)
	parts := filepath.Join(dir, "parts")
	for i := 3; i >= 0; i-- {
		_, stderr, code := run(t, "datasets", "prepare", "nmnist", "--from", from, "-o", parts, "--shard", fmt.Sprintf("%d/4", i), "--shard-size", "3")
		if code != 0 || !strings.Contains(stderr, "evtool datasets merge "+parts) {
			t.Fatalf("part %d: exit %d\n%s", i, code, stderr)
		}
	}
	if _, stderr, code := run(t, "info", parts); code == 0 {
		t.Fatalf("info on parts not merged yet succeeded: %s", stderr)
	}
	mustRun(t, "datasets", "merge", parts)
	sameDataset(t, parts, single)
	sameDataset(t, filepath.Join(parts, "manifest.json"), single)

	// info: the same report as for the file.
	if a, b := infoWithoutPath(t, parts), infoWithoutPath(t, single); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("info on the folder:\n%v\non the file:\n%v", a, b)
	}
	out := mustRun(t, "info", "--verify", parts)
	if !strings.Contains(out, `sha256    "verified (12 shards)"`) || !strings.Contains(out, "shards (dataset)") {
		t.Fatalf("info --verify:\n%s", out)
	}
	// render: the same picture of a sample.
	for _, src := range []string{single, parts} {
		mustRun(t, "render", src, "--sample", "17", "-o", src+".png")
	}
	a, _ := os.ReadFile(single + ".png")
	b, _ := os.ReadFile(parts + ".png")
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Fatalf("render --sample 17 draws %d bytes from the folder, %d from the file, not the same", len(b), len(a))
	}
	// convert reads the folder as one dataset.
	back := filepath.Join(dir, "back.parquet")
	mustRun(t, "convert", parts, "-o", back)
	sameDataset(t, back, single)

	// A changed shard fails --verify, naming it.
	shard := filepath.Join(parts, "part-00002-of-00004-00001.arrow")
	data, err := os.ReadFile(shard)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x40
	os.WriteFile(shard, data, 0o644)
	if _, stderr, code := run(t, "info", "--verify", parts); code == 0 || !strings.Contains(stderr, "part-00002-of-00004-00001.arrow has sha256") {
		t.Fatalf("info --verify on a changed shard: exit %d, %s", code, stderr)
	}
}

// eval scores a model on a shard folder exactly as on the file it was cut from.
func TestEvalOnShards(t *testing.T) {
	dir := t.TempDir()
	from := fixtures.Path(t, "nmnist")
	single := filepath.Join(dir, "test.arrow")
	mustRun(t, "datasets", "prepare", "nmnist", "--from", from, "-o", single)
	folder := filepath.Join(dir, "test")
	mustRun(t, "datasets", "prepare", "nmnist", "--from", from, "-o", folder, "--shard-size", "5", "--shard-format", "parquet", "--partition", "label")
	model := filepath.Join(dir, "m.safetensors")
	mustRun(t, "train", "--data", folder, "--model", "mlp", "--hidden", "16", "--epochs", "2", "-o", model)
	a := mustRun(t, "eval", "--model", model, "--data", single, "--json")
	b := mustRun(t, "eval", "--model", model, "--data", folder, "--json")
	var ea, eb map[string]any
	json.Unmarshal([]byte(a), &ea)
	json.Unmarshal([]byte(b), &eb)
	for _, e := range []map[string]any{ea, eb} {
		delete(e, "seconds")
	}
	if fmt.Sprint(ea) != fmt.Sprint(eb) || ea["samples"] != float64(32) {
		t.Fatalf("eval on the file:\n%v\non the folder:\n%v", ea, eb)
	}
}

// synth in parts: the union of the parts is the single run, byte for byte in every sample.
func TestSynthParts(t *testing.T) {
	dir := t.TempDir()
	single := filepath.Join(dir, "single.arrow")
	mustRun(t, "synth", "--images", "builtin:digits:40", "-o", single, "--seed", "3")
	parts := filepath.Join(dir, "parts")
	for i := 0; i < 3; i++ {
		mustRun(t, "synth", "--images", "builtin:digits:40", "-o", parts, "--seed", "3", "--shard", fmt.Sprintf("%d/3", i), "--to", "parquet")
	}
	mustRun(t, "datasets", "merge", parts)
	sameDataset(t, parts, single)
}

// --shard auto takes the part from a Slurm array task's environment.
func TestShardFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	from := fixtures.Path(t, "nmnist")
	out := filepath.Join(dir, "out")
	for i := 0; i < 2; i++ {
		cmd := []string{"datasets", "prepare", "nmnist", "--from", from, "-o", out, "--shard", "auto"}
		env := []string{fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d", i+5), "SLURM_ARRAY_TASK_MIN=5", "SLURM_ARRAY_TASK_COUNT=2"}
		if i == 1 {
			env = []string{"JOB_COMPLETION_INDEX=1"}
			cmd = append(cmd, "--shard-count", "2")
		}
		if _, stderr, code := runEnv(t, env, cmd...); code != 0 {
			t.Fatalf("part %d: %s", i, stderr)
		}
	}
	names, _ := filepath.Glob(filepath.Join(out, "*"))
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	want := []string{"part-00000-of-00002.arrow", "part-00000-of-00002.json", "part-00001-of-00002.arrow", "part-00001-of-00002.json"}
	if !slices.Equal(names, want) {
		t.Fatalf("the jobs wrote %v, want %v", names, want)
	}
	single := filepath.Join(dir, "single.arrow")
	mustRun(t, "datasets", "prepare", "nmnist", "--from", from, "-o", single)
	mustRun(t, "datasets", "merge", out)
	sameDataset(t, out, single)
}

// Clear refusals: a part of one recording, a split partition without a split, an incomplete merge.
func TestShardRefusals(t *testing.T) {
	dir := t.TempDir()
	from := fixtures.Path(t, "nmnist")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"convert", fixtures.Path(t, "nmnist/Train/0/00002.bin"), "-o", filepath.Join(dir, "x"), "--shard", "0/2"}, 1, "only the samples of a dataset split into parts"},
		{[]string{"datasets", "prepare", "nmnist", "--from", from, "-o", filepath.Join(dir, "y"), "--partition", "split"}, 2, "--partition split needs one split"},
		{[]string{"datasets", "prepare", "nmnist", "--from", from, "-o", filepath.Join(dir, "y"), "--shard", "4/4"}, 2, "want i/N with 0 <= i < N"},
		{[]string{"datasets", "prepare", "nmnist", "--from", from, "-o", filepath.Join(dir, "y"), "--shard", "auto"}, 2, "no array job in the environment"},
		{[]string{"datasets", "prepare", "nmnist", "--from", from, "-o", filepath.Join(dir, "z"), "--shard-size", "4", "--shard-format", "csv"}, 1, "not csv"},
	} {
		_, stderr, code := runEnv(t, nil, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want exit %d saying %q", c.args, code, stderr, c.code, c.want)
		}
	}
	parts := filepath.Join(dir, "parts")
	mustRun(t, "datasets", "prepare", "nmnist", "--from", from, "-o", parts, "--shard", "0/3")
	mustRun(t, "datasets", "prepare", "nmnist", "--from", from, "-o", parts, "--shard", "2/3")
	if _, stderr, code := run(t, "datasets", "merge", parts); code != 1 || !strings.Contains(stderr, "part 1 of 3 missing") {
		t.Fatalf("merge of an incomplete folder: exit %d, %s", code, stderr)
	}
	// Hive partitions by split and label: each split is a dataset of its own under one tree.
	tree := filepath.Join(dir, "tree")
	for _, split := range []string{"train", "test"} {
		mustRun(t, "datasets", "prepare", "nmnist", "--from", from, "--split", split, "-o", tree, "--shard-format", "parquet", "--partition", "split,label")
	}
	for _, split := range []string{"train", "test"} {
		single := filepath.Join(dir, split+".arrow")
		mustRun(t, "datasets", "prepare", "nmnist", "--from", from, "--split", split, "-o", single)
		sameDataset(t, filepath.Join(tree, "split="+split), single)
	}
	// The tree's root is no dataset: info names the datasets inside.
	want := "holds sharded datasets, not samples: describe them with evtool info " + filepath.Join(tree, "split=test") + " " + filepath.Join(tree, "split=train")
	if _, stderr, code := run(t, "info", tree); code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("info on a hive root: exit %d, %s", code, stderr)
	}
}

// runEnv is run with the array-job variables of the environment replaced by env.
func runEnv(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLURM_") && !strings.HasPrefix(kv, "JOB_COMPLETION_INDEX=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// writeMpx writes a 1 Megapixel folder (split train) under a new folder and returns it: recordings of
// EVT 2.0 events written by evtool and their _bbox.npy labels written by numpy, two or three boxes at each
// of several label times.
func writeMpx(t *testing.T, recordings int) string {
	t.Helper()
	from := t.TempDir()
	dir := filepath.Join(from, "detection_dataset_duration_60s_ratio_1.0", "train")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := formats.OutputFormat("x.raw", "")
	if err != nil {
		t.Fatal(err)
	}
	for r := 0; r < recordings; r++ {
		name := fmt.Sprintf("moorea_2019-02-2%d_000_td_%d_%d", r, 100_000_000*r, 100_000_000*r+60_000_000)
		b := events.NewBatch(0)
		for i := 0; i < 4000; i++ {
			b.Append(int64(i*100+r), uint16((i*37+r*11)%1280), uint16((i*13+r)%720), uint8(i%2))
		}
		sink, err := f.Create(filepath.Join(dir, name+".raw"), events.Meta{Geometry: events.Geometry{Width: 1280, Height: 720}}, formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Events.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		var rows []string
		for k := 1; k <= 6; k++ {
			for j := 0; j < 2+(k+r)%2; j++ {
				rows = append(rows, fmt.Sprintf("(%d, %d.25, %d.5, %d, %d.75, %d, 0.%d, %d)", k*50_000+r, 10*k+j, 20*j+r, 30+j, 40+k, (k+j+r)%7, j+1, 100*r+j))
			}
		}
		writeBBox(t, filepath.Join(dir, name+"_bbox.npy"), false, rows...)
	}
	return from
}

// A 1 Megapixel dataset prepared as Arrow shards — cut by size, in label partitions, or as two array
// parts merged — is the single .arrow file sample for sample, boxes included, and reads as a dataset
// with boxes of the 1 Megapixel classes. Parquet shards are refused: they cannot keep the boxes.
func TestShardedBoxes(t *testing.T) {
	dir := t.TempDir()
	from := writeMpx(t, 3)
	prep := func(out string, args ...string) (string, int) {
		t.Helper()
		_, stderr, code := run(t, append([]string{"datasets", "prepare", "1mpx", "--from", from, "--split", "train", "-o", out}, args...)...)
		return stderr, code
	}
	single := filepath.Join(dir, "single.arrow")
	if stderr, code := prep(single); code != 0 {
		t.Fatal(stderr)
	}
	want := readSamples(t, single)
	boxes := 0
	for _, s := range want {
		boxes += len(s.Boxes)
	}
	if len(want) != 18 || boxes != 45 {
		t.Fatalf("the single file holds %d samples and %d boxes; want 18 and 45", len(want), boxes)
	}
	check := func(folder string) {
		t.Helper()
		sameDataset(t, folder, single)
		src, _, err := formats.Open(folder, "", formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := src.Meta()
		src.Close()
		if !m.Boxes || len(m.BoxClasses) != 7 || m.BoxClasses[0] != "pedestrian" {
			t.Fatalf("%s: boxes %v, box classes %q", folder, m.Boxes, m.BoxClasses)
		}
	}
	sharded := filepath.Join(dir, "sharded")
	if stderr, code := prep(sharded, "--shard-size", "2"); code != 0 {
		t.Fatal(stderr)
	}
	check(sharded)
	if a, b := infoWithoutPath(t, sharded), infoWithoutPath(t, single); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("info on the folder:\n%v\non the file:\n%v", a, b)
	}
	// convert reads the folder with its boxes: to .arrow they are kept, to .parquet refused.
	back := filepath.Join(dir, "back.arrow")
	mustRun(t, "convert", sharded, "-o", back)
	sameDataset(t, back, single)
	if _, stderr, code := run(t, "convert", sharded, "-o", filepath.Join(dir, "back.parquet")); code != 1 || !strings.Contains(stderr, "cannot store them: write .arrow") {
		t.Fatalf("convert of the folder to .parquet: exit %d, %s", code, stderr)
	}
	labels := filepath.Join(dir, "labels")
	if stderr, code := prep(labels, "--shard-size", "5", "--partition", "label"); code != 0 {
		t.Fatal(stderr)
	}
	check(labels)
	parts := filepath.Join(dir, "parts")
	for _, p := range []string{"1/2", "0/2"} {
		if stderr, code := prep(parts, "--shard", p, "--shard-size", "4"); code != 0 {
			t.Fatalf("part %s: %s", p, stderr)
		}
	}
	mustRun(t, "datasets", "merge", parts)
	check(parts)

	pq := filepath.Join(dir, "pq")
	stderr, code := prep(pq, "--shard-size", "2", "--shard-format", "parquet")
	if code != 1 || !strings.Contains(stderr, "format shards of parquet files cannot store them: write .arrow, or shards of arrow files") {
		t.Fatalf("parquet shards of boxes: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(pq); err == nil {
		t.Fatal("the refused run left its folder")
	}
}
