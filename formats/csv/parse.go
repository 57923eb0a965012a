package csv

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/evtool/evtool/events"
)

// parser turns lines of text into events. The streaming Reader and Decode share it: both hand it bytes
// that end on a line boundary (or at the end of the input).
type parser struct {
	cfg   config
	path  string
	cols  []int // role of each field, from -O columns, the header, or t,x,y,p
	nreq  int   // fields a data line needs: up to the last one with a role
	fast  bool  // the columns are t,x,y,p in µs: try fastLine first
	ready bool  // the first line (header or not) has been seen
	line  int64 // number of the next line, from 1
}

func newParser(cfg config, path string) *parser {
	return &parser{cfg: cfg, path: path, line: 1}
}

// lines parses whole lines of data (the file bytes starting at offset base) into dst until dst holds want
// events. With final, data is the rest of the file and a last line without '\n' counts too. It returns
// the bytes consumed; on bad input it returns the error with the events before it already in dst.
func (ps *parser) lines(data []byte, base int64, final bool, dst *events.Batch, want int) (int, error) {
	used := 0
	for used < len(data) && dst.Len() < want {
		rest := data[used:]
		end := bytes.IndexByte(rest, '\n')
		next := end + 1
		if end < 0 {
			if !final && len(rest) <= maxLine {
				break
			}
			end, next = len(rest), len(rest)
		}
		if end > maxLine {
			return used, ps.errorf(base+int64(used), 0, "line %d is longer than %d bytes; this does not look like an event CSV", ps.line, maxLine)
		}
		line := rest[:end]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if err := ps.parseLine(line, base+int64(used), dst); err != nil {
			if next == len(rest) && (len(rest) == 0 || rest[len(rest)-1] != '\n') {
				// The last line has no line end: a file cut short, most likely.
				var de *events.DecodeError
				if errors.As(err, &de) && de.Err == nil {
					de.Msg = "file ends inside a line (no line end): " + de.Msg
					de.Err = events.ErrTruncated
				}
			}
			return used, err
		}
		used += next
		ps.line++
	}
	return used, nil
}

// blank reports whether a line holds nothing to parse: empty, only blanks, or a '#' comment.
func blank(line []byte) bool {
	for _, c := range line {
		switch c {
		case ' ', '\t':
			continue
		case '#':
			return true
		}
		return false
	}
	return true
}

func (ps *parser) parseLine(line []byte, off int64, dst *events.Batch) error {
	if blank(line) {
		return nil
	}
	if !ps.ready {
		header, err := ps.setup(line, off)
		if err != nil {
			return err
		}
		ps.ready = true
		if header {
			return nil
		}
	}
	if ps.fast && fastLine(line, ps.cfg.sep, dst) {
		return nil
	}
	var t int64
	var x, y uint16
	var p uint8
	sep := ps.cfg.sep
	pos, field := 0, 0
	for field < ps.nreq {
		start, end, next := splitField(line, pos, sep)
		if start < 0 {
			return ps.errorf(off, len(line), "line %d has %d fields; want at least %d", ps.line, field, ps.nreq)
		}
		b := line[start:end]
		ok := true
		switch ps.cols[field] {
		case colT:
			t, ok = parseTime(b, ps.cfg.timeExp)
		case colX:
			x, ok = parseCoord(b)
		case colY:
			y, ok = parseCoord(b)
		case colP:
			p, ok = parsePolarity(b)
		}
		if !ok {
			return ps.fieldError(off, start, field, b)
		}
		pos = next
		field++
	}
	dst.Append(t, x, y, p)
	return nil
}

