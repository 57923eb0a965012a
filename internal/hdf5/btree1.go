package hdf5

// Version 1 B-trees index the links of symbol-table groups (node type 0) and the chunks of datasets
// written with the default (1.8-compatible) file format (node type 1).

const maxBTreeDepth = 64

// btree1Visit walks the version 1 B-tree at addr depth-first in key order and calls leaf for every
// child pointer of a level-0 node with the key before it (raw bytes). seen guards against cycles.
func (f *File) btree1Visit(addr uint64, nodeType uint8, keySize int, leaf func(key []byte, child uint64, at int64) error) error {
	seen := map[uint64]bool{}
	var walk func(addr uint64, depth int, wantLevel int) error
	walk = func(addr uint64, depth int, wantLevel int) error {
		if depth > maxBTreeDepth {
			return f.errAt(f.abs(addr), "B-tree deeper than %d levels", maxBTreeDepth)
		}
		if seen[addr] {
			return f.errAt(f.abs(addr), "B-tree node at %#x is reached twice (the tree loops)", addr)
		}
		seen[addr] = true
		head, err := f.readAt(addr, uint64(8+2*f.offSize), maxMeta, "B-tree node")
		if err != nil {
			return err
		}
		if string(head[:4]) != "TREE" {
			return f.errAt(f.abs(addr), "B-tree node lacks its TREE signature")
		}
		if head[4] != nodeType {
			return f.errAt(f.abs(addr)+4, "B-tree node of type %d where type %d was expected", head[4], nodeType)
		}
		level := int(head[5])
		if wantLevel >= 0 && level != wantLevel {
			return f.errAt(f.abs(addr)+5, "B-tree node at level %d below a node at level %d", level, wantLevel+1)
		}
		entries := uint64(head[6]) | uint64(head[7])<<8
		entry := uint64(keySize + f.offSize)
		size := uint64(len(head)) + entries*entry + uint64(keySize)
		body, err := f.readAt(addr, size, maxMeta, "B-tree node")
		if err != nil {
			return err
		}
		c := &cursor{f: f, b: body, at: f.abs(addr), pos: len(head)}
		for i := uint64(0); i < entries; i++ {
			key := c.bytes(keySize)
			at := c.off()
			child := c.addr()
			if c.err != nil {
				return c.err
			}
			if level == 0 {
				if err := leaf(key, child, at); err != nil {
					return err
				}
			} else if err := walk(child, depth+1, level-1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(addr, 0, -1)
}
