package matfile

import (
	"encoding/binary"
	"math"
)

// Version 4 files are a sequence of matrices, each with a 20-byte header (type, rows, columns, imaginary
// flag, name length), the name, and the values in column-major order.

var v4Sizes = [...]int{8, 4, 4, 2, 2, 1} // double, single, int32, int16, uint16, uint8

// indexV4 walks the matrices of a version 4 file; the first header must be valid or the file is not one.
func (m *File) indexV4() error {
	off := int64(0)
	for off < m.size {
		var h [20]byte
		if m.size-off < 20 && off > 0 {
			return m.truncated(m.size, "the file ends inside the matrix header at byte %d", off)
		}
		if m.size-off < 20 {
			return m.errAt(off, "not a MAT-file (no MATLAB 5 header, and %d trailing bytes are no version 4 matrix header)", m.size-off)
		}
		if _, err := m.r.ReadAt(h[:], off); err != nil {
			return m.wrapAt(off, "read matrix header", err)
		}
		var order binary.ByteOrder = binary.LittleEndian
		typ := int32(order.Uint32(h[:]))
		if typ < 0 || typ > 4999 || typ/1000 > 1 {
			order = binary.BigEndian
			typ = int32(order.Uint32(h[:]))
		}
		mach, o, p, t := typ/1000, typ/100%10, typ/10%10, typ%10
		rows, cols := int64(int32(order.Uint32(h[4:]))), int64(int32(order.Uint32(h[8:])))
		imag, nameLen := int32(order.Uint32(h[12:])), int64(int32(order.Uint32(h[16:])))
		bad := typ < 0 || mach > 1 || (mach == 0) != (order == binary.LittleEndian) || o != 0 || p > 5 || t > 2 ||
			rows < 0 || cols < 0 || imag < 0 || imag > 1 || nameLen < 1 || nameLen > 4096
		if bad {
			if off == 0 {
				return m.errAt(0, "not a MAT-file (no MATLAB 5 header and no valid version 4 matrix header)")
			}
			return m.errAt(off, "version 4 matrix header: type %d, %d×%d, imaginary flag %d, name of %d bytes", typ, rows, cols, imag, nameLen)
		}
		n := rows * cols
		if rows > 0 && cols > math.MaxInt32/rows {
			return m.errAt(off+4, "version 4 matrix of %d×%d", rows, cols)
		}
		data := n * int64(v4Sizes[p]) * int64(1+imag)
		if data > m.size-off-20-nameLen {
			return m.truncated(m.size, "version 4 matrix of %d bytes at byte %d runs past the end of the %d-byte file", data, off, m.size)
		}
		name := make([]byte, nameLen)
		if _, err := m.r.ReadAt(name, off+20); err != nil {
			return m.wrapAt(off+20, "read matrix name", err)
		}
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		m.order = order
		m.entries = append(m.entries, entry{name: string(name), off: off, size: 20 + nameLen + data, dtype: int(typ),
			header: []int32{int32(rows), int32(cols), imag, int32(nameLen)}})
		off += 20 + nameLen + data
	}
	m.Version = 4
	return nil
}

func (m *File) readV4(e entry) (*Var, error) {
	typ := e.dtype
	p, t := typ/10%10, typ%10
	rows, cols, imag, nameLen := int(e.header[0]), int(e.header[1]), e.header[2], int64(e.header[3])
	var order binary.ByteOrder = binary.LittleEndian
	if typ/1000 == 1 {
		order = binary.BigEndian
	}
	if imag != 0 {
		return nil, m.unsupported(e.off, "complex matrix %q", e.name)
	}
	if t == 2 {
		return nil, m.unsupported(e.off, "sparse matrix %q", e.name)
	}
	n := rows * cols
	b := make([]byte, int64(n)*int64(v4Sizes[p]))
	if _, err := m.r.ReadAt(b, e.off+20+nameLen); err != nil {
		return nil, m.errAt(e.off+20+nameLen, "read matrix %q: %v", e.name, err)
	}
	vals := make([]float64, n)
	for i := range vals {
		q := b[i*v4Sizes[p]:]
		switch p {
		case 0:
			vals[i] = math.Float64frombits(order.Uint64(q))
		case 1:
			vals[i] = float64(math.Float32frombits(order.Uint32(q)))
		case 2:
			vals[i] = float64(int32(order.Uint32(q)))
		case 3:
			vals[i] = float64(int16(order.Uint16(q)))
		case 4:
			vals[i] = float64(order.Uint16(q))
		case 5:
			vals[i] = float64(q[0])
		}
	}
	v := &Var{Name: e.name, Class: Double, Dims: []int{rows, cols}, Floats: vals}
	if t == 1 {
		v.Class, v.Floats = Char, nil
		v.Text = make([]rune, n)
		for i, x := range vals {
			v.Text[i] = rune(x)
		}
	}
	return v, nil
}
