package hdf5

// The fractal heap stores the link and attribute messages of dense groups and objects.

type fheap struct {
	f          *File
	addr       uint64
	idLen      int
	flags      uint8
	maxManaged uint64
	hugeBTree  uint64
	width      uint64
	start      uint64 // starting block size
	maxDirect  uint64
	maxHeap    int // bits of the heap's address space
	root       uint64
	rootRows   int

	offBytes, lenBytes int // of a managed object's heap ID fields
	blockOffBytes      int // of a block's "block offset" field
	maxDirectRows      int
	firstRowBits       int

	lastAddr  uint64 // one-block cache: consecutive objects usually share a direct block
	lastBlock []byte
	iblocks   map[uint64][]byte // indirect blocks read so far (few: one per 2^k rows)
}

func (f *File) openFractalHeap(addr uint64) (*fheap, error) {
	L, O := uint64(f.lenSize), uint64(f.offSize)
	fixed := 4 + 1 + 2 + 2 + 1 + 4 + L + O + L + O + 8*L + 2 + L + L + 2 + 2 + O + 2
	b, err := f.readAt(addr, fixed, maxMeta, "fractal heap header")
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != "FRHP" {
		return nil, f.errAt(f.abs(addr), "fractal heap header lacks its FRHP signature")
	}
	c := &cursor{f: f, b: b, at: f.abs(addr), pos: 4}
	if v := c.u8(); v != 0 {
		return nil, f.errAt(c.at+4, "fractal heap version %d (want 0)", v)
	}
	h := &fheap{f: f, addr: addr}
	h.idLen = int(c.u16())
	filterLen := c.u16()
	h.flags = c.u8()
	h.maxManaged = uint64(c.u32())
	c.length() // next huge object id
	h.hugeBTree = c.addr()
	c.length() // free space
	c.addr()   // free-space manager
	c.length() // managed space
	c.length() // allocated managed space
	c.length() // allocation iterator offset
	c.length() // managed objects
	c.length() // huge object size
	c.length() // huge objects
	c.length() // tiny object size
	c.length() // tiny objects
	h.width = uint64(c.u16())
	h.start = c.length()
	h.maxDirect = c.length()
	h.maxHeap = int(c.u16())
	c.u16() // starting rows in the root indirect block
	h.root = c.addr()
	h.rootRows = int(c.u16())
	if c.err != nil {
		return nil, c.err
	}
	if filterLen > 0 {
		return nil, f.unsupported(c.at, "filtered fractal heaps")
	}
	whole, err := f.readAt(addr, fixed+4, maxMeta, "fractal heap header")
	if err != nil {
		return nil, err
	}
	if err := f.checkSum(whole, addr, "fractal heap header"); err != nil {
		return nil, err
	}
	pow2 := func(v uint64) bool { return v > 0 && v&(v-1) == 0 }
	if !pow2(h.width) || !pow2(h.start) || !pow2(h.maxDirect) || h.maxDirect < h.start || h.maxHeap < 1 || h.maxHeap > 64 ||
		h.maxDirect > maxMeta || h.idLen < 1 || h.idLen > 64 {
		return nil, f.errAt(c.at, "fractal heap with table width %d, block sizes %d–%d, %d-bit address space, %d-byte IDs",
			h.width, h.start, h.maxDirect, h.maxHeap, h.idLen)
	}
	h.offBytes = (h.maxHeap + 7) / 8
	h.lenBytes = min((log2(h.maxDirect)+7)/8, limitEncSize(h.maxManaged))
	h.blockOffBytes = h.offBytes
	h.maxDirectRows = log2(h.maxDirect) - log2(h.start) + 2
	h.firstRowBits = log2(h.start) + log2(h.width)
	if h.rootRows > 64 {
		return nil, f.errAt(c.at, "fractal heap root block with %d rows", h.rootRows)
	}
	return h, nil
}

func (h *fheap) rowBlockSize(row int) uint64 {
	if row == 0 {
		return h.start
	}
	return h.start << (row - 1)
}

func (h *fheap) rowBlockOff(row int) uint64 {
	if row == 0 {
		return 0
	}
	return h.start * h.width << (row - 1)
}

// lookup finds the row and column of the doubling table that holds heap offset off.
func (h *fheap) lookup(off uint64) (row int, col uint64) {
	if off < h.start*h.width {
		return 0, off / h.start
	}
	hb := log2(off)
	row = hb - h.firstRowBits + 1
	return row, (off - (uint64(1) << hb)) / h.rowBlockSize(row)
}

// object returns the heap object a heap ID names.
func (h *fheap) object(id []byte, at int64) ([]byte, error) {
	f := h.f
	if len(id) == 0 {
		return nil, f.errAt(at, "empty fractal heap ID")
	}
	if id[0]>>6 != 0 {
		return nil, f.errAt(at, "fractal heap ID version %d (want 0)", id[0]>>6)
	}
	switch (id[0] >> 4) & 3 {
	case 0:
		c := &cursor{f: f, b: id, at: at, pos: 1}
		off := c.uvar(h.offBytes)
		n := c.uvar(h.lenBytes)
		if c.err != nil {
			return nil, c.err
		}
		return h.managed(off, n, at)
	case 1:
		return h.huge(id, at)
	case 2:
		if h.idLen <= 18 {
			n := int(id[0]&0x0f) + 1
			if 1+n > len(id) {
				return nil, f.errAt(at, "tiny heap object of %d bytes in a %d-byte ID", n, len(id))
			}
			return id[1 : 1+n], nil
		}
		if len(id) < 2 {
			return nil, f.errAt(at, "truncated tiny heap ID")
		}
		n := (int(id[0]&0x0f)<<8 | int(id[1])) + 1
		if 2+n > len(id) {
			return nil, f.errAt(at, "tiny heap object of %d bytes in a %d-byte ID", n, len(id))
		}
		return id[2 : 2+n], nil
	}
	return nil, f.errAt(at, "fractal heap ID of unknown type %d", (id[0]>>4)&3)
}

