package hdf5

import (
	"fmt"
	"sync"

	"github.com/evtool/evtool/events"
)

// The global heap holds the data of variable-length elements (SHD's spike trains, vlen strings).

const (
	maxCollection   = 256 << 20 // one global heap collection
	gheapCacheBytes = 1 << 20   // collections kept in memory (most hold a few consecutive elements)
)

type collection struct {
	addr    uint64
	data    []byte
	objects map[uint16][2]uint64 // index → offset, size within data
}

// gheapCache keeps the collections last read. Reading SHD, every sample's times and units are each a
// collection of their own, read once: a collection is read with one system call (its header and data
// together, guessing its size from the largest read so far), and evicted collections lend their memory
// to the next ones read (freeCollections), so that reading allocates nothing per collection.
type gheapCache struct {
	list  []*collection // most recently used last
	bytes int           // capacity of the collections' data
	guess int           // bytes read first for a collection: the largest collection so far, bounded
}

// freeCollections keeps evicted collections, and those of closed files, for the next ones read in any
// file: a dataset conversion opens its file again for every group of samples, and each open filled its
// cache with new collections, their memory allocated and cleared anew (2.4 % of preparing SHD).
var freeCollections sync.Pool

// release hands the cache's collections to freeCollections; the heap objects read are no longer valid.
func (g *gheapCache) release() {
	for _, c := range g.list {
		freeCollections.Put(c)
	}
	*g = gheapCache{}
}

// maxGuess bounds what is read of a collection before its size is known.
const maxGuess = 1 << 20

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
	headLen := 8 + f.lenSize
	off := f.abs(addr)
	if off < 0 || f.undefined(addr) || int64(headLen) > f.size-off {
		// readAt says what is wrong with the address.
		if _, err := f.readAt(addr, uint64(headLen), maxMeta, "global heap collection"); err != nil {
			return nil, err
		}
	}
	col, ok := freeCollections.Get().(*collection)
	if !ok {
		col = &collection{objects: map[uint16][2]uint64{}}
	}
	clear(col.objects)
	col.addr = addr
	// The header and, as far as the guess goes, the data.
	first := int(min(int64(max(g.guess, headLen)), f.size-off))
	buf := growBytes(col.data[:0], first)
	if err := f.readFull(buf, off, "global heap collection"); err != nil {
		return nil, err
	}
	if string(buf[:4]) != "GCOL" {
		return nil, f.errAt(off, "global heap collection lacks its GCOL signature")
	}
	hc := &cursor{f: f, b: buf[:headLen], at: off, pos: 8}
	size := hc.length()
	if hc.err != nil {
		return nil, hc.err
	}
	if size > maxCollection || size > uint64(f.size-off) {
		// readAt refuses it with the same words.
		if _, err := f.readAt(addr, size, maxCollection, "global heap collection"); err != nil {
			return nil, err
		}
	}
	if int(size) > len(buf) {
		buf = growBytes(buf, int(size))
		if err := f.readFull(buf[first:], off+int64(first), "global heap collection"); err != nil {
			return nil, err
		}
	}
	data := buf[:size]
	g.guess = min(max(g.guess, int(size)), maxGuess)
	col.data = data
	c := &cursor{f: f, b: data, at: off, pos: 8 + f.lenSize}
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
	g.bytes += cap(data)
	for g.bytes > gheapCacheBytes && len(g.list) > 1 {
		g.bytes -= cap(g.list[0].data)
		freeCollections.Put(g.list[0])
		g.list[0] = nil
		g.list = g.list[1:]
	}
	return col, nil
}

// growBytes returns b resized to n bytes, its first len(b) kept; reallocated only when its capacity is
// short.
func growBytes(b []byte, n int) []byte {
	if cap(b) < n {
		g := make([]byte, n)
		copy(g, b)
		return g
	}
	return b[:n]
}

// readFull reads len(dst) bytes at absolute offset off, which the caller has checked lie inside the file.
func (f *File) readFull(dst []byte, off int64, what string) error {
	if _, err := f.r.ReadAt(dst, off); err != nil {
		return &events.DecodeError{Path: f.name, Offset: off, Msg: "read " + what, Err: err}
	}
	return nil
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
	ref, err := d.vlenRef(i)
	if err != nil {
		return nil, 0, err
	}
	return d.f.vlenData(t, ref, d.layoutAt)
}

// refWindow is how many references of a one-dimensional variable-length dataset are read at once:
// samples are read in order, and reading each 16-byte reference alone took one system call a sample.
const refWindow = 256

// vlenRef returns the reference of element i, from the dataset's window of references (read from i on
// when it does not hold i).
func (d *Dataset) vlenRef(i uint64) ([]byte, error) {
	size := uint64(d.Type.Size)
	w := &d.refs
	if i >= w.first && i-w.first < w.n {
		o := (i - w.first) * size
		return w.b[o : o+size], nil
	}
	if len(d.Dims) == 1 && i < d.Dims[0] {
		n := min(refWindow, d.Dims[0]-i)
		w.b = growBytes(w.b[:0], int(n*size))
		if err := d.ReadSlab([]uint64{i}, []uint64{n}, w.b); err == nil {
			w.first, w.n = i, n
			return w.b[:size], nil
		}
		// Read the element alone: the error is then about it, not about one after it.
		w.n = 0
	}
	var ref [32]byte
	if err := d.readElement(i, ref[:size]); err != nil {
		return nil, err
	}
	return ref[:size], nil
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
