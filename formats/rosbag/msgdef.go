package rosbag

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// A bag's connection header carries the full text of its message definition: the top type's fields, then
// every type it uses after a line of '=' and a "MSG: pkg/Name" line. Decoding follows that text, not a
// compiled-in layout, so variants of a message (fields reordered, x/y as int16, a 32-bit width…) decode
// without special cases. ROS1 serialisation is little-endian and unaligned: fixed-size fields follow one
// another; strings and variable-length arrays start with a uint32 count.

// kind is a field's wire type.
type kind uint8

const (
	kBool kind = iota
	kInt8
	kUint8
	kInt16
	kUint16
	kInt32
	kUint32
	kInt64
	kUint64
	kFloat32
	kFloat64
	kString
	kTime // uint32 sec, uint32 nsec
	kDuration
	kMsg
)

var primitives = map[string]kind{
	"bool": kBool, "int8": kInt8, "byte": kInt8, "uint8": kUint8, "char": kUint8,
	"int16": kInt16, "uint16": kUint16, "int32": kInt32, "uint32": kUint32, "int64": kInt64, "uint64": kUint64,
	"float32": kFloat32, "float64": kFloat64, "string": kString, "time": kTime, "duration": kDuration,
}

// size is the wire size of one element of a fixed-size primitive, 0 for strings and messages.
func (k kind) size() int {
	switch k {
	case kBool, kInt8, kUint8:
		return 1
	case kInt16, kUint16:
		return 2
	case kInt32, kUint32, kFloat32:
		return 4
	case kInt64, kUint64, kFloat64, kTime, kDuration:
		return 8
	}
	return 0
}

func (k kind) integer() bool { return k >= kInt8 && k <= kUint64 }

// field is one serialised field of a message type.
type field struct {
	name  string
	kind  kind
	sub   *msgType // kind == kMsg
	array int      // 0: a scalar; -1: a variable-length array (uint32 count first); n > 0: a fixed array of n
	fixed int      // bytes the whole field takes when that does not depend on the data, else -1
}

// msgType is a message type resolved from a definition.
type msgType struct {
	name   string
	fields []field
	fixed  int // bytes of a whole message when every field is fixed-size, else -1
	min    int // fewest bytes any message of this type takes (bounds loops over hostile counts)
}

func (t *msgType) field(name string) (int, *field) {
	for i := range t.fields {
		if t.fields[i].name == name {
			return i, &t.fields[i]
		}
	}
	return -1, nil
}

// Bounds of what a definition may describe; real definitions are far smaller.
const (
	maxDefTypes  = 512
	maxDefDepth  = 16
	maxFixedSize = 1 << 20
)

// parseDefinition resolves the type topType from a connection's message_definition text.
func parseDefinition(topType, def string) (*msgType, error) {
	sections := map[string][]string{}
	order := []string{}
	name := topType
	var lines []string
	flush := func() error {
		if _, dup := sections[name]; dup {
			return fmt.Errorf("type %s is defined twice", name)
		}
		if len(sections) >= maxDefTypes {
			return fmt.Errorf("more than %d types", maxDefTypes)
		}
		sections[name] = lines
		order = append(order, name)
		return nil
	}
	for _, line := range strings.Split(def, "\n") {
		s := strings.TrimSpace(line)
		switch {
		case len(s) >= 3 && strings.Trim(s, "=") == "":
			if err := flush(); err != nil {
				return nil, err
			}
			name, lines = "", nil
		case name == "" && strings.HasPrefix(s, "MSG:"):
			name = strings.TrimSpace(s[4:])
			if name == "" {
				return nil, fmt.Errorf("a MSG: line names no type")
			}
		default:
			lines = append(lines, s)
		}
	}
	if name != "" {
		if err := flush(); err != nil {
			return nil, err
		}
	}
	r := &resolver{sections: sections, order: order, done: map[string]*msgType{}, busy: map[string]bool{}}
	return r.resolve(topType, "", 0)
}

type resolver struct {
	sections map[string][]string
	order    []string
	done     map[string]*msgType
	busy     map[string]bool
}

// builtinHeader is std_msgs/Header, which old writers sometimes leave out of the definition text.
var builtinHeader = []string{"uint32 seq", "time stamp", "string frame_id"}

