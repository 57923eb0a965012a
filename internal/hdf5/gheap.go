package hdf5

import "fmt"

// The global heap holds the data of variable-length elements (SHD's spike trains, vlen strings).

const (
	maxCollection   = 256 << 20 // one global heap collection
	gheapCacheBytes = 8 << 20   // collections kept in memory (most hold a few consecutive elements)
)

type collection struct {
	addr    uint64
	data    []byte
	objects map[uint16][2]uint64 // index → offset, size within data
}

type gheapCache struct {
	list  []*collection // most recently used last
	bytes int
}

func (f *File) collection(addr uint64) (*collection, error) {
	g := &f.gheap
	for i, c := range g.list {
		if c.addr == addr {
			if i != len(g.list)-1 {
				copy(g.list[i:], g.list[i+1:])
				g.list[len(g.list)-1] = c
			}
			return c, nil
		}
	}
	head, err := f.readAt(addr, uint64(8+f.lenSize), maxMeta, "global heap collection")
	if err != nil {
		return nil, err
	}
	if string(head[:4]) != "GCOL" {
		return nil, f.errAt(f.abs(addr), "global heap collection lacks its GCOL signature")
	}
	hc := &cursor{f: f, b: head, at: f.abs(addr), pos: 8}
	size := hc.length()
	if hc.err != nil {
		return nil, hc.err
	}
	data, err := f.readAt(addr, size, maxCollection, "global heap collection")
	if err != nil {
		return nil, err
	}
	col := &collection{addr: addr, data: data, objects: map[uint16][2]uint64{}}
	c := &cursor{f: f, b: data, at: f.abs(addr), pos: 8 + f.lenSize}
	for c.left() >= 8+f.lenSize {
		idx := c.u16()
		c.skip(6) // reference count, reserved
		n := c.length()
		if idx == 0 {
			break // free space: the rest of the collection
		}
		if n > uint64(c.left()) {
			return nil, f.errAt(c.off(), "global heap object %d of %d bytes overruns its collection", idx, n)
		}
		col.objects[idx] = [2]uint64{uint64(c.pos), n}
		c.skip(int((n + 7) &^ 7))
		if c.err != nil {
			c.err = nil
			break // the last object's padding may reach the collection's end
		}
	}
	g.list = append(g.list, col)
	g.bytes += len(data)
	for g.bytes > gheapCacheBytes && len(g.list) > 1 {
		g.bytes -= len(g.list[0].data)
		g.list = g.list[1:]
	}
	return col, nil
}

// heapObject returns a global heap object (aliasing the cache: valid until the next heap read).
func (f *File) heapObject(addr uint64, idx uint32, at int64) ([]byte, error) {
	col, err := f.collection(addr)
	if err != nil {
		return nil, err
	}
	if idx > 0xffff {
		return nil, f.errAt(at, "global heap object index %d", idx)
	}
	o, ok := col.objects[uint16(idx)]
	if !ok {
		return nil, f.errAt(at, "global heap collection at %#x has no object %d", addr, idx)
	}
	return col.data[o[0] : o[0]+o[1]], nil
}

// vlenRef decodes one variable-length element: its length and where its data lives.
func (f *File) vlenRef(b []byte, at int64) (n uint32, addr uint64, idx uint32, err error) {
	c := &cursor{f: f, b: b, at: at}
	n = c.u32()
	addr = c.addr()
	idx = c.u32()
	return n, addr, idx, c.err
}

// VLen returns element i (linear index) of a variable-length dataset: the raw bytes of its values in
// the base type's encoding and the number of values (bytes for strings). The bytes alias a cache and
// stay valid only until the next read from the file.
func (d *Dataset) VLen(i uint64) ([]byte, int, error) {
	t := d.Type
	if t.Class != ClassVLen {
		return nil, 0, fmt.Errorf("%s: %s holds %s, not variable-length data", d.f.name, d.Path, t)
	}
	var ref [32]byte
	if err := d.readElement(i, ref[:t.Size]); err != nil {
		return nil, 0, err
	}
	return d.f.vlenData(t, ref[:t.Size], d.layoutAt)
}

// vlenData follows one variable-length reference of type t.
func (f *File) vlenData(t *Datatype, ref []byte, at int64) ([]byte, int, error) {
	n, addr, idx, err := f.vlenRef(ref, at)
	if err != nil {
		return nil, 0, err
	}
	if n == 0 {
		return nil, 0, nil
	}
	obj, err := f.heapObject(addr, idx, at)
	if err != nil {
		return nil, 0, err
	}
	need := uint64(n) * uint64(t.Base.Size)
	if t.VLenString {
		need = uint64(n)
	}
	if need > uint64(len(obj)) {
		return nil, 0, f.errAt(at, "variable-length element of %d values needs %d bytes; its heap object holds %d", n, need, len(obj))
	}
	return obj[:need], int(n), nil
}

// readElement reads the element at a linear index.
func (d *Dataset) readElement(i uint64, dst []byte) error {
	rank := len(d.Dims)
	start := make([]uint64, rank)
	cnt := make([]uint64, rank)
	if i >= d.Len() {
		return fmt.Errorf("%s: %s has %d elements; there is no element %d", d.f.name, d.Path, d.Len(), i)
	}
	for k := rank - 1; k >= 0; k-- {
		start[k] = i % d.Dims[k]
		i /= d.Dims[k]
		cnt[k] = 1
	}
	return d.ReadSlab(start, cnt, dst)
}
