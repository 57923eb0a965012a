package npyarray

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// ReadMask reads a 2-D array (H, W) of any integer, float or bool type and returns which elements are
// non-zero, row-major: a pixel mask. The header's shape is checked against the file's size before
// anything is allocated.
func ReadMask(path string) (w, h int, nonzero []bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	hd, err := ReadHeader(r)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(hd.Shape) != 2 {
		return 0, 0, nil, fmt.Errorf("%s: a mask is a 2-D array (height, width), this one has %d dimensions", path, len(hd.Shape))
	}
	hh, ww := hd.Shape[0], hd.Shape[1]
	if hh <= 0 || ww <= 0 || hh > 65536 || ww > 65536 {
		return 0, 0, nil, fmt.Errorf("%s: bad mask shape %v", path, hd.Shape)
	}
	code, _ := hd.Descr.(string)
	s, err := ParseScalar(code)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("%s: %w", path, err)
	}
	n := int(hh * ww)
	short := fmt.Errorf("%s: the file holds fewer than the %d×%d mask values its header announces", path, hh, ww)
	if st, err := f.Stat(); err != nil || st.Size() < hd.DataOffset+int64(n)*int64(s.Size) {
		return 0, 0, nil, short
	}
	data := make([]byte, n*s.Size)
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, 0, nil, short
	}
	var order binary.ByteOrder = binary.LittleEndian
	if s.BigEndian {
		order = binary.BigEndian
	}
	nonzero = make([]bool, n)
	for i := range nonzero {
		b := data[i*s.Size : (i+1)*s.Size]
		switch {
		case s.Kind == 'f' && s.Size == 4:
			nonzero[i] = math.Float32frombits(order.Uint32(b)) != 0
		case s.Kind == 'f':
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
