// Package hdf5 reads HDF5 files (the container of SHD, SSC, N-TIDIGITS, ThreeET, EBSSA, DSEC and of
// MATLAB v7.3 .mat files) without cgo or libhdf5: a read-only subset of the HDF5 File Format
// Specification 3.0, as large as those files need and no larger.
//
// Supported:
//   - superblock versions 0–3, with a user block before it (MATLAB v7.3 has a 512-byte one);
//   - object headers versions 1 and 2, with continuation blocks; shared (committed) datatypes;
//   - groups stored as symbol tables (version 1 B-tree, symbol table nodes, local heap), as link
//     messages, and densely (fractal heap and version 2 B-tree name index); hard and soft links;
//   - datasets with contiguous, compact and chunked storage; chunk indexes: version 1 B-tree (every
//     HDF5 1.8 file), and the indexes of HDF5 1.10 files written with libver "latest": single chunk,
//     implicit, fixed array, extensible array and version 2 B-tree; missing chunks read as the fill value;
//   - filters: deflate, shuffle and fletcher32 (its checksum is verified), and hdf5plugin's Blosc (every
//     compressor: blosclz, lz4, lz4hc, snappy, zlib, zstd; byte and bit shuffle — DSEC's event files) and
//     LZ4, decoded with evtool's own compression libraries;
//   - datatypes: integers of 1–8 bytes (either byte order, signed or not), IEEE floats of 2 (float16),
//     4 and 8 bytes, enumerations (h5py's bool) through their base type, fixed-length strings,
//     variable-length sequences and strings (read from the global heap), compound types (members
//     addressed by name), arrays of a base type, and object references (resolved to the object);
//   - attributes, compact and dense.
//
// Refused with an error that names the feature: other filters (szip, nbit, scale-offset, and plug-ins
// such as lzf, bitshuffle, zstd, Blosc2, Prophesee's ECF — named where known),
// virtual datasets, external storage, shared object header message tables, filtered fractal heaps,
// non-IEEE float layouts, bit fields, opaque and time types, dataset region references.
//
// Guarantees on hostile input: every address and size read from the file is checked against the file's
// size before anything is read or allocated; metadata blocks are bounded (64 MiB); loops over continuation
// blocks, B-tree nodes and links detect cycles and are bounded by the file's size; decompression output is
// bounded by the chunk's declared size and grows with what really decodes, never with a size a header
// announces, so memory is proportional to what the file really holds; a
// checksum mismatch in version 2 metadata is reported, not ignored. Faults are *events.DecodeError values
// naming the file, the byte offset and what was expected; unsupported features wrap ErrUnsupported.
//
// Large datasets are read by hyperslab (ReadSlab) or column by column (Column) with at most one decoded
// chunk cached per dataset, so memory stays bounded whatever the dataset's size. A File and the objects
// opened from it are not safe for concurrent use: open the file once per goroutine.
package hdf5

import (
	"errors"
	"fmt"
	"io"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/readerat"
)

// ErrUnsupported is wrapped by errors about valid HDF5 features this reader refuses.
var ErrUnsupported = errors.New("not supported by evtool's HDF5 reader")

// Signature starts every HDF5 superblock.
const Signature = "\x89HDF\r\n\x1a\n"

const (
	maxMeta     = 64 << 20 // largest metadata block read in one piece
	maxRank     = 32       // HDF5's own limit on dataspace rank
	maxTypeNest = 16       // datatype nesting (compound in array in vlen …)
	maxLinkHops = 16       // soft links followed while resolving one path
)

// File is an open HDF5 file.
type File struct {
	r       io.ReaderAt
	closer  io.Closer
	name    string
	size    int64  // bytes in the file
	base    uint64 // absolute offset every address is relative to
	offSize int    // size of addresses
	lenSize int    // size of lengths
	version int    // superblock version

	rootAddr uint64
	// Version 0/1 superblocks cache the root group's symbol table in the root symbol table entry.
	rootBTree, rootHeap uint64
	rootCached          bool

	// VerifyChecksums makes version 2 metadata with a wrong checksum an error (default true).
	VerifyChecksums bool

	gheap gheapCache
	links map[uint64]map[string]Link // group members by group address, read once
}