func (h *fheap) managed(off, n uint64, at int64) ([]byte, error) {
	f := h.f
	if h.maxHeap < 64 && off >= uint64(1)<<h.maxHeap {
		return nil, f.errAt(at, "heap offset %d lies outside the heap's %d-bit address space", off, h.maxHeap)
	}
	if f.undefined(h.root) {
		return nil, f.errAt(at, "object in an empty fractal heap")
	}
	blockAddr, blockOff, size := h.root, uint64(0), h.start
	if h.rootRows > 0 {
		iaddr, ioff, nrows := h.root, uint64(0), h.rootRows
		for depth := 0; ; depth++ {
			if depth > 64 {
				return nil, f.errAt(at, "fractal heap indirect blocks nest too deep")
			}
			row, col := h.lookup(off - ioff)
			if row >= nrows || col >= h.width {
				return nil, f.errAt(at, "heap offset %d lies beyond its indirect block's %d rows", off, nrows)
			}
			child, err := h.indirectEntry(iaddr, ioff, nrows, row, col)
			if err != nil {
				return nil, err
			}
			coff := ioff + h.rowBlockOff(row) + col*h.rowBlockSize(row)
			if row < h.maxDirectRows {
				blockAddr, blockOff, size = child, coff, h.rowBlockSize(row)
				break
			}
			iaddr, ioff = child, coff
			nrows = log2(h.rowBlockSize(row)) - h.firstRowBits + 1
		}
	}
	if f.undefined(blockAddr) {
		return nil, f.errAt(at, "heap object in an unallocated direct block")
	}
	block := h.lastBlock
	if h.lastAddr != blockAddr || block == nil {
		var err error
		block, err = f.readAt(blockAddr, size, maxMeta, "fractal heap direct block")
		if err != nil {
			return nil, err
		}
		if string(block[:4]) != "FHDB" {
			return nil, f.errAt(f.abs(blockAddr), "fractal heap direct block lacks its FHDB signature")
		}
		h.lastAddr, h.lastBlock = blockAddr, block
	}
	rel := off - blockOff
	hdr := uint64(5 + f.offSize + h.blockOffBytes)
	if h.flags&2 != 0 {
		hdr += 4
	}
	if rel < hdr || rel > size || n > size-rel {
		return nil, f.errAt(at, "heap object of %d bytes at offset %d does not fit its %d-byte direct block", n, rel, size)
	}
	return block[rel : rel+n], nil
}

// indirectEntry returns the child address at (row, col) of the indirect block at addr.
func (h *fheap) indirectEntry(addr, blockOff uint64, nrows, row int, col uint64) (uint64, error) {
	f := h.f
	direct := uint64(min(nrows, h.maxDirectRows)) * h.width
	indirect := uint64(0)
	if nrows > h.maxDirectRows {
		indirect = uint64(nrows-h.maxDirectRows) * h.width
	}
	hdr := uint64(5 + f.offSize + h.blockOffBytes)
	size := hdr + (direct+indirect)*uint64(f.offSize) + 4
	b := h.iblocks[addr]
	if uint64(len(b)) != size {
		var err error
		if b, err = f.readAt(addr, size, maxMeta, "fractal heap indirect block"); err != nil {
			return 0, err
		}
		if string(b[:4]) != "FHIB" {
			return 0, f.errAt(f.abs(addr), "fractal heap indirect block lacks its FHIB signature")
		}
		if err := f.checkSum(b, addr, "fractal heap indirect block"); err != nil {
			return 0, err
		}
		if h.iblocks == nil || len(h.iblocks) > 256 {
			h.iblocks = map[uint64][]byte{}
		}
		h.iblocks[addr] = b
	}
	entry := uint64(row)*h.width + col
	c := &cursor{f: f, b: b, at: f.abs(addr), pos: int(hdr + entry*uint64(f.offSize))}
	return c.addr(), c.err
}

// huge returns a huge object: its address and length come from the heap's version 2 B-tree (records of
// type 1), or straight from the ID when it is large enough to hold them.
func (h *fheap) huge(id []byte, at int64) ([]byte, error) {
	f := h.f
	c := &cursor{f: f, b: id, at: at, pos: 1}
	if h.flags&1 == 0 && len(id) >= 1+f.offSize+f.lenSize && f.undefined(h.hugeBTree) {
		a, n := c.addr(), c.length()
		if c.err != nil {
			return nil, c.err
		}
		return f.readAt(a, n, maxMeta, "huge heap object")
	}
	key := c.length()
	if c.err != nil {
		return nil, c.err
	}
	t, err := f.openBTree2(h.hugeBTree, 1)
	if err != nil {
		return nil, err
	}
	var obj []byte
	found := false
	err = t.visit(func(rec []byte, rat int64) error {
		rc := &cursor{f: f, b: rec, at: rat}
		a, n, k := rc.addr(), rc.length(), rc.length()
		if rc.err != nil {
			return rc.err
		}
		if k == key && !found {
			found = true
			var err error
			obj, err = f.readAt(a, n, maxMeta, "huge heap object")
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, f.errAt(at, "huge heap object %d is not in the heap's B-tree", key)
	}
	return obj, nil
}
