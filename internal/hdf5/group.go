package hdf5

import (
	"fmt"
	"sort"
	"strings"
)

// Object is a group, a dataset or a committed datatype, opened from its object header.
type Object struct {
	f    *File
	Path string // the path it was opened by
	Addr uint64 // address of its object header
	msgs []message
}

// Link is one named member of a group.
type Link struct {
	Name string
	// Addr is the object a hard link points to.
	Addr uint64
	// Soft is the target path of a soft link ("" for hard links).
	Soft string
	// External is set for links into other files, which this reader does not follow.
	External bool
}

// Kind tells groups from datasets.
type Kind int

const (
	KindOther Kind = iota
	KindGroup
	KindDataset
)

func (k Kind) String() string {
	return [...]string{"object", "group", "dataset"}[k]
}

// ObjectAt opens the object whose header is at addr; path names it in errors.
func (f *File) ObjectAt(addr uint64, path string) (*Object, error) {
	msgs, err := f.objectHeader(addr)
	if err != nil {
		return nil, err
	}
	return &Object{f: f, Path: path, Addr: addr, msgs: msgs}, nil
}

// Root opens the root group.
func (f *File) Root() (*Object, error) { return f.ObjectAt(f.rootAddr, "/") }

// Kind says whether o is a group or a dataset.
func (o *Object) Kind() Kind {
	for _, m := range o.msgs {
		switch m.typ {
		case msgLayout:
			return KindDataset
		case msgSymbolTable, msgLinkInfo, msgLink, msgGroupInfo:
			return KindGroup
		}
	}
	if o.Addr == o.f.rootAddr {
		return KindGroup
	}
	return KindOther
}

func (o *Object) find(typ uint16) *message {
	for i := range o.msgs {
		if o.msgs[i].typ == typ {
			return &o.msgs[i]
		}
	}
	return nil
}

// Get opens the object at path (absolute, or relative to the root), following soft links.
func (f *File) Get(path string) (*Object, error) {
	root, err := f.Root()
	if err != nil {
		return nil, err
	}
	return root.Get(path)
}

// Get opens the object at path relative to o ("/"-separated; a leading "/" starts at the root).
func (o *Object) Get(path string) (*Object, error) {
	return o.get(path, 0)
}

func (o *Object) get(path string, hops int) (*Object, error) {
	f := o.f
	cur := o
	if strings.HasPrefix(path, "/") {
		var err error
		if cur, err = f.Root(); err != nil {
			return nil, err
		}
	}
	for _, part := range strings.Split(path, "/") {
		if part == "" || part == "." {
			continue
		}
		links, err := cur.linkMap()
		if err != nil {
			return nil, err
		}
		l, ok := links[part]
		if !ok {
			return nil, fmt.Errorf("%s: %s has no member %q", f.name, cur.Path, part)
		}
		next := joinPath(cur.Path, part)
		switch {
		case l.External:
			return nil, fmt.Errorf("%s: %s is a link into another file (not followed)%w", f.name, next, errUnsupportedSuffix)
		case l.Soft != "":
			if hops >= maxLinkHops {
				return nil, fmt.Errorf("%s: %s: more than %d soft links (a loop?)", f.name, next, maxLinkHops)
			}
			if cur, err = cur.get(l.Soft, hops+1); err != nil {
				return nil, err
			}
		default:
			if cur, err = f.ObjectAt(l.Addr, next); err != nil {
				return nil, err
			}
		}
	}
	if cur.Path != path && path != "" && strings.HasPrefix(path, "/") {
		cur.Path = path
	}
	return cur, nil
}

// errUnsupportedSuffix lets fmt.Errorf wrap ErrUnsupported without changing the message.
var errUnsupportedSuffix = suffixError{}

type suffixError struct{}

func (suffixError) Error() string { return "" }
func (suffixError) Unwrap() error { return ErrUnsupported }

func joinPath(dir, name string) string {
	if dir == "/" || dir == "" {
		return "/" + name
	}
	return dir + "/" + name
}

