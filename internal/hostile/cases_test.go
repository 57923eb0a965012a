package hostile

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/aedat4"
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/formats/nmnist"
	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/internal/flatbuf"
	"github.com/evtool/evtool/snn/safetensors"
)

// makeCases writes the hostile files into dir and says what every verb must make of each.
func makeCases(t *testing.T, dir string) []hcase {
	rng := rand.New(rand.NewPCG(14, 14))
	path := func(name string) string { return filepath.Join(dir, name) }
	recordingOnly := map[string]outcome{"train": refused, "eval": refused} // train and eval read datasets
	with := func(base map[string]outcome, kv ...any) map[string]outcome {
		m := map[string]outcome{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].(outcome)
		}
		return m
	}
	small := samples(rng, 12, 34, 34, 300)
	var cases []hcase

	// Other writers: columns in another order, no evtool metadata, polars' types.
	rec := small[0].Events
	writeArrow(t, path("reordered.arrow"), nil, 0, col{"x", rec.X}, col{"y", rec.Y}, col{"t", rec.T}, col{"p", rec.P})
	cases = append(cases, hcase{name: "reordered-recording", file: "reordered.arrow", def: ok, expect: recordingOnly})

	meta34 := map[string]string{evarrow.KeyKind: "dataset", evarrow.KeyWidth: "34", evarrow.KeyHeight: "34",
		evarrow.KeyClasses: `["0","1"]`}
	writeDatasetArrow(t, path("reordered-dataset.arrow"), meta34, small, 0, false)
	cases = append(cases, hcase{name: "reordered-dataset", file: "reordered-dataset.arrow", dataset: true, def: ok})

	writeDatasetArrow(t, path("no-metadata.arrow"), nil, small, 0, true)
	cases = append(cases, hcase{name: "dataset-without-metadata", file: "no-metadata.arrow", dataset: true, def: ok})

	// Lying counts and sizes.
	lying := map[string]string{evarrow.KeyKind: "dataset", evarrow.KeyWidth: "34", evarrow.KeyHeight: "34",
		evarrow.KeyClasses: `["0","1"]`, evarrow.KeyBatchSamples: "1000000000"}
	writeDatasetArrow(t, path("lying-batch-samples.arrow"), lying, small, 5, false)
	cases = append(cases, hcase{name: "lying-batch-samples", file: "lying-batch-samples.arrow", dataset: true, def: ok,
		warn: evarrow.KeyBatchSamples})

	writeDatasetArrow(t, path("lying-rows.arrow"), meta34, small, 0, false)
	patchBatch(t, path("lying-rows.arrow"), func(b []byte, rb flatbuf.Table, body int64) {
		putField64(t, b, rb, 0, 1<<40) // the batch's row count
	})
	cases = append(cases, hcase{name: "lying-row-count", file: "lying-rows.arrow", dataset: true, def: refused})

	big := events.NewBatch(1 << 16)
	for i := 0; i < 1<<16; i++ {
		big.Append(int64(i), uint16(i%34), uint16(i/34%34), uint8(i%2))
	}
	writeRecording(t, path("lying-buffer.arrow"), big, events.Geometry{Width: 34, Height: 34}, "zstd")
	patchBatch(t, path("lying-buffer.arrow"), func(b []byte, rb flatbuf.Table, body int64) {
		// The t column's values (buffer 1): its compressed buffer starts with the length it decompresses to.
		n, start, ok := rb.Vector(2, 16)
		if !ok || n < 2 {
			t.Fatal("lying-buffer: no buffers in the record batch")
		}
		off := int64(binary.LittleEndian.Uint64(rb.B[start+16:]))
		binary.LittleEndian.PutUint64(b[body+off:], (2<<30)-1)
	})
	cases = append(cases, hcase{name: "lying-buffer-length", file: "lying-buffer.arrow", def: refused})

	huge := events.FromEvents(events.Event{T: 0, X: 0, Y: 0, P: 1}, events.Event{T: 10, X: 16383, Y: 16383},
		events.Event{T: 20, X: 8000, Y: 3, P: 1})
	writeRecording(t, path("huge-sensor.arrow"), huge, events.Geometry{Width: 16384, Height: 16384}, "zstd")
	hugeOut := with(recordingOnly, "convert", either)
	cases = append(cases, hcase{name: "huge-sensor-in-header", file: "huge-sensor.arrow", def: ok, expect: hugeOut})
	writeCSV(t, path("huge-coordinate.csv"), huge)
	cases = append(cases, hcase{name: "huge-coordinate", file: "huge-coordinate.csv", def: ok, expect: hugeOut})

	maxSensor := []events.Sample{{Label: 0, ID: "a", Events: *huge}, {Label: 1, ID: "b", Events: *huge}}
	writeDataset(t, path("max-sensor-dataset.arrow"), maxSensor, events.Geometry{Width: 65536, Height: 65536})
	cases = append(cases, hcase{name: "max-sensor-dataset", file: "max-sensor-dataset.arrow", dataset: true, def: ok,
		expect: map[string]outcome{"convert": either, "train": refused, "eval": refused}})

	os.WriteFile(path("dat-height-70000.dat"), datFile("% Width 640\n% Height 70000\n", small[1].Events), 0o644)
	cases = append(cases, hcase{name: "dat-header-height-70000", file: "dat-height-70000.dat", def: ok,
		expect: with(recordingOnly, "convert", either), warn: "70000"})

	os.WriteFile(path("lying-shape.npy"), npyEvents(1_000_000_000_000, small[2].Events), 0o644)
	cases = append(cases, hcase{name: "npy-lying-shape", file: "lying-shape.npy", def: refused})

	writeModel(t, path("lying-model.safetensors"), 1_000_000_000)
	cases = append(cases, hcase{name: "model-lying-layer-width", file: "lying-model.safetensors", def: refused,
		only: []extraRun{
			{"eval", func(in string) []string {
				return []string{"eval", "--model", in, "--data", path("reordered-dataset.arrow")}
			}},
			{"train", func(in string) []string {
				return []string{"train", "--data", path("reordered-dataset.arrow"), "--resume", in, "-o", "m.safetensors", "--epochs", "1"}
			}},
		}})

	// Extreme times and coordinates.
	extreme := events.FromEvents(events.Event{T: math.MinInt64, X: 0, Y: 0, P: 1}, events.Event{T: -1, X: 65535, Y: 0},
		events.Event{T: 0, X: 0, Y: 65535, P: 1}, events.Event{T: math.MaxInt64, X: 65535, Y: 65535})
	writeCSV(t, path("extreme.csv"), extreme)
	cases = append(cases, hcase{name: "extreme-times-and-coordinates", file: "extreme.csv", def: ok,
		expect: with(recordingOnly, "convert", either)})
	extremeSamples := []events.Sample{
		{Label: 0, ID: "a", Events: *events.FromEvents(events.Event{T: math.MinInt64, X: 1, Y: 1, P: 1}, events.Event{T: math.MaxInt64, X: 33, Y: 33})},
		{Label: 1, ID: "b", Events: *events.FromEvents(events.Event{T: math.MaxInt64 - 1, X: 2, Y: 2}, events.Event{T: math.MaxInt64, X: 3, Y: 3, P: 1})},
	}
	writeDataset(t, path("extreme-dataset.arrow"), extremeSamples, events.Geometry{Width: 34, Height: 34})
	cases = append(cases, hcase{name: "extreme-times-dataset", file: "extreme-dataset.arrow", dataset: true, def: ok,
		expect: map[string]outcome{"convert": either}})

	// Empty inputs.
	os.WriteFile(path("empty.csv"), []byte("t,x,y,p\n"), 0o644)
	empty := map[string]outcome{"info": ok, "convert": either}
	cases = append(cases, hcase{name: "empty-csv", file: "empty.csv", def: refused, expect: empty})
	os.WriteFile(path("zero-bytes.arrow"), nil, 0o644)
	cases = append(cases, hcase{name: "zero-bytes", file: "zero-bytes.arrow", def: refused})
	writeDataset(t, path("empty-dataset.arrow"), nil, events.Geometry{Width: 34, Height: 34})
	cases = append(cases, hcase{name: "empty-dataset", file: "empty-dataset.arrow", dataset: true, def: refused, expect: empty})

	// Damaged and cut files.
	long := events.NewBatch(3 * aedat4.EventsPerPacket)
	for i := 0; i < 3*aedat4.EventsPerPacket; i++ {
		long.Append(int64(10*i), uint16(rng.IntN(34)), uint16(rng.IntN(34)), uint8(rng.IntN(2)))
	}
	writeAEDAT4Damaged(t, path("damaged.aedat4"), long)
	cases = append(cases, hcase{name: "damaged-aedat4-packet", file: "damaged.aedat4", def: ok, expect: recordingOnly,
		warn: "damaged packets skipped", extra: []extraRun{{"convert-strict", func(in string) []string {
			return []string{"convert", in, "-o", "out.arrow", "--strict"}
		}}}})
	cases[len(cases)-1].expect = with(recordingOnly, "convert-strict", refused)
	writeRecording(t, path("whole.arrow"), big, events.Geometry{Width: 34, Height: 34}, "zstd")
	whole, _ := os.ReadFile(path("whole.arrow"))
	os.WriteFile(path("cut.arrow"), whole[:len(whole)/2], 0o644)
	cases = append(cases, hcase{name: "cut-arrow", file: "cut.arrow", def: refused})

	// A folder of mixed formats and sensor sizes (34×34 N-MNIST and 78×42 N-CARS-like .dat).
	mixed := path("mixed")
	os.MkdirAll(filepath.Join(mixed, "0"), 0o755)
	os.MkdirAll(filepath.Join(mixed, "1"), 0o755)
	writeNMNIST(t, filepath.Join(mixed, "0", "a.bin"), &small[3].Events)
	cars := events.FromEvents(events.Event{T: 5, X: 77, Y: 41, P: 1}, events.Event{T: 9, X: 60, Y: 40})
	os.WriteFile(filepath.Join(mixed, "1", "b.dat"), datFile("", *cars), 0o644)
	cases = append(cases, hcase{name: "mixed-folder", file: "mixed", dataset: true, def: either,
		expect: map[string]outcome{"convert": refused, "train": refused, "eval": refused}})
	return cases
}

