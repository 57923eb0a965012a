package es

import (
	"fmt"
	"io"
	"os"

	"github.com/evtool/evtool/formats/internal/input"
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
	in := input.New(rd, name)
	var s Summary
	in.Fill(20)
	h, err := parseHeader(in.Bytes(), name)
	if err != nil {
		return s, err
	}
	s.Header = h
	in.Advance(h.Size)
	var t int64
	for {
		if in.Fill(1) == 0 {
			return s, in.Err()
		}
		start := in.Offset()
		b := in.Bytes()[0]
		in.Advance(1)
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
				c, ok := in.PeekByte()
				if !ok {
					return s, scanEnd(in, start, "a generic event's size")
				}
				in.Advance(1)
				if shift > 56 {
					return s, in.Errorf(in.Offset()-1, nil, "generic event size does not fit 64 bits")
				}
				size |= int64(c>>1) << shift
				if c&1 == 0 {
					break
				}
			}
			if in.Skip(size) != size {
				return s, scanEnd(in, start, fmt.Sprintf("a %d-byte generic event", size))
			}
			s.PayloadBytes += size
		} else {
			rec, ok := in.Next(body)
			if !ok {
				return s, scanEnd(in, start, "an event record")
			}
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

// scanEnd is the error for a record cut off at the end of the input: the read failure when there was
// one, else a truncation at the record's start.
func scanEnd(in *input.Input, start int64, what string) error {
	if err := in.Err(); err != nil {
		return err
	}
	return in.Truncated(start, "file ends inside %s", what)
}