// Links lists the members of group o, sorted by name.
func (o *Object) Links() ([]Link, error) {
	m, err := o.linkMap()
	if err != nil {
		return nil, err
	}
	out := make([]Link, 0, len(m))
	for _, l := range m {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (o *Object) linkMap() (map[string]Link, error) {
	f := o.f
	if m, ok := f.links[o.Addr]; ok {
		return m, nil
	}
	if o.Kind() != KindGroup {
		return nil, fmt.Errorf("%s: %s is a %s, not a group", f.name, o.Path, o.Kind())
	}
	m := map[string]Link{}
	add := func(l Link, at int64) error {
		if _, dup := m[l.Name]; dup {
			return f.errAt(at, "group %s names %q twice", o.Path, l.Name)
		}
		m[l.Name] = l
		return nil
	}
	if st := o.find(msgSymbolTable); st != nil {
		if err := f.symbolTableLinks(st, add); err != nil {
			return nil, err
		}
	} else if o.Addr == f.rootAddr && f.rootCached && o.find(msgLinkInfo) == nil && o.find(msgLink) == nil {
		if err := f.symbolTable(f.rootBTree, f.rootHeap, add); err != nil {
			return nil, err
		}
	}
	for _, msg := range o.msgs {
		switch msg.typ {
		case msgLink:
			l, err := f.parseLink(msg.data, msg.at)
			if err != nil {
				return nil, err
			}
			if err := add(l, msg.at); err != nil {
				return nil, err
			}
		case msgLinkInfo:
			if err := f.denseLinks(msg, add); err != nil {
				return nil, err
			}
		}
	}
	if f.links == nil {
		f.links = map[uint64]map[string]Link{}
	}
	f.links[o.Addr] = m
	return m, nil
}

func (f *File) symbolTableLinks(st *message, add func(Link, int64) error) error {
	c := &cursor{f: f, b: st.data, at: st.at}
	bt, heap := c.addr(), c.addr()
	if c.err != nil {
		return c.err
	}
	return f.symbolTable(bt, heap, add)
}

// symbolTable reads a version 1 group: a B-tree of symbol table nodes whose names live in a local heap.
func (f *File) symbolTable(btree, heapAddr uint64, add func(Link, int64) error) error {
	hb, err := f.readAt(heapAddr, uint64(8+2*f.lenSize+f.offSize), maxMeta, "local heap")
	if err != nil {
		return err
	}
	if string(hb[:4]) != "HEAP" {
		return f.errAt(f.abs(heapAddr), "local heap lacks its HEAP signature")
	}
	c := &cursor{f: f, b: hb, at: f.abs(heapAddr), pos: 8}
	segSize := c.length()
	c.length()
	segAddr := c.addr()
	if c.err != nil {
		return c.err
	}
	heap, err := f.readAt(segAddr, segSize, maxMeta, "local heap data")
	if err != nil {
		return err
	}
	name := func(off uint64, at int64) (string, error) {
		if off >= uint64(len(heap)) {
			return "", f.errAt(at, "name offset %d lies outside the %d-byte local heap", off, len(heap))
		}
		hc := &cursor{f: f, b: heap, at: f.abs(segAddr), pos: int(off)}
		return hc.cstring(-1), nil
	}
	entrySize := 2*f.offSize + 24
	return f.btree1Visit(btree, 0, f.lenSize, func(_ []byte, snod uint64, at int64) error {
		h, err := f.readAt(snod, 8, maxMeta, "symbol table node")
		if err != nil {
			return err
		}
		if string(h[:4]) != "SNOD" {
			return f.errAt(f.abs(snod), "symbol table node lacks its SNOD signature")
		}
		n := int(h[6]) | int(h[7])<<8
		body, err := f.readAt(snod, uint64(8+n*entrySize), maxMeta, "symbol table node")
		if err != nil {
			return err
		}
		sc := &cursor{f: f, b: body, at: f.abs(snod), pos: 8}
		for i := 0; i < n; i++ {
			eat := sc.off()
			nameOff := sc.addr()
			obj := sc.addr()
			cache := sc.u32()
			sc.skip(4)
			scratch := sc.bytes(16)
			if sc.err != nil {
				return sc.err
			}
			nm, err := name(nameOff, eat)
			if err != nil {
				return err
			}
			l := Link{Name: nm, Addr: obj}
			if cache == 2 {
				valOff := uint64(scratch[0]) | uint64(scratch[1])<<8 | uint64(scratch[2])<<16 | uint64(scratch[3])<<24
				if l.Soft, err = name(valOff, eat); err != nil {
					return err
				}
			}
			if err := add(l, eat); err != nil {
				return err
			}
		}
		return nil
	})
}

// parseLink decodes a link message.
func (f *File) parseLink(b []byte, at int64) (Link, error) {
	c := &cursor{f: f, b: b, at: at}
	if v := c.u8(); v != 1 {
		return Link{}, f.errAt(at, "link message version %d (want 1)", v)
	}
	flags := c.u8()
	typ := uint8(0)
	if flags&0x08 != 0 {
		typ = c.u8()
	}
	if flags&0x04 != 0 {
		c.skip(8)
	}
	if flags&0x10 != 0 {
		c.skip(1)
	}
	n := int(c.uvar(1 << (flags & 3)))
	if n <= 0 || n > c.left() {
		return Link{}, f.errAt(at, "link name of %d bytes in a %d-byte message", n, len(b))
	}
	l := Link{Name: string(c.bytes(n))}
	switch typ {
	case 0:
		l.Addr = c.addr()
	case 1:
		vn := int(c.u16())
		l.Soft = string(c.bytes(vn))
	case 64:
		l.External = true
	default:
		return Link{}, f.unsupported(at, "user-defined link type %d", typ)
	}
	return l, c.err
}

// denseLinks reads the links of a group stored in a fractal heap, indexed by a version 2 B-tree.
func (f *File) denseLinks(msg message, add func(Link, int64) error) error {
	c := &cursor{f: f, b: msg.data, at: msg.at}
	if v := c.u8(); v != 0 {
		return f.errAt(msg.at, "link info version %d (want 0)", v)
	}
	flags := c.u8()
	if flags&1 != 0 {
		c.skip(8)
	}
	heapAddr, nameIndex := c.addr(), c.addr()
	if c.err != nil {
		return c.err
	}
	if f.undefined(heapAddr) {
		return nil // links are compact: link messages in the header
	}
	h, err := f.openFractalHeap(heapAddr)
	if err != nil {
		return err
	}
	t, err := f.openBTree2(nameIndex, 5)
	if err != nil {
		return err
	}
	return t.visit(func(rec []byte, at int64) error {
		if len(rec) < 5 {
			return f.errAt(at, "link name record of %d bytes", len(rec))
		}
		obj, err := h.object(rec[4:], at+4)
		if err != nil {
			return err
		}
		l, err := f.parseLink(obj, at)
		if err != nil {
			return err
		}
		return add(l, at)
	})
}

// Offset is the absolute file offset of the object's header (where it is described), for errors about
// its contents.
func (o *Object) Offset() int64 { return max(0, o.f.abs(o.Addr)) }
