package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/evtool/evtool/internal/fixtures"
)

// TestExitCodes runs one command of every error class and checks its exit code — 2 for bad usage only,
// 1 for anything that goes wrong while running (signals, 130 and 143, are TestSignalsMidWrite's) — and
// its message: one that names what it is about (the file, the flag), suggests the closest name where
// there is one, names no hidden temporary path and carries no raw non-UTF-8 byte.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bin := fixtures.Path(t, "nmnist/Train/0/00002.bin")
	train := fixtures.Path(t, "nmnist/Train")
	src, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	truncated := write("cut.bin", src[:1003])
	empty := write("empty.csv", []byte("t,x,y,p\n"))
	outside := write("outside.csv", []byte("t,x,y,p\n1,2,3,1\n5,40,3,0\n"))
	unknown := write("mystery.xyz", []byte("no format has these bytes"))
	exists := write("exists.arrow", []byte("an earlier output"))
	notModel := write("model.safetensors", []byte("not a model"))
	// A missing file whose name holds "invalid argument": the old classifier read error texts.
	invalid := filepath.Join(dir, "invalid argument.bin")
	rawName := filepath.Join(dir, "caf\xe9\x1b[31m.bin") // Latin-1 é and a terminal escape
	dataset := filepath.Join(dir, "train.arrow")
	if _, stderr, code := run(t, "convert", train, "-q", "-o", dataset); code != 0 {
		t.Fatalf("convert: %s", stderr)
	}
	out := func(name string) string { return filepath.Join(dir, name) }

	for _, c := range []struct {
		name string
		args []string
		code int
		want []string // substrings of stderr
	}{
		// Bad usage: 2.
		{"unknown verb", []string{"convrt"}, 2, []string{`unknown command "convrt"`, "did you mean convert?"}},
		{"unknown sub-verb", []string{"datasets", "lst"}, 2, []string{`unknown command "lst"`, "did you mean list?"}},
		{"unknown flag", []string{"convert", bin, "--bogus"}, 2, []string{"unknown flag: --bogus"}},
		{"flag without its value", []string{"convert", bin, "-o"}, 2, []string{"flag needs an argument"}},
		{"flag value of the wrong type", []string{"convert", bin, "-o", out("a.arrow"), "--workers", "many"}, 2, []string{"--workers"}},
		{"too few arguments", []string{"info"}, 2, []string{"requires at least 1 arg"}},
		{"too many arguments", []string{"render", bin, bin, "-o", out("a.png")}, 2, []string{"accepts 1 arg"}},
		{"missing output", []string{"convert", bin}, 2, []string{"-o OUTPUT"}},
		{"bad sensor size", []string{"convert", bin, "-o", out("a.arrow"), "--sensor", "12"}, 2, []string{"--sensor"}},
		{"bad duration", []string{"render", bin, "-o", out("a.png"), "--window", "3days"}, 2, []string{"--window"}},
		{"bad enum value", []string{"render", bin, "-o", out("a.png"), "--decay", "expo"}, 2, []string{"--decay", "did you mean exponential?"}},
		{"unknown input format", []string{"convert", bin, "-o", out("a.arrow"), "--from", "nmnst"}, 2, []string{"--from", "did you mean nmnist?"}},
		{"unknown output extension", []string{"convert", bin, "-o", out("a.foo")}, 2, []string{"a.foo", ".foo", "--to"}},
		{"malformed option", []string{"convert", bin, "-o", out("a.arrow"), "-O", "=3"}, 2, []string{"key=value"}},
		{"unknown compression", []string{"convert", bin, "-o", out("a.arrow"), "--compression", "zip"}, 2, []string{"--compression zip"}},
		{"unknown dataset", []string{"datasets", "info", "nmist"}, 2, []string{`unknown dataset "nmist"`, "did you mean nmnist?"}},
		{"unknown split", []string{"datasets", "prepare", "nmnist", "--from", fixtures.Path(t, "nmnist"), "-o", out("a.arrow"), "--split", "training"}, 2,
			[]string{`no split "training"`, "did you mean train?"}},
		{"unknown transform", []string{"convert", bin, "-o", out("a.arrow"), "-t", "denose(dt=5ms)"}, 2, []string{"did you mean denoise?", "character 1"}},
		{"comma between transforms", []string{"convert", bin, "-o", out("a.arrow"), "-t", "denoise(dt=5ms), refractory(period=1ms)"}, 2,
			[]string{"chained with '|'", "denoise(dt=5ms) | refractory(period=1ms)"}},
		{"crop larger than the sensor", []string{"convert", train, "-o", out("a.arrow"), "-t", "crop(x0=0,y0=0,w=40,h=40)"}, 2, []string{"crop size 40x40 does not fit the 34x34 sensor"}},
		{"picture too large by --scale", []string{"render", bin, "-o", out("a.png"), "--scale", "1000"}, 2, []string{"--scale 1000", bin}},
		{"sample out of range", []string{"render", dataset, "--sample", "99", "-o", out("a.png")}, 2, []string{"--sample 99", dataset}},
		{"unknown transform to show", []string{"transforms", "refactory"}, 2, []string{"did you mean refractory?"}},
		{"unknown format to show", []string{"formats", "aedat5"}, 2, []string{"did you mean aedat"}},
		{"unknown format option", []string{"convert", bin, "-o", out("a.parquet"), "-O", "bogus=1"}, 2,
			[]string{"-O bogus=1", "formats nmnist and parquet take no option of that name", "parquet takes row-group-events, row-group-samples"}},
		{"misspelt format option", []string{"convert", bin, "-o", out("a.parquet"), "-O", "row-group-event=5"}, 2, []string{"did you mean row-group-events?"}},
		{"tensors option to an events output", []string{"convert", bin, "-o", out("a.arrow"), "-O", "dtype=int16"}, 2,
			[]string{"-O dtype=int16", "arrow takes batch-events, batch-samples"}},
		{"events option to a tensors output", []string{"convert", bin, "-o", out("a.npz"), "-t", "frames(bins=2)", "-O", "columns=t,x,y,p"}, 2,
			[]string{"-O columns=t,x,y,p", "npz (tensors) takes dtype"}},
		{"option no shard file takes", []string{"convert", train, "-o", out("shards"), "--shard-size", "3", "-O", "row-group-events=9"}, 2,
			[]string{"-O row-group-events=9", "shards takes", "arrow takes batch-events"}},
		{"unknown option to prepare", []string{"datasets", "prepare", "nmnist", "--from", fixtures.Path(t, "nmnist"), "-o", out("a.arrow"), "-O", "overflow-marker=1"}, 2,
			[]string{"did you mean overflow-markers?"}},
		{"unknown option to synth", []string{"synth", "--images", "builtin:digits:2", "-o", out("a.arrow"), "-O", "batch-event=9"}, 2, []string{"did you mean batch-events?"}},
		{"unknown option to info", []string{"info", bin, "-O", "bogus"}, 2, []string{"-O bogus=", "format nmnist takes no option of that name"}},
		{"unknown option to render", []string{"render", dataset, "-o", out("a.png"), "-O", "bogus=2"}, 2, []string{"-O bogus=2", "arrow"}},
		{"unknown option to view", []string{"view", bin, "-O", "bogus=3"}, 2, []string{"-O bogus=3", "nmnist"}},
		{"bad option value", []string{"convert", bin, "-o", out("a.arrow"), "-t", "frames(bins=2)", "-O", "tensor-type=bogus"}, 2,
			[]string{"option tensor-type=bogus: want canonical", "-O key=value"}},
		{"bad option value of a reader", []string{"convert", outside, "-o", out("a.arrow"), "-O", "time-unit=fortnights"}, 2,
			[]string{"option time-unit=fortnights: want us, ms, s or ns"}},

		// Failures while running: 1.
		{"missing input named invalid argument", []string{"info", invalid}, 1, []string{invalid, "no such file"}},
		{"truncated input", []string{"convert", truncated, "-o", out("b.arrow")}, 1, []string{truncated, "byte 1000"}},
		{"nothing to draw", []string{"render", empty, "-o", out("b.png")}, 1, []string{empty, "nothing to draw"}},
		{"events outside the sensor", []string{"convert", outside, "-o", out("b.arrow"), "--sensor", "10x10"}, 1,
			[]string{outside, "outside the 10x10 sensor", "--sensor"}},
		{"file of no known format", []string{"info", unknown}, 1, []string{unknown, "unknown format", "--from"}},
		{"output exists", []string{"convert", bin, "-o", exists}, 1, []string{exists, "--force"}},
		{"output folder missing", []string{"convert", bin, "-o", filepath.Join(dir, "no", "such", "c.arrow")}, 1, []string{filepath.Join(dir, "no", "such", "c.arrow")}},
		{"not a model", []string{"eval", "--model", notModel, "--data", dataset}, 1, []string{notModel}},
		{"raw bytes in a file name", []string{"info", rawName}, 1, []string{`caf\xe9\x1b[31m.bin`}},
		{"events back in time in the player", []string{"view", write("back.csv", []byte("5,1,1,1\n3,2,2,0\n")), "--sensor", "10x10"}, 1,
			[]string{"back.csv", "goes back in time"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, c.code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, stderr)
				}
			}
			if strings.Contains(stderr, ".tmp-") {
				t.Errorf("stderr names a temporary path: %s", stderr)
			}
			if !utf8.ValidString(stderr) || strings.ContainsRune(stderr, '\x1b') {
				t.Errorf("stderr carries raw bytes: %q", stderr)
			}
			if strings.Count(strings.TrimSpace(stderr), "evtool:") == 0 {
				t.Errorf("no evtool: message: %q", stderr)
			}
		})
	}
	if b, _ := os.ReadFile(exists); string(b) != "an earlier output" {
		t.Fatal("a refused output was changed")
	}
	var names []string
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "back.csv cut.bin empty.csv exists.arrow model.safetensors mystery.xyz outside.csv train.arrow" {
		t.Fatalf("the folder holds %s: the failures left something behind (only the inputs should be there)", got)
	}
}
