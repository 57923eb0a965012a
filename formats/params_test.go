package formats_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/evtool/evtool/formats"
)

func TestCheckParams(t *testing.T) {
	in := &formats.Format{Name: "in", Params: map[string]string{"columns": "", "time-unit": ""}}
	out := &formats.Format{Name: "out", Params: map[string]string{"row-group-events": ""},
		Tensors: &formats.TensorIO{Params: map[string]string{formats.ParamDType: ""}}}
	files := &formats.Format{Name: "files", Params: map[string]string{"batch-events": ""}}
	folder := &formats.Format{Name: "folder", Params: map[string]string{"shard-size": ""},
		Inner: func(o formats.Options) (*formats.Format, error) {
			if o.Param("shard-format", "files") != "files" {
				return nil, o.BadParam("shard-format", "want files")
			}
			return files, nil
		}}
	opts := func(kv ...string) formats.Options {
		o := formats.Options{Params: map[string]string{}}
		for i := 0; i < len(kv); i += 2 {
			o.Params[kv[i]] = kv[i+1]
		}
		return o
	}
	for _, c := range []struct {
		name string
		o    formats.Options
		fs   []*formats.Format
		want []string // substrings of the error; none: accepted
	}{
		{"no settings", opts(), []*formats.Format{in}, nil},
		{"the input's key", opts("time-unit", "ms"), []*formats.Format{in, out}, nil},
		{"the output's key", opts("row-group-events", "9"), []*formats.Format{in, out}, nil},
		{"unknown key", opts("bogus", "1"), []*formats.Format{in, out},
			[]string{"option bogus=1", "formats in and out take no option of that name", "in takes columns, time-unit", "out takes row-group-events"}},
		{"misspelt key", opts("time-units", "ms"), []*formats.Format{in, out}, []string{"did you mean time-unit?"}},
		{"one format", opts("bogus", ""), []*formats.Format{in}, []string{"format in takes no option of that name (it takes columns, time-unit)"}},
		{"a tensor key for events", opts("dtype", "int16"), []*formats.Format{in, out}, []string{"option dtype=int16"}},
		{"a tensor key for tensors", opts("dtype", "int16"), []*formats.Format{in, out.TensorFormat()}, nil},
		{"an events key for tensors", opts("row-group-events", "9"), []*formats.Format{out.TensorFormat()},
			[]string{"format out (tensors) takes no option", "it takes dtype"}},
		{"the shard files' key", opts("shard-size", "3", "batch-events", "5"), []*formats.Format{in, folder}, nil},
		{"a key of neither", opts("row-group-events", "5"), []*formats.Format{folder}, []string{"folder takes shard-size", "files takes batch-events"}},
		{"a bad shard format", opts("shard-format", "x"), []*formats.Format{folder}, []string{"option shard-format=x: want files"}},
		{"nil formats skipped", opts("columns", "t,x,y,p"), []*formats.Format{nil, in}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := formats.CheckParams(c.o, c.fs...)
			if c.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			var pe *formats.ParamError
			if !errors.Is(err, formats.ErrOption) || !errors.As(err, &pe) {
				t.Errorf("%v is no ParamError matching ErrOption", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
		})
	}
}

// TestParamValues: a value a format does not take is a ParamError naming the setting.
func TestParamValues(t *testing.T) {
	o := formats.Options{Params: map[string]string{"b": "maybe", "n": "many"}}
	_, errB := o.BoolParam("b")
	_, errN := o.IntParam("n", 0)
	for _, c := range []struct {
		err  error
		want string
	}{{errB, `option b=maybe: want true or false`}, {errN, `option n=many: want an integer`}} {
		var pe *formats.ParamError
		if !errors.As(c.err, &pe) || !errors.Is(c.err, formats.ErrOption) || c.err.Error() != c.want {
			t.Errorf("got %v, want the ParamError %q", c.err, c.want)
		}
	}
}
