package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	be "encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/evtool/evtool/internal/fixtures"
)

// docCommand is one command line shown in the README or docs/.
type docCommand struct {
	file, line string
	block      int // commands of one code block run in order in one folder (a tutorial builds on itself)
}

// docCommands extracts every evtool command from the shell blocks of README.md and docs/*.md (in
// docs/cli.md, the examples: its usage synopses are not commands).
func docCommands(t *testing.T) []docCommand {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	files = append([]string{filepath.Join("..", "..", "README.md")}, files...)
	var out []docCommand
	block := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		open, shell := false, false
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "```") {
				lang := strings.TrimPrefix(line, "```")
				open = !open
				shell = open && (lang == "sh" || lang == "bash" || lang == "")
				block++
				continue
			}
			if !shell {
				continue
			}
			cmd := strings.TrimSpace(line)
			if filepath.Base(f) == "cli.md" && !strings.HasPrefix(line, "  ") {
				continue
			}
			if !strings.HasPrefix(cmd, "evtool ") && !strings.HasPrefix(cmd, "go run ") && !strings.HasPrefix(cmd, "./") {
				continue
			}
			// Drop a trailing comment (a # after two spaces; # inside quotes is not a comment here).
			if i := strings.Index(cmd, "  #"); i >= 0 {
				cmd = strings.TrimSpace(cmd[:i])
			}
			out = append(out, docCommand{file: filepath.Base(f), line: cmd, block: block})
		}
	}
	return out
}

// outputFlag finds the outputs a command names.
var outputFlag = regexp.MustCompile(`(?:^|\s)(?:-o|--output|--out)[ =](\S+)`)

// docSkips are the commands this test does not run, and why.
var docSkips = []struct{ contains, why string }{
	{"go run ./cmd/evtool demo", "CI runs the demo itself (.ci/run: demo --quick)"},
	{"./scripts/test.sh", "this test runs inside it"},
	{"datasets fetch", "downloads from the dataset's host"},
	{"--from data/DvsGesture", "needs the DVSGesture download"},
	{"gesture-train.arrow", "needs the DVSGesture download"},
	{"--shard auto", "runs inside an array job: TestDocArrayJobs runs it with each task's environment"},
}

// TestDocCommands runs every command of the README and docs/ as written, in a folder holding the files
// they name (made from the fixtures and evtool itself), and requires each to succeed. The commands of one
// code block share a folder and run in order.
func TestDocCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every documented command")
	}
	cmds := docCommands(t)
	if len(cmds) < 40 {
		t.Fatalf("found only %d documented commands: is the extraction broken?", len(cmds))
	}
	base := docWorkspace(t)
	binDir := filepath.Dir(binary)
	ran := 0
	dir, block := "", -1
	for _, c := range cmds {
		skip := ""
		for _, s := range docSkips {
			if strings.Contains(c.line, s.contains) {
				skip = s.why
			}
		}
		if skip != "" {
			t.Logf("%s: not run (%s): %s", c.file, skip, c.line)
			continue
		}
		line := c.line
		// The completion example installs system-wide; write it here instead.
		if i := strings.Index(line, "> /etc/"); i >= 0 {
			line = line[:i] + "> completion.out"
		}
		jq := strings.HasSuffix(line, "| jq .accuracy")
		if jq {
			line = strings.TrimSuffix(line, "| jq .accuracy")
		}
		if c.block != block {
			dir, block = cloneWorkspace(t, base), c.block
		}
		// The workspace has files of every name the docs use; a command writes its output where the
		// workspace's file was (an output that exists is refused without --force). An output made by an
		// earlier command of the block stays: writing it again would fail for a user too.
		for _, m := range outputFlag.FindAllStringSubmatch(line, -1) {
			p := filepath.Join(dir, strings.Trim(m[1], `'"`))
			if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSymlink != 0 {
				os.Remove(p)
			}
		}
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
			"DISPLAY=", "WAYLAND_DISPLAY=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		ran++
		if strings.HasPrefix(line, "evtool view ") {
			// No display here: view must open the input, then say it needs a display.
			if err == nil || !strings.Contains(stderr.String(), "no display") {
				t.Errorf("%s: %s: want the no-display message after opening the input, got %v: %s", c.file, line, err, stderr.String())
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %s: %v\n%s", c.file, line, err, stderr.String())
			continue
		}
		if jq {
			var v struct{ Accuracy *float64 }
			if json.Unmarshal(stdout.Bytes(), &v) != nil || v.Accuracy == nil {
				t.Errorf("%s: %s: no accuracy in the JSON: %s", c.file, line, stdout.String())
			}
		}
	}
	t.Logf("%d documented commands run, %d not run", ran, len(cmds)-ran)
}

