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
	var pre [12]byte
	if _, err := io.ReadFull(r, pre[:10]); err != nil || string(pre[:6]) != Magic {
		return 0, 0, nil, fmt.Errorf("%s: not a .npy file", path)
	}
	hlen := int(binary.LittleEndian.Uint16(pre[8:10]))
	if pre[6] >= 2 {
		if _, err := io.ReadFull(r, pre[10:12]); err != nil {
			return 0, 0, nil, fmt.Errorf("%s: file ends inside the .npy preamble", path)
		}
		hlen = int(binary.LittleEndian.Uint32(pre[8:12]))
	}
	if hlen > maxHeader {
		return 0, 0, nil, fmt.Errorf("%s: header of %d bytes is too large", path, hlen)
	}
	text := make([]byte, hlen)
	if _, err := io.ReadFull(r, text); err != nil {
		return 0, 0, nil, fmt.Errorf("%s: file ends inside the .npy header", path)
	}
	v, err := parseLiteral(string(text))
	if err != nil {
		return 0, 0, nil, fmt.Errorf("%s: bad .npy header: %w", path, err)
	}
	d, _ := v.(map[string]any)
	descr, _ := d["descr"].(string)
	shape, _ := d["shape"].(pyTuple)
	if fo, _ := d["fortran_order"].(bool); fo {
		return 0, 0, nil, fmt.Errorf("%s: the mask is in Fortran order; save it with numpy.ascontiguousarray", path)
	}
	if len(shape) != 2 {
		return 0, 0, nil, fmt.Errorf("%s: a mask is a 2-D array (height, width), this one has %d dimensions", path, len(shape))
	}
	hh, ok1 := shape[0].(int64)
	ww, ok2 := shape[1].(int64)
	if !ok1 || !ok2 || hh <= 0 || ww <= 0 || hh > 65536 || ww > 65536 {
		return 0, 0, nil, fmt.Errorf("%s: bad mask shape %v", path, shape)
	}
	s, err := parseScalar(descr)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("%s: %w", path, err)
	}
	n := int(hh * ww)
	// The header's shape is not trusted: the data must be in the file before anything is allocated.
	if st, err := f.Stat(); err != nil || st.Size() < int64(10+hlen)+int64(n)*int64(s.size) {
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
