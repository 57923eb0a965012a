package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// ReadMask reads a 2-D .npy array (H, W) of any integer, float or bool type and returns which elements
// are non-zero, row-major — a pixel mask for the mask and hotpixel transforms.
func ReadMask(path string) (w, h int, nonzero []bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	hdr, err := ReadHeader(r, path)
	if err != nil {
		return 0, 0, nil, err
	}
	if hdr.Fields != nil || len(hdr.Shape) != 2 {
		return 0, 0, nil, fmt.Errorf("%s: a mask is a plain 2-D array (height, width), this one has shape %v", path, hdr.Shape)
	}
	hh, ww := hdr.Shape[0], hdr.Shape[1]
	if hh <= 0 || ww <= 0 || hh > 65536 || ww > 65536 {
		return 0, 0, nil, fmt.Errorf("%s: bad mask shape %v", path, hdr.Shape)
	}
	if hdr.Type.Kind == 0 {
		return 0, 0, nil, fmt.Errorf("%s: a mask holds integers, floats or bools", path)
	}
	s := scalar{kind: hdr.Type.Kind, size: hdr.Type.Size, bigEndian: hdr.Type.BigEndian}
	n := int(hh * ww)
	// The header's shape is not trusted: the data must be in the file before anything is allocated.
	if st, err := f.Stat(); err != nil || st.Size() < hdr.DataOffset+int64(n)*int64(s.size) {
		return 0, 0, nil, fmt.Errorf("%s: the file holds fewer than the %d×%d mask values its header announces", path, hh, ww)
	}
	data := make([]byte, n*s.size)
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, 0, nil, fmt.Errorf("%s: the file holds fewer than the %d×%d mask values its header announces", path, hh, ww)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if s.bigEndian {
		order = binary.BigEndian
	}
	nonzero = make([]bool, n)
	for i := range nonzero {
		b := data[i*s.size : (i+1)*s.size]
		switch {
		case s.kind == 'f' && s.size == 4:
			nonzero[i] = math.Float32frombits(order.Uint32(b)) != 0
		case s.kind == 'f':
			nonzero[i] = math.Float64frombits(order.Uint64(b)) != 0
		default:
			for _, c := range b {
				if c != 0 {
					nonzero[i] = true
					break
				}
			}
		}
	}
	return int(ww), int(hh), nonzero, nil
}
