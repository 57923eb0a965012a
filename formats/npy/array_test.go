package npy

import (
	"reflect"
	"testing"
)

// ParseHeader describes any array: fields with their offsets (padding and unknown types skipped by
// size), plain arrays by their element type, and shapes whose product overflows.
func TestParseHeader(t *testing.T) {
	h, err := ParseHeader("{'descr': [('t', '<i8'), ('label', '|S3'), ('c', '>u2'), ('', '|V4')], 'fortran_order': False, 'shape': (5,), }")
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{{"t", 0, Type{'i', 8, false, "<i8"}}, {"label", 8, Type{0, 3, false, "|S3"}}, {"c", 11, Type{'u', 2, true, ">u2"}},
		{"", 13, Type{0, 4, false, "|V4"}}}
	if !reflect.DeepEqual(h.Fields, want) || h.ItemSize != 17 || h.Count() != 5 {
		t.Fatalf("%+v", h)
	}
	if f, ok := h.Field("C"); !ok || f.Offset != 11 {
		t.Fatalf("Field(C) = %+v, %v", f, ok)
	}
	if v, ok := h.Fields[2].Type.Int([]byte{0x01, 0x02}); !ok || v != 0x0102 {
		t.Fatalf("big-endian u2 = %d", v)
	}
	_, err = ParseHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (3037000500, 3037000500, 2), }")
	if err == nil {
		t.Fatal("a Fortran-order 3-D array was accepted")
	}
	h, err = ParseHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3037000500, 3037000500, 2), }")
	if err != nil || h.Count() != -1 || h.Type != (Type{'f', 4, false, "<f4"}) {
		t.Fatalf("overflowing shape: %+v, %v", h, err)
	}
	if v, ok := (Type{Kind: 'i', Size: 2}).Float([]byte{0xFE, 0xFF}); !ok || v != -2 {
		t.Fatalf("i2 as float = %v", v)
	}
	if _, ok := (Type{Size: 3}).Float([]byte{1, 2, 3}); ok {
		t.Fatal("a string read as a number")
	}
}
