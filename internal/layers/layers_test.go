package layers

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/evtool/evtool/"

// rule: the packages matching pattern (and their dependencies) must not depend on any package under
// the forbidden prefixes, nor on anything of evtool at all when only is set and the import is not in it.
type rule struct {
	pattern   string   // go list pattern, relative to the module
	forbidden []string // module-relative import paths or prefixes ending in "/..."
	why       string
}

var rules = []rule{
	{"events", []string{"..."}, "events is the data model every package speaks: it imports nothing of evtool"},
	{"tensors", []string{"...", "!events"}, "tensors is the data model of representations: it builds on events alone"},
	{"formats/...", []string{"transforms/...", "sources", "convert", "datasets/...", "inspect", "viewer/...", "snn/...", "demo", "cmd/...", "slicer"},
		"formats read and write files; they know nothing of what uses them"},
	{"transforms/...", []string{"formats/...", "sources", "convert", "datasets/...", "viewer/..."},
		"transforms work on events and tensors, not on files"},
	{"sources", []string{"convert", "datasets/...", "viewer/...", "transforms/...", "inspect"},
		"sources finds and reads inputs for the packages above it"},
	{"datasets/...", []string{"convert", "viewer/...", "demo", "cmd/..."},
		"datasets knows datasets; convert writes what it lists"},
	{"viewer/...", []string{"convert", "datasets/...", "demo", "cmd/..."}, "the viewer draws; it converts nothing"},
	{"inspect", []string{"convert", "transforms/...", "datasets/...", "viewer/..."}, "inspect describes files"},
	{"convert", []string{"datasets/...", "viewer/...", "demo", "cmd/...", "inspect", "snn/..."},
		"convert is the conversion engine under the commands"},
}

// forbids reports whether the rule forbids depending on dep.
func (r rule) forbids(dep string) bool {
	bad := false
	for _, f := range r.forbidden {
		if a, ok := strings.CutPrefix(f, "!"); ok && matches(dep, a) {
			return false
		} else if !ok && matches(dep, f) {
			bad = true
		}
	}
	return bad
}

func matches(pkg, p string) bool {
	if p == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(p, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == p
}

// deps lists, for each package of the pattern, the evtool packages it depends on (module-relative).
func deps(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}:{{join .Deps " "}}`, module+pattern).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pattern, err)
	}
	got := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, list, _ := strings.Cut(line, ":")
		pkg, ours := strings.CutPrefix(pkg, module)
		if !ours || !matches(pkg, pattern) {
			continue // a dependency, not a package of the pattern
		}
		got[pkg] = []string{}
		for _, d := range strings.Fields(list) {
			if d, ok := strings.CutPrefix(d, module); ok {
				got[pkg] = append(got[pkg], d)
			}
		}
	}
	if len(got) == 0 {
		t.Fatalf("pattern %s matches no package: the rule has gone stale", pattern)
	}
	return got
}

// TestLayers checks every rule over go list -deps, so an import anywhere below a package counts.
func TestLayers(t *testing.T) {
	for _, r := range rules {
		for pkg, ds := range deps(t, r.pattern) {
			for _, d := range ds {
				if r.forbids(d) {
					t.Errorf("%s depends on %s: %s", pkg, d, r.why)
				}
			}
		}
	}
}

// The rules can fail: the forbidden sets catch what the layers do not allow, and only that.
func TestLayerRulesBite(t *testing.T) {
	byPattern := map[string]rule{}
	for _, r := range rules {
		byPattern[r.pattern] = r
	}
	for _, c := range []struct {
		rule, dep string
		bad       bool
	}{{"viewer/...", "convert", true}, {"transforms/...", "formats/npy", true}, {"tensors", "events", false},
		{"events", "internal/atomicfile", true}, {"datasets/...", "sources", false}, {"formats/...", "transforms", true}} {
		if got := byPattern[c.rule].forbids(c.dep); got != c.bad {
			t.Errorf("%s depending on %s: forbidden %v, want %v", c.rule, c.dep, got, c.bad)
		}
	}
}
