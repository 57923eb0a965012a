package transforms

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/evtool/evtool/internal/suggest"
)

// Kind is a parameter's value type.
type Kind int

const (
	Duration Kind = iota // µs; accepts us, µs, ms, s suffixes
	Int
	Float
	Bool
	Choice
	Size // WxH
	Text // free text (a file path, a pixel list); it may not hold ',', '|' or parentheses
	// Amount is a number, or a duration with a unit (us, ms, s) read as µs: a parameter whose meaning
	// depends on the mode (frames' overlap: µs of a window, events of a count, a fraction of a bin).
	Amount
)

// Param documents one parameter of a transform.
type Param struct {
	Name    string
	Kind    Kind
	Unit    string
	Default string // "" = required
	Help    string
	Choices []string
}

// Def is one transform of the registry: the parser and `evtool transforms` both read it.
type Def struct {
	Name   string
	Help   string
	Params []Param
	// Filter or Rep builds the stage from its parsed values (exactly one is set).
	Filter func(v Values) (Filter, error)
	Rep    func(v Values) (Representation, error)
}

var defs = map[string]*Def{}

func register(d *Def) {
	// Two files defining one name would silently replace each other's transform: fail at start-up instead.
	if _, dup := defs[d.Name]; dup {
		panic("transforms: " + d.Name + " registered twice")
	}
	defs[d.Name] = d
}

// Defs lists every transform, filters first, each group sorted by name.
func Defs() []*Def {
	out := make([]*Def, 0, len(defs))
	for _, d := range defs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Rep == nil) != (out[j].Rep == nil) {
			return out[i].Rep == nil
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Values are a stage's parsed parameters (defaults filled in).
type Values map[string]value

type value struct {
	kind  Kind
	i     int64
	f     float64
	b     bool
	s     string
	w, h  int
	set   bool // given in the spec (not a default)
	timed bool // an Amount given with a time unit
}

func (v Values) Int(name string) int64     { return v[name].i }
func (v Values) Float(name string) float64 { return v[name].f }
func (v Values) Bool(name string) bool     { return v[name].b }
func (v Values) String(name string) string { return v[name].s }
func (v Values) Size(name string) (int, int) {
	x := v[name]
	return x.w, x.h
}

// Set reports whether the spec gave the parameter (rather than its default).
func (v Values) Set(name string) bool { return v[name].set }

// Timed reports whether an Amount was given with a time unit (its Float is then in µs).
func (v Values) Timed(name string) bool { return v[name].timed }

// SyntaxError points at the bad part of a transform spec.
type SyntaxError struct {
	Spec string
	Pos  int // byte offset in Spec
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("transform %q, at character %d: %s\n  %s\n  %s^", e.Spec, e.Pos+1, e.Msg, e.Spec, strings.Repeat(" ", e.Pos))
}

// parseValue reads one value of kind k.
func parseValue(p Param, raw string) (value, error) {
	v := value{kind: p.Kind, s: raw}
	switch p.Kind {
	case Duration:
		num, unit := splitUnit(raw)
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return v, fmt.Errorf("%s=%q: want a duration like 10ms, 500us or 1.5s", p.Name, raw)
		}
		mul := 1.0
		switch unit {
		case "", "us", "µs":
		case "ms":
			mul = 1e3
		case "s":
			mul = 1e6
		default:
			return v, fmt.Errorf("%s=%q: unknown unit %q (us, ms, s)", p.Name, raw, unit)
		}
		us := f * mul
		if math.IsNaN(us) || math.Abs(us) > 1<<62 || us != math.Round(us) {
			return v, fmt.Errorf("%s=%q: want a whole number of microseconds", p.Name, raw)
		}
		v.i = int64(us)
	case Int:
		n, err := strconv.ParseInt(strings.TrimSuffix(raw, "px"), 10, 64)
		if err != nil {
			return v, fmt.Errorf("%s=%q: want an integer", p.Name, raw)
		}
		v.i = n
	case Amount:
		_, unit := splitUnit(raw)
		if unit == "" || unit == "%" {
			return parseValue(Param{Name: p.Name, Kind: Float}, raw)
		}
		d, err := parseValue(Param{Name: p.Name, Kind: Duration}, raw)
		if err != nil {
			return v, fmt.Errorf("%s=%q: want a number, or a duration like 2ms", p.Name, raw)
		}
		v.f, v.timed = float64(d.i), true
	case Float:
		num := strings.TrimSuffix(raw, "%")
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return v, fmt.Errorf("%s=%q: want a number", p.Name, raw)
		}
		if num != raw {
			f /= 100
		}
		v.f = f
	case Bool:
		switch strings.ToLower(raw) {
		case "", "true", "yes", "1", "on":
			v.b = true
		case "false", "no", "0", "off":
		default:
			return v, fmt.Errorf("%s=%q: want true or false", p.Name, raw)
		}
	case Choice:
		// fast-decay, fast_decay, fastdecay and FastDecay are one value, kept as the choice spells it.
		for _, c := range p.Choices {
			if spelling(c) == spelling(raw) {
				v.s = c
				return v, nil
			}
		}
		return v, fmt.Errorf("%s=%q: want one of %s%s", p.Name, raw, strings.Join(p.Choices, ", "), suggest.DidYouMean(raw, p.Choices))
	case Size:
		ws, hs, ok := strings.Cut(strings.ToLower(raw), "x")
		w, err1 := strconv.Atoi(ws)
		h, err2 := strconv.Atoi(hs)
		if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 {
			return v, fmt.Errorf("%s=%q: want WIDTHxHEIGHT, like 32x32", p.Name, raw)
		}
		v.w, v.h = w, h
	}
	return v, nil
}

