package hdf5

import (
	"math"
	"math/bits"
)

// Chunk index types.
const (
	indexBTree1 = iota
	indexSingle
	indexImplicit
	indexFixedArray
	indexExtArray
	indexBTree2
)

var indexNames = [...]string{"version 1 B-tree", "single chunk", "implicit", "fixed array", "extensible array", "version 2 B-tree"}

type chunkEntry struct {
	addr uint64
	size uint64 // stored (filtered) size; 0 means the unfiltered chunk size
	mask uint32 // filters skipped for this chunk
}

type chunkIndex struct {
	kind          int
	noEdgeFilters bool // layout flag: partial edge chunks are stored unfiltered
	singleSize    uint64
	singleMask    uint32
	pageBits      int // fixed and extensible arrays
	eaParams      [5]int
	loaded        bool
	entries       map[uint64]chunkEntry // by linear chunk index over the current grid
	implicit      func(linear uint64) (chunkEntry, bool)
}

func (x *chunkIndex) lookup(linear uint64) (chunkEntry, bool) {
	if x.implicit != nil {
		return x.implicit(linear)
	}
	e, ok := x.entries[linear]
	return e, ok
}

// parseLayout4 decodes the chunked part of a version 4 layout message.
func (d *Dataset) parseLayout4(c *cursor) error {
	f := d.f
	flags := c.u8()
	nd := int(c.u8())
	enc := int(c.u8())
	if nd < 2 || nd > maxRank+1 || enc < 1 || enc > 8 {
		return f.errAt(c.off(), "chunk dimensionality %d with %d-byte sizes", nd, enc)
	}
	for i := 0; i < nd-1; i++ {
		d.chunk = append(d.chunk, c.uvar(enc))
	}
	c.uvar(enc) // element size
	x := &chunkIndex{noEdgeFilters: flags&1 != 0}
	typ := c.u8()
	switch typ {
	case 1:
		x.kind = indexSingle
		if flags&2 != 0 {
			x.singleSize = c.length()
			x.singleMask = c.u32()
		}
	case 2:
		x.kind = indexImplicit
	case 3:
		x.kind = indexFixedArray
		x.pageBits = int(c.u8())
	case 4:
		x.kind = indexExtArray
		for i := range x.eaParams {
			x.eaParams[i] = int(c.u8())
		}
	case 5:
		x.kind = indexBTree2
		c.skip(6)
	default:
		return f.errAt(c.off()-1, "chunk index type %d (want 1–5)", typ)
	}
	d.addr = c.addr()
	d.idx = x
	return c.err
}

