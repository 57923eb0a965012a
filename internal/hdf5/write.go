package hdf5

import "encoding/binary"

// IntColumn is one dataset for IntFile: a 1-D array of little-endian integers of Size bytes.
type IntColumn struct {
	Name   string // a link in the root group
	Size   int    // 1, 2, 4 or 8 bytes per value
	Signed bool
	Values []int64
}

// IntFile returns a minimal HDF5 file holding cols as contiguous 1-D datasets in the root group:
// superblock version 2, version 2 object headers, compact links, 8-byte offsets and lengths. It makes
// content for tests (the conformance kit's files of the hdf5 format); evtool does not write HDF5.
func IntFile(cols []IntColumn) []byte {
	le := binary.LittleEndian
	const super = 48
	undef := ^uint64(0)
	// Object header: prefix (signature, version, flags, 4-byte size), messages, checksum.
	header := func(msgs ...[]byte) []byte {
		var body []byte
		for _, m := range msgs {
			body = append(body, m...)
		}
		h := append([]byte("OHDR"), 2, 0x02)
		h = le.AppendUint32(h, uint32(len(body)))
		h = append(h, body...)
		return le.AppendUint32(h, lookup3(h, 0))
	}
	msg := func(typ byte, data []byte) []byte {
		m := []byte{typ}
		m = le.AppendUint16(m, uint16(len(data)))
		return append(append(m, 0), data...)
	}
	dataset := func(c IntColumn, addr uint64) []byte {
		space := le.AppendUint64([]byte{2, 1, 0, 1}, uint64(len(c.Values)))
		bits := byte(0)
		if c.Signed {
			bits = 0x08
		}
		dtype := le.AppendUint32([]byte{0x10, bits, 0, 0}, uint32(c.Size))
		dtype = le.AppendUint16(le.AppendUint16(dtype, 0), uint16(8*c.Size))
		layout := le.AppendUint64(le.AppendUint64([]byte{3, 1}, addr), uint64(len(c.Values)*c.Size))
		return header(msg(msgDataspace, space), msg(msgDatatype, dtype), msg(msgLayout, layout))
	}
	// Sizes first: every dataset header has the same length, the root's depends on the names.
	dsLen := len(dataset(IntColumn{Size: 1}, 0))
	links := make([][]byte, len(cols))
	linkInfo := le.AppendUint64(le.AppendUint64([]byte{0, 0}, undef), undef)
	rootMsgs := [][]byte{msg(msgLinkInfo, linkInfo), msg(msgGroupInfo, []byte{0, 0})}
	for i, c := range cols {
		links[i] = append([]byte{1, 0, byte(len(c.Name))}, c.Name...)
		rootMsgs = append(rootMsgs, msg(msgLink, le.AppendUint64(links[i], 0))) // the address comes below
	}
	rootLen := len(header(rootMsgs...))
	objects := uint64(super + rootLen)
	data := objects + uint64(len(cols)*dsLen)
	var body, raw []byte
	for i, c := range cols {
		rootMsgs[2+i] = msg(msgLink, le.AppendUint64(links[i], objects+uint64(i*dsLen)))
		body = append(body, dataset(c, data+uint64(len(raw)))...)
		for _, v := range c.Values {
			switch c.Size {
			case 1:
				raw = append(raw, byte(v))
			case 2:
				raw = le.AppendUint16(raw, uint16(v))
			case 4:
				raw = le.AppendUint32(raw, uint32(v))
			default:
				raw = le.AppendUint64(raw, uint64(v))
			}
		}
	}
	eof := data + uint64(len(raw))
	out := append([]byte(Signature), 2, 8, 8, 0)
	out = le.AppendUint64(out, 0)     // base address
	out = le.AppendUint64(out, undef) // no superblock extension
	out = le.AppendUint64(out, eof)
	out = le.AppendUint64(out, super) // root group object header
	out = le.AppendUint32(out, lookup3(out, 0))
	out = append(out, header(rootMsgs...)...)
	out = append(out, body...)
	return append(out, raw...)
}
