package input

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/evtool/evtool/events"
)

// stall serves its data, then returns (0, nil) forever.
type stall struct{ data []byte }

func (s *stall) Read(p []byte) (int, error) {
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

func TestFillAndOffsets(t *testing.T) {
	data := []byte("0123456789abcdef")
	in := NewSize(iotest.OneByteReader(bytes.NewReader(data)), "x", 4)
	if got := in.Fill(3); got != 3 || string(in.Bytes()) != "012" {
		t.Fatalf("Fill(3) = %d, %q", got, in.Bytes())
	}
	in.Advance(2)
	if in.Offset() != 2 {
		t.Fatalf("offset %d, want 2", in.Offset())
	}
	// Asking for more than the window grows it, keeping the unread byte and the offsets.
	if got := in.Fill(10); got != 10 || string(in.Bytes()) != "23456789ab" || in.Offset() != 2 {
		t.Fatalf("Fill(10) = %d, %q at %d", got, in.Bytes(), in.Offset())
	}
	if in.Skip(100) != 14 || !in.Ended() || in.Failed() || in.Offset() != 16 {
		t.Fatalf("skip to the end: offset %d, ended %v", in.Offset(), in.Ended())
	}
	if err := in.End("a record"); err != io.EOF {
		t.Fatalf("End = %v, want io.EOF", err)
	}
}

// A source stuck on (0, nil) ends in io.ErrNoProgress, reported after the bytes it did give.
func TestStallGuard(t *testing.T) {
	in := New(&stall{data: []byte("abc")}, "stuck.bin")
	done := make(chan int)
	go func() { done <- in.Fill(10) }()
	select {
	case n := <-done:
		if n != 3 {
			t.Fatalf("Fill = %d, want the 3 bytes given", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Fill did not return from a stalled source")
	}
	in.Advance(3)
	err := in.End("a record")
	var de *events.DecodeError
	if !errors.Is(err, io.ErrNoProgress) || !errors.As(err, &de) || de.Path != "stuck.bin" || de.Offset != 3 {
		t.Fatalf("End = %v; want a decode error at byte 3 wrapping io.ErrNoProgress", err)
	}
	if err := in.End("a record"); err != io.EOF {
		t.Fatalf("second End = %v, want io.EOF", err)
	}
}

// A read failure is deferred: the bytes before it are served first, the error (with the offset where
// reading failed) comes from End, and wins over trailing bytes.
func TestDeferredReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	src := io.MultiReader(strings.NewReader("abcde"), iotest.ErrReader(boom))
	in := NewSize(src, "f", 64)
	if n := in.Fill(64); n != 5 || !in.Ended() || !in.Failed() {
		t.Fatalf("Fill = %d, ended %v failed %v", n, in.Ended(), in.Failed())
	}
	in.Advance(4) // one byte left that is not a whole record
	err := in.End("a record")
	var de *events.DecodeError
	if !errors.Is(err, boom) || !errors.As(err, &de) || de.Offset != 5 || errors.Is(err, events.ErrTruncated) {
		t.Fatalf("End = %v; want the read error at byte 5", err)
	}
}

func TestTrailingBytesAreTruncation(t *testing.T) {
	in := New(strings.NewReader("abcdefg"), "f")
	in.Fill(5)
	in.Advance(5)
	in.Fill(5)
	err := in.End("a 5-byte record")
	var de *events.DecodeError
	if !errors.Is(err, events.ErrTruncated) || !errors.As(err, &de) || de.Offset != 5 ||
		!strings.Contains(err.Error(), "a 5-byte record (2 trailing bytes)") {
		t.Fatalf("End = %v", err)
	}
}

func TestStop(t *testing.T) {
	in := New(strings.NewReader("abcdef"), "f")
	in.Fill(2)
	fault := in.Errorf(1, nil, "bad byte")
	in.Stop(fault)
	if in.Fill(6) != 6 || !in.Ended() {
		t.Fatal("Stop must end the input and keep what is buffered")
	}
	if err := in.End("x"); err != error(fault) {
		t.Fatalf("End = %v, want the fault", err)
	}
}

func TestLine(t *testing.T) {
	in := NewSize(iotest.HalfReader(strings.NewReader("# one\r\n#two\nrest")), "f", 2)
	for _, want := range []string{"# one", "#two"} {
		line, err := in.Line(100)
		if err != nil || string(line) != want {
			t.Fatalf("Line = %q, %v; want %q", line, err, want)
		}
	}
	if c, _ := in.PeekByte(); c != 'r' {
		t.Fatalf("next byte %q", c)
	}
	if _, err := NewSize(strings.NewReader(strings.Repeat("x", 300)+"\n"), "f", 16).Line(256); err == nil || errors.Is(err, events.ErrTruncated) {
		t.Fatalf("a line longer than the limit: %v", err)
	}
	if line, err := NewSize(strings.NewReader("last"), "f", 16).Line(256); !errors.Is(err, events.ErrTruncated) {
		t.Fatalf("last line without LF: %q %v; want a truncation", line, err)
	}
}

func TestNext(t *testing.T) {
	in := New(strings.NewReader("abcdef"), "f")
	if b, ok := in.Next(4); !ok || string(b) != "abcd" || in.Offset() != 4 {
		t.Fatalf("Next(4) = %q %v", b, ok)
	}
	if _, ok := in.Next(4); ok || in.Buffered() != 2 {
		t.Fatal("Next past the end must consume nothing")
	}
}

// The window is sized to a short source, and grows only as data arrives: a huge request on a short
// stream allocates about what the stream holds.
func TestWindowSize(t *testing.T) {
	if n := len(New(bytes.NewReader(make([]byte, 1000)), "f").buf); n != 1001 {
		t.Fatalf("window %d for a 1000-byte source", n)
	}
	if n := len(New(iotest.HalfReader(bytes.NewReader(nil)), "f").buf); n != Size {
		t.Fatalf("window %d for a stream, want %d", n, Size)
	}
	in := NewSize(io.LimitReader(zeros{}, 3000), "f", 1024)
	in.Fill(1 << 30)
	if len(in.buf) > 4096 {
		t.Fatalf("window grew to %d for 3000 bytes", len(in.buf))
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