// splitField finds the field starting at pos: its bounds without surrounding blanks, and where the next
// field starts. start is -1 when the line has no field left.
func splitField(line []byte, pos int, sep byte) (start, end, next int) {
	if pos > len(line) {
		return -1, 0, 0
	}
	i := pos
	// Skip blanks before the field; a tab separator is not a blank here.
	for i < len(line) && (line[i] == ' ' || (line[i] == '\t' && sep != '\t')) {
		i++
	}
	if sep == ' ' {
		if i == len(line) {
			return -1, 0, 0
		}
		start = i
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		return start, i, i
	}
	start = i
	for i < len(line) && line[i] != sep {
		i++
	}
	end = i
	for end > start && (line[end-1] == ' ' || (line[end-1] == '\t' && sep != '\t')) {
		end--
	}
	return start, end, i + 1
}

// setup handles the first line: it settles the separator and the columns and reports whether the line is
// a header.
func (ps *parser) setup(line []byte, off int64) (bool, error) {
	if ps.cfg.sep == 0 {
		switch {
		case bytes.IndexByte(line, ',') >= 0:
			ps.cfg.sep = ','
		case bytes.IndexByte(line, ';') >= 0:
			ps.cfg.sep = ';'
		case bytes.IndexByte(line, '\t') >= 0:
			ps.cfg.sep = '\t'
		default:
			ps.cfg.sep = ' '
		}
	}
	var names [][]byte
	allValues := true
	for pos := 0; ; {
		start, end, next := splitField(line, pos, ps.cfg.sep)
		if start < 0 {
			break
		}
		f := line[start:end]
		names = append(names, f)
		if _, ok := parseTime(f, 0); !ok {
			if _, ok := parsePolarity(f); !ok {
				allValues = false
			}
		}
		pos = next
	}
	header := ps.cfg.header == "true" || (ps.cfg.header == "auto" && !allValues)
	switch {
	case ps.cfg.hasCols:
		ps.cols = ps.cfg.columns
	case header:
		ps.cols = make([]int, len(names))
		seen := [4]bool{}
		for i, n := range names {
			role, unit := headerRole(string(n))
			if role != colSkip && seen[role] {
				role = colSkip // a second column of the same role: the first one wins
			}
			if role != colSkip {
				seen[role] = true
			}
			if unit != "" && ps.cfg.timeUnit == "" {
				ps.cfg.timeExp = timeUnits[unit]
			}
			ps.cols[i] = role
		}
		for r, ok := range seen {
			if !ok {
				return true, ps.errorf(off, 0, "the header %q names no %s column (want t, x, y, p or an alias such as timestamp or polarity; or give -O columns=…)",
					line, roleNames[r])
			}
		}
	default:
		ps.cols = []int{colT, colX, colY, colP}
	}
	ps.fast = ps.cfg.timeExp == 0 && ps.cfg.sep != ' ' && len(ps.cols) == 4 &&
		ps.cols[0] == colT && ps.cols[1] == colX && ps.cols[2] == colY && ps.cols[3] == colP
	ps.nreq = 0
	for i, r := range ps.cols {
		if r != colSkip {
			ps.nreq = i + 1
		}
	}
	return header, nil
}

func (ps *parser) errorf(off int64, at int, format string, args ...any) error {
	return &events.DecodeError{Path: ps.path, Offset: off + int64(at), Msg: fmt.Sprintf(format, args...)}
}

func (ps *parser) fieldError(off int64, at, field int, b []byte) error {
	role := ps.cols[field]
	var want string
	switch role {
	case colT:
		want = "a time (an integer or decimal number)"
	case colX, colY:
		want = "a coordinate (an integer 0..65535)"
	case colP:
		want = "a polarity (0/1, -1/+1 or true/false)"
	}
	if len(b) > 40 {
		b = append(b[:37:37], "..."...)
	}
	return ps.errorf(off, at, "line %d, field %d (%s): want %s, got %q", ps.line, field+1, roleNames[role], want, b)
}

// parseCoord parses an unsigned decimal integer that fits a uint16.
func parseCoord(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 5 {
		return 0, false
	}
	var v uint32
	for _, c := range b {
		d := uint32(c) - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + d
	}
	return uint16(v), v <= math.MaxUint16
}

