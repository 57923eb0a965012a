package evarrow

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/internal/output"
	"github.com/evtool/evtool/tensors"
)

// fileWriterBytes writes records with arrow-go's own ipc.FileWriter: what the parallel writer must match.
func fileWriterBytes(t *testing.T, schema *arrow.Schema, compression string, recs []arrow.RecordBatch) []byte {
	t.Helper()
	var buf bytes.Buffer
	opts := []ipc.Option{ipc.WithSchema(schema), ipc.WithAllocator(memory.DefaultAllocator)}
	if c, err := codecOption(compression); err != nil {
		t.Fatal(err)
	} else if c != nil {
		opts = append(opts, c)
	}
	fw, err := ipc.NewFileWriter(&buf, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := fw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// matchFileWriter fails the test unless got is what arrow-go's ipc.FileWriter writes from recs.
func matchFileWriter(t *testing.T, got []byte, schema *arrow.Schema, compression string, recs []arrow.RecordBatch) {
	t.Helper()
	if want := fileWriterBytes(t, schema, compression, recs); !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, ipc.FileWriter writes %d (first difference at %d)", compression, len(got), len(want), firstDiff(got, want))
	}
}

// The recording, dataset and tensors writers, which encode batches on all cores and frame the file
// themselves, write what arrow-go's ipc.FileWriter writes from the same record batches, byte for byte:
// no batch, one, many; every compression; empty samples and unlabelled ones.
func TestWritersMatchFileWriter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	meta := events.Meta{Geometry: events.Geometry{Width: 65536, Height: 65536}, Source: "gen", Transforms: "x"}
	for _, comp := range []string{"zstd", "lz4", "none"} {
		for _, n := range []int{0, 1, 999, 5000, 20000} {
			t.Run(fmt.Sprintf("recording-%s-%d", comp, n), func(t *testing.T) {
				ev := randomEvents(rng, n)
				var got bytes.Buffer
				w, err := NewRecordingWriter(&got, "x", meta, Options{Compression: comp, BatchEvents: 1000})
				if err != nil {
					t.Fatal(err)
				}
				// Uneven writes: batches are gathered across them.
				for off := 0; off < n; {
					k := min(n-off, 1+rng.IntN(1500))
					part := ev.Slice(off, off+k)
					if err := w.Write(&part); err != nil {
						t.Fatal(err)
					}
					off += k
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				schema := RecordingSchema(meta)
				var recs []arrow.RecordBatch
				for off := 0; off < n; off += 1000 {
					e := min(off+1000, n)
					b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
					b.Field(0).(*array.Int64Builder).AppendValues(ev.T[off:e], nil)
					b.Field(1).(*array.Uint16Builder).AppendValues(ev.X[off:e], nil)
					b.Field(2).(*array.Uint16Builder).AppendValues(ev.Y[off:e], nil)
					b.Field(3).(*array.Uint8Builder).AppendValues(ev.P[off:e], nil)
					recs = append(recs, b.NewRecordBatch())
				}
				matchFileWriter(t, got.Bytes(), schema, comp, recs)
			})
		}
		for _, n := range []int{0, 1, 64, 200} {
			t.Run(fmt.Sprintf("dataset-%s-%d", comp, n), func(t *testing.T) {
				dm := meta
				dm.Kind, dm.Classes = events.KindDataset, []string{"a", "b"}
				var got bytes.Buffer
				w, err := NewDatasetWriter(&got, "x", dm, Options{Compression: comp, BatchSamples: 16})
				if err != nil {
					t.Fatal(err)
				}
				schema := withBatchSamples(DatasetSchema(dm), 16)
				b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
				var recs []arrow.RecordBatch
				for i := 0; i < n; i++ {
					s := events.Sample{ID: fmt.Sprintf("s%03d", i), Label: int32(rng.IntN(3)) - 1, Events: *randomEvents(rng, rng.IntN(3)*rng.IntN(500))}
					if err := w.WriteSample(&s); err != nil {
						t.Fatal(err)
					}
					if s.Label < 0 {
						b.Field(0).AppendNull()
					} else {
						b.Field(0).(*array.Int32Builder).Append(s.Label)
					}
					b.Field(1).(*array.StringBuilder).Append(s.ID)
					for c, vals := range []func(array.Builder){
						func(v array.Builder) { v.(*array.Int64Builder).AppendValues(s.Events.T, nil) },
						func(v array.Builder) { v.(*array.Uint16Builder).AppendValues(s.Events.X, nil) },
						func(v array.Builder) { v.(*array.Uint16Builder).AppendValues(s.Events.Y, nil) },
						func(v array.Builder) { v.(*array.Uint8Builder).AppendValues(s.Events.P, nil) },
					} {
						l := b.Field(2 + c).(*array.ListBuilder)
						l.Append(true)
						vals(l.ValueBuilder())
					}
					if (i+1)%16 == 0 || i == n-1 {
						recs = append(recs, b.NewRecordBatch())
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				matchFileWriter(t, got.Bytes(), schema, comp, recs)
			})
		}
	}
	// A dataset with a boxes column (its rows by a builder, the event columns not), over batches with
	// empty samples, samples without boxes, and a last batch that is not full.
	for _, comp := range []string{"zstd", "none"} {
		t.Run("dataset-boxes-"+comp, func(t *testing.T) {
			dm := meta
			dm.Kind, dm.Boxes, dm.BoxClasses = events.KindDataset, true, boxClasses
			var got bytes.Buffer
			w, err := NewDatasetWriter(&got, "x", dm, Options{Compression: comp, BatchSamples: 7})
			if err != nil {
				t.Fatal(err)
			}
			schema := withBatchSamples(DatasetSchema(dm), 7)
			b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
			boxes := newBoxBuilder(b)
			var recs []arrow.RecordBatch
			const n = 40
			for i := 0; i < n; i++ {
				s := events.Sample{ID: fmt.Sprint(i), Label: events.NoLabel, Events: *randomEvents(rng, rng.IntN(2)*rng.IntN(3000)),
					Boxes: boxesAt(int64(i), rng.IntN(3))}
				if err := w.WriteSample(&s); err != nil {
					t.Fatal(err)
				}
				b.Field(0).AppendNull()
				b.Field(1).(*array.StringBuilder).Append(s.ID)
				for c := 0; c < 4; c++ {
					b.Field(2 + c).(*array.ListBuilder).Append(true)
				}
				b.Field(2).(*array.ListBuilder).ValueBuilder().(*array.Int64Builder).AppendValues(s.Events.T, nil)
				b.Field(3).(*array.ListBuilder).ValueBuilder().(*array.Uint16Builder).AppendValues(s.Events.X, nil)
				b.Field(4).(*array.ListBuilder).ValueBuilder().(*array.Uint16Builder).AppendValues(s.Events.Y, nil)
				b.Field(5).(*array.ListBuilder).ValueBuilder().(*array.Uint8Builder).AppendValues(s.Events.P, nil)
				boxes.appendRow(s.Boxes, false)
				if (i+1)%7 == 0 || i == n-1 {
					recs = append(recs, b.NewRecordBatch())
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			matchFileWriter(t, got.Bytes(), schema, comp, recs)
		})
	}
	// Tensors (Arrow's fixed-shape tensor extension type) through the same writer: read back whole.
	t.Run("tensors", func(t *testing.T) {
		var got bytes.Buffer
		spec := tensors.Spec{DType: tensors.Uint16, Shape: []int{2, 3}, Samples: 40}
		w, err := NewTensorWriter(&got, "x", events.Meta{Kind: events.KindTensors}, spec, Options{BatchSamples: 16})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 40; i++ {
			s := tensors.Sample{ID: fmt.Sprint(i), Label: events.NoLabel, Tensor: tensors.Tensor{Shape: []int{2, 3}, U16: []uint16{uint16(i), 1, 2, 3, 4, 5}}}
			if err := w.Write(&s); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := NewTensorReader(bytes.NewReader(got.Bytes()), "x")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var s tensors.Sample
		for i := 0; i < 40; i++ {
			if err := r.ReadSample(i, &s); err != nil || s.Tensor.U16[0] != uint16(i) {
				t.Fatalf("tensor %d: %v %v", i, err, s.Tensor.U16)
			}
		}
	})
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// The encoders take the pool's buffers uncleared unless a batch has nulls (or booleans), whose bits
// arrow-go copies into fresh memory, padding included: batches with big validity bitmaps (over the
// pool's smallest kept size, each bigger than the last so that it cannot take an earlier one's buffer),
// sliced so that the bits are copied, alternate with batches without nulls whose compressed buffers, a
// little bigger than the bitmaps, leave the pool's memory full of bytes; the file is still
// ipc.FileWriter's.
func TestEncoderMemoryZeroedWhereNeeded(t *testing.T) {
	// Validity bitmaps of 75,000 to 86,000 bytes (above pooledMin); compressed buffers of 96,000 bytes.
	const rows, plainRows = 600_000, 12_000
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	var recs []arrow.RecordBatch
	for i := 0; i < 8; i++ {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		v := b.Field(0).(*array.Int64Builder)
		nulls := i%2 == 1
		n := plainRows
		if nulls {
			n = rows + i*15_000
		}
		for k := 0; k < n+5; k++ {
			if nulls && rng.IntN(3) == 0 {
				v.AppendNull()
			} else {
				v.Append(int64(rng.Uint64())) // incompressible: the compressed buffers fill their memory
			}
		}
		rec := b.NewRecordBatch()
		b.Release()
		// A slice starting at an odd row: the bitmap is copied, not shared.
		recs = append(recs, rec.NewSlice(3, int64(n)+3))
		rec.Release()
		if got := needsZeroedMemory(recs[i]); got != nulls {
			t.Fatalf("batch %d (nulls %v): needsZeroedMemory = %v", i, nulls, got)
		}
	}
	bools := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{{Name: "b", Type: arrow.FixedWidthTypes.Boolean}}, nil))
	bools.Field(0).(*array.BooleanBuilder).AppendValues([]bool{true, false}, nil)
	if rec := bools.NewRecordBatch(); !needsZeroedMemory(rec) {
		t.Fatal("needsZeroedMemory = false for a boolean column")
	}
	for _, comp := range []string{"zstd", "none"} {
		var got bytes.Buffer
		w, err := newIPCWriter(output.New(&got, "x"), schema, comp)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			r.Retain()
			if err := w.write(r, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.close(); err != nil {
			t.Fatal(err)
		}
		if err := w.out.Close(nil); err != nil {
			t.Fatal(err)
		}
		matchFileWriter(t, got.Bytes(), schema, comp, recs)
	}
}