// lookup finds the section of a type named in a field of package pkg: "Header" is std_msgs/Header, an
// unqualified name is first looked for in pkg, then in any package.
func (r *resolver) lookup(name, pkg string) (string, []string, bool) {
	if name == "Header" {
		name = "std_msgs/Header"
	}
	if lines, ok := r.sections[name]; ok {
		return name, lines, true
	}
	if !strings.Contains(name, "/") {
		if lines, ok := r.sections[pkg+"/"+name]; ok {
			return pkg + "/" + name, lines, true
		}
		for _, full := range r.order {
			if strings.HasSuffix(full, "/"+name) {
				return full, r.sections[full], true
			}
		}
	}
	if name == "std_msgs/Header" {
		return name, builtinHeader, true
	}
	return name, nil, false
}

func (r *resolver) resolve(name, pkg string, depth int) (*msgType, error) {
	full, lines, ok := r.lookup(name, pkg)
	if !ok {
		return nil, fmt.Errorf("type %s is used but not defined", name)
	}
	if t, ok := r.done[full]; ok {
		return t, nil
	}
	if depth > maxDefDepth || r.busy[full] {
		return nil, fmt.Errorf("type %s nests too deeply or contains itself", full)
	}
	r.busy[full] = true
	defer delete(r.busy, full)
	own := ""
	if i := strings.LastIndexByte(full, '/'); i > 0 {
		own = full[:i]
	}
	t := &msgType{name: full, fixed: 0}
	for _, line := range lines {
		if line == "" || line[0] == '#' {
			continue
		}
		typ, rest := line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			typ, rest = line[:i], strings.TrimSpace(line[i:])
		}
		if rest == "" {
			return nil, fmt.Errorf("type %s: line %q has no field name", full, line)
		}
		if strings.IndexByte(rest, '=') >= 0 && (strings.IndexByte(rest, '#') < 0 || strings.IndexByte(rest, '=') < strings.IndexByte(rest, '#')) {
			continue // a constant: part of the definition, not of the data
		}
		fname := strings.Fields(strings.SplitN(rest, "#", 2)[0])
		if len(fname) != 1 {
			return nil, fmt.Errorf("type %s: cannot read the field of line %q", full, line)
		}
		f := field{name: fname[0]}
		base := typ
		if i := strings.IndexByte(typ, '['); i >= 0 {
			if !strings.HasSuffix(typ, "]") {
				return nil, fmt.Errorf("type %s: bad array type %q", full, typ)
			}
			base = typ[:i]
			f.array = -1
			if n := typ[i+1 : len(typ)-1]; n != "" {
				v, err := strconv.Atoi(n)
				if err != nil || v <= 0 || v > maxFixedSize {
					return nil, fmt.Errorf("type %s: bad array length in %q", full, typ)
				}
				f.array = v
			}
		}
		if k, ok := primitives[base]; ok {
			f.kind = k
		} else {
			sub, err := r.resolve(base, own, depth+1)
			if err != nil {
				return nil, err
			}
			f.kind, f.sub = kMsg, sub
		}
		f.fixed = f.wireFixed()
		t.fields = append(t.fields, f)
		switch {
		case f.fixed < 0:
			t.fixed = -1
		case t.fixed >= 0:
			t.fixed += f.fixed
		}
		t.min += f.minSize()
		if t.fixed > maxFixedSize || t.min > maxFixedSize {
			return nil, fmt.Errorf("type %s is larger than %d bytes", full, maxFixedSize)
		}
	}
	r.done[full] = t
	return t, nil
}

// wireFixed is the fixed byte size of the whole field, or -1 when it depends on the data.
func (f *field) wireFixed() int {
	elem := f.kind.size()
	if f.kind == kMsg {
		elem = f.sub.fixed
	}
	if f.kind == kString || elem < 0 || f.array < 0 {
		return -1
	}
	if f.array > 0 {
		return elem * f.array
	}
	return elem
}

// minSize is the fewest bytes the field takes.
func (f *field) minSize() int {
	if f.fixed >= 0 {
		return f.fixed
	}
	if f.array < 0 {
		return 4
	}
	elem := 4 // a string
	if f.kind == kMsg {
		elem = f.sub.min
	}
	if f.array > 0 {
		return elem * f.array
	}
	return elem
}

