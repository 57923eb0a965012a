package all_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/evtool/evtool/formats"
)

// TestParamsDeclared checks that every setting a format package's readers and writers read (a constant
// key given to Options.Param, BoolParam, IntParam, WithDefault or BadParam, or an index of Params) is
// declared by one of the formats the package registers (Format.Params or TensorIO.Params): CheckParams
// refuses undeclared keys, so a key read but not declared could never be given.
func TestParamsDeclared(t *testing.T) {
	declared := map[string]map[string]bool{} // package folder → keys
	for _, f := range formats.All() {
		dir := packageDir(t, f)
		if declared[dir] == nil {
			declared[dir] = map[string]bool{}
		}
		for k := range f.Params {
			declared[dir][k] = true
		}
		if f.Tensors != nil {
			for k := range f.Tensors.Params {
				declared[dir][k] = true
			}
		}
	}
	if len(declared) < 10 {
		t.Fatalf("only %d format packages found", len(declared))
	}
	checked := 0
	for dir, keys := range declared {
		read := keysRead(t, filepath.Join("..", dir))
		if len(read) == 0 && len(keys) > 0 {
			t.Errorf("formats/%s declares %d settings but reads none with a constant key", dir, len(keys))
		}
		for _, k := range read {
			checked++
			if !keys[k] {
				t.Errorf("formats/%s reads setting %q, which none of its formats declares in Params", dir, k)
			}
		}
	}
	if checked < 30 {
		t.Fatalf("only %d settings read found: the scan misses them", checked)
	}
}

// packageDir is the folder under formats/ of the package that registered f, found from its functions.
func packageDir(t *testing.T, f *formats.Format) string {
	var fns []any
	if f.Tensors != nil {
		fns = append(fns, f.Tensors.NewReader, f.Tensors.Create)
	}
	fns = append(fns, f.NewReader, f.Detect, f.Inner)
	for _, fn := range fns {
		v := reflect.ValueOf(fn)
		if !v.IsValid() || v.IsNil() {
			continue
		}
		name := runtime.FuncForPC(v.Pointer()).Name() // github.com/evtool/evtool/formats/aedat.init.0.func1
		const prefix = "github.com/evtool/evtool/formats/"
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			return rest[:strings.IndexByte(rest, '.')]
		}
	}
	t.Fatalf("format %s: no function from a package under formats/", f.Name)
	return ""
}

// keysRead lists the constant setting keys that the non-test files of a package folder read.
func keysRead(t *testing.T, dir string) []string {
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	consts := map[string]string{"ParamDType": formats.ParamDType}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, file)
		ast.Inspect(file, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for i, id := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[id.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
			return true
		})
	}
	key := func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind == token.STRING {
				s, err := strconv.Unquote(e.Value)
				return s, err == nil
			}
		case *ast.Ident:
			s, ok := consts[e.Name]
			return s, ok
		case *ast.SelectorExpr: // formats.ParamDType
			s, ok := consts[e.Sel.Name]
			return s, ok
		}
		return "", false
	}
	seen := map[string]bool{}
	for _, file := range files {
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || len(n.Args) == 0 {
					return true
				}
				switch sel.Sel.Name {
				case "Param", "BoolParam", "IntParam", "WithDefault", "BadParam":
					if k, ok := key(n.Args[0]); ok {
						seen[k] = true
					}
				}
			case *ast.IndexExpr:
				if sel, ok := n.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Params" {
					if k, ok := key(n.Index); ok {
						seen[k] = true
					}
				}
			}
			return true
		})
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
