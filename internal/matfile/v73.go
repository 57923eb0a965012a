package matfile

import (
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/evtool/evtool/internal/hdf5"
)

// Version 7.3 files are HDF5 files behind a 512-byte MATLAB header: each variable is a root member whose
// MATLAB_class attribute names its class, with MATLAB's column-major dimensions stored reversed.

func (m *File) openV73(header string) (*File, error) {
	h, err := hdf5.NewFile(m.r, m.size, m.name)
	if err != nil {
		return nil, err
	}
	m.h5, m.Version = h, 73
	m.Header = strings.TrimRight(header, " \x00")
	return m, nil
}

func (m *File) namesV73() ([]string, error) {
	root, err := m.h5.Root()
	if err != nil {
		return nil, err
	}
	links, err := root.Links()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range links {
		if !strings.HasPrefix(l.Name, "#") { // #refs# and #subsystem# hold MATLAB's internals
			out = append(out, l.Name)
		}
	}
	return out, nil
}

func (m *File) readV73(name string) (*Var, error) {
	o, err := m.h5.Get("/" + name)
	if err != nil {
		return nil, err
	}
	return m.v73Var(o, name, 0)
}

func attrString(o *hdf5.Object, name string) string {
	a, err := o.Attr(name)
	if err != nil || a == nil {
		return ""
	}
	s, _ := a.String()
	return s
}

var v73Classes = map[string]Class{"double": Double, "single": Single, "int8": Int8, "uint8": Uint8, "int16": Int16,
	"uint16": Uint16, "int32": Int32, "uint32": Uint32, "int64": Int64, "uint64": Uint64, "logical": Logical,
	"char": Char, "cell": Cell, "struct": Struct}

func (m *File) v73Var(o *hdf5.Object, name string, depth int) (*Var, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%s: %s: arrays nested deeper than %d", m.name, o.Path, maxDepth)
	}
	cls := attrString(o, "MATLAB_class")
	if o.Kind() == hdf5.KindGroup {
		if cls != "" && cls != "struct" {
			return nil, fmt.Errorf("%s: %s is a group of MATLAB class %q%w", m.name, o.Path, cls, errUnsupported)
		}
		links, err := o.Links()
		if err != nil {
			return nil, err
		}
		v := &Var{Name: name, Class: Struct, Dims: []int{1, 1}}
		row := []*Var{}
		for _, l := range links {
			child, err := o.Get(l.Name)
			if err != nil {
				return nil, err
			}
			fv, err := m.v73Var(child, l.Name, depth+1)
			if err != nil {
				return nil, err
			}
			v.Fields = append(v.Fields, l.Name)
			row = append(row, fv)
		}
		v.Elems = [][]*Var{row}
		return v, nil
	}
	d, err := o.Dataset()
	if err != nil {
		return nil, err
	}
	d.FillMissing = false // MATLAB writes every element; an unwritten chunk means a damaged file
	v := &Var{Name: name}
	// MATLAB's dimensions are HDF5's reversed.
	for i := len(d.Dims) - 1; i >= 0; i-- {
		v.Dims = append(v.Dims, int(d.Dims[i]))
	}
	switch len(v.Dims) {
	case 0:
		v.Dims = []int{1, 1}
	case 1:
		v.Dims = append(v.Dims, 1)
	}
	if a, _ := o.Attr("MATLAB_empty"); a != nil {
		if e, err := a.Int64s(); err == nil && len(e) == 1 && e[0] != 0 {
			c, ok := v73Classes[cls]
			if !ok {
				c = Double
			}
			return &Var{Name: name, Class: c, Dims: []int{0, 0}}, nil
		}
	}
	c, known := v73Classes[cls]
	switch {
	case d.Type.Class == hdf5.ClassReference:
		if cls != "cell" && cls != "" {
			return nil, fmt.Errorf("%s: %s: references of MATLAB class %q (struct arrays)%w", m.name, o.Path, cls, errUnsupported)
		}
		if cls == "" {
			return nil, fmt.Errorf("%s: %s: a struct array field%w", m.name, o.Path, errUnsupported)
		}
		addrs, err := d.References()
		if err != nil {
			return nil, err
		}
		v.Class = Cell
		for i, a := range addrs {
			obj, err := m.h5.ObjectAt(a, fmt.Sprintf("%s{%d}", o.Path, i+1))
			if err != nil {
				return nil, err
			}
			cv, err := m.v73Var(obj, "", depth+1)
			if err != nil {
				return nil, err
			}
			v.Cells = append(v.Cells, cv)
		}
		return v, nil
	case d.Type.Class == hdf5.ClassCompound:
		return nil, fmt.Errorf("%s: %s: complex numbers%w", m.name, o.Path, errUnsupported)
	case !known && cls != "":
		return nil, fmt.Errorf("%s: %s: MATLAB class %q%w", m.name, o.Path, cls, errUnsupported)
	case !known:
		// plain HDF5 data without MATLAB's attributes: by its type
		c = Double
		if d.Type.Class == hdf5.ClassInteger {
			c = Int64
		}
	}
	v.Class = c
	switch c {
	case Char:
		vals, err := d.Int64s()
		if err != nil {
			return nil, err
		}
		u := make([]uint16, len(vals))
		for i, x := range vals {
			u[i] = uint16(x)
		}
		v.Text = utf16.Decode(u)
	case Double, Single:
		if v.Floats, err = d.Float64s(); err != nil {
			return nil, err
		}
	default:
		if v.Ints, err = d.Int64s(); err != nil {
			return nil, err
		}
	}
	return v, nil
}

var errUnsupported = unsupportedSuffix{}

type unsupportedSuffix struct{}

func (unsupportedSuffix) Error() string { return " (" + ErrUnsupported.Error() + ")" }
func (unsupportedSuffix) Unwrap() error { return ErrUnsupported }
