package rosbag

import (
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/pierrec/lz4/v4"

	"github.com/evtool/evtool/events"
)

// Record op codes of bag format 2.0.
const (
	opMsgData    = 0x02
	opBagHeader  = 0x03
	opIndexData  = 0x04
	opChunk      = 0x05
	opChunkInfo  = 0x06
	opConnection = 0x07
)

// Bounds on what a record may claim. Real record headers are a few hundred bytes (a connection record's
// data holds the message definition, a few KiB); real chunks are about 768 KiB, more only when one
// message is larger.
const (
	maxHeader   = 1 << 20
	maxConnData = 16 << 20
	maxChunk    = 1 << 30
	// lz4 cannot expand a block more than 255 times; anything claiming more is corrupt.
	maxLZ4Ratio = 256
)

// nextField splits the name=value field at off of a record header (lengths checked; name and value
// alias b) and returns the offset of the next one.
func nextField(b []byte, off int) (name, value []byte, next int, err error) {
	if len(b)-off < 4 {
		return nil, nil, 0, fmt.Errorf("header ends inside a field length (byte %d of %d)", off, len(b))
	}
	n := int(binary.LittleEndian.Uint32(b[off:]))
	off += 4
	if n > len(b)-off {
		return nil, nil, 0, fmt.Errorf("header field of %d bytes overruns the %d-byte header", n, len(b))
	}
	f := b[off : off+n]
	eq := bytes.IndexByte(f, '=')
	if eq < 0 {
		return nil, nil, 0, fmt.Errorf("header field %q has no '='", truncate(f))
	}
	return f[:eq], f[eq+1:], off + n, nil
}