// parsePolarity accepts 0/1, -1/+1 and true/false (any case): 1, +1 and true are ON.
func parsePolarity(b []byte) (uint8, bool) {
	switch len(b) {
	case 1:
		switch b[0] {
		case '1':
			return 1, true
		case '0':
			return 0, true
		}
	case 2:
		if b[1] == '1' {
			switch b[0] {
			case '+':
				return 1, true
			case '-':
				return 0, true
			}
		}
	case 4:
		if b[0]|0x20 == 't' && b[1]|0x20 == 'r' && b[2]|0x20 == 'u' && b[3]|0x20 == 'e' {
			return 1, true
		}
	case 5:
		if b[0]|0x20 == 'f' && b[1]|0x20 == 'a' && b[2]|0x20 == 'l' && b[3]|0x20 == 's' && b[4]|0x20 == 'e' {
			return 0, true
		}
	}
	return 0, false
}

var pow10 = [...]int64{1, 10, 100, 1000, 10000, 100000, 1000000}

// parseTime parses a decimal time in a unit of 10^exp µs (exp in -3..6) and returns it in µs, rounded half
// away from zero. Integers take the fast path; a fraction is allowed; exponents are not. The magnitude is
// kept in a uint64 so the whole int64 range, math.MinInt64 included, parses.
func parseTime(b []byte, exp int) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var v uint64
	i := 0
	for ; i < len(b); i++ {
		d := uint64(b[i]) - '0'
		if d > 9 {
			break
		}
		if v > (limit-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	digits := i
	var frac uint64 // the first exp fraction digits (exp > 0)
	fracDigits := 0
	roundUp := false // the digit after them is ≥ 5
	if i < len(b) {
		if b[i] != '.' {
			return 0, false
		}
		i++
		for j := 0; i < len(b); i, j = i+1, j+1 {
			d := uint64(b[i]) - '0'
			if d > 9 {
				return 0, false
			}
			digits++
			switch {
			case j < exp:
				frac = frac*10 + d
				fracDigits++
			case j == exp:
				roundUp = d >= 5
			}
		}
	}
	if digits == 0 {
		return 0, false
	}
	if exp >= 0 {
		m := uint64(pow10[exp])
		if v > limit/m {
			return 0, false
		}
		v *= m
		add := frac * uint64(pow10[exp-fracDigits])
		if roundUp {
			add++
		}
		if v > limit-add {
			return 0, false
		}
		v += add
	} else {
		d := uint64(pow10[-exp])
		q, r := v/d, v%d
		if 2*r >= d {
			q++
		}
		v = q
	}
	if neg {
		return -int64(v), true // two's complement: exact for math.MinInt64
	}
	return int64(v), true
}

// fastLine parses the common line exactly "t<sep>x<sep>y<sep>p" (integers, no blanks, p 0 or 1) in one
// pass and appends the event. It returns false, appending nothing, for anything else; the general parser
// then handles the line (and names the fault).
func fastLine(line []byte, sep byte, dst *events.Batch) bool {
	i, n := 0, len(line)
	neg := false
	if n > 0 && line[0] == '-' {
		neg, i = true, 1
	}
	start := i
	var t uint64
	for ; i < n && line[i] != sep; i++ {
		d := uint64(line[i]) - '0'
		if d > 9 || i-start >= 18 { // 18 digits cannot overflow; longer times take the careful path
			return false
		}
		t = t*10 + d
	}
	if i == start || i == n {
		return false
	}
	var xy [2]uint32
	for k := range xy {
		i++
		start = i
		var v uint32
		for ; i < n && line[i] != sep; i++ {
			d := uint32(line[i]) - '0'
			if d > 9 || i-start >= 5 {
				return false
			}
			v = v*10 + d
		}
		if i == start || i == n || v > 0xFFFF {
			return false
		}
		xy[k] = v
	}
	if i+2 != n || (line[i+1] != '0' && line[i+1] != '1') {
		return false
	}
	v := int64(t)
	if neg {
		v = -v
	}
	dst.Append(v, uint16(xy[0]), uint16(xy[1]), line[i+1]-'0')
	return true
}