// loadIndex reads the dataset's chunk index once.
func (d *Dataset) loadIndex() error {
	x := d.idx
	if x.loaded {
		return nil
	}
	f := d.f
	x.loaded = true
	x.entries = map[uint64]chunkEntry{}
	if f.undefined(d.addr) {
		return nil // no chunk was ever written
	}
	g, _ := d.grid()
	rank := len(d.Dims)
	linear := func(scaled []uint64) (uint64, bool) {
		var l uint64
		for i, s := range scaled {
			if s >= g[i] {
				return 0, false // a chunk beyond the current extent (the dataset shrank)
			}
			l = l*g[i] + s
		}
		return l, true
	}
	add := func(scaled []uint64, e chunkEntry, at int64) error {
		if l, ok := linear(scaled); ok {
			if _, dup := x.entries[l]; dup {
				return f.errAt(at, "%s: chunk %v is indexed twice", d.Path, scaled)
			}
			x.entries[l] = e
		}
		return nil
	}
	filtered := len(d.filters) > 0
	switch x.kind {
	case indexBTree1:
		keySize := 8 + 8*(rank+1)
		scaled := make([]uint64, rank)
		return f.btree1Visit(d.addr, 1, keySize, func(key []byte, child uint64, at int64) error {
			kc := &cursor{f: f, b: key, at: at - int64(keySize)}
			size := uint64(kc.u32())
			mask := kc.u32()
			for i := 0; i < rank; i++ {
				off := kc.u64()
				if off%d.chunk[i] != 0 {
					return f.errAt(kc.at, "%s: chunk offset %d is not a multiple of the chunk size %d", d.Path, off, d.chunk[i])
				}
				scaled[i] = off / d.chunk[i]
			}
			if kc.err != nil {
				return kc.err
			}
			return add(scaled, chunkEntry{addr: child, size: size, mask: mask}, at)
		})
	case indexSingle:
		e := chunkEntry{addr: d.addr}
		if filtered {
			e.size, e.mask = x.singleSize, x.singleMask
		}
		x.entries[0] = e
		return nil
	case indexImplicit:
		mg := d.maxGrid()
		down := downChunks(mg)
		cb := d.chunkBytes()
		x.implicit = func(l uint64) (chunkEntry, bool) {
			scaled := unlinear(l, g)
			var idx uint64
			for i := range scaled {
				idx += scaled[i] * down[i]
			}
			return chunkEntry{addr: d.addr + idx*cb}, true
		}
		return nil
	case indexFixedArray:
		mg := d.maxGrid()
		return f.fixedArray(d.addr, filtered, func(idx uint64, e chunkEntry, at int64) error {
			return add(unlinear(idx, mg), e, at)
		})
	case indexExtArray:
		mg := d.maxGrid()
		unlim := 0
		for i, m := range d.MaxDims {
			if m == math.MaxUint64 {
				unlim = i
				break
			}
		}
		// The unlimited dimension is moved first ("swizzled") before linearising.
		sw := append([]uint64{mg[unlim]}, append(append([]uint64{}, mg[:unlim]...), mg[unlim+1:]...)...)
		scaled := make([]uint64, rank)
		return f.extArray(d.addr, filtered, func(idx uint64, e chunkEntry, at int64) error {
			s := unlinear(idx, sw)
			scaled[unlim] = s[0]
			copy(scaled[:unlim], s[1:unlim+1])
			copy(scaled[unlim+1:], s[unlim+1:])
			return add(scaled, e, at)
		})
	case indexBTree2:
		typ := uint8(10)
		if filtered {
			typ = 11
		}
		t, err := f.openBTree2(d.addr, typ)
		if err != nil {
			return err
		}
		sizeLen := t.recSize - f.offSize - 4 - 8*rank
		if (filtered && (sizeLen < 1 || sizeLen > 8)) || (!filtered && t.recSize != f.offSize+8*rank) {
			return f.errAt(f.abs(d.addr), "%s: chunk B-tree records of %d bytes for rank %d", d.Path, t.recSize, rank)
		}
		scaled := make([]uint64, rank)
		return t.visit(func(rec []byte, at int64) error {
			rc := &cursor{f: f, b: rec, at: at}
			e := chunkEntry{addr: rc.addr()}
			if filtered {
				e.size = rc.uvar(sizeLen)
				e.mask = rc.u32()
			}
			for i := range scaled {
				scaled[i] = rc.u64()
			}
			if rc.err != nil {
				return rc.err
			}
			return add(scaled, e, at)
		})
	}
	return nil
}

// maxGrid is the number of chunks along each dimension of the maximum shape (the current shape along
// unlimited dimensions).
func (d *Dataset) maxGrid() []uint64 {
	mg := make([]uint64, len(d.Dims))
	for i := range d.Dims {
		m := d.Dims[i]
		if d.MaxDims != nil && d.MaxDims[i] != math.MaxUint64 && d.MaxDims[i] >= m {
			m = d.MaxDims[i]
		}
		mg[i] = (m + d.chunk[i] - 1) / d.chunk[i]
	}
	return mg
}

func downChunks(g []uint64) []uint64 {
	down := make([]uint64, len(g))
	acc := uint64(1)
	for i := len(g) - 1; i >= 0; i-- {
		down[i] = acc
		acc *= g[i]
	}
	return down
}

// unlinear splits a row-major linear index over grid g into coordinates (the first is unbounded).
func unlinear(l uint64, g []uint64) []uint64 {
	s := make([]uint64, len(g))
	for i := len(g) - 1; i > 0; i-- {
		if g[i] == 0 {
			return s
		}
		s[i] = l % g[i]
		l /= g[i]
	}
	if len(g) > 0 {
		s[0] = l
	}
	return s
}

