// Package parquet reads and writes evtool's two event layouts as Apache Parquet files, the format
// distributed engines (Spark, Ray, DuckDB, polars) read natively:
//
//   - recording: columns t:int64, x:uint16, y:uint16, p:uint8, one row per event, row groups of a bounded
//     number of events;
//   - dataset: one row per sample: label:int32 (null when unknown), id:utf8, t:list<int64>,
//     x:list<uint16>, y:list<uint16>, p:list<uint8>, row groups of a bounded number of samples and events.
//
// It goes through arrow-go's low-level column writers and readers (parquet/file), with the schemas and
// the repetition/definition levels written out here (schema.go), not through pqarrow, which links gRPC
// and arrow's compute kernels into the binary.
//
// The Arrow schemas and the evtool.* metadata are those of formats/evarrow. The metadata is stored twice:
// inside the serialised Arrow schema (key ARROW:schema, for Arrow readers such as pyarrow and polars) and
// as plain Parquet key-value pairs, so that tools which ignore ARROW:schema (DuckDB's
// parquet_kv_metadata) see it too. The reader relies on the plain pairs and the Parquet logical types only.
//
// Encodings are chosen for size (measured on the N-MNIST fixtures, docs/formats-csv-npy-parquet.md): t is
// DELTA_BINARY_PACKED (event times rise slowly, so their deltas pack into ~8 bits); x, y and p are
// dictionary-encoded (a sensor has few distinct coordinates). For x and y evtool builds each row group's
// dictionary itself and pads a small one to 129 entries, so every index is one whole byte that zstd's
// entropy coder shrinks to ~4.5 bits (6-bit packed indices stay ~5.3 bits). BYTE_STREAM_SPLIT would do as
// well, but DuckDB 1.5 rejects it for integer columns, and DuckDB must read our files. Pages are
// zstd-compressed by default.
package parquet

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/evarrow"
)

// Magic starts and ends every Parquet file.
const Magic = "PAR1"

const (
	// DefaultRowGroupEvents bounds a recording's row group (and a dataset's, counted in events), so that
	// readers and writers hold at most ~15 MB of decoded columns at a time.
	DefaultRowGroupEvents = 1 << 20
	// DefaultRowGroupSamples bounds the samples per dataset row group; random access to one sample decodes
	// its whole row group.
	DefaultRowGroupSamples = 64
	// zstdLevel: klauspost's "better compression" level. On N-MNIST it is as small as any level (higher
	// levels made the delta-packed t column larger) and still fast.
	zstdLevel = 7
)

// Codecs are the page compressions the writer offers, by the names Options.Compression and the CLI's
// --compression take; the first is the default. They are the codecs Parquet readers commonly accept
// (pyarrow, polars, DuckDB, Spark without extra jars); "lz4" is written as LZ4_RAW, the block format the
// Parquet spec recommends (the older LZ4 codec was ambiguous between framings).
var Codecs = []struct {
	Name  string
	Codec compress.Compression
}{
	{"zstd", compress.Codecs.Zstd},
	{"snappy", compress.Codecs.Snappy},
	{"gzip", compress.Codecs.Gzip},
	{"lz4", compress.Codecs.Lz4Raw},
	{"none", compress.Codecs.Uncompressed},
}

func codecNames() []string {
	names := make([]string, len(Codecs))
	for i, c := range Codecs {
		names[i] = c.Name
	}
	return names
}

func init() {
	formats.Register(&formats.Format{
		Name:          "parquet",
		Description:   "Apache Parquet, evtool recording or dataset layout (t delta-encoded, x/y/p dictionary)",
		Extensions:    []string{".parquet", ".pq"},
		Detect:        func(head []byte) bool { return formats.HasPrefix(head, Magic) },
		NewReader:     NewReader,
		RandomAccess:  true,
		Create:        Create,
		DatasetCreate: true,
		Compressions:  codecNames(),
		// The footer indexes every row group. arrow-go's AVX2 bit unpacking allocates 24 bytes for each
		// literal run of dictionary indices (≤ 504 values) of x, y and p: about 8 per 1,000 events.
		Conformance: formats.Conformance{Framed: true, LibraryAllocs: 10},
		Params: map[string]string{
			"row-group-events":  fmt.Sprintf("events per row group of a recording; a dataset row group is closed once it holds this many events (default %d)", DefaultRowGroupEvents),
			"row-group-samples": fmt.Sprintf("samples per row group of a dataset (default %d)", DefaultRowGroupSamples),
		},
	})
}

// Options tune the writers.
type Options struct {
	// Compression is one of Codecs by name; empty means the first (zstd).
	Compression string
	// RowGroupEvents bounds the events of a row group (default DefaultRowGroupEvents).
	RowGroupEvents int
	// RowGroupSamples bounds the samples of a dataset row group (default DefaultRowGroupSamples).
	RowGroupSamples int
}

func (o Options) withDefaults() Options {
	if o.RowGroupEvents <= 0 {
		o.RowGroupEvents = DefaultRowGroupEvents
	}
	if o.RowGroupSamples <= 0 {
		o.RowGroupSamples = DefaultRowGroupSamples
	}
	return o
}

// codec maps a compression name onto its Parquet codec.
func codec(name string) (compress.Compression, error) {
	if name == "" {
		return Codecs[0].Codec, nil
	}
	for _, c := range Codecs {
		if strings.EqualFold(name, c.Name) {
			return c.Codec, nil
		}
	}
	return 0, fmt.Errorf("unknown compression %q for Parquet (want %s)", name, formats.List(codecNames()))
}

// writerProperties sets the codec and the per-column encodings: t DELTA_BINARY_PACKED, every other column
// dictionary-encoded (arrow-go's default). For a dataset the leaf columns are the list elements
// ("t.list.element"), for a recording the plain column names.
func writerProperties(kind events.Kind, o Options) (*parquet.WriterProperties, error) {
	c, err := codec(o.Compression)
	if err != nil {
		return nil, err
	}
	t := evarrow.ColT
	if kind == events.KindDataset {
		t += ".list.element"
	}
	props := []parquet.WriterProperty{
		parquet.WithCompression(c),
		parquet.WithCreatedBy("evtool"),
		parquet.WithDictionaryFor(t, false),
		parquet.WithEncodingFor(t, parquet.Encodings.DeltaBinaryPacked),
	}
	if c == compress.Codecs.Zstd {
		props = append(props, parquet.WithCompressionLevel(zstdLevel))
	}
	return parquet.NewWriterProperties(props...), nil
}

// Create writes a recording or, for meta.Kind == dataset, a dataset at path, with the -O options
// (row group sizes) and o.Compression: the shape every format package has; CreateRecording and
// CreateDataset take this package's Options.
func Create(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
	rge, err := o.IntParam("row-group-events", 0)
	if err != nil {
		return formats.Sink{}, err
	}
	rgs, err := o.IntParam("row-group-samples", 0)
	if err != nil {
		return formats.Sink{}, err
	}
	if rge < 0 {
		return formats.Sink{}, o.BadParam("row-group-events", "want a positive number")
	}
	if rgs < 0 {
		return formats.Sink{}, o.BadParam("row-group-samples", "want a positive number")
	}
	opts := Options{Compression: o.Compression, RowGroupEvents: rge, RowGroupSamples: rgs}
	if meta.Kind == events.KindDataset {
		return formats.SampleSink(CreateDataset(path, meta, opts))
	}
	return formats.EventSink(CreateRecording(path, meta, opts))
}
