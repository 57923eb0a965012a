package hdf5

import "math/bits"

// lookup3 is Bob Jenkins' lookup3 hashlittle, the checksum of every version 2 metadata structure.
func lookup3(k []byte, initval uint32) uint32 {
	a := 0xdeadbeef + uint32(len(k)) + initval
	b, c := a, a
	mix := func() {
		a -= c
		a ^= bits.RotateLeft32(c, 4)
		c += b
		b -= a
		b ^= bits.RotateLeft32(a, 6)
		a += c
		c -= b
		c ^= bits.RotateLeft32(b, 8)
		b += a
		a -= c
		a ^= bits.RotateLeft32(c, 16)
		c += b
		b -= a
		b ^= bits.RotateLeft32(a, 19)
		a += c
		c -= b
		c ^= bits.RotateLeft32(b, 4)
		b += a
	}
	u32 := func(p []byte) uint32 {
		var v uint32
		for i := len(p) - 1; i >= 0; i-- {
			v = v<<8 | uint32(p[i])
		}
		return v
	}
	for len(k) > 12 {
		a += u32(k[0:4])
		b += u32(k[4:8])
		c += u32(k[8:12])
		mix()
		k = k[12:]
	}
	if len(k) == 0 {
		return c
	}
	// The last block: up to 12 bytes, zero-padded.
	var tail [12]byte
	copy(tail[:], k)
	a += u32(tail[0:4])
	b += u32(tail[4:8])
	c += u32(tail[8:12])
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return c
}

// fletcher32 is HDF5's Fletcher-32 over 16-bit big-endian words (the fletcher32 filter's checksum).
func fletcher32(data []byte) uint32 {
	var sum1, sum2 uint32
	n := len(data) / 2
	for n > 0 {
		t := min(n, 360)
		n -= t
		for ; t > 0; t-- {
			sum1 += uint32(data[0])<<8 | uint32(data[1])
			sum2 += sum1
			data = data[2:]
		}
		sum1 = (sum1 & 0xffff) + (sum1 >> 16)
		sum2 = (sum2 & 0xffff) + (sum2 >> 16)
	}
	if len(data) > 0 {
		sum1 += uint32(data[0]) << 8
		sum2 += sum1
		sum1 = (sum1 & 0xffff) + (sum1 >> 16)
		sum2 = (sum2 & 0xffff) + (sum2 >> 16)
	}
	sum1 = (sum1 & 0xffff) + (sum1 >> 16)
	sum2 = (sum2 & 0xffff) + (sum2 >> 16)
	return sum2<<16 | sum1
}