// docWorkspace makes the files the documented commands name: fixture files (linked, never copied into
// the repository) and outputs of evtool itself.
func docWorkspace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	link := func(src, dst string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, dst)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(src, filepath.Join(dir, dst)); err != nil {
			t.Fatal(err)
		}
	}
	// Sample folders are real folders of linked files, so commands writing into them stay in the temp dir.
	linkTree := func(src, dst string) {
		t.Helper()
		err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			link(p, filepath.Join(dst, rel))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	link(fixtures.Path(t, "nmnist/Train/0/00002.bin"), "recording.bin")
	link(fixtures.Path(t, "aedat4/tonic_dvxplorer_sample.aedat4"), "recording.aedat4")
	link(fixtures.Path(t, "other/stmnist/sample_stmnist.mat"), "sample_stmnist.mat")
	linkTree(fixtures.Path(t, "nmnist/Train"), "Train")
	linkTree(fixtures.Path(t, "nmnist/Train"), "N-MNIST/Train")
	linkTree(fixtures.Path(t, "nmnist/Test"), "N-MNIST/Test")
	linkTree(fixtures.Path(t, "nmnist/Train"), "data/nmnist/Train")
	linkTree(fixtures.Path(t, "nmnist/Test"), "data/nmnist/Test")
	// A Gen1-layout download: an N-CARS recording (ATIS DAT, 0.1 s) with car and pedestrian boxes at three
	// label times, in train/ and val/.
	for _, split := range []string{"train", "val"} {
		link(fixtures.Path(t, "prophesee/dat/NCARS_obj_004397_td.dat"), "data/gen1/"+split+"/rec_td.dat")
		writeBBox(t, filepath.Join(dir, "data/gen1", split, "rec_bbox.npy"), true,
			"(30000, 5, 10, 20, 30, 0, 1, 1)", "(60000, 8, 12, 20, 30, 0, 1, 1)", "(60000, 30, 5, 10, 25, 1, 1, 2)",
			"(90000, 10, 14, 22, 30, 0, 1, 1)")
	}
	smallIDX(t, fixtures.Path(t, "mnist/original"), dir, "t10k", 24)
	smallIDX(t, fixtures.Path(t, "mnist/original"), dir, "train", 24)
	photos(t, filepath.Join(dir, "photos"))
	// DVSGesture-style labels for the stand-in recording user01_natural.aedat (an N-MNIST digit, 0.3 s).
	if err := os.WriteFile(filepath.Join(dir, "user01_natural_labels.csv"),
		[]byte("class,startTime_usec,endTime_usec\n1,0,100000\n3,100000,250000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "events.txt"), []byte("0.000100 3 4 1\n0.000250 5 6 0\n0.001 7 8 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"convert", "recording.aedat4", "-o", "recording.aedat", "--to", "aedat2", "-O", "chip=davis346"},
		{"convert", "recording.bin", "-o", "old_dvs.aedat", "--to", "aedat2", "-O", "chip=dvs128"},
		{"convert", "recording.bin", "-o", "user01_natural.aedat", "--to", "aedat3"},
		{"convert", "recording.aedat4", "-o", "recording.arrow"},
		{"convert", "recording.aedat4", "-o", "recording.csv"},
		{"convert", "N-MNIST/Train", "-o", "train.arrow"},
		{"convert", "N-MNIST/Test", "-o", "test.arrow"},
		{"convert", "N-MNIST/Train", "-o", "frames.npz", "-t", "frames(bins=10)"},
		{"datasets", "prepare", "gen1", "--from", "data/gen1", "--split", "train", "-o", "gen1-train.arrow"},
		{"train", "--data", "train.arrow", "--epochs", "1", "-o", "mlp.safetensors"},
	} {
		cmd := exec.Command(binary, append([]string{"-q"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("preparing %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// cloneWorkspace gives each command a folder of its own: the same tree, every file linked to base.
func cloneWorkspace(t *testing.T, base string) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.Walk(base, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		return os.Symlink(p, filepath.Join(dir, rel))
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// smallIDX writes <prefix>-images-idx3-ubyte.gz and the labels with the first n digits of the MNIST
// test set, so the synth examples run in a moment.
func smallIDX(t *testing.T, src, dir, prefix string, n int) {
	t.Helper()
	for _, kind := range []struct {
		name   string
		header int
		item   int
	}{{"images-idx3-ubyte.gz", 16, 28 * 28}, {"labels-idx1-ubyte.gz", 8, 1}} {
		f, err := os.Open(filepath.Join(src, "t10k-"+kind.name))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, kind.header+n*kind.item)
		_, err = io.ReadFull(zr, data)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		be.BigEndian.PutUint32(data[4:], uint32(n))
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
		if err := os.WriteFile(filepath.Join(dir, prefix+"-"+kind.name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// photos writes three small pictures with edges for the image-folder synth example.
func photos(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 3; k++ {
		img := image.NewGray(image.Rect(0, 0, 64, 48))
		for y := 0; y < 48; y++ {
			for x := 0; x < 64; x++ {
				if (x/(8+4*k)+y/(6+2*k))%2 == 0 {
					img.SetGray(x, y, color.Gray{Y: 230})
				}
			}
		}
		f, err := os.Create(filepath.Join(dir, "photo"+string(rune('a'+k))+".png"))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, img)
		f.Close()
	}
}

// headingSlugs returns the anchors GitHub makes of a Markdown file's headings: lower case, letters,
// digits, spaces, hyphens and underscores kept, spaces turned into hyphens, repeats numbered -1, -2, ….
func headingSlugs(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	slugs := map[string]bool{}
	seen := map[string]int{}
	fence := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		if fence || !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		slug := b.String()
		if n := seen[slug]; n > 0 {
			seen[slug]++
			slug = fmt.Sprintf("%s-%d", slug, n)
		} else {
			seen[slug] = 1
		}
		slugs[slug] = true
	}
	return slugs
}

// TestDocLinks: every link between the README and docs/ pages, and every docs/… reference in the Go
// sources, names a file that exists and, when it names a section, a heading of that file.
func TestDocLinks(t *testing.T) {
	root := filepath.Join("..", "..")
	mdLink := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	goRef := regexp.MustCompile(`(?:^|[^\w/.-])(docs/[A-Za-z0-9_.-]+\.md(?:#[A-Za-z0-9_-]+)?)`)
	slugs := map[string]map[string]bool{}
	check := func(from, target string) {
		file, anchor, _ := strings.Cut(target, "#")
		if file == "" {
			file = from
		}
		if _, err := os.Stat(file); err != nil {
			t.Errorf("%s links to %s, which does not exist", from, target)
			return
		}
		if anchor == "" || !strings.HasSuffix(file, ".md") {
			return
		}
		if slugs[file] == nil {
			slugs[file] = headingSlugs(t, file)
		}
		if !slugs[file][anchor] {
			t.Errorf("%s links to %s: %s has no heading #%s", from, target, filepath.Base(file), anchor)
		}
	}
	pages, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	pages = append(pages, filepath.Join(root, "README.md"))
	links := 0
	for _, page := range pages {
		data, _ := os.ReadFile(page)
		for _, m := range mdLink.FindAllStringSubmatch(string(data), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if !strings.HasPrefix(target, "#") {
				target = filepath.Join(filepath.Dir(page), target)
			}
			check(page, target)
			links++
		}
	}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			if err == nil {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range goRef.FindAllStringSubmatch(string(data), -1) {
			check(path, filepath.Join(root, m[1]))
			links++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if links < 20 {
		t.Fatalf("only %d links found: is the extraction broken?", links)
	}
}

// outsideDesignRef matches a citation of a design document outside the repository: the external
// FORMATS, TRANSFORMS, SYNTH, SNN and ARCHITECTURE documents, the shared docs folder beside the
// repository, and the section sign their sections were cited with. (Written so that this file does not
// match itself.)
var outsideDesignRef = regexp.MustCompile(`(?:FORMATS|TRANSFORMS|SYNTH|SNN|ARCHITECTURE)\.md|shared[/\\]docs|\x{a7}`)

// TestNoOutsideDesignRefs: the design lives in the repository (docs/architecture.md and the pages it
// links), so no source, doc or script cites a document outside it; each citation names the in-repo page
// and heading instead (which TestDocLinks checks), or says the point in words.
func TestNoOutsideDesignRefs(t *testing.T) {
	root := filepath.Join("..", "..")
	scanned := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".sh", ".py", ".js", ".mjs":
		default:
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned++
		for i, line := range strings.Split(string(data), "\n") {
			if m := outsideDesignRef.FindString(line); m != "" {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s:%d: %q cites a design document outside the repository; cite docs/<page>.md#<heading> or say it in words", rel, i+1, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 100 {
		t.Fatalf("only %d files scanned: is the walk broken?", scanned)
	}
}