// chunkElement decodes one chunk entry of a fixed or extensible array.
func (f *File) chunkElement(b []byte, at int64, filtered bool) (chunkEntry, error) {
	c := &cursor{f: f, b: b, at: at}
	e := chunkEntry{addr: c.addr()}
	if filtered {
		n := len(b) - f.offSize - 4
		if n < 1 || n > 8 {
			return e, f.errAt(at, "filtered chunk entry of %d bytes", len(b))
		}
		e.size = c.uvar(n)
		e.mask = c.u32()
	}
	return e, c.err
}

// fixedArray visits every allocated entry of a fixed array chunk index.
func (f *File) fixedArray(addr uint64, filtered bool, visit func(idx uint64, e chunkEntry, at int64) error) error {
	hsize := uint64(4 + 1 + 1 + 1 + 1 + f.lenSize + f.offSize + 4)
	h, err := f.readAt(addr, hsize, maxMeta, "fixed array header")
	if err != nil {
		return err
	}
	if string(h[:4]) != "FAHD" {
		return f.errAt(f.abs(addr), "fixed array header lacks its FAHD signature")
	}
	if err := f.checkSum(h, addr, "fixed array header"); err != nil {
		return err
	}
	c := &cursor{f: f, b: h, at: f.abs(addr), pos: 6}
	esize := int(c.u8())
	pageBits := int(c.u8())
	n := c.length()
	dblk := c.addr()
	if c.err != nil {
		return c.err
	}
	if esize < f.offSize || pageBits > 32 {
		return f.errAt(c.at, "fixed array of %d-byte entries in pages of 2^%d", esize, pageBits)
	}
	if f.undefined(dblk) || n == 0 {
		return nil
	}
	pre := uint64(4 + 1 + 1 + f.offSize)
	pageN := uint64(1) << pageBits
	if n <= pageN {
		size := pre + n*uint64(esize) + 4
		if n > uint64(f.size) {
			return f.errAt(c.at, "fixed array of %d entries in a %d-byte file", n, f.size)
		}
		b, err := f.readAt(dblk, size, maxMeta, "fixed array data block")
		if err != nil {
			return err
		}
		if string(b[:4]) != "FADB" {
			return f.errAt(f.abs(dblk), "fixed array data block lacks its FADB signature")
		}
		if err := f.checkSum(b, dblk, "fixed array data block"); err != nil {
			return err
		}
		for i := uint64(0); i < n; i++ {
			o := pre + i*uint64(esize)
			e, err := f.chunkElement(b[o:o+uint64(esize)], f.abs(dblk)+int64(o), filtered)
			if err != nil {
				return err
			}
			if !f.undefined(e.addr) {
				if err := visit(i, e, f.abs(dblk)+int64(o)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	npages := (n + pageN - 1) / pageN
	bitmap := (npages + 7) / 8
	head, err := f.readAt(dblk, pre+bitmap+4, maxMeta, "fixed array data block")
	if err != nil {
		return err
	}
	if string(head[:4]) != "FADB" {
		return f.errAt(f.abs(dblk), "fixed array data block lacks its FADB signature")
	}
	if err := f.checkSum(head, dblk, "fixed array data block"); err != nil {
		return err
	}
	pos := dblk + pre + bitmap + 4
	for p := uint64(0); p < npages; p++ {
		cnt := min(pageN, n-p*pageN)
		psize := cnt*uint64(esize) + 4
		if head[pre+p/8]&(0x80>>(p%8)) != 0 {
			b, err := f.readAt(pos, psize, maxMeta, "fixed array data block page")
			if err != nil {
				return err
			}
			if err := f.checkSum(b, pos, "fixed array data block page"); err != nil {
				return err
			}
			for i := uint64(0); i < cnt; i++ {
				o := i * uint64(esize)
				e, err := f.chunkElement(b[o:o+uint64(esize)], f.abs(pos)+int64(o), filtered)
				if err != nil {
					return err
				}
				if !f.undefined(e.addr) {
					if err := visit(p*pageN+i, e, f.abs(pos)+int64(o)); err != nil {
						return err
					}
				}
			}
		}
		pos += psize
	}
	return nil
}

// extArray visits every allocated entry of an extensible array chunk index.
func (f *File) extArray(addr uint64, filtered bool, visit func(idx uint64, e chunkEntry, at int64) error) error {
	L := f.lenSize
	hsize := uint64(4 + 1 + 1 + 6 + 6*L + f.offSize + 4)
	h, err := f.readAt(addr, hsize, maxMeta, "extensible array header")
	if err != nil {
		return err
	}
	if string(h[:4]) != "EAHD" {
		return f.errAt(f.abs(addr), "extensible array header lacks its EAHD signature")
	}
	if err := f.checkSum(h, addr, "extensible array header"); err != nil {
		return err
	}
	c := &cursor{f: f, b: h, at: f.abs(addr), pos: 6}
	esize := uint64(c.u8())
	maxBits := int(c.u8())
	idxElmts := uint64(c.u8())
	dblkMin := uint64(c.u8())
	sblkMinPtrs := uint64(c.u8())
	pageBits := int(c.u8())
	c.skip(4 * L)
	maxIdx := c.length() // one past the highest index ever set
	c.length()
	iblock := c.addr()
	if c.err != nil {
		return c.err
	}
	pow2 := func(v uint64) bool { return v > 0 && v&(v-1) == 0 }
	if esize < uint64(f.offSize) || maxBits < 1 || maxBits > 64 || !pow2(dblkMin) || !pow2(sblkMinPtrs) || pageBits > 32 ||
		log2(dblkMin) > maxBits {
		return f.errAt(c.at, "extensible array with %d-byte elements, %d bits, blocks of %d, %d pointers", esize, maxBits, dblkMin, sblkMinPtrs)
	}
	if f.undefined(iblock) {
		return nil
	}
	nsblks := 1 + maxBits - log2(dblkMin)
	ibNsblks := 2 * log2(sblkMinPtrs)
	ndblkAddrs := 2 * (sblkMinPtrs - 1)
	nsblkAddrs := uint64(max(0, nsblks-ibNsblks))
	arrOff := (maxBits + 7) / 8
	O := uint64(f.offSize)
	ib, err := f.readAt(iblock, 4+1+1+O+idxElmts*esize+ndblkAddrs*O+nsblkAddrs*O+4, maxMeta, "extensible array index block")
	if err != nil {
		return err
	}
	if string(ib[:4]) != "EAIB" {
		return f.errAt(f.abs(iblock), "extensible array index block lacks its EAIB signature")
	}
	if err := f.checkSum(ib, iblock, "extensible array index block"); err != nil {
		return err
	}
	ic := &cursor{f: f, b: ib, at: f.abs(iblock), pos: int(6 + O)}
	emit := func(idx uint64, b []byte, at int64) error {
		e, err := f.chunkElement(b, at, filtered)
		if err != nil || f.undefined(e.addr) {
			return err
		}
		return visit(idx, e, at)
	}
	for i := uint64(0); i < idxElmts; i++ {
		at := ic.off()
		b := ic.bytes(int(esize))
		if ic.err != nil {
			return ic.err
		}
		if i < maxIdx {
			if err := emit(i, b, at); err != nil {
				return err
			}
		}
	}
	dblkAddrs := make([]uint64, ndblkAddrs)
	for i := range dblkAddrs {
		dblkAddrs[i] = ic.addr()
	}
	sblkAddrs := make([]uint64, nsblkAddrs)
	for i := range sblkAddrs {
		sblkAddrs[i] = ic.addr()
	}
	if ic.err != nil {
		return ic.err
	}
	pageN := uint64(1) << pageBits
	// dataBlock visits the elements of one data block starting at element index first.
	dataBlock := func(a, first, nelmts uint64, pageInit func(p uint64) bool) error {
		pre := 4 + 1 + 1 + O + uint64(arrOff)
		if hi, lo := bits.Mul64(nelmts, esize); hi != 0 || lo > uint64(f.size) {
			return f.errAt(f.abs(a), "extensible array data block of %d elements cannot be in the %d-byte file", nelmts, f.size)
		}
		if nelmts <= pageN {
			b, err := f.readAt(a, pre+nelmts*esize+4, maxMeta, "extensible array data block")
			if err != nil {
				return err
			}
			if string(b[:4]) != "EADB" {
				return f.errAt(f.abs(a), "extensible array data block lacks its EADB signature")
			}
			if err := f.checkSum(b, a, "extensible array data block"); err != nil {
				return err
			}
			for i := uint64(0); i < nelmts && first+i < maxIdx; i++ {
				o := pre + i*esize
				if err := emit(first+i, b[o:o+esize], f.abs(a)+int64(o)); err != nil {
					return err
				}
			}
			return nil
		}
		npages := nelmts / pageN
		pos := a + pre + 4
		for p := uint64(0); p < npages && first+p*pageN < maxIdx; p++ {
			psize := pageN*esize + 4
			if pageInit(p) {
				b, err := f.readAt(pos, psize, maxMeta, "extensible array data block page")
				if err != nil {
					return err
				}
				if err := f.checkSum(b, pos, "extensible array data block page"); err != nil {
					return err
				}
				for i := uint64(0); i < pageN && first+p*pageN+i < maxIdx; i++ {
					o := i * esize
					if err := emit(first+p*pageN+i, b[o:o+esize], f.abs(pos)+int64(o)); err != nil {
						return err
					}
				}
			}
			pos += psize
		}
		return nil
	}
	start := idxElmts
	dblk := 0
	for s := 0; s < nsblks && start < maxIdx; s++ {
		ndblks := uint64(1) << (s / 2)
		nelmts := (uint64(1) << ((s + 1) / 2)) * dblkMin
		if s < ibNsblks {
			for j := uint64(0); j < ndblks; j++ {
				if dblk >= len(dblkAddrs) {
					return f.errAt(f.abs(iblock), "extensible array index block holds too few data block addresses")
				}
				a := dblkAddrs[dblk]
				dblk++
				if !f.undefined(a) {
					if err := dataBlock(a, start+j*nelmts, nelmts, func(uint64) bool { return true }); err != nil {
						return err
					}
				}
			}
		} else {
			sa := sblkAddrs[s-ibNsblks]
			if !f.undefined(sa) {
				npages := uint64(0)
				if nelmts > pageN {
					npages = nelmts / pageN
				}
				// The page-init bits of all data blocks are packed together (MSB first), in a field sized
				// as one whole-byte bitmap per data block.
				bitmap := ndblks * ((npages + 7) / 8)
				spre := 4 + 1 + 1 + O + uint64(arrOff)
				if ndblks > uint64(f.size) {
					return f.errAt(f.abs(sa), "extensible array secondary block of %d data blocks", ndblks)
				}
				sb, err := f.readAt(sa, spre+bitmap+ndblks*O+4, maxMeta, "extensible array secondary block")
				if err != nil {
					return err
				}
				if string(sb[:4]) != "EASB" {
					return f.errAt(f.abs(sa), "extensible array secondary block lacks its EASB signature")
				}
				if err := f.checkSum(sb, sa, "extensible array secondary block"); err != nil {
					return err
				}
				sc := &cursor{f: f, b: sb, at: f.abs(sa), pos: int(spre + bitmap)}
				for j := uint64(0); j < ndblks; j++ {
					a := sc.addr()
					if sc.err != nil {
						return sc.err
					}
					if f.undefined(a) {
						continue
					}
					jj := j
					init := func(p uint64) bool {
						bit := jj*npages + p
						return sb[spre+bit/8]&(0x80>>(bit%8)) != 0
					}
					if err := dataBlock(a, start+j*nelmts, nelmts, init); err != nil {
						return err
					}
				}
			}
		}
		start += ndblks * nelmts
	}
	return nil
}
