package es

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/evtool/evtool/events"
)

// Summary counts what any .es stream holds, whatever its type (for `evtool info` and tests).
type Summary struct {
	Header
	Events        int64 // records (DVS, ATIS polarity + TC, color, generic, display)
	TCEvents      int64 // ATIS threshold crossings (included in Events)
	OverflowBytes int64
	ResetBytes    int64
	TMax          int64 // time of the last record (time starts at 0)
	SumT          int64 // Σ t over records
	SumX, SumY    int64 // stored coordinates (not flipped)
	SumR, SumG    int64 // color streams
	SumB          int64
	PayloadBytes  int64 // generic streams
}

// Scan reads every record of a .es file of any type without building events.
func Scan(path string) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, err
	}
	defer f.Close()
	return ScanReader(f, path)
}

// ScanReader is Scan on a stream; name is used in errors.
func ScanReader(rd io.Reader, name string) (Summary, error) {
	br := bufio.NewReaderSize(rd, 1<<16)
	var s Summary
	head, _ := br.Peek(20)
	h, err := parseHeader(head, name)
	if err != nil {
		return s, err
	}
	s.Header = h
	br.Discard(h.Size)
	off := int64(h.Size)
	var t int64
	rec := make([]byte, 7)
	trunc := func(what string) error {
		return &events.DecodeError{Path: name, Offset: off, Msg: "file ends inside " + what, Err: events.ErrTruncated}
	}
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, fmt.Errorf("read %s: %w", name, err)
		}
		start := off
		off++
		var body int // bytes after the Δt byte
		switch h.Type {
		case TypeDVS:
			if b == 0xFF {
				t += 127
				s.OverflowBytes++
				continue
			} else if b == 0xFE {
				s.ResetBytes++
				continue
			}
			t += int64(b >> 1)
			body = 4
		case TypeATIS:
			if b&0xFC == 0xFC {
				if b&3 > 0 {
					t += 63 * int64(b&3)
					s.OverflowBytes++
				} else {
					s.ResetBytes++
				}
				continue
			}
			t += int64(b >> 2)
			s.TCEvents += int64(b & 1)
			body = 4
		default: // generic, display, color share the 254 µs overflow and the reset byte
			if b == 0xFF {
				t += 254
				s.OverflowBytes++
				continue
			} else if b == 0xFE {
				s.ResetBytes++
				continue
			}
			t += int64(b)
			body = map[byte]int{TypeColor: 7, TypeDisplay: 3, TypeGeneric: 0}[h.Type]
		}
		if h.Type == TypeGeneric {
			var size int64
			for shift := 0; ; shift += 7 {
				c, err := br.ReadByte()
				if err != nil {
					off = start
					return s, trunc("a generic event's size")
				}
				off++
				if shift > 56 {
					return s, &events.DecodeError{Path: name, Offset: off - 1, Msg: "generic event size does not fit 64 bits"}
				}
				size |= int64(c>>1) << shift
				if c&1 == 0 {
					break
				}
			}
			m, _ := br.Discard(int(min(size, 1<<40)))
			off += int64(m)
			if int64(m) != size {
				return s, trunc(fmt.Sprintf("a %d-byte generic event", size))
			}
			s.PayloadBytes += size
		} else {
			if _, err := io.ReadFull(br, rec[:body]); err != nil {
				if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
					off = start
					return s, trunc("an event record")
				}
				return s, fmt.Errorf("read %s: %w", name, err)
			}
			off += int64(body)
			if h.Type == TypeDisplay {
				s.SumX += int64(rec[0])
				s.SumY += int64(rec[1])
			} else {
				s.SumX += int64(rec[0]) | int64(rec[1])<<8
				s.SumY += int64(rec[2]) | int64(rec[3])<<8
			}
			if h.Type == TypeColor {
				s.SumR += int64(rec[4])
				s.SumG += int64(rec[5])
				s.SumB += int64(rec[6])
			}
		}
		s.Events++
		s.TMax = t
		s.SumT += t
	}
}