// Open opens the file at path.
func Open(path string) (*File, error) {
	f, closer, err := readerat.Open(path, NewFile)
	if err != nil {
		return nil, err
	}
	f.closer = closer
	return f, nil
}

// NewFile reads an HDF5 file of size bytes from r; name is used in errors.
func NewFile(r io.ReaderAt, size int64, name string) (*File, error) {
	return newFile(r, size, name, true)
}

func newFile(r io.ReaderAt, size int64, name string, verify bool) (*File, error) {
	f := &File{r: r, size: size, name: name, VerifyChecksums: verify}
	if err := f.readSuperblock(); err != nil {
		return nil, err
	}
	return f, nil
}

// Close closes the underlying file when Open opened it.
func (f *File) Close() error {
	f.gheap.release()
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// Name is the file's name as given to Open or NewFile.
func (f *File) Name() string { return f.name }

// SuperblockVersion is the version of the file's superblock (0–3).
func (f *File) SuperblockVersion() int { return f.version }

// errAt builds the error for a fault at an absolute file offset.
func (f *File) errAt(off int64, format string, a ...any) error {
	return &events.DecodeError{Path: f.name, Offset: max(0, min(off, f.size)), Msg: fmt.Sprintf(format, a...)}
}

// unsupported builds an error for a valid feature this reader refuses.
func (f *File) unsupported(off int64, format string, a ...any) error {
	return &events.DecodeError{Path: f.name, Offset: max(0, min(off, f.size)), Msg: fmt.Sprintf(format, a...), Err: ErrUnsupported}
}

// abs converts a file address to an absolute offset, or -1 when it cannot be one.
func (f *File) abs(addr uint64) int64 {
	a := f.base + addr
	if a < f.base || a > uint64(f.size) {
		return -1
	}
	return int64(a)
}

// undefined reports whether addr is the undefined address (all bits set in offSize bytes).
func (f *File) undefined(addr uint64) bool {
	if f.offSize >= 8 {
		return addr == ^uint64(0)
	}
	return addr == (uint64(1)<<(8*f.offSize))-1
}

// readAt reads n bytes at a file address after checking that they lie inside the file. limit bounds n
// (metadata is small; raw data may be larger but never beyond the file).
func (f *File) readAt(addr uint64, n uint64, limit uint64, what string) ([]byte, error) {
	off := f.abs(addr)
	if off < 0 || f.undefined(addr) {
		return nil, f.errAt(int64(min(f.base+addr, uint64(f.size))), "%s at address %#x lies outside the %d-byte file", what, addr, f.size)
	}
	if n > limit {
		return nil, f.errAt(off, "%s of %d bytes is larger than the %d bytes allowed", what, n, limit)
	}
	if n > uint64(f.size-off) {
		return nil, f.errAt(off, "%s of %d bytes runs past the end of the %d-byte file", what, n, f.size)
	}
	buf := make([]byte, n)
	if _, err := f.r.ReadAt(buf, off); err != nil && !(err == io.EOF && n == 0) {
		return nil, &events.DecodeError{Path: f.name, Offset: off, Msg: "read " + what, Err: err}
	}
	return buf, nil
}

// readInto reads len(dst) bytes at a file address into dst, checked against the file's size; what and
// path name them in errors (joined only then: streaming a dataset allocates nothing per block).
func (f *File) readInto(addr uint64, dst []byte, what, path string) error {
	off := f.abs(addr)
	if off < 0 || f.undefined(addr) || uint64(len(dst)) > uint64(f.size-off) {
		return f.errAt(max(off, 0), "%s %s (%d bytes at address %#x) runs past the end of the %d-byte file", what, path, len(dst), addr, f.size)
	}
	if _, err := f.r.ReadAt(dst, off); err != nil {
		return &events.DecodeError{Path: f.name, Offset: off, Msg: "read " + what + " " + path, Err: err}
	}
	return nil
}

func (f *File) readSuperblock() error {
	var sig [8]byte
	var at int64 = -1
	for off := int64(0); off+8 <= f.size; off = max(512, off*2) {
		if _, err := f.r.ReadAt(sig[:], off); err != nil {
			return &events.DecodeError{Path: f.name, Offset: off, Msg: "read superblock signature", Err: err}
		}
		if string(sig[:]) == Signature {
			at = off
			break
		}
	}
	if at < 0 {
		if f.size < 8 {
			n, _ := f.r.ReadAt(sig[:f.size], 0)
			if n == int(f.size) && string(sig[:n]) == Signature[:n] {
				return f.truncated(f.size, "the file ends inside the HDF5 signature")
			}
		}
		return f.errAt(0, "not an HDF5 file (no signature %q at offset 0, 512, 1024, …)", Signature)
	}
	head := make([]byte, min(256, f.size-at))
	if _, err := f.r.ReadAt(head, at); err != nil && err != io.EOF {
		return &events.DecodeError{Path: f.name, Offset: at, Msg: "read superblock", Err: err}
	}
	if len(head) < 9 {
		return f.truncated(f.size, "the file ends inside the superblock")
	}
	// A superblock cut by the end of the file is a truncated file, not a corrupt one.
	short := func(err error) error {
		if int64(len(head)) == f.size-at {
			return f.truncated(f.size, "the file ends inside the superblock")
		}
		return err
	}
	f.version = int(head[8])
	c := &cursor{f: f, b: head, at: at, pos: 9}
	var eof uint64 // the end-of-file address
	switch f.version {
	case 0, 1:
		c.skip(3) // free-space, root symbol table entry and reserved versions
		c.skip(1) // shared header message format version
		f.offSize, f.lenSize = int(c.u8()), int(c.u8())
		if err := f.checkSizes(at + 13); err != nil {
			return short(err)
		}
		c.skip(1)
		c.skip(4) // group leaf/internal node K
		c.skip(4) // file consistency flags
		if f.version == 1 {
			c.skip(4) // indexed storage internal node K, reserved
		}
		f.base = c.addr()
		c.addr() // free-space info
		eof = c.addr()
		c.addr() // driver information block
		// Root group symbol table entry.
		c.addr() // link name offset
		f.rootAddr = c.addr()
		cacheType := c.u32()
		c.skip(4)
		if cacheType == 1 {
			f.rootBTree, f.rootHeap = c.addr(), c.addr()
			f.rootCached = true
		}
		if c.err != nil {
			return short(c.err)
		}
	case 2, 3:
		f.offSize, f.lenSize = int(c.u8()), int(c.u8())
		if err := f.checkSizes(at + 9); err != nil {
			return short(err)
		}
		c.skip(1) // flags
		f.base = c.addr()
		ext := c.addr()
		eof = c.addr()
		f.rootAddr = c.addr()
		end := c.pos
		sum := c.u32()
		if c.err != nil {
			return short(c.err)
		}
		if f.VerifyChecksums && lookup3(head[:end], 0) != sum {
			return f.errAt(at+int64(end), "superblock checksum mismatch (the file is corrupt)")
		}
		if !f.undefined(ext) {
			if err := f.checkSuperblockExtension(ext); err != nil {
				return err
			}
		}
	default:
		return f.unsupported(at+8, "superblock version %d (want 0–3)", f.version)
	}
	// The base address is absolute; a user block moves it (MATLAB v7.3 files start 512 bytes in). Files
	// whose base field says 0 while the superblock sits after a user block address from the superblock.
	if f.base == 0 && at > 0 {
		f.base = uint64(at)
	}
	if f.base > uint64(f.size) {
		return f.errAt(at, "base address %#x lies outside the %d-byte file", f.base, f.size)
	}
	// The superblock states the file's length, as libhdf5 checks: a shorter file lost its end. (Files
	// after a user block disagree on whether it counts from the base address: the check takes the
	// smaller reading.)
	if !f.undefined(eof) && eof > uint64(f.size) {
		return f.truncated(f.size, "the superblock says the file is %d bytes long; it holds %d", eof, f.size)
	}
	return nil
}

// truncated builds the error for a file that ends early.
func (f *File) truncated(off int64, format string, a ...any) error {
	return &events.DecodeError{Path: f.name, Offset: off, Msg: fmt.Sprintf(format, a...), Err: events.ErrTruncated}
}

func (f *File) checkSizes(at int64) error {
	ok := func(n int) bool { return n == 2 || n == 4 || n == 8 }
	if !ok(f.offSize) || !ok(f.lenSize) {
		return f.errAt(at, "size of offsets %d / lengths %d: want 2, 4 or 8", f.offSize, f.lenSize)
	}
	return nil
}

// checkSuperblockExtension refuses files whose extension declares shared object header messages: their
// messages live in tables this reader does not follow.
func (f *File) checkSuperblockExtension(addr uint64) error {
	msgs, err := f.objectHeader(addr)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.typ == msgSharedTable {
			return f.unsupported(m.at, "shared object header message table (SOHM)")
		}
	}
	return nil
}

