package formats

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/evtool/evtool/internal/suggest"
)

// ParamError is the error of a format-specific setting (Options.Params) that was given but cannot be
// used: a key that no format involved takes (CheckParams), or a value that its format does not take
// (BadParam). It matches ErrOption. Key and Value are the setting; Msg says what is wrong and what is
// taken.
type ParamError struct {
	Key, Value, Msg string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("option %s=%s: %s", e.Key, e.Value, e.Msg)
}

// Is makes errors.Is(err, ErrOption) true: a different setting fixes it.
func (e *ParamError) Is(target error) bool { return target == ErrOption }

// BadParam builds the error of a value that a format does not take for key; the message says what it
// takes.
func (o Options) BadParam(key, format string, a ...any) error {
	return &ParamError{Key: key, Value: o.Params[key], Msg: fmt.Sprintf(format, a...)}
}

// TensorFormat returns the format as a reader and writer of tensors, for CheckParams: its name and its
// tensor settings (TensorIO.Params) instead of those of its events reader and writer. Nil when the format
// holds no tensors.
func (f *Format) TensorFormat() *Format {
	switch {
	case f.Tensors == nil:
		return nil
	case f.tensorView != nil:
		return f.tensorView
	}
	return &Format{Name: f.Name + " (tensors)", Description: f.Description, Params: f.Tensors.Params}
}

// CheckParams reports a setting in o.Params that none of the formats fs takes (Format.Params, and those
// of the format a format's files are written with: Format.Inner), so that a misspelt or misplaced setting
// is refused before any work instead of being ignored. A setting is accepted when any of fs takes it:
// the same settings go to every reader and writer of a run. The error is a *ParamError naming the
// formats, the settings they take and the closest ones. Nil formats are skipped.
func CheckParams(o Options, fs ...*Format) error {
	if len(o.Params) == 0 {
		return nil
	}
	var involved []*Format
	seen := map[*Format]bool{}
	var add func(f *Format) error
	add = func(f *Format) error {
		if f == nil || seen[f] {
			return nil
		}
		seen[f] = true
		involved = append(involved, f)
		if f.Inner == nil {
			return nil
		}
		inner, err := f.Inner(o)
		if err != nil {
			return err
		}
		return add(inner)
	}
	for _, f := range fs {
		if err := add(f); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(o.Params))
	for k := range o.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if takes(involved, k) {
			continue
		}
		return &ParamError{Key: k, Value: o.Params[k], Msg: unknownParam(k, involved)}
	}
	return nil
}

func takes(fs []*Format, key string) bool {
	for _, f := range fs {
		if _, ok := f.Params[key]; ok {
			return true
		}
	}
	return false
}

// unknownParam says which formats do not take key, what they take, and the closest of those.
func unknownParam(key string, fs []*Format) string {
	if len(fs) == 0 {
		return "no format is involved to take it"
	}
	var names, each, keys []string
	for _, f := range fs {
		names = append(names, f.Name)
		ks := make([]string, 0, len(f.Params))
		for k := range f.Params {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		keys = append(keys, ks...)
		if len(ks) == 0 {
			each = append(each, f.Name+" takes none")
		} else {
			each = append(each, f.Name+" takes "+strings.Join(ks, ", "))
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys) // a format's events and tensors may share a key
	if len(fs) == 1 {
		return fmt.Sprintf("format %s takes no option of that name (%s)%s", names[0], strings.Replace(each[0], names[0], "it", 1), suggest.DidYouMean(key, keys))
	}
	all := strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	return fmt.Sprintf("formats %s take no option of that name (%s)%s", all, strings.Join(each, "; "), suggest.DidYouMean(key, keys))
}
