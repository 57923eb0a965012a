package hdf5

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// The plug-in filters of hdf5plugin that event datasets use: Blosc (DSEC's event files) and LZ4. Their
// codecs come from the libraries evtool already depends on (klauspost/compress, pierrec/lz4), except
// Blosc's own BloscLZ, which is small enough to decode here.

const (
	filterBlosc = 32001
	filterLZ4   = 32004
)

// growBuf appends decoded pieces, starting small: memory follows what really decodes, never the size
// a header announces.
func growBuf(want uint64, stored int) []byte {
	return make([]byte, 0, min(want, 8*uint64(stored)+64<<10))
}

var zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxChunk))

// unblosc decodes one Blosc (version 1 format) buffer of want bytes.
func unblosc(src []byte, want uint64) ([]byte, error) {
	if len(src) < 16 {
		return nil, fmt.Errorf("blosc buffer of %d bytes has no header", len(src))
	}
	flags, typesize := src[2], int(src[3])
	nbytes := uint64(binary.LittleEndian.Uint32(src[4:]))
	blocksize := uint64(binary.LittleEndian.Uint32(src[8:]))
	ctbytes := uint64(binary.LittleEndian.Uint32(src[12:]))
	if src[0] == 0 || src[0] > 2 {
		return nil, fmt.Errorf("blosc format version %d (want 1 or 2; Blosc2 frames are not read)", src[0])
	}
	if nbytes > want {
		return nil, fmt.Errorf("blosc buffer holds %d bytes, more than the chunk's %d", nbytes, want)
	}
	if ctbytes > uint64(len(src)) || ctbytes < 16 {
		return nil, fmt.Errorf("blosc buffer of %d bytes announces %d", len(src), ctbytes)
	}
	src = src[:ctbytes]
	if flags&0x02 != 0 { // stored without compression
		if uint64(len(src)-16) < nbytes {
			return nil, fmt.Errorf("uncompressed blosc buffer of %d bytes holds less than %d", len(src)-16, nbytes)
		}
		return append([]byte(nil), src[16:16+nbytes]...), nil
	}
	if nbytes == 0 {
		return []byte{}, nil
	}
	if blocksize == 0 || typesize == 0 {
		return nil, fmt.Errorf("blosc blocks of %d bytes and %d-byte items", blocksize, typesize)
	}
	codec := flags >> 5
	decode, name := bloscCodec(codec)
	if decode == nil {
		return nil, fmt.Errorf("blosc compressor %d%w", codec, errUnsupportedSuffix)
	}
	nblocks := (nbytes + blocksize - 1) / blocksize
	leftover := nbytes % blocksize
	if 16+4*nblocks > uint64(len(src)) {
		return nil, fmt.Errorf("blosc buffer too short for the offsets of its %d blocks", nblocks)
	}
	out := growBuf(nbytes, len(src))
	var tmp, shuf []byte
	for j := uint64(0); j < nblocks; j++ {
		bsize, last := blocksize, false
		if j == nblocks-1 && leftover > 0 {
			bsize, last = leftover, true
		}
		start := uint64(binary.LittleEndian.Uint32(src[16+4*j:]))
		nsplits := uint64(1)
		if flags&0x10 == 0 && typesize <= 16 && bsize/uint64(typesize) >= 128 && !last {
			nsplits = uint64(typesize)
		}
		neblock := bsize / nsplits
		tmp = tmp[:0]
		pos := start
		for s := uint64(0); s < nsplits; s++ {
			if pos+4 > uint64(len(src)) {
				return nil, fmt.Errorf("blosc block %d runs past the buffer", j)
			}
			cbytes := uint64(binary.LittleEndian.Uint32(src[pos:]))
			pos += 4
			if cbytes > uint64(len(src))-pos {
				return nil, fmt.Errorf("blosc block %d: a stream of %d bytes runs past the buffer", j, cbytes)
			}
			piece := src[pos : pos+cbytes]
			pos += cbytes
			if cbytes == neblock {
				tmp = append(tmp, piece...)
				continue
			}
			n := len(tmp)
			var err error
			if tmp, err = decode(tmp, piece, int(neblock)); err != nil {
				return nil, fmt.Errorf("blosc block %d (%s): %w", j, name, err)
			}
			if uint64(len(tmp)-n) != neblock {
				return nil, fmt.Errorf("blosc block %d (%s) decodes to %d bytes, not %d", j, name, len(tmp)-n, neblock)
			}
		}
		block := tmp
		switch {
		case flags&0x01 != 0 && typesize > 1:
			shuf = growTo(shuf, len(tmp))
			unshuffle(shuf, tmp, typesize)
			block = shuf
		case flags&0x04 != 0 && bsize >= uint64(typesize):
			shuf = growTo(shuf, len(tmp))
			bitunshuffle(shuf, tmp, typesize)
			block = shuf
		}
		out = append(out, block...)
	}
	return out, nil
}

