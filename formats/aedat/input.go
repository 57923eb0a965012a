package aedat

import (
	"bytes"
	"io"
)

// defaultBufSize is the chunk the readers pull from the file at a time: large enough that the hot loops
// run over long runs of records, small enough that a chunk is still in the core's L2 cache when it is
// decoded right after the copy (1 MiB chunks measured 15–25% slower).
const defaultBufSize = 256 << 10

// maxHeaderBytes caps an ASCII header (§0.5: real DAVIS240C headers are ~300 KB; anything past 64 MiB is
// not a header).
const maxHeaderBytes = 64 << 20

// input is a buffered window on the file that knows the file offset of every buffered byte, so faults
// can be reported by offset. Valid bytes are buf[r:w]; buf[0] is at file offset base.
type input struct {
	src  io.Reader
	buf  []byte
	r, w int
	base int64
	eof  bool  // src is exhausted (or failed)
	err  error // read error other than io.EOF, reported once the buffered bytes are used up
}

func newInput(src io.Reader, size int) *input {
	return &input{src: src, buf: make([]byte, size)}
}

func (in *input) buffered() int { return in.w - in.r }

// offset is the file offset of the next unread byte.
func (in *input) offset() int64 { return in.base + int64(in.r) }

// fill tries to buffer at least n bytes and returns how many are buffered (fewer only at the end of the
// input). It moves the unread bytes to the front and reads as much as fits, growing the buffer only when
// n exceeds it; callers bound n, so memory stays bounded by what the file actually holds.
func (in *input) fill(n int) int {
	if in.w-in.r >= n || in.eof {
		return in.w - in.r
	}
	if in.r > 0 {
		copy(in.buf, in.buf[in.r:in.w])
		in.base += int64(in.r)
		in.w -= in.r
		in.r = 0
	}
	if n > len(in.buf) {
		nb := make([]byte, max(n, 2*len(in.buf)))
		copy(nb, in.buf[:in.w])
		in.buf = nb
	}
	for stalls := 0; in.w < n && !in.eof; {
		m, err := in.src.Read(in.buf[in.w:])
		in.w += m
		switch {
		case err == io.EOF:
			in.eof = true
		case err != nil:
			in.eof, in.err = true, err
		case m == 0:
			if stalls++; stalls > 100 {
				in.eof, in.err = true, io.ErrNoProgress
			}
		}
	}
	return in.w - in.r
}

// discard drops up to n bytes without keeping them and returns how many were dropped.
func (in *input) discard(n int64) int64 {
	var done int64
	for done < n {
		if in.buffered() == 0 && in.fill(1) == 0 {
			break
		}
		k := int(min(int64(in.buffered()), n-done))
		in.r += k
		done += int64(k)
	}
	return done
}

// peekByte returns the next byte without consuming it (ok false at the end of the input).
func (in *input) peekByte() (byte, bool) {
	if in.fill(1) == 0 {
		return 0, false
	}
	return in.buf[in.r], true
}

// headerLine consumes one line up to and including LF (or the end of the input) and returns it without
// the LF and one trailing CR (§0.5). It gives up (ok false, nothing consumed) when no LF or end comes
// within limit bytes. The returned slice is valid until the next call on in.
func (in *input) headerLine(limit int) (line []byte, ok bool) {
	for scanned := 0; ; {
		i := bytes.IndexByte(in.buf[in.r+scanned:in.w], '\n')
		if i >= 0 && scanned+i < limit {
			end := in.r + scanned + i
			line = in.buf[in.r:end]
			in.r = end + 1
			return bytes.TrimSuffix(line, []byte{'\r'}), true
		}
		scanned = in.buffered()
		if scanned >= limit {
			return nil, false
		}
		if in.eof {
			line = in.buf[in.r:in.w]
			in.r = in.w
			return bytes.TrimSuffix(line, []byte{'\r'}), true
		}
		in.fill(min(in.buffered()+64<<10, limit+1))
	}
}

// plausibleTextLine reports whether the bytes ahead form a short text line: an LF within 1 KiB and only
// printable ASCII (or tab) before it, a CR allowed right before the LF. With allowUTF8, bytes ≥ 0x80 also
// pass. It guards the header end against binary data that happens to start with '#' (0x23, §2.3.1).
func (in *input) plausibleTextLine(allowUTF8 bool) bool {
	const limit = 1024
	in.fill(limit + 1)
	ahead := in.buf[in.r:in.w]
	if len(ahead) > limit+1 {
		ahead = ahead[:limit+1]
	}
	for i, c := range ahead {
		switch {
		case c == '\n':
			return true
		case c == '\r':
			if i+1 >= len(ahead) || ahead[i+1] != '\n' {
				return false
			}
		case c == '\t' || (c >= 0x20 && c < 0x7F):
		case c >= 0x80 && allowUTF8:
		default:
			return false
		}
	}
	return false
}
