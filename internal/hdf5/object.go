package hdf5

// Header message types (HDF5 File Format Specification, IV.A.2).
const (
	msgNil          = 0x00
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgFillOld      = 0x04
	msgFill         = 0x05
	msgLink         = 0x06
	msgExternal     = 0x07
	msgLayout       = 0x08
	msgGroupInfo    = 0x0a
	msgFilters      = 0x0b
	msgAttribute    = 0x0c
	msgSharedTable  = 0x0f
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
	msgAttrInfo     = 0x15
)

// message is one header message: its type, flags and body, with the body's absolute file offset.
type message struct {
	typ   uint16
	flags uint8
	data  []byte
	at    int64
}

const maxHeaderBlocks = 4096 // continuation blocks followed for one object header

// objectHeader reads every message of the object header at addr, following continuation blocks.
func (f *File) objectHeader(addr uint64) ([]message, error) {
	off := f.abs(addr)
	if off < 0 || f.undefined(addr) {
		return nil, f.errAt(int64(min(addr, uint64(f.size))), "object header address %#x lies outside the file", addr)
	}
	var sig [4]byte
	if off+4 > f.size {
		return nil, f.errAt(off, "object header runs past the end of the file")
	}
	if _, err := f.r.ReadAt(sig[:], off); err != nil {
		return nil, f.errAt(off, "read object header: %v", err)
	}
	if string(sig[:]) == "OHDR" {
		return f.objectHeaderV2(addr)
	}
	return f.objectHeaderV1(addr)
}

type block struct{ addr, size uint64 }

func (f *File) objectHeaderV1(addr uint64) ([]message, error) {
	pre, err := f.readAt(addr, 16, 16, "object header")
	if err != nil {
		return nil, err
	}
	c := &cursor{f: f, b: pre, at: f.abs(addr)}
	if v := c.u8(); v != 1 {
		return nil, f.errAt(c.at, "object header version %d (want 1, or an OHDR signature for version 2)", v)
	}
	c.skip(1)
	nmsgs := int(c.u16())
	c.skip(4) // reference count
	size := uint64(c.u32())
	var msgs []message
	queue := []block{{addr + 16, size}}
	seen := map[uint64]bool{}
	for len(queue) > 0 {
		b := queue[0]
		queue = queue[1:]
		if seen[b.addr] || len(seen) >= maxHeaderBlocks {
			return nil, f.errAt(f.abs(b.addr), "object header continuation blocks loop or exceed %d", maxHeaderBlocks)
		}
		seen[b.addr] = true
		data, err := f.readAt(b.addr, b.size, maxMeta, "object header block")
		if err != nil {
			return nil, err
		}
		c := &cursor{f: f, b: data, at: f.abs(b.addr)}
		for c.left() >= 8 {
			typ := c.u16()
			n := int(c.u16())
			flags := c.u8()
			c.skip(3)
			at := c.off()
			body := c.bytes(n)
			if c.err != nil {
				return nil, c.err
			}
			if typ == msgContinuation {
				cc := &cursor{f: f, b: body, at: at}
				next := block{cc.addr(), cc.length()}
				if cc.err != nil {
					return nil, cc.err
				}
				queue = append(queue, next)
				continue
			}
			msgs = append(msgs, message{typ: typ, flags: flags, data: body, at: at})
			// Messages are 8-byte aligned in version 1 headers.
			if pad := (8 - n%8) % 8; pad > 0 && c.left() >= pad {
				c.skip(pad)
			}
		}
	}
	_ = nmsgs // the count includes NIL and continuation messages; the blocks themselves are authoritative
	return msgs, nil
}

func (f *File) objectHeaderV2(addr uint64) ([]message, error) {
	pre, err := f.readAt(addr, min(64, uint64(f.size-f.abs(addr))), 64, "object header")
	if err != nil {
		return nil, err
	}
	c := &cursor{f: f, b: pre, at: f.abs(addr)}
	c.skip(4)
	if v := c.u8(); v != 2 {
		return nil, f.errAt(c.at+4, "object header version %d (want 2)", v)
	}
	flags := c.u8()
	if flags&0x20 != 0 {
		c.skip(16) // access, modification, change and birth times
	}
	if flags&0x10 != 0 {
		c.skip(4) // attribute phase change values
	}
	size := c.uvar(1 << (flags & 3))
	if c.err != nil {
		return nil, c.err
	}
	if size > maxMeta {
		return nil, f.errAt(c.at, "object header of %d bytes is larger than the %d bytes allowed", size, maxMeta)
	}
	prefix := uint64(c.pos)
	order := flags&0x04 != 0
	// The first block: prefix, messages, checksum.
	first, err := f.readAt(addr, prefix+size+4, maxMeta, "object header")
	if err != nil {
		return nil, err
	}
	if err := f.checkSum(first, addr, "object header"); err != nil {
		return nil, err
	}
	var msgs []message
	seen := map[uint64]bool{addr: true}
	blocks := []struct {
		data []byte
		at   int64
	}{{first[prefix : prefix+size], f.abs(addr) + int64(prefix)}}
	for len(blocks) > 0 {
		b := blocks[0]
		blocks = blocks[1:]
		c := &cursor{f: f, b: b.data, at: b.at}
		hdr := 4
		if order {
			hdr = 6
		}
		for c.left() >= hdr {
			typ := uint16(c.u8())
			n := int(c.u16())
			mflags := c.u8()
			if order {
				c.skip(2)
			}
			at := c.off()
			body := c.bytes(n)
			if c.err != nil {
				return nil, c.err
			}
			if typ != msgContinuation {
				msgs = append(msgs, message{typ: typ, flags: mflags, data: body, at: at})
				continue
			}
			cc := &cursor{f: f, b: body, at: at}
			caddr, clen := cc.addr(), cc.length()
			if cc.err != nil {
				return nil, cc.err
			}
			if seen[caddr] || len(seen) >= maxHeaderBlocks {
				return nil, f.errAt(at, "object header continuation blocks loop or exceed %d", maxHeaderBlocks)
			}
			seen[caddr] = true
			if clen < 8 {
				return nil, f.errAt(at, "continuation block of %d bytes is too small", clen)
			}
			data, err := f.readAt(caddr, clen, maxMeta, "object header continuation block")
			if err != nil {
				return nil, err
			}
			if string(data[:4]) != "OCHK" {
				return nil, f.errAt(f.abs(caddr), "continuation block lacks its OCHK signature")
			}
			if err := f.checkSum(data, caddr, "object header continuation block"); err != nil {
				return nil, err
			}
			blocks = append(blocks, struct {
				data []byte
				at   int64
			}{data[4 : len(data)-4], f.abs(caddr) + 4})
		}
	}
	return msgs, nil
}

// checkSum verifies the lookup3 checksum stored in the last 4 bytes of a version 2 metadata block.
func (f *File) checkSum(b []byte, addr uint64, what string) error {
	if !f.VerifyChecksums || len(b) < 4 {
		return nil
	}
	n := len(b) - 4
	want := uint32(b[n]) | uint32(b[n+1])<<8 | uint32(b[n+2])<<16 | uint32(b[n+3])<<24
	if got := lookup3(b[:n], 0); got != want {
		return f.errAt(f.abs(addr)+int64(n), "%s checksum mismatch (stored %08x, computed %08x): the file is corrupt", what, want, got)
	}
	return nil
}
