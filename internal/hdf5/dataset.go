package hdf5

import (
	"fmt"
	"math"
	"math/bits"
)

// Storage layouts.
const (
	layoutCompact    = 0
	layoutContiguous = 1
	layoutChunked    = 2
	layoutVirtual    = 3
)

// Dataset is an open dataset: its shape, element type and storage.
type Dataset struct {
	*Object
	Type    *Datatype
	Dims    []uint64 // current shape (empty for a scalar)
	MaxDims []uint64 // maximum shape (math.MaxUint64 for unlimited); nil when not stored
	Null    bool     // a dataspace without elements

	// FillMissing reads chunks that were never written as the fill value, as HDF5 does (default true).
	// Readers of recorded data turn it off: a missing chunk is then an error, not silent zeros.
	FillMissing bool

	layout   int
	addr     uint64 // contiguous data, or the chunk index
	size     uint64 // contiguous storage size
	compact  []byte
	chunk    []uint64 // chunk shape (rank entries)
	idx      *chunkIndex
	filters  []filter
	fill     []byte
	layoutAt int64

	cacheKey  uint64 // linear index of the cached chunk
	cacheData []byte
	cacheOK   bool
	spare     []byte // a second chunk buffer for filters that cannot work in place

	// refs are references of a variable-length dataset, elements [first, first+n) (VLen).
	refs struct {
		first, n uint64
		b        []byte
	}
}

// Dataset opens the dataset at path.
func (f *File) Dataset(path string) (*Dataset, error) {
	o, err := f.Get(path)
	if err != nil {
		return nil, err
	}
	return o.Dataset()
}

// Dataset interprets o as a dataset.
func (o *Object) Dataset() (*Dataset, error) {
	f := o.f
	d := &Dataset{Object: o, FillMissing: true}
	var lay *message
	for i := range o.msgs {
		m := &o.msgs[i]
		var err error
		switch m.typ {
		case msgDataspace:
			d.Dims, d.MaxDims, d.Null, err = f.parseDataspace(m.data, m.at)
		case msgDatatype:
			d.Type, err = f.messageDatatype(m)
		case msgLayout:
			lay = m
		case msgFilters:
			d.filters, err = f.parseFilters(m.data, m.at)
		case msgFill:
			d.fill, err = f.parseFill(m.data, m.at)
		case msgFillOld:
			if d.fill == nil {
				c := &cursor{f: f, b: m.data, at: m.at}
				n := int(c.u32())
				d.fill = c.bytes(n)
				err = c.err
			}
		case msgExternal:
			err = f.unsupported(m.at, "datasets stored in external files (%s)", o.Path)
		}
		if err != nil {
			return nil, err
		}
	}
	if lay == nil {
		return nil, fmt.Errorf("%s: %s is a %s, not a dataset", f.name, o.Path, o.Kind())
	}
	if d.Type == nil {
		return nil, f.errAt(lay.at, "dataset %s has no datatype message", o.Path)
	}
	if d.Dims == nil && !d.Null {
		d.Dims = []uint64{}
	}
	if len(d.fill) != 0 && len(d.fill) != d.Type.Size {
		d.fill = nil // a fill value of another size cannot be meant for these elements; use zeros
	}
	if err := d.parseLayout(lay); err != nil {
		return nil, err
	}
	return d, nil
}

// messageDatatype decodes a datatype message, following it to a committed datatype when shared.
func (f *File) messageDatatype(m *message) (*Datatype, error) {
	if m.flags&0x02 == 0 {
		return f.parseDatatype(&cursor{f: f, b: m.data, at: m.at}, 0)
	}
	return f.sharedDatatype(m.data, m.at)
}

// sharedDatatype follows a shared message reference to a committed datatype.
func (f *File) sharedDatatype(ref []byte, at int64) (*Datatype, error) {
	addr, err := f.sharedAddress(ref, at)
	if err != nil {
		return nil, err
	}
	msgs, err := f.objectHeader(addr)
	if err != nil {
		return nil, err
	}
	for i := range msgs {
		if msgs[i].typ == msgDatatype && msgs[i].flags&0x02 == 0 {
			return f.parseDatatype(&cursor{f: f, b: msgs[i].data, at: msgs[i].at}, 0)
		}
	}
	return nil, f.errAt(at, "committed datatype at %#x holds no datatype message", addr)
}

