package aedat4

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pierrec/lz4/v4"
)

// decodeLZ4Frame decompresses one LZ4 frame (the format DV writes each packet in) into dst[:0], block
// by block straight into the output, so linked blocks find their 64 KiB history in place and nothing is
// copied twice (pierrec/lz4's streaming Reader copies every linked block through a window buffer; this
// doubles AEDAT 4 decoding speed). Checksums are not verified; the FlatBuffer checks catch corruption.
func decodeLZ4Frame(src, dst []byte, limit int) ([]byte, error) {
	if len(src) < 7 || binary.LittleEndian.Uint32(src) != 0x184D2204 {
		return nil, errors.New("not an LZ4 frame")
	}
	flg, bd := src[4], src[5]
	if flg>>6 != 1 {
		return nil, fmt.Errorf("LZ4 frame version %d", flg>>6)
	}
	blockChecksum, contentSize, contentChecksum, dictID := flg&0x10 != 0, flg&0x08 != 0, flg&0x04 != 0, flg&0x01 != 0
	maxBlock := 1 << (8 + 2*int((bd>>4)&7)) // 4 → 64 KiB … 7 → 4 MiB
	if (bd>>4)&7 < 4 {
		return nil, errors.New("LZ4 frame: bad block size code")
	}
	p := 6
	if contentSize {
		p += 8
	}
	if dictID {
		p += 4
	}
	p++ // header checksum
	out := dst[:0]
	for {
		if p+4 > len(src) {
			return nil, errors.New("LZ4 frame: truncated")
		}
		size := binary.LittleEndian.Uint32(src[p:])
		p += 4
		if size == 0 {
			break
		}
		stored := size&0x80000000 != 0
		n := int(size & 0x7FFFFFFF)
		if n > len(src)-p || n > maxBlock+16 {
			return nil, errors.New("LZ4 frame: block exceeds its frame")
		}
		if len(out)+maxBlock > limit {
			return nil, fmt.Errorf("LZ4 frame decompresses to more than %d bytes", limit)
		}
		if stored {
			out = append(out, src[p:p+n]...)
		} else {
			start := len(out)
			if cap(out)-start < maxBlock {
				grown := make([]byte, start, 2*cap(out)+maxBlock)
				copy(grown, out)
				out = grown
			}
			// Linked or independent blocks alike: back-references reach at most 64 KiB into what
			// precedes the block, which is already in out.
			m, err := lz4.UncompressBlockWithDict(src[p:p+n], out[start:start+maxBlock], out[max(0, start-65536):start])
			if err != nil {
				return nil, fmt.Errorf("LZ4 block: %w", err)
			}
			out = out[:start+m]
		}
		p += n
		if blockChecksum {
			p += 4
		}
	}
	if contentChecksum && p+4 > len(src) {
		return nil, errors.New("LZ4 frame: truncated content checksum")
	}
	return out, nil
}