// cursor decodes little-endian fields from a metadata block with a sticky bounds error.
type cursor struct {
	f   *File
	b   []byte
	pos int
	at  int64 // absolute offset of b[0]
	err error
}

func (c *cursor) fail(n int) bool {
	if c.err != nil {
		return true
	}
	if n < 0 || c.pos+n > len(c.b) || c.pos+n < c.pos {
		c.err = c.f.errAt(c.at+int64(c.pos), "structure is truncated (need %d more bytes, %d left)", n, len(c.b)-c.pos)
		return true
	}
	return false
}

func (c *cursor) left() int { return len(c.b) - c.pos }

func (c *cursor) off() int64 { return c.at + int64(c.pos) }

func (c *cursor) skip(n int) {
	if !c.fail(n) {
		c.pos += n
	}
}

func (c *cursor) bytes(n int) []byte {
	if c.fail(n) {
		return nil
	}
	b := c.b[c.pos : c.pos+n : c.pos+n]
	c.pos += n
	return b
}

func (c *cursor) u8() uint8 {
	if c.fail(1) {
		return 0
	}
	v := c.b[c.pos]
	c.pos++
	return v
}

func (c *cursor) u16() uint16 { return uint16(c.uvar(2)) }
func (c *cursor) u32() uint32 { return uint32(c.uvar(4)) }
func (c *cursor) u64() uint64 { return c.uvar(8) }