// sharedAddress decodes a shared message reference pointing into another object header.
func (f *File) sharedAddress(b []byte, at int64) (uint64, error) {
	c := &cursor{f: f, b: b, at: at}
	v := c.u8()
	typ := c.u8()
	switch v {
	case 1:
		c.skip(6)
	case 2:
	case 3:
		if typ != 2 {
			return 0, f.unsupported(at, "messages shared through the SOHM table")
		}
	default:
		return 0, f.errAt(at, "shared message version %d (want 1–3)", v)
	}
	a := c.addr()
	return a, c.err
}

func (f *File) parseDataspace(b []byte, at int64) (dims, maxDims []uint64, null bool, err error) {
	c := &cursor{f: f, b: b, at: at}
	v := c.u8()
	rank := int(c.u8())
	flags := c.u8()
	switch v {
	case 1:
		c.skip(5)
	case 2:
		if t := c.u8(); t == 2 {
			null = true
		}
	default:
		return nil, nil, false, f.errAt(at, "dataspace version %d (want 1 or 2)", v)
	}
	if rank > maxRank {
		return nil, nil, false, f.errAt(at+1, "dataspace of rank %d (at most %d)", rank, maxRank)
	}
	dims = make([]uint64, rank)
	for i := range dims {
		dims[i] = c.length()
	}
	if flags&1 != 0 {
		maxDims = make([]uint64, rank)
		for i := range maxDims {
			maxDims[i] = c.length()
			if f.lenSize < 8 && maxDims[i] == (uint64(1)<<(8*f.lenSize))-1 {
				maxDims[i] = math.MaxUint64
			}
		}
	}
	if c.err != nil {
		return nil, nil, false, c.err
	}
	if _, ok := count(dims); !ok {
		return nil, nil, false, f.errAt(at, "dataspace %v holds more than 2⁶³ elements", dims)
	}
	return dims, maxDims, null, nil
}

// count is the number of elements of a shape, and false when it overflows 2⁶³.
func count(dims []uint64) (uint64, bool) {
	n := uint64(1)
	for _, d := range dims {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		n = lo
	}
	return n, true
}

// Len is the number of elements (1 for a scalar, 0 for a null dataspace).
func (d *Dataset) Len() uint64 {
	if d.Null {
		return 0
	}
	n, _ := count(d.Dims)
	return n
}

// Rows is the size of the first dimension (1 for a scalar).
func (d *Dataset) Rows() uint64 {
	if len(d.Dims) == 0 {
		if d.Null {
			return 0
		}
		return 1
	}
	return d.Dims[0]
}

// RowElems is the number of elements in one row (the product of every dimension but the first).
func (d *Dataset) RowElems() uint64 {
	if len(d.Dims) <= 1 {
		return 1
	}
	n, _ := count(d.Dims[1:])
	return n
}

// Chunked reports whether the dataset is stored in chunks, and their shape.
func (d *Dataset) Chunked() ([]uint64, bool) { return d.chunk, d.layout == layoutChunked }

// Filters names the dataset's filters in pipeline order.
func (d *Dataset) Filters() []string {
	var out []string
	for _, fl := range d.filters {
		out = append(out, filterName(fl.id))
	}
	return out
}

func (f *File) parseFill(b []byte, at int64) ([]byte, error) {
	c := &cursor{f: f, b: b, at: at}
	switch v := c.u8(); v {
	case 1, 2:
		c.skip(2)
		defined := c.u8()
		if v == 2 && defined == 0 {
			return nil, c.err
		}
	case 3:
		flags := c.u8()
		if flags&0x20 == 0 {
			return nil, c.err
		}
	default:
		return nil, f.errAt(at, "fill value message version %d (want 1–3)", v)
	}
	if c.left() < 4 {
		return nil, c.err
	}
	n := int(c.u32())
	val := c.bytes(n)
	return val, c.err
}

