package hdf5

import (
	"fmt"
	"sort"
)

// Attribute is a small named value attached to an object.
type Attribute struct {
	f    *File
	Name string
	Type *Datatype
	Dims []uint64
	Data []byte // raw elements in the file's encoding
	at   int64
}

// Attrs lists the object's attributes, sorted by name.
func (o *Object) Attrs() ([]*Attribute, error) {
	f := o.f
	var out []*Attribute
	for _, m := range o.msgs {
		switch m.typ {
		case msgAttribute:
			a, err := f.parseAttribute(m.data, m.at)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		case msgAttrInfo:
			dense, err := f.denseAttrs(m)
			if err != nil {
				return nil, err
			}
			out = append(out, dense...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Attr returns the attribute called name, or nil when there is none.
func (o *Object) Attr(name string) (*Attribute, error) {
	attrs, err := o.Attrs()
	if err != nil {
		return nil, err
	}
	for _, a := range attrs {
		if a.Name == name {
			return a, nil
		}
	}
	return nil, nil
}

func (f *File) parseAttribute(b []byte, at int64) (*Attribute, error) {
	c := &cursor{f: f, b: b, at: at}
	v := c.u8()
	flags := c.u8()
	nameLen, typeLen, spaceLen := int(c.u16()), int(c.u16()), int(c.u16())
	pad := func(n int) int { return n }
	switch v {
	case 1:
		pad = func(n int) int { return (n + 7) &^ 7 }
	case 2:
	case 3:
		c.skip(1) // name character set
	default:
		return nil, f.errAt(at, "attribute message version %d (want 1–3)", v)
	}
	a := &Attribute{f: f, at: at}
	nc := c.sub(pad(nameLen))
	a.Name = nc.cstring(nameLen)
	tc := c.sub(pad(typeLen))
	sc := c.sub(pad(spaceLen))
	if c.err != nil {
		return nil, c.err
	}
	var err error
	if flags&1 != 0 {
		a.Type, err = f.sharedDatatype(tc.b, tc.at)
	} else {
		a.Type, err = f.parseDatatype(tc, 0)
	}
	if err != nil {
		return nil, err
	}
	if flags&2 != 0 {
		return nil, f.unsupported(at, "attributes with shared dataspaces")
	}
	var null bool
	if a.Dims, _, null, err = f.parseDataspace(sc.b, sc.at); err != nil {
		return nil, err
	}
	n, _ := count(a.Dims)
	if null {
		n = 0
	}
	need := n * uint64(a.Type.Size)
	if need > uint64(c.left()) {
		return nil, f.errAt(at, "attribute %q of %d elements × %d bytes in a %d-byte message", a.Name, n, a.Type.Size, c.left())
	}
	a.Data = c.bytes(int(need))
	return a, c.err
}

func (f *File) denseAttrs(m message) ([]*Attribute, error) {
	c := &cursor{f: f, b: m.data, at: m.at}
	if v := c.u8(); v != 0 {
		return nil, f.errAt(m.at, "attribute info version %d (want 0)", v)
	}
	flags := c.u8()
	if flags&1 != 0 {
		c.skip(2)
	}
	heapAddr, nameIndex := c.addr(), c.addr()
	if c.err != nil {
		return nil, c.err
	}
	if f.undefined(heapAddr) {
		return nil, nil
	}
	h, err := f.openFractalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	t, err := f.openBTree2(nameIndex, 8)
	if err != nil {
		return nil, err
	}
	var out []*Attribute
	err = t.visit(func(rec []byte, at int64) error {
		if len(rec) < 8 {
			return f.errAt(at, "attribute name record of %d bytes", len(rec))
		}
		obj, err := h.object(rec[:8], at)
		if err != nil {
			return err
		}
		// The heap object may be shared with the next read: copy before parsing.
		a, err := f.parseAttribute(append([]byte(nil), obj...), at)
		if err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// Len is the number of elements of the attribute.
func (a *Attribute) Len() int { return len(a.Data) / max(1, a.Type.Size) }

// Strings decodes a string attribute (fixed or variable length), one string per element.
func (a *Attribute) Strings() ([]string, error) {
	return a.f.decodeStrings(a.Type, a.Data, a.Len(), a.at)
}

// String decodes a scalar (or one-element) string attribute.
func (a *Attribute) String() (string, error) {
	s, err := a.Strings()
	if err != nil {
		return "", err
	}
	if len(s) != 1 {
		return "", fmt.Errorf("%s: attribute %q holds %d strings, not one", a.f.name, a.Name, len(s))
	}
	return s[0], nil
}

// Int64s decodes a numeric attribute.
func (a *Attribute) Int64s() ([]int64, error) {
	n := a.Len()
	out := make([]int64, n)
	if _, err := a.Type.Int64s(a.Data, a.Type.Size, n, out); err != nil {
		return nil, fmt.Errorf("%s: attribute %q: %w", a.f.name, a.Name, err)
	}
	return out, nil
}

// Float64s decodes a numeric attribute.
func (a *Attribute) Float64s() ([]float64, error) {
	n := a.Len()
	out := make([]float64, n)
	if _, err := a.Type.Float64s(a.Data, a.Type.Size, n, out); err != nil {
		return nil, fmt.Errorf("%s: attribute %q: %w", a.f.name, a.Name, err)
	}
	return out, nil
}

// decodeStrings decodes n string elements of type t from raw.
func (f *File) decodeStrings(t *Datatype, raw []byte, n int, at int64) ([]string, error) {
	out := make([]string, 0, n)
	switch {
	case t.Class == ClassString:
		for i := 0; i < n; i++ {
			out = append(out, t.FixedString(raw[i*t.Size:(i+1)*t.Size]))
		}
	case t.Class == ClassVLen && (t.VLenString || (t.Base.Class == ClassInteger && t.Base.Size == 1)):
		for i := 0; i < n; i++ {
			b, _, err := f.vlenData(t, raw[i*t.Size:(i+1)*t.Size], at)
			if err != nil {
				return nil, err
			}
			out = append(out, string(b))
		}
	default:
		return nil, fmt.Errorf("%s: %s values are not strings", f.name, t)
	}
	return out, nil
}

// maxReadAll bounds the datasets ReadAll and its typed forms read in one piece.
const maxReadAll = 1 << 30

// ReadAll reads every element (raw, in the file's encoding). It refuses datasets over 1 GiB: read
// those by slab or column.
func (d *Dataset) ReadAll() ([]byte, error) {
	n := d.Len()
	if n > maxReadAll/uint64(max(1, d.Type.Size)) {
		return nil, fmt.Errorf("%s: %s holds %d elements of %d bytes: too large to read at once", d.f.name, d.Path, n, d.Type.Size)
	}
	if err := d.plausible(n * uint64(d.Type.Size)); err != nil {
		return nil, err
	}
	buf := make([]byte, n*uint64(d.Type.Size))
	if n == 0 {
		return buf, nil
	}
	start := make([]uint64, len(d.Dims))
	return buf, d.ReadSlab(start, d.Dims, buf)
}

// Strings reads a dataset of strings (fixed or variable length).
func (d *Dataset) Strings() ([]string, error) {
	raw, err := d.ReadAll()
	if err != nil {
		return nil, err
	}
	return d.f.decodeStrings(d.Type, raw, int(d.Len()), d.layoutAt)
}

// Int64s reads a numeric dataset as int64 values.
func (d *Dataset) Int64s() ([]int64, error) {
	raw, err := d.ReadAll()
	if err != nil {
		return nil, err
	}
	out := make([]int64, d.Len())
	if i, err := d.Type.Int64s(raw, d.Type.Size, len(out), out); err != nil {
		return nil, fmt.Errorf("%s: %s element %d: %w", d.f.name, d.Path, i, err)
	}
	return out, nil
}

// Float64s reads a numeric dataset as float64 values.
func (d *Dataset) Float64s() ([]float64, error) {
	raw, err := d.ReadAll()
	if err != nil {
		return nil, err
	}
	out := make([]float64, d.Len())
	if _, err := d.Type.Float64s(raw, d.Type.Size, len(out), out); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", d.f.name, d.Path, err)
	}
	return out, nil
}

// References reads a dataset of object references as the addresses of the objects they point to
// (open them with File.ObjectAt).
func (d *Dataset) References() ([]uint64, error) {
	if d.Type.Class != ClassReference {
		return nil, fmt.Errorf("%s: %s holds %s, not object references", d.f.name, d.Path, d.Type)
	}
	raw, err := d.ReadAll()
	if err != nil {
		return nil, err
	}
	out := make([]uint64, d.Len())
	c := &cursor{f: d.f, b: raw, at: d.layoutAt}
	for i := range out {
		out[i] = c.addr()
	}
	return out, c.err
}