// spelling folds the ways a choice may be written: case, and hyphens or underscores between its words.
func spelling(s string) string {
	return strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(s))
}

func splitUnit(s string) (string, string) {
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') && s[i-1] != '.' {
		i--
	}
	return s[:i], s[i:]
}

// Stage is one parsed transform.
type Stage struct {
	Def    *Def
	Values Values
	raw    []string // key=value as written, in canonical order
}

// String renders the stage canonically: name(key=value, …) with every given parameter.
func (s Stage) String() string {
	if len(s.raw) == 0 {
		return s.Def.Name
	}
	return s.Def.Name + "(" + strings.Join(s.raw, ", ") + ")"
}

// ParseStages parses one spec: transforms separated by `|`, each `name` or `name(key=value, …)`.
func ParseStages(spec string) ([]Stage, error) {
	var out []Stage
	pos := 0
	for pos <= len(spec) {
		end := indexTop(spec, pos, '|')
		part := spec[pos:end]
		st, err := parseOne(spec, pos, part)
		if err != nil {
			return nil, err
		}
		if st != nil {
			out = append(out, *st)
		}
		pos = end + 1
	}
	if len(out) == 0 {
		return nil, &SyntaxError{Spec: spec, Pos: 0, Msg: "empty transform"}
	}
	return out, nil
}

// indexTop finds sep outside parentheses from pos, or len(s).
func indexTop(s string, pos int, sep byte) int {
	depth := 0
	for i := pos; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case sep:
			if depth == 0 {
				return i
			}
		}
	}
	return len(s)
}

func parseOne(spec string, off int, part string) (*Stage, error) {
	lead := len(part) - len(strings.TrimLeft(part, " \t"))
	s := strings.TrimSpace(part)
	if s == "" {
		return nil, &SyntaxError{Spec: spec, Pos: off, Msg: "empty transform between separators"}
	}
	off += lead
	name, args, hasArgs := strings.Cut(s, "(")
	name = strings.TrimSpace(name)
	if hasArgs {
		// Parameters hold no parentheses: the first ')' closes the stage, and a ',' after it is a
		// chain written with the wrong separator.
		if closing := strings.IndexByte(args, ')'); closing >= 0 {
			if rest := strings.TrimSpace(args[closing+1:]); rest != "" {
				at := off + len(s) - len(strings.TrimLeft(args[closing+1:], " \t"))
				if strings.HasPrefix(rest, ",") {
					var stages []string
					for pos := 0; pos <= len(s); {
						end := indexTop(s, pos, ',')
						stages = append(stages, strings.TrimSpace(s[pos:end]))
						pos = end + 1
					}
					return nil, &SyntaxError{Spec: spec, Pos: at, Msg: "transforms are chained with '|', not ',': " +
						strings.Join(stages, " | ")}
				}
				return nil, &SyntaxError{Spec: spec, Pos: at, Msg: fmt.Sprintf("unexpected %q after ')' (chain transforms with '|')", rest)}
			}
		}
	}
	d, ok := defs[name]
	if !ok {
		names := make([]string, 0, len(defs))
		for n := range defs {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, &SyntaxError{Spec: spec, Pos: off, Msg: fmt.Sprintf("unknown transform %q%s", name, suggest.DidYouMean(name, names))}
	}
	given := map[string]string{}
	keyPos := map[string]int{}
	if hasArgs {
		if !strings.HasSuffix(args, ")") {
			return nil, &SyntaxError{Spec: spec, Pos: off + len(s), Msg: "missing closing parenthesis"}
		}
		args = args[:len(args)-1]
		apos := off + len(name) + 1
		for _, kv := range splitArgs(args) {
			text := strings.TrimSpace(kv.text)
			if text == "" {
				continue
			}
			k, v, ok := strings.Cut(text, "=")
			p := apos + kv.pos + (len(kv.text) - len(strings.TrimLeft(kv.text, " ")))
			if !ok {
				return nil, &SyntaxError{Spec: spec, Pos: p, Msg: fmt.Sprintf("want key=value, got %q", text)}
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if _, dup := given[k]; dup {
				return nil, &SyntaxError{Spec: spec, Pos: p, Msg: fmt.Sprintf("%s given twice", k)}
			}
			given[k], keyPos[k] = v, p
		}
	}
	vals := Values{}
	var raw []string
	for _, p := range d.Params {
		text, ok := given[p.Name]
		if !ok {
			if p.Default == "" {
				continue
			}
			v, err := parseValue(p, p.Default)
			if err != nil {
				panic("transforms: bad default of " + d.Name + "." + p.Name)
			}
			vals[p.Name] = v
			continue
		}
		v, err := parseValue(p, text)
		if err != nil {
			return nil, &SyntaxError{Spec: spec, Pos: keyPos[p.Name], Msg: err.Error()}
		}
		v.set = true
		vals[p.Name] = v
		if p.Kind == Choice {
			text = v.s // the canonical spelling
		}
		raw = append(raw, p.Name+"="+text)
		delete(given, p.Name)
	}
	for k := range given {
		var names []string
		for _, p := range d.Params {
			names = append(names, p.Name)
		}
		return nil, &SyntaxError{Spec: spec, Pos: keyPos[k], Msg: fmt.Sprintf("%s has no parameter %q%s (parameters: %s)", d.Name, k,
			suggest.DidYouMean(k, names), strings.Join(names, ", "))}
	}
	return &Stage{Def: d, Values: vals, raw: raw}, nil
}

type arg struct {
	text string
	pos  int
}

func splitArgs(s string) []arg {
	var out []arg
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, arg{s[start:i], start})
			start = i + 1
		}
	}
	return out
}