func growTo(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// bloscCodec returns the decoder of a Blosc compressor code: it appends exactly n decoded bytes to dst.
func bloscCodec(code byte) (func(dst, src []byte, n int) ([]byte, error), string) {
	switch code {
	case 0:
		return blosclz, "blosclz"
	case 1:
		return func(dst, src []byte, n int) ([]byte, error) {
			at := len(dst)
			dst = append(dst, make([]byte, n)...)
			got, err := lz4.UncompressBlock(src, dst[at:])
			return dst[:at+got], err
		}, "lz4"
	case 2:
		return func(dst, src []byte, n int) ([]byte, error) {
			if l, err := s2.DecodedLen(src); err != nil || l != n {
				return nil, fmt.Errorf("snappy block of %d bytes, want %d (%v)", l, n, err)
			}
			at := len(dst)
			dst = append(dst, make([]byte, n)...)
			got, err := s2.Decode(dst[at:], src)
			return dst[:at+len(got)], err
		}, "snappy"
	case 3:
		return func(dst, src []byte, n int) ([]byte, error) {
			zr, err := zlib.NewReader(bytes.NewReader(src))
			if err != nil {
				return nil, err
			}
			b := bytes.NewBuffer(dst)
			_, err = io.Copy(b, io.LimitReader(zr, int64(n)+1))
			return b.Bytes(), err
		}, "zlib"
	case 4:
		return func(dst, src []byte, n int) ([]byte, error) {
			return zstdDecoder.DecodeAll(src, dst)
		}, "zstd"
	}
	return nil, ""
}

// blosclz decodes Blosc's own LZ77 variant (FastLZ level 2): n bytes appended to dst.
func blosclz(dst, src []byte, n int) ([]byte, error) {
	const maxDistance = 8191
	start := len(dst)
	limit := start + n
	if len(src) == 0 {
		return dst, nil
	}
	ip := 0
	ctrl := uint32(src[ip] & 31)
	ip++
	for {
		if ctrl >= 32 {
			length := int(ctrl>>5) - 1
			ofs := int(ctrl&31) << 8
			if length == 6 {
				for {
					if ip+1 >= len(src) {
						return nil, fmt.Errorf("blosclz stream ends inside a match")
					}
					code := src[ip]
					ip++
					length += int(code)
					if code != 255 {
						break
					}
				}
			} else if ip+1 >= len(src) {
				return nil, fmt.Errorf("blosclz stream ends inside a match")
			}
			code := src[ip]
			ip++
			length += 3
			dist := ofs + int(code)
			if code == 255 && ofs == 31<<8 {
				if ip+1 >= len(src) {
					return nil, fmt.Errorf("blosclz stream ends inside a far match")
				}
				dist = int(src[ip])<<8 + int(src[ip+1]) + maxDistance
				ip += 2
			}
			dist++ // the reference is one byte further back than coded
			op := len(dst)
			if op+length > limit {
				return nil, fmt.Errorf("blosclz match overruns its block")
			}
			if op-dist < start {
				return nil, fmt.Errorf("blosclz match refers before its block")
			}
			if ip >= len(src) {
				break // as the reference decoder: a stream never ends on a match
			}
			ctrl = uint32(src[ip])
			ip++
			for k := 0; k < length; k++ { // byte by byte: the source may overlap what is written
				dst = append(dst, dst[op-dist+k])
			}
		} else {
			run := int(ctrl) + 1
			if len(dst)+run > limit || ip+run > len(src) {
				return nil, fmt.Errorf("blosclz literal run overruns its block or stream")
			}
			dst = append(dst, src[ip:ip+run]...)
			ip += run
			if ip >= len(src) {
				break
			}
			ctrl = uint32(src[ip])
			ip++
		}
	}
	return dst, nil
}

// bitunshuffle reverses Blosc's bit shuffle: the bits of every element were stored as rows, one row per
// bit position, for a whole number of groups of eight elements; bytes beyond them stay in place.
func bitunshuffle(out, src []byte, size int) {
	n := len(src) / size
	if n%8 != 0 {
		copy(out, src)
		return
	}
	clear(out[:n*size])
	row := n / 8
	for j := 0; j < size; j++ {
		for k := 0; k < 8; k++ {
			bits := src[(j*8+k)*row : (j*8+k+1)*row]
			for i := 0; i < n; i++ {
				if bits[i>>3]>>(i&7)&1 != 0 {
					out[i*size+j] |= 1 << k
				}
			}
		}
	}
	copy(out[n*size:], src[n*size:])
}

// unlz4 decodes hdf5plugin's LZ4 filter: the original size (8 bytes, big-endian), the block size (4),
// then per block its compressed size (4) and the block, stored raw when it did not compress.
func unlz4(src []byte, want uint64) ([]byte, error) {
	if len(src) < 12 {
		return nil, fmt.Errorf("lz4 chunk of %d bytes has no header", len(src))
	}
	orig := binary.BigEndian.Uint64(src)
	block := uint64(binary.BigEndian.Uint32(src[8:]))
	if orig > want {
		return nil, fmt.Errorf("lz4 chunk holds %d bytes, more than the chunk's %d", orig, want)
	}
	if block == 0 && orig > 0 {
		return nil, fmt.Errorf("lz4 blocks of 0 bytes")
	}
	out := growBuf(orig, len(src))
	pos := uint64(12)
	for uint64(len(out)) < orig {
		n := min(block, orig-uint64(len(out)))
		if pos+4 > uint64(len(src)) {
			return nil, fmt.Errorf("lz4 chunk ends before its %d bytes", orig)
		}
		c := uint64(binary.BigEndian.Uint32(src[pos:]))
		pos += 4
		if c > uint64(len(src))-pos {
			return nil, fmt.Errorf("lz4 block of %d bytes runs past the chunk", c)
		}
		piece := src[pos : pos+c]
		pos += c
		if c == n {
			out = append(out, piece...)
			continue
		}
		at := len(out)
		out = append(out, make([]byte, n)...)
		got, err := lz4.UncompressBlock(piece, out[at:])
		if err != nil || uint64(got) != n {
			return nil, fmt.Errorf("lz4 block decodes to %d bytes, not %d (%v)", got, n, err)
		}
	}
	return out, nil
}