// trainModel trains the small model eval runs with: 34×34 input, classes 0 and 1.
func trainModel(t *testing.T, dir string) string {
	data := filepath.Join(dir, "train.arrow")
	writeDataset(t, data, samples(rand.New(rand.NewPCG(1, 2)), 8, 34, 34, 200), events.Geometry{Width: 34, Height: 34})
	model := filepath.Join(dir, "model.safetensors")
	r := runEvtool(t, nil, dir, "train", "--data", data, "-o", model, "--model", "mlp", "--hidden", "8", "--epochs", "1",
		"--bins", "2", "--workers", "1", "--shift", "0", "-q")
	if r.code != 0 {
		t.Fatalf("training the suite's model: %s", r.stderr)
	}
	return model
}

// samples makes n labelled samples (labels 0 and 1) of up to m random events on a w×h sensor.
func samples(rng *rand.Rand, n, w, h, m int) []events.Sample {
	out := make([]events.Sample, n)
	for i := range out {
		b := events.NewBatch(m)
		t := int64(0)
		for j := 0; j < 1+rng.IntN(m); j++ {
			t += rng.Int64N(1000)
			b.Append(t, uint16(rng.IntN(w)), uint16(rng.IntN(h)), uint8(rng.IntN(2)))
		}
		out[i] = events.Sample{Label: int32(i % 2), ID: fmt.Sprintf("%d/s%02d", i%2, i), Events: *b}
	}
	return out
}

