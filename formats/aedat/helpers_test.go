package aedat

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/formattest"
	"github.com/evtool/evtool/formats/internal/output"
)

// result is everything a reader delivered for one input.
type result struct {
	ev   *events.Batch
	trig []events.Trigger
	meta events.Meta
	err  error // the fault after the good events; nil for a clean io.EOF
}

// decodeAll reads data through the streaming reader, bufSize bytes per read call (so the reader works
// through a window of about that size) and batches of batch events, collecting events and triggers and
// checking the Reader contract on the way.
func decodeAll(tb testing.TB, data []byte, o formats.Options, bufSize, batch int) (result, error) {
	tb.Helper()
	r, err := NewReader(formattest.SmallReads(bytes.NewReader(data), bufSize), "test.aedat", o)
	if err != nil {
		return result{}, err
	}
	defer r.Close()
	var res result
	res.ev, res.trig, res.err = formattest.ReadAll(tb, r, batch)
	res.meta = r.Meta()
	return res, nil
}

// mustDecode is decodeAll in one pass with 64 Ki-event batches, failing on a header error.
func mustDecode(tb testing.TB, data []byte, o formats.Options) result {
	tb.Helper()
	res, err := decodeAll(tb, data, o, len(data)+1, 1<<16)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	return res
}

// wantEvents compares a batch against a hand-made list.
var wantEvents = formattest.SameEvents

// wantFault checks a decode error: a *events.DecodeError at offset, wrapping ErrTruncated when truncated.
func wantFault(tb testing.TB, err error, offset int64, truncated bool) {
	tb.Helper()
	var de *events.DecodeError
	if !errors.As(err, &de) || de.Offset != offset || errors.Is(err, events.ErrTruncated) != truncated {
		tb.Fatalf("error %v; want a decode error at byte %d (truncated: %v)", err, offset, truncated)
	}
}

func be32(b []byte, vs ...uint32) []byte {
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

func le32(b []byte, vs ...uint32) []byte {
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

// packet3 builds an AEDAT 3.x packet by hand: the 28-byte header (written field by field here, not with
// the package's own encoder) followed by the payload.
func packet3(typ, source uint16, size, tsOff, overflow, capacity, number, valid uint32, payload []byte) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint16(b, typ)
	b = binary.LittleEndian.AppendUint16(b, source)
	b = le32(b, size, tsOff, overflow, capacity, number, valid)
	return append(b, payload...)
}

// pol3 is one AEDAT 3.x polarity slot, encoded by hand.
func pol3(valid bool, x, y uint32, on bool, ts uint32) []byte {
	data := x<<17 | y<<2
	if on {
		data |= 2
	}
	if valid {
		data |= 1
	}
	return le32(nil, data, ts)
}

// writer2 is an AEDAT 2.0 writer to w in chip's layout.
func writer2(w io.Writer, chip Chip) *Writer2 {
	wr, err := NewWriter2(w, "x.aedat", events.Meta{}, opts(ParamChip, chip.Name))
	if err != nil {
		panic(err)
	}
	return wr
}

// writer31 is an AEDAT 3.1 writer to w with the knobs of writer31Options.
func writer31(w io.Writer, g events.Geometry, o writer31Options) (*Writer31, error) {
	return newWriter31(output.New(w, "x.aedat"), g, o)
}

func opts(kv ...string) formats.Options {
	o := formats.Options{Params: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Params[kv[i]] = kv[i+1]
	}
	return o
}
