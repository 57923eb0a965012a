package main

import (
	"debug/elf"
	"debug/gosym"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// heavyDependencies must not come back into the binary: pqarrow linked gRPC and protobuf (through
// arrow/flight) and arrow's compute kernels, 20 MB of a 45 MB binary.
var heavyDependencies = []string{
	"google.golang.org/grpc",
	"google.golang.org/protobuf",
	"github.com/apache/arrow-go/v18/arrow/compute",
	"github.com/apache/arrow-go/v18/arrow/flight",
	"github.com/apache/arrow-go/v18/parquet/pqarrow",
}

// platforms are the desktops evtool builds for: the PLATFORMS scripts/test.sh cross-compiles.
func platforms(t *testing.T) []string {
	t.Helper()
	script, err := os.ReadFile(filepath.Join("..", "..", "scripts", "test.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(script), "\n") {
		if list, ok := strings.CutPrefix(line, "PLATFORMS="); ok {
			return strings.Fields(strings.Trim(list, `"`))
		}
	}
	t.Fatal("scripts/test.sh sets no PLATFORMS")
	return nil
}

// TestNoHeavyDependencies: `go list -deps` of the command, on every platform and without the player,
// holds none of heavyDependencies.
func TestNoHeavyDependencies(t *testing.T) {
	goTool := goCommand(t)
	type build struct{ platform, tags string }
	builds := []build{{runtime.GOOS + "/" + runtime.GOARCH, "noview"}}
	list := platforms(t)
	if got, want := strings.Join(list, " "), "linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64"; got != want {
		t.Errorf("scripts/test.sh cross-builds %s; want the desktops the README lists: %s", got, want)
	}
	for _, p := range list {
		builds = append(builds, build{p, ""})
	}
	for _, b := range builds {
		goos, goarch, _ := strings.Cut(b.platform, "/")
		cmd := exec.Command(goTool, "list", "-deps", "-tags", b.tags, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps (%s, tags %q): %v", b.platform, b.tags, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 100 {
			t.Fatalf("go list -deps (%s) printed %d packages: is the listing broken?", b.platform, len(deps))
		}
		for _, d := range deps {
			for _, heavy := range heavyDependencies {
				if d == heavy || strings.HasPrefix(d, heavy+"/") {
					t.Errorf("%s (tags %q): the command depends on %s again", b.platform, b.tags, d)
				}
			}
		}
	}
}

// TestStaticBuild: the build without the player (tag noview) is fully static — no ELF interpreter, no
// needed shared libraries — so it runs in a FROM scratch or Alpine image; its view says how to get the
// player. It is built as the release is (docs/performance.md: arrow_json_stdlib too), so CI compiles that
// configuration. The default build, with the player, is dynamically linked (ebiten's purego loads libc),
// as the README says.
func TestStaticBuild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the ELF check runs on Linux")
	}
	static := filepath.Join(t.TempDir(), "evtool-static")
	build := exec.Command(goCommand(t), "build", "-trimpath", "-tags", "noview arrow_json_stdlib", "-ldflags=-s -w", "-o", static, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags noview: %v\n%s", err, out)
	}
	interp, needed := linking(t, static)
	if interp || len(needed) > 0 {
		t.Errorf("the noview build is not static: interpreter %v, needed libraries %v", interp, needed)
	}
	if fi, err := os.Stat(static); err == nil {
		t.Logf("static build, stripped: %.1f MB", float64(fi.Size())/1e6)
	}
	// One reachable reflective method call (text/template running a template, as cobra's
	// SetVersionTemplate does) makes the linker keep every exported method of every type: 3.5 MB
	// of this build. The player's ebiten runs templates for its built-in shaders, so the default
	// build pays that anyway (docs/performance.md); this one must not.
	if hasFunction(t, static, "text/template.(*state).evalField") {
		t.Errorf("the noview build links text/template's template execution: something runs a template, " +
			"which keeps every exported method in the binary")
	}
	_, stderr, code := runBinary(t, static, "view", "anything.bin")
	if code != 1 || !strings.Contains(stderr, "without the player") || !strings.Contains(stderr, "go install github.com/evtool/evtool/cmd/evtool@latest") {
		t.Errorf("view in the noview build: exit %d, %q; want it to say how to get the player", code, stderr)
	}
	if out, _, code := runBinary(t, static, "version"); code != 0 || !strings.HasPrefix(out, "evtool ") {
		t.Errorf("the static build does not run: exit %d, %q", code, out)
	}

	interp, needed = linking(t, binary)
	if !interp || !strings.Contains(strings.Join(needed, " "), "libc.so") {
		t.Errorf("the default build links interpreter %v, libraries %v: the README's glibc note is out of date", interp, needed)
	}
}

// linking reports whether an ELF file asks for a program interpreter, and the shared libraries it needs.
func linking(t *testing.T, path string) (interp bool, needed []string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			interp = true
		}
	}
	needed, err = f.DynString(elf.DT_NEEDED)
	if err != nil {
		t.Fatal(err)
	}
	return interp, needed
}

// hasFunction reports whether a Go binary, stripped or not, holds the named function: the runtime's
// function table (.gopclntab) survives -ldflags=-s.
func hasFunction(t *testing.T, path, name string) bool {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		t.Fatalf("%s has no .gopclntab or .text section", path)
	}
	data, err := pcln.Data()
	if err != nil {
		t.Fatal(err)
	}
	table, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		t.Fatal(err)
	}
	if table.LookupFunc("main.main") == nil {
		t.Fatalf("%s: the function table lists no main.main; is it read right?", path)
	}
	return table.LookupFunc(name) != nil
}

// goCommand is the go command the tests build with (TestMain's too).
func goCommand(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("no go command to build with")
	}
	return goTool
}