type col struct {
	name string
	vals any // []int64, []uint16 or []uint8
}

func arrowType(v any) arrow.DataType {
	switch v.(type) {
	case []int64:
		return arrow.PrimitiveTypes.Int64
	case []uint16:
		return arrow.PrimitiveTypes.Uint16
	}
	return arrow.PrimitiveTypes.Uint8
}

func appendValues(b array.Builder, v any) {
	switch v := v.(type) {
	case []int64:
		b.(*array.Int64Builder).AppendValues(v, nil)
	case []uint16:
		b.(*array.Uint16Builder).AppendValues(v, nil)
	case []uint8:
		b.(*array.Uint8Builder).AppendValues(v, nil)
	}
}

// writeArrow writes one record batch of plain columns with arrow-go, as another tool would (rows per
// batch: all, when batch is 0).
func writeArrow(t *testing.T, path string, md map[string]string, batch int, cols ...col) {
	fields := make([]arrow.Field, len(cols))
	arrays := make([]arrow.Array, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: arrowType(c.vals), Nullable: true}
		b := array.NewBuilder(memory.DefaultAllocator, fields[i].Type)
		appendValues(b, c.vals)
		arrays[i] = b.NewArray()
	}
	fixtures.WriteArrowIPC(t, path, md, fields, arrays)
}