func (d *Dataset) parseLayout(m *message) error {
	f := d.f
	d.layoutAt = m.at
	c := &cursor{f: f, b: m.data, at: m.at}
	v := c.u8()
	rank := len(d.Dims)
	switch v {
	case 1, 2:
		nd := int(c.u8())
		d.layout = int(c.u8())
		c.skip(5)
		if d.layout != layoutCompact {
			d.addr = c.addr()
		}
		if nd < 1 || nd > maxRank+1 {
			return f.errAt(m.at, "layout of dimensionality %d", nd)
		}
		dims := make([]uint64, nd)
		for i := range dims {
			dims[i] = uint64(c.u32())
		}
		switch d.layout {
		case layoutChunked:
			c.u32() // element size
			d.chunk = dims
			if len(d.chunk) == rank+1 {
				d.chunk = d.chunk[:rank]
			}
			d.idx = &chunkIndex{kind: indexBTree1}
		case layoutCompact:
			n := int(c.u32())
			d.compact = c.bytes(n)
		case layoutContiguous:
			n, _ := count(d.Dims)
			d.size = n * uint64(d.Type.Size)
		default:
			return f.errAt(m.at, "storage layout class %d (want 0–2)", d.layout)
		}
	case 3, 4:
		d.layout = int(c.u8())
		switch d.layout {
		case layoutCompact:
			n := int(c.u16())
			d.compact = c.bytes(n)
		case layoutContiguous:
			d.addr = c.addr()
			d.size = c.length()
		case layoutChunked:
			if v == 3 {
				nd := int(c.u8())
				d.addr = c.addr()
				if nd < 1 || nd > maxRank+1 {
					return f.errAt(m.at, "chunk dimensionality %d", nd)
				}
				for i := 0; i < nd-1; i++ {
					d.chunk = append(d.chunk, uint64(c.u32()))
				}
				c.u32() // element size
				d.idx = &chunkIndex{kind: indexBTree1}
			} else {
				if err := d.parseLayout4(c); err != nil {
					return err
				}
			}
		case layoutVirtual:
			return f.unsupported(m.at, "virtual datasets (%s)", d.Path)
		default:
			return f.errAt(m.at, "storage layout class %d", d.layout)
		}
	default:
		return f.errAt(m.at, "data layout message version %d (want 1–4)", v)
	}
	if c.err != nil {
		return c.err
	}
	if d.layout == layoutChunked {
		if rank == 0 || len(d.chunk) != rank {
			return f.errAt(m.at, "chunks of rank %d for a dataset of rank %d", len(d.chunk), rank)
		}
		bytes := uint64(d.Type.Size)
		for _, cd := range d.chunk {
			if cd == 0 {
				return f.errAt(m.at, "chunk with a zero dimension")
			}
			hi, lo := bits.Mul64(bytes, cd)
			if hi != 0 || lo > maxChunk {
				return f.errAt(m.at, "chunk shape %v of %d-byte elements exceeds %d bytes", d.chunk, d.Type.Size, maxChunk)
			}
			bytes = lo
		}
		if _, ok := d.grid(); !ok {
			return f.errAt(m.at, "dataset %v in chunks %v has too many chunks to index", d.Dims, d.chunk)
		}
	}
	if d.layout == layoutCompact {
		n, _ := count(d.Dims)
		if hi, lo := bits.Mul64(n, uint64(d.Type.Size)); hi != 0 || lo > uint64(len(d.compact)) {
			return f.errAt(m.at, "compact dataset of %d elements holds only %d bytes", n, len(d.compact))
		}
	}
	if d.layout == layoutContiguous {
		n, _ := count(d.Dims)
		hi, need := bits.Mul64(n, uint64(d.Type.Size))
		if hi != 0 || (need > d.size && !f.undefined(d.addr)) {
			return f.errAt(m.at, "contiguous dataset of %d elements × %d bytes in %d bytes of storage", n, d.Type.Size, d.size)
		}
		if !f.undefined(d.addr) && need > 0 {
			if off := f.abs(d.addr); off < 0 || need > uint64(f.size-off) {
				return f.errAt(m.at, "contiguous data of %d bytes at %#x runs past the end of the %d-byte file", need, d.addr, f.size)
			}
		}
	}
	return nil
}

const maxChunk = 1 << 30 // HDF5 itself allows 4 GiB; no dataset evtool meets comes near 1 GiB

// grid is the number of chunks along each dimension of the current shape.
func (d *Dataset) grid() ([]uint64, bool) {
	g := make([]uint64, len(d.Dims))
	for i, n := range d.Dims {
		g[i] = (n + d.chunk[i] - 1) / d.chunk[i]
		if n > math.MaxUint64-d.chunk[i] {
			return nil, false
		}
	}
	_, ok := count(g)
	return g, ok
}