// skip returns the offset just past one value of field f that starts at off in b.
func (f *field) skip(b []byte, off int) (int, error) {
	if f.fixed >= 0 {
		if f.fixed > len(b)-off {
			return 0, fmt.Errorf("field %s needs %d bytes, %d left", f.name, f.fixed, len(b)-off)
		}
		return off + f.fixed, nil
	}
	n := f.array
	if n < 0 {
		if len(b)-off < 4 {
			return 0, fmt.Errorf("field %s: the message ends before its length", f.name)
		}
		n = int(binary.LittleEndian.Uint32(b[off:]))
		off += 4
	}
	if f.array == 0 {
		n = 1 // a string or a variable-size message
	}
	elem := f.kind.size()
	if f.kind == kMsg {
		elem = f.sub.fixed
	}
	if elem > 0 || (f.kind == kMsg && elem == 0) {
		if elem > 0 && n > (len(b)-off)/elem {
			return 0, fmt.Errorf("field %s: %d elements of %d bytes do not fit the %d bytes left", f.name, n, elem, len(b)-off)
		}
		return off + n*elem, nil
	}
	// Variable-size elements: each takes at least 4 bytes, so a hostile count cannot loop for long.
	minElem := 4
	if f.kind == kMsg {
		minElem = max(f.sub.min, 1)
	}
	if n > (len(b)-off)/minElem {
		return 0, fmt.Errorf("field %s: %d elements do not fit the %d bytes left", f.name, n, len(b)-off)
	}
	for i := 0; i < n; i++ {
		var err error
		if f.kind == kString {
			if len(b)-off < 4 {
				return 0, fmt.Errorf("field %s: the message ends inside a string", f.name)
			}
			l := int(binary.LittleEndian.Uint32(b[off:]))
			if l > len(b)-off-4 {
				return 0, fmt.Errorf("field %s: a string of %d bytes does not fit the %d bytes left", f.name, l, len(b)-off-4)
			}
			off += 4 + l
			continue
		}
		if off, err = f.sub.skip(b, off); err != nil {
			return 0, err
		}
	}
	return off, nil
}

// skip returns the offset just past one message of type t that starts at off in b.
func (t *msgType) skip(b []byte, off int) (int, error) {
	if t.fixed >= 0 {
		if t.fixed > len(b)-off {
			return 0, fmt.Errorf("%s needs %d bytes, %d left", t.name, t.fixed, len(b)-off)
		}
		return off + t.fixed, nil
	}
	for i := range t.fields {
		var err error
		if off, err = t.fields[i].skip(b, off); err != nil {
			return 0, err
		}
	}
	return off, nil
}

// locate returns where field path[0] (then path[1] inside it, …) of a message at off in b starts. Every
// field on the path but the last must be a scalar message.
func (t *msgType) locate(b []byte, off int, path ...string) (int, *field, error) {
	cur := t
	for depth, name := range path {
		idx, f := cur.field(name)
		if f == nil {
			return 0, nil, fmt.Errorf("%s has no field %s", cur.name, name)
		}
		for i := 0; i < idx; i++ {
			var err error
			if off, err = cur.fields[i].skip(b, off); err != nil {
				return 0, nil, err
			}
		}
		if depth == len(path)-1 {
			return off, f, nil
		}
		if f.kind != kMsg || f.array != 0 {
			return 0, nil, fmt.Errorf("field %s of %s is not a message", name, cur.name)
		}
		cur = f.sub
	}
	return 0, nil, fmt.Errorf("empty field path")
}

// staticOffset is where field name lies inside a fixed-size message (the events of an EventArray).
func (t *msgType) staticOffset(name string) (int, *field) {
	off := 0
	for i := range t.fields {
		if t.fields[i].name == name {
			return off, &t.fields[i]
		}
		off += t.fields[i].fixed
	}
	return -1, nil
}

// readUint reads an integer field of any width as a uint64 (negative values sign-extend, so they come out
// huge and fail any range check).
func readUint(b []byte, k kind) uint64 {
	switch k {
	case kBool, kUint8:
		return uint64(b[0])
	case kInt8:
		return uint64(int64(int8(b[0])))
	case kUint16:
		return uint64(binary.LittleEndian.Uint16(b))
	case kInt16:
		return uint64(int64(int16(binary.LittleEndian.Uint16(b))))
	case kUint32:
		return uint64(binary.LittleEndian.Uint32(b))
	case kInt32:
		return uint64(int64(int32(binary.LittleEndian.Uint32(b))))
	default:
		return binary.LittleEndian.Uint64(b)
	}
}
