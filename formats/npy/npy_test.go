package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/formattest"
	"github.com/evtool/evtool/internal/npyarray"
)

func params(kv ...string) formats.Options {
	o := formats.Options{Params: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Params[kv[i]] = kv[i+1]
	}
	return o
}

func event(t int64, x, y uint16, p uint8) events.Event { return events.Event{T: t, X: x, Y: y, P: p} }

// npyFile builds a .npy file by hand: version, header dict text (padded as numpy pads) and body.
func npyFile(major byte, dict string, body []byte) []byte {
	return append(npyarray.AppendHeader(nil, major, dict), body...)
}

// pack packs values by their Go types, little-endian, or big-endian after a bigEndian{} marker until a
// littleEndian{} one.
type (
	bigEndian    struct{}
	littleEndian struct{}
)

func pack(vals ...any) []byte {
	var b []byte
	var order binary.ByteOrder = binary.LittleEndian
	for _, v := range vals {
		switch v.(type) {
		case bigEndian:
			order = binary.BigEndian
			continue
		case littleEndian:
			order = binary.LittleEndian
			continue
		}
		b, _ = binary.Append(b, order, v)
	}
	return b
}

// readAll streams a file through the Reader one byte per read call, in batches of 2 events.
func readAll(t *testing.T, data []byte, o formats.Options) (*events.Batch, error) {
	t.Helper()
	r, err := NewReader(iotest.OneByteReader(bytes.NewReader(data)), "in.npy", o)
	if err != nil {
		return events.NewBatch(0), err
	}
	all, _, err := formattest.ReadAll(t, r, 2)
	return all, err
}

func TestReadHandMade(t *testing.T) {
	two := events.FromEvents(event(10, 1, 2, 1), event(-20, 65535, 3, 0))
	cases := []struct {
		name string
		file []byte
		o    formats.Options
		want *events.Batch
	}{
		{"canonical v1", npyFile(1, "{'descr': [('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', 'u1')], 'fortran_order': False, 'shape': (2,), }",
			pack(int64(10), uint16(1), uint16(2), uint8(1), int64(-20), uint16(65535), uint16(3), uint8(0))), params(), two},
		{"v2, double quotes, other order and types, extra field", npyFile(2, `{"shape": (2,), "fortran_order": False, "descr": [("x", "<i4"), ("label", "S3"), ("polarity", "|i1"), ("y", "<u4"), ("timestamp", "<f8")]}`,
			pack(int32(1), [3]byte{'a', 'b', 'c'}, int8(1), uint32(2), float64(10.4), int32(65535), [3]byte{}, int8(-1), uint32(3), float64(-20.2))), params(), two},
		{"v3, bool polarity, big-endian u8 times", npyFile(3, "{'descr': [('t', '>u8'), ('x', '>u2'), ('y', '<i2'), ('p', '?')], 'fortran_order': False, 'shape': (1,)}",
			pack(bigEndian{}, uint64(7), uint16(300), littleEndian{}, int16(4), true)), params(), events.FromEvents(event(7, 300, 4, 1))},
		{"plain (N, 4) int64 array", npyFile(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 4), }",
			pack(int64(10), int64(1), int64(2), int64(1), int64(-20), int64(65535), int64(3), int64(0))), params(), two},
		{"plain array with columns and time unit", npyFile(1, "{'descr': '<u4', 'fortran_order': False, 'shape': (1, 5), }",
			pack(uint32(9), uint32(3), uint32(4), uint32(1), uint32(1500))), params("columns", "-,x,y,p,t", "time-unit", "ms"),
			events.FromEvents(event(1500000, 3, 4, 1))},
		{"float seconds", npyFile(1, "{'descr': [('t', '<f8'), ('x', '<u2'), ('y', '<u2'), ('p', '<i2')], 'fortran_order': False, 'shape': (1,), }",
			pack(float64(0.0038115), uint16(1), uint16(1), int16(-1))), params("time-unit", "s"), events.FromEvents(event(3812, 1, 1, 0))},
		{"empty", npyFile(1, "{'descr': [('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', 'u1')], 'fortran_order': False, 'shape': (0,), }", nil),
			params(), events.NewBatch(0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readAll(t, c.file, c.o)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(c.want) {
				t.Fatalf("got %v; want %v", got, c.want)
			}
			var dec events.Batch
			if err := Decode(c.file, "in.npy", c.o, &dec); err != nil || !dec.Equal(c.want) {
				t.Fatalf("Decode: %v %v", &dec, err)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	canon := "{'descr': [('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', 'u1')], 'fortran_order': False, 'shape': (3,), }"
	good := pack(int64(1), uint16(1), uint16(1), uint8(1))
	cases := []struct {
		name    string
		file    []byte
		good    int
		offset  int64
		message string
	}{
		{"truncated record", append(npyFile(1, canon, good), good[:5]...), 1, 128 + 13, "declares 3 records; the file ends inside record 1"},
		{"bad polarity", npyFile(1, canon, append(append(append([]byte{}, good...), good...), pack(int64(1), uint16(1), uint16(1), uint8(7))...)), 2, 128 + 26, "record 2: p = 7"},
		{"coordinate out of range", npyFile(1, "{'descr': [('t', '<i8'), ('x', '<i4'), ('y', '<u2'), ('p', 'u1')], 'fortran_order': False, 'shape': (2,), }",
			pack(int64(1), int32(5), uint16(1), uint8(1), int64(2), int32(-1), uint16(1), uint8(1))), 1, 128 + 15, "record 1: x = -1 does not fit"},
		{"fortran order", npyFile(1, "{'descr': '<i8', 'fortran_order': True, 'shape': (1, 4), }", nil), 0, 10, "Fortran"},
		{"no polarity field", npyFile(1, "{'descr': [('t', '<i8'), ('x', '<u2'), ('y', '<u2')], 'fortran_order': False, 'shape': (1,), }", nil), 0, 10, "no p field"},
		{"bad literal", npyFile(1, "{'descr': [('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', 'u1')], 'fortran_order': False, 'shape': (1,)", nil), 0, 10, "missing '}'"},
		{"not npy", []byte("PK\x03\x04 this is an npz"), 0, 0, "not a .npy file"},
		{"version 4", append([]byte(Magic), 4, 0, 0, 0), 0, 6, "version 4.0"},
		{"huge header", append([]byte(Magic), 2, 0, 0xff, 0xff, 0xff, 0x7f), 0, 8, "header of"},
		{"float t out of range", npyFile(1, "{'descr': [('t', '<f8'), ('x', '<u2'), ('y', '<u2'), ('p', 'u1')], 'fortran_order': False, 'shape': (1,), }",
			pack(math.Inf(1), uint16(1), uint16(1), uint8(1))), 0, 128, "record 0: t = +Inf"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readAll(t, c.file, params())
			var de *events.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v; want a *events.DecodeError", err)
			}
			if got.Len() != c.good || de.Offset != c.offset || !strings.Contains(de.Error(), c.message) {
				t.Errorf("%d good events, error %q at %d; want %d, %q at %d", got.Len(), de.Error(), de.Offset, c.good, c.message, c.offset)
			}
			var dec events.Batch
			err = Decode(c.file, "in.npy", params(), &dec)
			if !errors.As(err, &de) || de.Offset != c.offset || dec.Len() != c.good {
				t.Errorf("Decode: %d events, %v; want %d, offset %d", dec.Len(), err, c.good, c.offset)
			}
		})
	}
}