// writeDatasetArrow writes samples as a dataset with arrow-go in another column order (p, t, id, x,
// label, y), per record batches of batch samples (all in one when 0); polars makes the lists large
// lists and the ids large strings.
func writeDatasetArrow(t *testing.T, path string, md map[string]string, ss []events.Sample, batch int, polars bool) {
	str := arrow.DataType(arrow.BinaryTypes.String)
	if polars {
		str = arrow.BinaryTypes.LargeString
	}
	typ := func(e arrow.DataType) arrow.DataType {
		if polars {
			return arrow.LargeListOf(e)
		}
		return arrow.ListOf(e)
	}
	fields := []arrow.Field{
		{Name: "p", Type: typ(arrow.PrimitiveTypes.Uint8)}, {Name: "t", Type: typ(arrow.PrimitiveTypes.Int64)},
		{Name: "id", Type: str}, {Name: "x", Type: typ(arrow.PrimitiveTypes.Uint16)},
		{Name: "label", Type: arrow.PrimitiveTypes.Int32, Nullable: true}, {Name: "y", Type: typ(arrow.PrimitiveTypes.Uint16)},
	}
	if batch <= 0 {
		batch = max(len(ss), 1)
	}
	var batches [][]arrow.Array
	for lo := 0; lo < len(ss) || lo == 0; lo += batch {
		part := ss[lo:min(lo+batch, len(ss))]
		cols := make([]arrow.Array, len(fields))
		for i, f := range fields {
			b := array.NewBuilder(memory.DefaultAllocator, f.Type)
			for _, s := range part {
				switch f.Name {
				case "id":
					if polars {
						b.(*array.LargeStringBuilder).Append(s.ID)
					} else {
						b.(*array.StringBuilder).Append(s.ID)
					}
				case "label":
					b.(*array.Int32Builder).Append(s.Label)
				default:
					lb := b.(array.ListLikeBuilder)
					lb.Append(true)
					appendValues(lb.ValueBuilder(), map[string]any{"t": s.Events.T, "x": s.Events.X, "y": s.Events.Y, "p": s.Events.P}[f.Name])
				}
			}
			cols[i] = b.NewArray()
		}
		batches = append(batches, cols)
		if len(ss) == 0 {
			break
		}
	}
	fixtures.WriteArrowIPC(t, path, md, fields, batches...)
}

func writeRecording(t *testing.T, path string, b *events.Batch, g events.Geometry, comp string) {
	w, err := evarrow.CreateRecording(path, events.Meta{Geometry: g}, evarrow.Options{Compression: comp})
	writeBatch(t, w, err, b)
}