// scanFields calls visit for every name=value field of a record header.
func scanFields(b []byte, visit func(name string, value []byte)) error {
	for off := 0; off < len(b); {
		name, v, next, err := nextField(b, off)
		if err != nil {
			return err
		}
		visit(string(name), v)
		off = next
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// fieldSet is the parsed header of one record: the fields every record type uses, decoded.
type fieldSet struct {
	op                        int // -1 when absent
	conn, count, ver, size    uint32
	hasConn, hasCount, hasVer bool
	hasSize                   bool
	time, start, end          uint64 // sec<<32 | nsec as stored, see rosTime
	hasTime                   bool
	indexPos, chunkPos        uint64
	hasIndexPos, hasChunkPos  bool
	connCount, chunkCount     uint32
	hasConnCount, hasChunkCnt bool
	topic, compression        string
	encryptor                 string
	bad                       string // name of a field whose value has the wrong size
}

// parseFields decodes a record header. It runs once per message, so it allocates nothing for them.
func parseFields(b []byte) (fs fieldSet, err error) {
	fs.op = -1
	u32 := func(v []byte, dst *uint32, has *bool) bool {
		if len(v) != 4 {
			return false
		}
		*dst, *has = binary.LittleEndian.Uint32(v), true
		return true
	}
	u64 := func(v []byte, dst *uint64, has *bool) bool {
		if len(v) != 8 {
			return false
		}
		*dst, *has = binary.LittleEndian.Uint64(v), true
		return true
	}
	var ignore bool
	for off := 0; off < len(b) && err == nil; {
		var name, v []byte
		if name, v, off, err = nextField(b, off); err != nil {
			break
		}
		ok := true
		switch string(name) {
		case "op":
			if ok = len(v) == 1; ok {
				fs.op = int(v[0])
			}
		case "conn":
			ok = u32(v, &fs.conn, &fs.hasConn)
		case "count":
			ok = u32(v, &fs.count, &fs.hasCount)
		case "ver":
			ok = u32(v, &fs.ver, &fs.hasVer)
		case "size":
			ok = u32(v, &fs.size, &fs.hasSize)
		case "time":
			ok = u64(v, &fs.time, &fs.hasTime)
		case "start_time":
			ok = u64(v, &fs.start, &ignore)
		case "end_time":
			ok = u64(v, &fs.end, &ignore)
		case "conn_count":
			ok = u32(v, &fs.connCount, &fs.hasConnCount)
		case "chunk_count":
			ok = u32(v, &fs.chunkCount, &fs.hasChunkCnt)
		case "index_pos":
			ok = u64(v, &fs.indexPos, &fs.hasIndexPos)
		case "chunk_pos":
			ok = u64(v, &fs.chunkPos, &fs.hasChunkPos)
		case "topic":
			fs.topic = string(v)
		case "compression":
			fs.compression = string(v)
		case "encryptor":
			fs.encryptor = string(v)
		}
		if !ok && fs.bad == "" {
			fs.bad = string(name)
		}
	}
	if err == nil && fs.bad != "" {
		err = fmt.Errorf("header field %s has a value of the wrong size", fs.bad)
	}
	return fs, err
}

// Time of a bag record or message: uint32 seconds then uint32 nanoseconds, little-endian. As a uint64
// read little-endian that is nsec<<32 | sec.
type rosTime uint64

func (t rosTime) sec() uint32  { return uint32(t) }
func (t rosTime) nsec() uint32 { return uint32(t >> 32) }

// key orders times: nanoseconds since the epoch (sec·10⁹ + nsec fits a uint64 for every uint32 sec).
func (t rosTime) key() uint64 { return uint64(t.sec())*1_000_000_000 + uint64(t.nsec()) }

// micros converts a ROS time to evtool's µs: sec·10⁶ + ⌊nsec/1000⌋ (sub-µs truncated).
func micros(sec, nsec uint32) int64 { return int64(sec)*1_000_000 + int64(nsec/1000) }

// record is one record of the file: where it is, its header bytes, where its data lies.
type record struct {
	pos     int64
	header  []byte
	dataPos int64
	dataLen int64
}

// recordAt reads the record at pos (header bytes into *scratch, data left in the file).
func (r *Reader) recordAt(pos int64, scratch *[]byte) (record, error) {
	rec := record{pos: pos}
	var lb [4]byte
	if err := r.readAt(lb[:], pos); err != nil {
		return rec, r.fail(pos, "file ends inside a record's header length", err)
	}
	hl := int64(binary.LittleEndian.Uint32(lb[:]))
	if hl > maxHeader || hl > r.size-pos-8 {
		if hl <= maxHeader {
			return rec, r.fail(pos, fmt.Sprintf("record header of %d bytes runs past the end of the file", hl), events.ErrTruncated)
		}
		return rec, r.fail(pos, fmt.Sprintf("record header length %d is larger than %d bytes", hl, maxHeader), nil)
	}
	if int64(cap(*scratch)) < hl {
		*scratch = make([]byte, hl)
	}
	rec.header = (*scratch)[:hl]
	if err := r.readAt(rec.header, pos+4); err != nil {
		return rec, r.fail(pos+4, "file ends inside a record header", err)
	}
	if err := r.readAt(lb[:], pos+4+hl); err != nil {
		return rec, r.fail(pos+4+hl, "file ends inside a record's data length", err)
	}
	rec.dataPos = pos + 8 + hl
	rec.dataLen = int64(binary.LittleEndian.Uint32(lb[:]))
	if rec.dataLen > r.size-rec.dataPos {
		return rec, r.fail(pos+4+hl, fmt.Sprintf("record data of %d bytes runs past the end of the file (%d bytes left)",
			rec.dataLen, r.size-rec.dataPos), events.ErrTruncated)
	}
	return rec, nil
}

// innerRecord splits the record at off of an in-memory chunk: header, data, and the offset after it.
func innerRecord(b []byte, off int) (hdr, data []byte, next int, err error) {
	if len(b)-off < 4 {
		return nil, nil, 0, errors.New("chunk ends inside a record's header length")
	}
	hl := int(binary.LittleEndian.Uint32(b[off:]))
	if hl > len(b)-off-8 {
		return nil, nil, 0, fmt.Errorf("record header of %d bytes runs past the end of the chunk", hl)
	}
	hdr = b[off+4 : off+4+hl]
	off += 4 + hl
	dl := int(binary.LittleEndian.Uint32(b[off:]))
	off += 4
	if dl > len(b)-off {
		return nil, nil, 0, fmt.Errorf("record data of %d bytes runs past the end of the chunk (%d bytes left)", dl, len(b)-off)
	}
	return hdr, b[off : off+dl], off + dl, nil
}

// decompress turns a chunk's stored bytes into its records, in r.chunk (reused between chunks).
func (r *Reader) decompress(compression string, stored []byte, size int64) ([]byte, error) {
	switch compression {
	case "none", "":
		return stored, nil
	case "bz2":
		return r.inflate(bzip2.NewReader(bytes.NewReader(stored)), size)
	case "lz4":
		if size > maxLZ4Ratio*int64(len(stored))+64 {
			return nil, fmt.Errorf("an lz4 chunk of %d bytes cannot hold %d bytes", len(stored), size)
		}
		if r.lz == nil {
			r.lz = lz4.NewReader(nil)
		}
		r.lz.Reset(bytes.NewReader(stored))
		return r.inflate(r.lz, size)
	}
	return nil, fmt.Errorf("compression %q is not none, bz2 or lz4", compression)
}

// inflate reads exactly size bytes from dec. The buffer grows with what really comes out, never to the
// header's claim up front, so a forged size allocates nothing the data does not back.
func (r *Reader) inflate(dec io.Reader, size int64) ([]byte, error) {
	if size > maxChunk {
		return nil, fmt.Errorf("chunk claims %d uncompressed bytes (more than %d)", size, maxChunk)
	}
	out := r.chunk[:0]
	for int64(len(out)) < size {
		if len(out) == cap(out) {
			grown := make([]byte, len(out), min(size, max(2*int64(cap(out)), 1<<20)))
			copy(grown, out)
			out = grown
		}
		n, err := dec.Read(out[len(out):min(int64(cap(out)), size)])
		out = out[:len(out)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			r.chunk = out[:0]
			return nil, err
		}
	}
	r.chunk = out[:0]
	if int64(len(out)) < size {
		return nil, fmt.Errorf("chunk decompresses to %d bytes, its header says %d", len(out), size)
	}
	var one [1]byte
	if n, _ := io.ReadFull(dec, one[:]); n > 0 {
		return nil, fmt.Errorf("chunk decompresses to more than the %d bytes its header says", size)
	}
	return out, nil
}