// TestWriterHeader: the exact bytes numpy expects, the dtype users load, and a 64-byte aligned header.
func TestWriterHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ev.npy")
	w, err := Create(path, events.Meta{}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(events.FromEvents(event(0x0102030405060708, 0x0a0b, 0x0c0d, 1))); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "\x93NUMPY\x01\x00\xb6\x00{'descr': [('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', '|u1')], 'fortran_order': False, 'shape': (1,), }"
	if !strings.HasPrefix(string(data), want) || len(data) != 192+13 || data[191] != '\n' {
		t.Fatalf("file starts %q (%d bytes)", data[:min(len(data), 192)], len(data))
	}
	if rec := data[192:]; !bytes.Equal(rec, []byte{8, 7, 6, 5, 4, 3, 2, 1, 0x0b, 0x0a, 0x0d, 0x0c, 1}) {
		t.Fatalf("record % x", rec)
	}
}

// TestRegistry: detection by magic without the extension, atomic Create, datasets refused.
func TestRegistry(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.bin.npy")
	f, err := formats.OutputFormat(path, "")
	if err != nil || f.Name != "npy" {
		t.Fatalf("OutputFormat = %v, %v", f, err)
	}
	sink, err := f.Create(path, events.Meta{}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := events.FromEvents(event(1, 2, 3, 1))
	if err := sink.Events.Write(b); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("output visible before Close")
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(dir, "no-extension")
	if err := os.Rename(path, renamed); err != nil {
		t.Fatal(err)
	}
	src, g, err := formats.Open(renamed, "", formats.Options{})
	if err != nil || g.Name != "npy" {
		t.Fatalf("detect: %v, %v", g, err)
	}
	defer src.Close()
	got, err := events.ReadAll(src.Events)
	if err != nil || !got.Equal(b) {
		t.Fatalf("read back %v, %v", got, err)
	}
	if _, err := f.Create(filepath.Join(dir, "d.npy"), events.Meta{Kind: events.KindDataset}, formats.Options{}); err == nil {
		t.Fatal("npy accepted a dataset")
	}
}