// ReadSlab reads the hyperslab [start, start+count) (one entry per dimension) into dst, in row-major
// order and in the file's byte order; dst must hold exactly the slab's bytes.
func (d *Dataset) ReadSlab(start, cnt []uint64, dst []byte) error {
	f := d.f
	rank := len(d.Dims)
	if len(start) != rank || len(cnt) != rank {
		return fmt.Errorf("%s: %s has rank %d, not %d", f.name, d.Path, rank, len(start))
	}
	n := uint64(1)
	for i := range start {
		if cnt[i] > d.Dims[i] || start[i] > d.Dims[i]-cnt[i] {
			return fmt.Errorf("%s: %s: slab [%d, +%d) of dimension %d exceeds its size %d", f.name, d.Path, start[i], cnt[i], i, d.Dims[i])
		}
		n *= cnt[i]
	}
	es := uint64(d.Type.Size)
	if n*es != uint64(len(dst)) {
		return fmt.Errorf("%s: %s: slab of %d elements needs %d bytes, not %d", f.name, d.Path, n, n*es, len(dst))
	}
	if n == 0 {
		return nil
	}
	if d.Null {
		return fmt.Errorf("%s: %s has a null dataspace", f.name, d.Path)
	}
	switch d.layout {
	case layoutCompact:
		return copySlab(d.Dims, start, cnt, es, dst, func(off, n uint64, out []byte) error {
			copy(out, d.compact[off:off+n])
			return nil
		})
	case layoutContiguous:
		if f.undefined(d.addr) {
			if !d.FillMissing {
				return f.errAt(d.layoutAt, "%s was never written (the file holds no data for it)", d.Path)
			}
			d.fillBytes(dst)
			return nil
		}
		return copySlab(d.Dims, start, cnt, es, dst, func(off, n uint64, out []byte) error {
			return f.readInto(d.addr+off, out, "dataset", d.Path)
		})
	case layoutChunked:
		return d.readChunked(start, cnt, dst)
	}
	return f.errAt(d.layoutAt, "%s: storage layout class %d", d.Path, d.layout)
}

func (d *Dataset) fillBytes(dst []byte) {
	if len(d.fill) == 0 {
		clear(dst)
		return
	}
	for i := 0; i+len(d.fill) <= len(dst); i += len(d.fill) {
		copy(dst[i:], d.fill)
	}
}

// copySlab copies a slab of a row-major array of shape dims out of a source read by byte offset and
// length, in as few runs as the slab allows.
func copySlab(dims, start, cnt []uint64, es uint64, dst []byte, read func(off, n uint64, out []byte) error) error {
	rank := len(dims)
	if rank == 0 {
		return read(0, es, dst)
	}
	// Dimensions k+1… are whole: one run covers cnt[k] rows of them.
	k := rank - 1
	for k > 0 && start[k] == 0 && cnt[k] == dims[k] {
		k--
	}
	inner := es
	for j := k + 1; j < rank; j++ {
		inner *= dims[j]
	}
	run := cnt[k] * inner
	strides := make([]uint64, rank)
	s := es
	for j := rank - 1; j >= 0; j-- {
		strides[j] = s
		s *= dims[j]
	}
	idx := make([]uint64, k) // position within the slab over dimensions 0…k-1
	var out uint64
	for {
		off := start[k] * strides[k]
		for j := 0; j < k; j++ {
			off += (start[j] + idx[j]) * strides[j]
		}
		if err := read(off, run, dst[out:out+run]); err != nil {
			return err
		}
		out += run
		j := k - 1
		for ; j >= 0; j-- {
			idx[j]++
			if idx[j] < cnt[j] {
				break
			}
			idx[j] = 0
		}
		if j < 0 {
			return nil
		}
	}
}

