package hdf5

// Version 2 B-trees index dense links (type 5) and attributes (type 8), huge fractal heap objects
// (type 1) and the chunks of datasets with more than one unlimited dimension (types 10 and 11).

type btree2 struct {
	f        *File
	addr     uint64
	typ      uint8
	nodeSize uint64
	recSize  int
	depth    int
	root     uint64
	rootRecs int
	// per depth: records that fit a node, and bytes of the "total records" field in pointers to it
	maxRecs  []int
	cumSize  []int
	nrecSize int // bytes of a "records in child" field
}

func (f *File) openBTree2(addr uint64, wantType uint8) (*btree2, error) {
	size := uint64(4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + f.offSize + 2 + f.lenSize + 4)
	b, err := f.readAt(addr, size, maxMeta, "version 2 B-tree header")
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != "BTHD" {
		return nil, f.errAt(f.abs(addr), "version 2 B-tree header lacks its BTHD signature")
	}
	if err := f.checkSum(b, addr, "version 2 B-tree header"); err != nil {
		return nil, err
	}
	c := &cursor{f: f, b: b, at: f.abs(addr), pos: 4}
	if v := c.u8(); v != 0 {
		return nil, f.errAt(c.at+4, "version 2 B-tree version %d (want 0)", v)
	}
	t := &btree2{f: f, addr: addr, typ: c.u8()}
	if t.typ != wantType {
		return nil, f.errAt(c.at+5, "version 2 B-tree of type %d where type %d was expected", t.typ, wantType)
	}
	t.nodeSize = uint64(c.u32())
	t.recSize = int(c.u16())
	t.depth = int(c.u16())
	c.skip(2)
	t.root = c.addr()
	t.rootRecs = int(c.u16())
	c.length()
	if c.err != nil {
		return nil, c.err
	}
	const prefix = 10 // signature, version, type, checksum
	if t.recSize == 0 || t.nodeSize < prefix+uint64(t.recSize) || t.nodeSize > maxMeta || t.depth > maxBTreeDepth {
		return nil, f.errAt(c.at, "version 2 B-tree with %d-byte nodes, %d-byte records and depth %d", t.nodeSize, t.recSize, t.depth)
	}
	leaf := int((t.nodeSize - prefix) / uint64(t.recSize))
	t.nrecSize = limitEncSize(uint64(leaf))
	t.maxRecs = []int{leaf}
	t.cumSize = []int{0}
	cum := uint64(leaf)
	for d := 1; d <= t.depth; d++ {
		ptr := f.offSize + t.nrecSize
		if d > 1 {
			ptr += t.cumSize[d-1]
		}
		n := (int(t.nodeSize) - prefix - ptr) / (t.recSize + ptr)
		if n <= 0 {
			return nil, f.errAt(c.at, "version 2 B-tree nodes of %d bytes cannot hold internal records", t.nodeSize)
		}
		t.maxRecs = append(t.maxRecs, n)
		// cumulative maximum, saturating (only its byte width matters)
		next := cum*uint64(n+1) + uint64(n)
		if cum != 0 && next/cum < uint64(n+1) {
			next = ^uint64(0)
		}
		cum = next
		t.cumSize = append(t.cumSize, limitEncSize(cum))
	}
	return t, nil
}

// visit calls fn for every record, in key order.
func (t *btree2) visit(fn func(rec []byte, at int64) error) error {
	if t.f.undefined(t.root) || t.rootRecs == 0 {
		return nil
	}
	seen := map[uint64]bool{}
	var walk func(addr uint64, nrec, depth int) error
	walk = func(addr uint64, nrec, depth int) error {
		f := t.f
		if seen[addr] {
			return f.errAt(f.abs(addr), "version 2 B-tree node reached twice (the tree loops)")
		}
		seen[addr] = true
		if nrec > t.maxRecs[depth] {
			return f.errAt(f.abs(addr), "version 2 B-tree node with %d records where at most %d fit", nrec, t.maxRecs[depth])
		}
		b, err := f.readAt(addr, t.nodeSize, maxMeta, "version 2 B-tree node")
		if err != nil {
			return err
		}
		want := "BTLF"
		if depth > 0 {
			want = "BTIN"
		}
		if string(b[:4]) != want {
			return f.errAt(f.abs(addr), "version 2 B-tree node lacks its %s signature", want)
		}
		c := &cursor{f: f, b: b, at: f.abs(addr), pos: 6}
		recs := c.bytes(nrec * t.recSize)
		recAt := c.at + 6
		type child struct {
			addr uint64
			nrec int
		}
		var kids []child
		if depth > 0 {
			for i := 0; i <= nrec; i++ {
				a := c.addr()
				n := int(c.uvar(t.nrecSize))
				if depth > 1 {
					c.uvar(t.cumSize[depth-1])
				}
				kids = append(kids, child{a, n})
			}
		}
		end := c.pos
		c.u32()
		if c.err != nil {
			return c.err
		}
		if err := f.checkSum(b[:end+4], addr, "version 2 B-tree node"); err != nil {
			return err
		}
		for i := 0; i <= nrec; i++ {
			if depth > 0 {
				if err := walk(kids[i].addr, kids[i].nrec, depth-1); err != nil {
					return err
				}
			}
			if i < nrec {
				if err := fn(recs[i*t.recSize:(i+1)*t.recSize], recAt+int64(i*t.recSize)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(t.root, t.rootRecs, t.depth)
}
