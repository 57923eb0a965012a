package parquet

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/evarrow"
)

func event(t int64, x, y uint16, p uint8) events.Event { return events.Event{T: t, X: x, Y: y, P: p} }

func randomBatch(rng *rand.Rand, n int) *events.Batch {
	b := events.NewBatch(n)
	t := rng.Int64N(1 << 50)
	for i := 0; i < n; i++ {
		t += rng.Int64N(200)
		b.Append(t, uint16(rng.IntN(65536)), uint16(rng.IntN(65536)), uint8(rng.IntN(2)))
	}
	return b
}

// edgeBatches are the cases every round trip covers: empty, one event, extreme values, many row groups.
func edgeBatches() []*events.Batch {
	rng := rand.New(rand.NewPCG(5, 6))
	return []*events.Batch{
		events.NewBatch(0),
		events.FromEvents(event(42, 3, 4, 1)),
		events.FromEvents(event(math.MaxInt64, 65535, 65535, 1), event(math.MinInt64, 0, 0, 0), event(0, 65535, 0, 1)),
		randomBatch(rng, 10000),
	}
}

// TestRecordingRoundTrip: events → file → events is identity for every compression, across row groups
// and read batch sizes.
func TestRecordingRoundTrip(t *testing.T) {
	dir := t.TempDir()
	meta := events.Meta{Geometry: events.Geometry{Width: 640, Height: 480}, Source: "cam.raw", Transforms: "crop 0 0 10 10"}
	for bi, b := range edgeBatches() {
		for _, comp := range []string{"", "lz4", "snappy", "gzip", "none"} {
			path := filepath.Join(dir, "rec.parquet")
			w, err := CreateRecording(path, meta, Options{Compression: comp, RowGroupEvents: 3000})
			if err != nil {
				t.Fatal(err)
			}
			for off := 0; off < b.Len(); off += 1234 {
				part := b.Slice(off, min(off+1234, b.Len()))
				if err := w.Write(&part); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := OpenRecording(path)
			if err != nil {
				t.Fatal(err)
			}
			got := events.NewBatch(0)
			buf := events.NewBatch(777)
			for {
				err := r.Read(buf)
				got.AppendBatch(buf)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			m := r.Meta()
			r.Close()
			if d := got.FirstDifference(b); d >= 0 {
				t.Fatalf("batch %d, compression %q: first difference at event %d (%d vs %d events)", bi, comp, d, got.Len(), b.Len())
			}
			if m.Format != "parquet" || m.Kind != events.KindRecording || m.Geometry != meta.Geometry ||
				m.Source != meta.Source || m.Transforms != meta.Transforms {
				t.Fatalf("meta %+v", m)
			}
		}
	}
}

// TestDatasetRoundTrip: samples come back by index in any order, with labels (null included), ids and
// the dataset metadata; row groups close on the sample or the event bound.
func TestDatasetRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var samples []events.Sample
	for i, b := range append(edgeBatches(), randomBatch(rng, 50000), randomBatch(rng, 3)) {
		label := int32(i % 3)
		if i == 2 {
			label = events.NoLabel
		}
		samples = append(samples, events.Sample{Label: label, ID: "clip/" + string(rune('a'+i)), Events: *b})
	}
	meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 128, Height: 128},
		Classes: []string{"left", "right", "up"}, Source: "gestures"}
	for _, o := range []Options{{}, {RowGroupSamples: 2}, {RowGroupEvents: 20000, Compression: "lz4"}} {
		path := filepath.Join(t.TempDir(), "ds.parquet")
		createDataset(t, path, meta, o, samples)
		d, err := OpenDataset(path)
		if err != nil {
			t.Fatal(err)
		}
		if d.NumSamples() != len(samples) {
			t.Fatalf("%d samples; want %d", d.NumSamples(), len(samples))
		}
		var s events.Sample
		for _, i := range rng.Perm(len(samples)) {
			if err := d.ReadSample(i, &s); err != nil {
				t.Fatal(err)
			}
			want := &samples[i]
			if s.Label != want.Label || s.ID != want.ID || !s.Events.Equal(&want.Events) {
				t.Fatalf("options %+v, sample %d: label %d id %q, %d events; want %d %q %d", o, i, s.Label, s.ID,
					s.Events.Len(), want.Label, want.ID, want.Events.Len())
			}
		}
		if err := d.ReadSample(len(samples), &s); err == nil {
			t.Fatal("reading past the last sample succeeded")
		}
		m := d.Meta()
		d.Close()
		if m.Kind != events.KindDataset || strings.Join(m.Classes, ",") != "left,right,up" || m.Geometry != meta.Geometry {
			t.Fatalf("meta %+v", m)
		}
	}
}

