package aedat

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// result is everything a reader delivered for one input.
type result struct {
	ev   *events.Batch
	trig []Trigger
	meta events.Meta
	err  error // the fault after the good events; nil for a clean io.EOF
}

// decodeAll reads data through the streaming reader with a given buffer size and batch capacity,
// collecting events and triggers, and checks the Reader contract on the way: no batch beyond its
// capacity, the fault (if any) comes once and is followed by io.EOF.
func decodeAll(tb testing.TB, data []byte, o formats.Options, bufSize, batch int) (result, error) {
	tb.Helper()
	r, err := newReaderSize(bytes.NewReader(data), "test.aedat", o, bufSize)
	if err != nil {
		return result{}, err
	}
	defer r.Close()
	res := result{ev: events.NewBatch(0)}
	buf := events.NewBatch(batch)
	for {
		err := r.Read(buf)
		if buf.Len() > batch {
			tb.Fatalf("Read returned %d events into a batch of capacity %d", buf.Len(), batch)
		}
		res.ev.AppendBatch(buf)
		res.trig = append(res.trig, r.Triggers()...)
		if err == io.EOF {
			break
		}
		if err != nil {
			if buf.Len() > 0 {
				tb.Fatalf("Read returned %d events together with error %v", buf.Len(), err)
			}
			res.err = err
			if err2 := r.Read(buf); err2 != io.EOF {
				tb.Fatalf("Read after the error %v returned %v, want io.EOF", err, err2)
			}
			break
		}
	}
	res.meta = r.Meta()
	return res, nil
}

// mustDecode is decodeAll with the default buffer and 64 Ki-event batches, failing on a header error.
func mustDecode(tb testing.TB, data []byte, o formats.Options) result {
	tb.Helper()
	res, err := decodeAll(tb, data, o, defaultBufSize, 1<<16)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	return res
}

// wantEvents compares a batch against a hand-made list.
func wantEvents(tb testing.TB, got *events.Batch, want ...events.Event) {
	tb.Helper()
	w := events.FromEvents(want...)
	if d := got.FirstDifference(w); d >= 0 {
		var g, e any = "nothing", "nothing"
		if d < got.Len() {
			g = got.At(d)
		}
		if d < w.Len() {
			e = w.At(d)
		}
		tb.Fatalf("event %d: got %+v, want %+v (got %d events, want %d)", d, g, e, got.Len(), w.Len())
	}
}

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

func opts(kv ...string) formats.Options {
	o := formats.Options{Params: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Params[kv[i]] = kv[i+1]
	}
	return o
}
