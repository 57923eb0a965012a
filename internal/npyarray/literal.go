package npyarray

import (
	"fmt"
	"strconv"
	"strings"
)

// The NPY header is a Python dict literal: {'descr': …, 'fortran_order': False, 'shape': (N,), }.
// parseLiteral reads the small subset of Python literal syntax it uses (dicts, lists, tuples, strings,
// integers, True/False/None) without eval, with a depth bound so hostile headers cannot exhaust the stack.

const maxDepth = 16

type litParser struct {
	s   string
	pos int
}

func parseLiteral(s string) (any, error) {
	p := &litParser{s: s}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.s) {
		return nil, p.errorf("unexpected %q after the value", p.s[p.pos])
	}
	return v, nil
}

func (p *litParser) errorf(format string, args ...any) error {
	return fmt.Errorf("header character %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *litParser) space() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *litParser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested too deeply")
	}
	p.space()
	if p.pos >= len(p.s) {
		return nil, p.errorf("the header ends before its value")
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return p.dict(depth)
	case c == '[':
		items, err := p.sequence(depth, ']')
		return items, err
	case c == '(':
		items, err := p.sequence(depth, ')')
		return Tuple(items), err
	case c == '\'' || c == '"':
		return p.str()
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		return p.integer()
	default:
		for _, kw := range []struct {
			word string
			val  any
		}{{"True", true}, {"False", false}, {"None", nil}} {
			if strings.HasPrefix(p.s[p.pos:], kw.word) {
				p.pos += len(kw.word)
				return kw.val, nil
			}
		}
		return nil, p.errorf("unexpected %q", c)
	}
}

// sequence reads the items of a list or tuple up to the closing bracket; a trailing comma is allowed.
func (p *litParser) sequence(depth int, closing byte) ([]any, error) {
	p.pos++ // opening bracket
	items := []any{}
	for {
		p.space()
		if p.pos < len(p.s) && p.s[p.pos] == closing {
			p.pos++
			return items, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		p.space()
		if p.pos >= len(p.s) {
			return nil, p.errorf("missing %q", closing)
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case closing:
		default:
			return nil, p.errorf("want ',' or %q, got %q", closing, p.s[p.pos])
		}
	}
}

func (p *litParser) dict(depth int) (map[string]any, error) {
	p.pos++ // {
	d := map[string]any{}
	for {
		p.space()
		if p.pos < len(p.s) && p.s[p.pos] == '}' {
			p.pos++
			return d, nil
		}
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		key, ok := k.(string)
		if !ok {
			return nil, p.errorf("dict key %v is not a string", k)
		}
		p.space()
		if p.pos >= len(p.s) || p.s[p.pos] != ':' {
			return nil, p.errorf("want ':' after key %q", key)
		}
		p.pos++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		d[key] = v
		p.space()
		if p.pos >= len(p.s) {
			return nil, p.errorf("missing '}'")
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case '}':
		default:
			return nil, p.errorf("want ',' or '}', got %q", p.s[p.pos])
		}
	}
}

// str reads a quoted string. Header strings are dtype codes and field names; backslash escapes of the
// quote and the backslash are honoured, other escapes are kept as written.
func (p *litParser) str() (string, error) {
	quote := p.s[p.pos]
	p.pos++
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		p.pos++
		switch {
		case c == quote:
			return b.String(), nil
		case c == '\\' && p.pos < len(p.s) && (p.s[p.pos] == quote || p.s[p.pos] == '\\'):
			b.WriteByte(p.s[p.pos])
			p.pos++
		default:
			b.WriteByte(c)
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *litParser) integer() (int64, error) {
	start := p.pos
	if p.s[p.pos] == '-' || p.s[p.pos] == '+' {
		p.pos++
	}
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	// numpy writes shapes of long arrays as plain ints; Python 2 era files may carry an L suffix.
	text := p.s[start:p.pos]
	if p.pos < len(p.s) && p.s[p.pos] == 'L' {
		p.pos++
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, p.errorf("bad integer %q", text)
	}
	return n, nil
}