// TestEmptyDataset: a dataset without samples is a valid file with no row groups.
func TestEmptyDataset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.parquet")
	w, err := CreateDataset(path, events.Meta{Kind: events.KindDataset}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var s events.Sample
	if d.NumSamples() != 0 || d.ReadSample(0, &s) == nil {
		t.Fatalf("%d samples", d.NumSamples())
	}
}

// TestRegistry: detection by magic, Create/Open through the registry with -O params, atomic output.
func TestRegistry(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.parquet")
	f, err := formats.OutputFormat(path, "")
	if err != nil || f.Name != "parquet" {
		t.Fatalf("OutputFormat = %v, %v", f, err)
	}
	o := formats.Options{Params: map[string]string{"row-group-samples": "1"}}
	sink, err := f.Create(path, events.Meta{Kind: events.KindDataset, Classes: []string{"a"}}, o)
	if err != nil {
		t.Fatal(err)
	}
	sw := sink.Samples
	for i := 0; i < 3; i++ {
		s := events.Sample{Label: 0, ID: "s", Events: *events.FromEvents(event(int64(i), 1, 1, 1))}
		if err := sw.WriteSample(&s); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.WriteSample(&events.Sample{Label: 1}); err == nil {
		t.Fatal("label outside the classes accepted")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("output visible before Close")
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(dir, "noext")
	os.Rename(path, renamed)
	src, g, err := formats.Open(renamed, "", formats.Options{})
	if err != nil || g.Name != "parquet" {
		t.Fatalf("detect: %v %v", g, err)
	}
	defer src.Close()
	sr := src.Samples
	if sr.NumSamples() != 3 {
		t.Fatalf("%d samples", sr.NumSamples())
	}
	if pf := sr.(*DatasetReader); pf.pr.NumRowGroups() != 3 {
		t.Fatalf("%d row groups; want 3 (row-group-samples=1)", pf.pr.NumRowGroups())
	}
	aborted := filepath.Join(dir, "aborted.parquet")
	sink, err = f.Create(aborted, events.Meta{}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sink.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("Abort left files behind: %v", entries)
	}
	if _, err := f.Create(aborted, events.Meta{}, formats.Options{Compression: "brotli9"}); err == nil {
		t.Fatal("unknown compression accepted")
	}
}

// TestReadsPlainParquet: files another writer made with the same columns but no ARROW:schema, other
// nullability (optional columns, required list items, an optional list), the older converted types instead
// of logical types, plain encodings and other page sizes read too.
func TestReadsPlainParquet(t *testing.T) {
	meta := events.Meta{Geometry: events.Geometry{Width: 34, Height: 34}, Source: "plain"}
	want := events.FromEvents(event(1, 2, 3, 1), event(4, 5, 6, 0), event(9, 33, 0, 1))
	node := func(name string, rep parquet.Repetition, phys parquet.Type, conv schema.ConvertedType) schema.Node {
		n, err := schema.NewPrimitiveNodeConverted(name, rep, phys, conv, 0, 0, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	opt, req := parquet.Repetitions.Optional, parquet.Repetitions.Required
	props := parquet.NewWriterProperties(parquet.WithDictionaryDefault(false), parquet.WithDataPageSize(8))
	kv := func(m events.Meta) metadata.KeyValueMetadata {
		out := metadata.NewKeyValueMetadata()
		md := evarrow.MetaToMetadata(m)
		for i, k := range md.Keys() {
			out.Append(k, md.Values()[i])
		}
		return out
	}
	write := func(root *schema.GroupNode, m events.Meta, cols func(i int, cw file.ColumnChunkWriter) error) string {
		var buf bytes.Buffer
		fw := file.NewParquetWriter(&buf, root, file.WithWriterProps(props), file.WithWriteMetadata(kv(m)))
		rg := fw.AppendRowGroup()
		for i := 0; i < root.NumFields(); i++ {
			cw, err := rg.NextColumn()
			if err != nil {
				t.Fatal(err)
			}
			if err := cols(i, cw); err != nil {
				t.Fatal(err)
			}
		}
		if err := rg.Close(); err != nil {
			t.Fatal(err)
		}
		if err := fw.Close(); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(buf.Bytes(), []byte("ARROW:schema")) {
			t.Fatal("the plain file carries ARROW:schema")
		}
		path := filepath.Join(t.TempDir(), "plain.parquet")
		os.WriteFile(path, buf.Bytes(), 0o644)
		return path
	}
	int32s := func(v []uint16) []int32 {
		out := make([]int32, len(v))
		for i := range v {
			out[i] = int32(v[i])
		}
		return out
	}

	// A recording of optional columns with converted types.
	root, _ := schema.NewGroupNode("schema", req, schema.FieldList{
		node("t", opt, parquet.Types.Int64, schema.ConvertedTypes.Int64),
		node("x", opt, parquet.Types.Int32, schema.ConvertedTypes.Uint16),
		node("y", opt, parquet.Types.Int32, schema.ConvertedTypes.Uint16),
		node("p", opt, parquet.Types.Int32, schema.ConvertedTypes.Uint8),
	}, -1)
	ones := []int16{1, 1, 1}
	path := write(root, meta, func(i int, cw file.ColumnChunkWriter) error {
		var err error
		switch i {
		case 0:
			_, err = cw.(*file.Int64ColumnChunkWriter).WriteBatch(want.T, ones, nil)
		case 1:
			_, err = cw.(*file.Int32ColumnChunkWriter).WriteBatch(int32s(want.X), ones, nil)
		case 2:
			_, err = cw.(*file.Int32ColumnChunkWriter).WriteBatch(int32s(want.Y), ones, nil)
		case 3:
			_, err = cw.(*file.Int32ColumnChunkWriter).WriteBatch([]int32{1, 0, 1}, ones, nil)
		}
		return err
	})
	r, err := OpenRecording(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.ReadAll(r)
	r.Close()
	if err != nil || !got.Equal(want) || r.Meta().Source != "plain" || r.Meta().Geometry != meta.Geometry {
		t.Fatalf("read %v, %v, meta %+v", got, err, r.Meta())
	}

	// A dataset with a required label, an optional list of required items and the older two-level list.
	list := func(name string, item schema.Node, rep parquet.Repetition) schema.Node {
		g, err := schema.ListOf(item, rep, -1)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	legacy, _ := schema.NewGroupNodeConverted("p", req, schema.FieldList{node("p", parquet.Repetitions.Repeated, parquet.Types.Int32, schema.ConvertedTypes.Uint8)}, schema.ConvertedTypes.List, -1)
	root, _ = schema.NewGroupNode("schema", req, schema.FieldList{
		node("label", req, parquet.Types.Int32, schema.ConvertedTypes.None),
		node("id", opt, parquet.Types.ByteArray, schema.ConvertedTypes.UTF8),
		list("t", node("t", req, parquet.Types.Int64, schema.ConvertedTypes.None), opt),
		list("x", node("x", req, parquet.Types.Int32, schema.ConvertedTypes.Uint16), opt),
		list("y", node("y", opt, parquet.Types.Int32, schema.ConvertedTypes.Uint16), req),
		legacy,
	}, -1)
	dsMeta := meta
	dsMeta.Kind, dsMeta.Classes = events.KindDataset, []string{"a", "b"}
	// Rows: sample 0 = the three events, sample 1 = a null list (t, x) or an empty one (y, p).
	path = write(root, dsMeta, func(i int, cw file.ColumnChunkWriter) error {
		rep := []int16{0, 1, 1, 0}
		var err error
		switch i {
		case 0:
			_, err = cw.(*file.Int32ColumnChunkWriter).WriteBatch([]int32{1, 0}, nil, nil)
		case 1:
			_, err = cw.(*file.ByteArrayColumnChunkWriter).WriteBatch([]parquet.ByteArray{parquet.ByteArray("s0")}, []int16{1, 0}, nil)
		case 2:
			_, err = cw.(*file.Int64ColumnChunkWriter).WriteBatch(want.T, []int16{2, 2, 2, 0}, rep)
		case 3:
			_, err = cw.(*file.Int32ColumnChunkWriter).WriteBatch(int32s(want.X), []int16{2, 2, 2, 0}, rep)
		case 4:
			_, err = cw.(*file.Int32ColumnChunkWriter).WriteBatch(int32s(want.Y), []int16{2, 2, 2, 0}, rep)
		case 5:
			_, err = cw.(*file.Int32ColumnChunkWriter).WriteBatch([]int32{1, 0, 1}, []int16{1, 1, 1, 0}, rep)
		}
		return err
	})
	d, err := OpenDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var s events.Sample
	if err := d.ReadSample(0, &s); err != nil || s.Label != 1 || s.ID != "s0" || !s.Events.Equal(want) {
		t.Fatalf("sample 0: %v, label %d id %q events %v", err, s.Label, s.ID, s.Events)
	}
	if err := d.ReadSample(1, &s); err != nil || s.Label != 0 || s.ID != "" || s.Events.Len() != 0 {
		t.Fatalf("sample 1: %v, label %d id %q events %v", err, s.Label, s.ID, s.Events)
	}
	if m := d.Meta(); strings.Join(m.Classes, ",") != "a,b" {
		t.Fatalf("meta %+v", m)
	}
}

// TestCorruptFiles: truncations, flipped bytes, overwritten lengths and deleted bytes — mostly in the
// footer, where the lengths live — give errors (after the good events), never a panic or a giant
// allocation. (This harness found the two out-of-memory cases guarded against in reader.go.)
func TestCorruptFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	b := randomBatch(rng, 5000)
	var rec, ds bytes.Buffer
	w, err := NewRecordingWriter(&rec, "x", events.Meta{}, Options{RowGroupEvents: 1000})
	record(t, w, err, b)
	dw, err := NewDatasetWriter(&ds, "x", events.Meta{Kind: events.KindDataset}, Options{RowGroupSamples: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		part := b.Slice(i*100, i*100+100)
		if err := dw.WriteSample(&events.Sample{Label: events.NoLabel, ID: "s", Events: part}); err != nil {
			t.Fatal(err)
		}
	}
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	check := func(data []byte) {
		n, err := decodeAll(data)
		var de *events.DecodeError
		if err != nil && !errors.As(err, &de) && !strings.Contains(err.Error(), "fuzz.parquet") {
			t.Fatalf("error %v does not name the file", err)
		}
		if err == nil && bytes.Equal(data, rec.Bytes()) && n != b.Len() {
			t.Fatalf("%d events from the intact file", n)
		}
	}
	check(nil)
	check([]byte("PAR1"))
	check(rec.Bytes())
	for _, good := range [][]byte{rec.Bytes(), ds.Bytes()} {
		for _, cut := range []int{8, len(good) / 3, len(good) - 9, len(good) - 1} {
			check(good[:cut])
		}
		for i := 0; i < 1000; i++ {
			bad := append([]byte{}, good...)
			for k := 0; k < 1+i%3; k++ {
				pos := rng.IntN(len(bad) - 4)
				if rng.IntN(2) == 0 {
					pos = len(bad) - 5 - rng.IntN(min(len(bad)-5, 3000))
				}
				switch rng.IntN(4) {
				case 0:
					bad[pos] ^= byte(1 + rng.IntN(255))
				case 1:
					binary.LittleEndian.PutUint32(bad[pos:], []uint32{0xFFFFFFFF, 0x7FFFFFFF, 0x10000000, 0}[rng.IntN(4)])
				case 2:
					bad[pos] = []byte{0x15, 0x16, 0x19, 0x1c, 0x26, 0xff, 0x7f, 0x80}[rng.IntN(8)] // thrift field headers
				case 3:
					bad = append(bad[:pos], bad[min(len(bad), pos+1+rng.IntN(8)):]...)
				}
			}
			check(bad)
		}
	}
}

// TestStoredArrowSchema: the ARROW:schema an Arrow reader (pyarrow, polars) takes the column types from is
// evarrow's layout — x and y as uint16 — with list items named "element" as their Parquet groups, and the
// evtool metadata.
func TestStoredArrowSchema(t *testing.T) {
	meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: 34, Height: 34}, Classes: []string{"a"}}
	var buf bytes.Buffer
	w, err := NewDatasetWriter(&buf, "x", meta, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSample(&events.Sample{Label: 0, ID: "s", Events: *events.FromEvents(event(1, 2, 3, 1))}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pr, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	stored := pr.MetaData().KeyValueMetadata().FindValue("ARROW:schema")
	if stored == nil {
		t.Fatal("no ARROW:schema")
	}
	raw, err := base64.StdEncoding.DecodeString(*stored)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := ipc.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	got := rd.Schema()
	want := evarrow.DatasetSchema(meta)
	if got.NumFields() != want.NumFields() {
		t.Fatalf("stored schema %s", got)
	}
	for i, f := range want.Fields() {
		g := got.Field(i)
		if l, ok := f.Type.(*arrow.ListType); ok {
			gl, ok := g.Type.(*arrow.ListType)
			if !ok || gl.ElemField().Name != "element" || !arrow.TypeEqual(gl.Elem(), l.Elem()) || !gl.ElemField().Nullable {
				t.Errorf("stored column %s: %s; want a list of nullable %s items named element", f.Name, g.Type, l.Elem())
			}
		} else if g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) || g.Nullable != f.Nullable {
			t.Errorf("stored column %v; want %v", g, f)
		}
	}
	if md := got.Metadata(); md.FindKey(evarrow.KeyKind) < 0 || md.Values()[md.FindKey(evarrow.KeyKind)] != "dataset" {
		t.Fatalf("stored schema has no evtool metadata: %v", md)
	}
}

// TestDocsListTheCodecs: the format page and the README name exactly the codecs the writer offers (and the
// CLI accepts, from the registry), in order.
func TestDocsListTheCodecs(t *testing.T) {
	names := codecNames()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "formats-csv-npy-parquet.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sentence, ok := strings.Cut(strings.Join(strings.Fields(string(doc)), " "), "commonly accept: ")
	sentence, _, _ = strings.Cut(sentence, ";")
	var listed []string
	for i, part := range strings.Split(sentence, "`") {
		if i%2 == 1 && part != "LZ4_RAW" {
			listed = append(listed, part)
		}
	}
	if !ok || strings.Join(listed, ",") != strings.Join(names, ",") {
		t.Errorf("docs/formats-csv-npy-parquet.md lists the codecs %v; the writer offers %v", listed, names)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]; !strings.Contains(string(readme), want) {
		t.Errorf("README's Parquet row does not say %q", want)
	}
}