func (d *Dataset) readChunked(start, cnt []uint64, dst []byte) error {
	f := d.f
	rank := len(d.Dims)
	es := uint64(d.Type.Size)
	g, _ := d.grid()
	lo := make([]uint64, rank)
	hi := make([]uint64, rank)
	for i := range start {
		lo[i] = start[i] / d.chunk[i]
		hi[i] = (start[i] + cnt[i] - 1) / d.chunk[i]
	}
	// destination strides (row-major over cnt)
	dstStride := make([]uint64, rank)
	s := es
	for j := rank - 1; j >= 0; j-- {
		dstStride[j] = s
		s *= cnt[j]
	}
	cs := make([]uint64, rank) // chunk coordinates
	copy(cs, lo)
	for {
		var linear uint64
		for i := range cs {
			linear = linear*g[i] + cs[i]
		}
		data, err := d.chunkData(linear, cs)
		if err != nil {
			return err
		}
		// intersection of the chunk with the slab
		is := make([]uint64, rank)
		ic := make([]uint64, rank)
		for i := range cs {
			c0 := cs[i] * d.chunk[i]
			a := max(c0, start[i])
			b := min(c0+d.chunk[i], start[i]+cnt[i])
			is[i], ic[i] = a-c0, b-a
		}
		var base uint64
		for i := range cs {
			base += (cs[i]*d.chunk[i] + is[i] - start[i]) * dstStride[i]
		}
		// copy row by row (the last dimension is contiguous in both)
		inChunk := make([]uint64, rank)
		cstr := es
		cstrides := make([]uint64, rank)
		for j := rank - 1; j >= 0; j-- {
			cstrides[j] = cstr
			cstr *= d.chunk[j]
		}
		run := ic[rank-1] * es
		for {
			var src, out uint64
			for j := 0; j < rank; j++ {
				src += (is[j] + inChunk[j]) * cstrides[j]
				out += inChunk[j] * dstStride[j]
			}
			if data == nil {
				d.fillBytes(dst[base+out : base+out+run])
			} else {
				copy(dst[base+out:base+out+run], data[src:src+run])
			}
			j := rank - 2
			for ; j >= 0; j-- {
				inChunk[j]++
				if inChunk[j] < ic[j] {
					break
				}
				inChunk[j] = 0
			}
			if j < 0 {
				break
			}
		}
		// next chunk
		i := rank - 1
		for ; i >= 0; i-- {
			cs[i]++
			if cs[i] <= hi[i] {
				break
			}
			cs[i] = lo[i]
		}
		if i < 0 {
			_ = f
			return nil
		}
	}
}

// chunkData returns the decoded bytes of the chunk at linear index (nil when it is not allocated and
// FillMissing is on).
func (d *Dataset) chunkData(linear uint64, coords []uint64) ([]byte, error) {
	if d.cacheOK && d.cacheKey == linear {
		return d.cacheData, nil
	}
	if err := d.loadIndex(); err != nil {
		return nil, err
	}
	e, ok := d.idx.lookup(linear)
	if !ok {
		if !d.FillMissing {
			off := make([]uint64, len(coords))
			for i := range coords {
				off[i] = coords[i] * d.chunk[i]
			}
			return nil, d.f.errAt(d.layoutAt, "%s: the chunk at element %v was never written (the file holds no data there)", d.Path, off)
		}
		return nil, nil
	}
	data, err := d.decodeChunk(e, coords)
	if err != nil {
		return nil, err
	}
	d.cacheKey, d.cacheData, d.cacheOK = linear, data, true
	return data, nil
}

// chunkBytes is the size of a decoded chunk.
func (d *Dataset) chunkBytes() uint64 {
	n := uint64(d.Type.Size)
	for _, c := range d.chunk {
		n *= c
	}
	return n
}

func (d *Dataset) decodeChunk(e chunkEntry, coords []uint64) ([]byte, error) {
	f := d.f
	want := d.chunkBytes()
	filters := d.filters
	if d.idx.noEdgeFilters && d.isEdge(coords) {
		filters = nil
	}
	if len(filters) == 0 {
		if e.size != 0 && e.size < want {
			return nil, f.errAt(f.abs(e.addr), "%s: unfiltered chunk of %d bytes where %d are needed", d.Path, e.size, want)
		}
		buf := d.reuse(want)
		return buf, f.readInto(e.addr, buf, "chunk of", d.Path)
	}
	stored := e.size
	if stored == 0 {
		stored = want
	}
	if stored > maxChunk+64 {
		return nil, f.errAt(f.abs(e.addr), "%s: filtered chunk of %d bytes", d.Path, stored)
	}
	raw, err := f.readAt(e.addr, stored, maxChunk+64, "chunk of "+d.Path)
	if err != nil {
		return nil, err
	}
	return d.unfilter(raw, e.mask, filters, want, f.abs(e.addr))
}

// reuse returns a buffer of n bytes, reusing the cached chunk's (whose capacity may be larger).
func (d *Dataset) reuse(n uint64) []byte {
	if uint64(cap(d.cacheData)) >= n {
		d.cacheOK = false
		return d.cacheData[:n]
	}
	return make([]byte, n)
}