// writeBatch writes b with w, which its constructor returned with err, and closes it.
func writeBatch[W events.Writer](t *testing.T, w W, err error, b *events.Batch) {
	if err == nil {
		err = w.Write(b)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

func writeDataset(t *testing.T, path string, ss []events.Sample, g events.Geometry) {
	w, err := evarrow.CreateDataset(path, events.Meta{Kind: events.KindDataset, Geometry: g, Classes: []string{"0", "1"}}, evarrow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range ss {
		if err := w.WriteSample(&ss[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeCSV(t *testing.T, path string, b *events.Batch) {
	var sb strings.Builder
	sb.WriteString("t,x,y,p\n")
	for i := range b.T {
		fmt.Fprintf(&sb, "%d,%d,%d,%d\n", b.T[i], b.X[i], b.Y[i], b.P[i])
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeNMNIST(t *testing.T, path string, b *events.Batch) {
	w, err := nmnist.Create(path, events.Meta{}, formats.Options{})
	writeBatch(t, w, err, b)
}

// datFile lays out a Prophesee DAT (version 2, EventCD) with the given header lines.
func datFile(header string, b events.Batch) []byte {
	out := []byte("% Version 2\n" + header + "% end\n")
	out = append(out, 0x0C, 8)
	for i := range b.T {
		out = binary.LittleEndian.AppendUint32(out, uint32(b.T[i]))
		out = binary.LittleEndian.AppendUint32(out, uint32(b.X[i])|uint32(b.Y[i])<<14|uint32(b.P[i])<<28)
	}
	return out
}

// npyEvents lays out an events .npy (a structured array t, x, y, p) whose header claims n records.
func npyEvents(n int64, b events.Batch) []byte {
	dict := fmt.Sprintf("{'descr': [('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', 'u1')], 'fortran_order': False, 'shape': (%d,), }", n)
	for (10+len(dict)+1)%64 != 0 {
		dict += " "
	}
	dict += "\n"
	out := append([]byte("\x93NUMPY\x01\x00"), byte(len(dict)), byte(len(dict)>>8))
	out = append(out, dict...)
	for i := range b.T {
		out = binary.LittleEndian.AppendUint64(out, uint64(b.T[i]))
		out = binary.LittleEndian.AppendUint16(out, b.X[i])
		out = binary.LittleEndian.AppendUint16(out, b.Y[i])
		out = append(out, b.P[i])
	}
	return out
}

// writeAEDAT4Damaged writes b with evtool's AEDAT 4 writer, then garbles the second packet's payload.
func writeAEDAT4Damaged(t *testing.T, path string, b *events.Batch) {
	w, err := aedat4.Create(path, events.Meta{Geometry: events.Geometry{Width: 34, Height: 34}}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := aedat4.Open(path, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tab, err := r.Table()
	r.Close()
	if err != nil || len(tab) < 2 {
		t.Fatalf("damaged.aedat4: packet table of %d entries, %v", len(tab), err)
	}
	data, _ := os.ReadFile(path)
	p := tab[1].ByteOffset
	for i := p + 4; i < p+40; i++ {
		data[i] = 0xFF
	}
	os.WriteFile(path, data, 0o644)
}

// writeModel writes a safetensors file whose metadata describes a dense layer of units outputs over a
// 34×34 input, holding a few bytes of weights.
func writeModel(t *testing.T, path string, units int) {
	arch, _ := json.Marshal(map[string]any{"input": map[string]int{"channels": 2, "height": 34, "width": 34}, "loss": "ce_count",
		"layers": []map[string]any{{"type": "flatten"}, {"type": "dense", "units": units}, {"type": "lif"}}})
	enc, _ := json.Marshal(map[string]any{"bins": 2, "width": 34, "height": 34})
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = safetensors.Write(f, []safetensors.Tensor{{Name: "layers.1.weight", Shape: []int{2}, Data: []float32{1, 2}}},
		map[string]string{"evtool.architecture": string(arch), "evtool.encoding": string(enc), "evtool.classes": `["0","1"]`})
	if err != nil {
		t.Fatal(err)
	}
}

// patchBatch finds the first record batch of an Arrow IPC file and lets edit change its message (rb is
// the RecordBatch table inside b; body is the file offset of the batch's body), then writes b back.
func patchBatch(t *testing.T, path string, edit func(b []byte, rb flatbuf.Table, body int64)) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flen := int64(binary.LittleEndian.Uint32(b[len(b)-10:]))
	footer := flatbuf.Buf(b[int64(len(b))-10-flen : len(b)-10])
	root, ok := footer.Root()
	if !ok {
		t.Fatal("no footer")
	}
	n, start, ok := root.Vector(3, 24)
	if !ok || n == 0 {
		t.Fatal("no record batch in the footer")
	}
	blockOff := int64(binary.LittleEndian.Uint64(footer[start:]))
	metaLen := int64(int32(binary.LittleEndian.Uint32(footer[start+8:])))
	msgStart := blockOff + 8 // continuation marker and length
	msg := flatbuf.Buf(b[msgStart : blockOff+metaLen])
	m, ok := msg.Root()
	if !ok {
		t.Fatal("no message")
	}
	hp, ok := m.Ref(2)
	if !ok || hp < 0 {
		t.Fatal("no record batch header")
	}
	rb, ok := msg.TableAt(hp)
	if !ok {
		t.Fatal("bad record batch header")
	}
	edit(b[msgStart:], rb, blockOff+metaLen-msgStart)
	os.WriteFile(path, b, 0o644)
}

// putField64 overwrites an int64 field of a table (it must be present).
func putField64(t *testing.T, b []byte, tb flatbuf.Table, slot int, v int64) {
	p := tb.Field(slot)
	if p < 0 {
		t.Fatalf("field %d is absent", slot)
	}
	binary.LittleEndian.PutUint64(b[p:], uint64(v))
}