// uvar reads an n-byte little-endian unsigned integer (n ≤ 8).
func (c *cursor) uvar(n int) uint64 {
	if n > 8 {
		c.err = c.f.errAt(c.off(), "field of %d bytes is wider than 8", n)
		return 0
	}
	if c.fail(n) {
		return 0
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(c.b[c.pos+i])
	}
	c.pos += n
	return v
}

func (c *cursor) addr() uint64   { return c.uvar(c.f.offSize) }
func (c *cursor) length() uint64 { return c.uvar(c.f.lenSize) }

// sub returns a cursor over the next n bytes and advances past them.
func (c *cursor) sub(n int) *cursor {
	at := c.off()
	b := c.bytes(n)
	return &cursor{f: c.f, b: b, at: at, err: c.err}
}

// cstring reads a NUL-terminated string within the next n bytes (n < 0: up to the end).
func (c *cursor) cstring(n int) string {
	if n < 0 {
		n = c.left()
	}
	b := c.bytes(n)
	for i, ch := range b {
		if ch == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// limitEncSize is the number of bytes the library uses to encode values up to v (H5VM_limit_enc_size).
func limitEncSize(v uint64) int { return log2(v)/8 + 1 }

// log2 of a power of two (or the floor for others).
func log2(v uint64) int {
	n := -1
	for v > 0 {
		v >>= 1
		n++
	}
	return n
}