func (d *Dataset) isEdge(coords []uint64) bool {
	for i, c := range coords {
		if (c+1)*d.chunk[i] > d.Dims[i] {
			return true
		}
	}
	return false
}

// plausible refuses, before anything is allocated, a read of n bytes that the file cannot hold: with
// FillMissing off every byte must come from an allocated chunk (or the contiguous data, checked against
// the file's size when the dataset was opened).
func (d *Dataset) plausible(n uint64) error {
	if d.FillMissing || d.layout != layoutChunked {
		return nil
	}
	if err := d.loadIndex(); err != nil {
		return err
	}
	chunks := uint64(len(d.idx.entries))
	if d.idx.implicit != nil {
		return nil // implicit chunks are allocated with the dataset, inside the file
	}
	if hi, have := bits.Mul64(chunks, d.chunkBytes()); hi == 0 && have < n {
		return d.f.errAt(d.layoutAt, "%s: reading %d bytes, but its %d written chunks hold at most %d", d.Path, n, chunks, have)
	}
	return nil
}

// RowBytes is the size in bytes of one row: the elements sharing a first index.
func (d *Dataset) RowBytes() int { return int(d.RowElems()) * d.Type.Size }

// ReadRows reads rows [start, start+n) into buf (grown when too small) and returns the n rows' bytes.
func (d *Dataset) ReadRows(start, n uint64, buf []byte) ([]byte, error) {
	rb := uint64(d.RowBytes())
	if n > maxReadAll/max(rb, 1) {
		return nil, fmt.Errorf("%s: %s: %d rows of %d bytes are too many to read at once", d.f.name, d.Path, n, rb)
	}
	need := n * rb
	if uint64(cap(buf)) < need {
		if err := d.plausible(need); err != nil {
			return nil, err
		}
		buf = make([]byte, need)
	}
	buf = buf[:need]
	if len(d.Dims) == 0 {
		if start != 0 || n > 1 {
			return nil, fmt.Errorf("%s: %s is a scalar: rows [%d, +%d) do not exist", d.f.name, d.Path, start, n)
		}
		if n == 0 {
			return buf, nil
		}
		return buf, d.ReadSlab(nil, nil, buf)
	}
	var st, cnt [maxRank]uint64 // on the stack: streaming a recording allocates nothing per block
	copy(cnt[1:], d.Dims[1:])
	st[0], cnt[0] = start, n
	return buf, d.ReadSlab(st[:len(d.Dims)], cnt[:len(d.Dims)], buf)
}

// Field locates one numeric value within a row: a compound member (by name) of the element at index
// within the row.
type Field struct {
	Type   *Datatype
	Offset int
}

// Field returns the location of member (of a compound element; "" for the element itself) of the
// index-th element of each row.
func (d *Dataset) Field(member string, index uint64) (Field, error) {
	if index >= d.RowElems() {
		return Field{}, fmt.Errorf("%s: %s has %d elements per row; there is no column %d", d.f.name, d.Path, d.RowElems(), index)
	}
	fl := Field{Type: d.Type, Offset: int(index) * d.Type.Size}
	if member != "" {
		m, ok := d.Type.Member(member)
		if !ok {
			var names []string
			for _, m := range d.Type.Members {
				names = append(names, m.Name)
			}
			return Field{}, fmt.Errorf("%s: %s (%s) has no member %q (members: %v)", d.f.name, d.Path, d.Type, member, names)
		}
		fl.Type, fl.Offset = m.Type, fl.Offset+m.Offset
	}
	if !fl.Type.Numeric() {
		return Field{}, fmt.Errorf("%s: %s: %s values are not numbers", d.f.name, d.Path, fl.Type)
	}
	return fl, nil
}

// Int64s converts the field of n rows of rowBytes each.
func (fl Field) Int64s(rows []byte, rowBytes, n int, dst []int64) (int, error) {
	if n == 0 {
		return 0, nil
	}
	return fl.Type.Int64s(rows[fl.Offset:], rowBytes, n, dst)
}

// Float64s converts the field of n rows of rowBytes each.
func (fl Field) Float64s(rows []byte, rowBytes, n int, dst []float64) (int, error) {
	if n == 0 {
		return 0, nil
	}
	return fl.Type.Float64s(rows[fl.Offset:], rowBytes, n, dst)
}
