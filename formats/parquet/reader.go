package parquet

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/formats/internal/input"
)

// guard turns a panic inside arrow-go, possible on corrupt input, into a decode error.
func guard(path string, offset int64, err *error) {
	if r := recover(); r != nil {
		*err = &events.DecodeError{Path: path, Offset: offset, Msg: fmt.Sprintf("corrupt Parquet data (%v)", r)}
	}
}

// pqFile is what both readers share: the open file, the Arrow view of it and the parsed metadata.
type pqFile struct {
	path   string
	closer io.Closer
	size   int64 // of the file, to check the byte ranges the footer claims
	pr     *file.Reader
	fr     *pqarrow.FileReader
	meta   events.Meta
	cols   []int // leaf column indices in layout order (recording: t,x,y,p; dataset: label,id,t,x,y,p)
}

// Open opens an evtool Parquet file: a recording (Source.Events is a *RecordingReader) or a dataset
// (Source.Samples is a *DatasetReader), by its layout.
func Open(path string, o formats.Options) (formats.Source, error) {
	return input.Open(path, func(f *os.File) (formats.Source, error) { return NewReader(f, path, o) })
}

// NewReader reads an evtool Parquet file from r, which must give random access (an *os.File,
// *bytes.Reader or *io.SectionReader); r is closed by Close when it is an io.Closer.
func NewReader(r io.Reader, name string, _ formats.Options) (formats.Source, error) {
	ra, size, ok := input.RandomAccess(r)
	if !ok {
		return formats.Source{}, fmt.Errorf("%s: a Parquet file keeps its footer at the end: reading it needs random access (a file, not a stream)", name)
	}
	closer, _ := r.(io.Closer)
	pf, err := openReader(io.NewSectionReader(ra, 0, size), closer, name)
	if err != nil {
		return formats.Source{}, err
	}
	if pf.meta.Kind == events.KindDataset {
		return formats.SampleSource(newDatasetReader(pf))
	}
	return formats.Source{Events: &RecordingReader{pqFile: pf}}, nil
}

func openFile(path string) (*pqFile, error) {
	return input.Open(path, func(f *os.File) (*pqFile, error) { return openReader(f, f, path) })
}

// checkMagic tells a file that is not Parquet from one cut short: a Parquet file starts and ends with
// PAR1, so one that starts with it (or with part of it) but does not end with it is truncated.
func checkMagic(f io.ReaderAt, size int64, path string) error {
	head := make([]byte, min(size, 4))
	if _, err := f.ReadAt(head, 0); err != nil && err != io.EOF {
		return &events.DecodeError{Path: path, Msg: "read failed", Err: err}
	}
	if !strings.HasPrefix(Magic, string(head)) {
		return &events.DecodeError{Path: path, Msg: "not a Parquet file (it does not start with PAR1)"}
	}
	var tail [4]byte
	if size >= 12 {
		if _, err := f.ReadAt(tail[:], size-4); err != nil && err != io.EOF {
			return &events.DecodeError{Path: path, Offset: size - 4, Msg: "read failed", Err: err}
		}
	}
	if size < 12 || string(tail[:]) != Magic {
		return &events.DecodeError{Path: path, Offset: size, Msg: "file does not end with the Parquet footer and PAR1: it is cut short", Err: events.ErrTruncated}
	}
	return nil
}

// openReader reads the footer and schema of the Parquet data in f; closer is closed by close(), name is
// used in errors.
func openReader(f parquet.ReaderAtSeeker, closer io.Closer, path string) (pf *pqFile, err error) {
	defer guard(path, 0, &err)
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkMagic(f, size, path); err != nil {
		return nil, err
	}
	pr, err := file.NewParquetReader(f)
	if err != nil {
		return nil, &events.DecodeError{Path: path, Offset: 0, Msg: "not a readable Parquet file", Err: err}
	}
	dropArrowSchema(pr.MetaData())
	fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		pr.Close()
		return nil, &events.DecodeError{Path: path, Msg: "Parquet schema does not map onto Arrow", Err: err}
	}
	schema, err := fr.Schema()
	if err != nil {
		pr.Close()
		return nil, &events.DecodeError{Path: path, Msg: "Parquet schema does not map onto Arrow", Err: err}
	}
	meta, err := evarrow.MetaFromMetadata(metadataOf(schema, pr))
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	meta.Format = "parquet"
	if len(schema.FieldIndices(evarrow.ColLabel)) > 0 || len(schema.FieldIndices(evarrow.ColID)) > 0 {
		meta.Kind = events.KindDataset
	}
	want := evarrow.RecordingSchema(meta)
	if meta.Kind == events.KindDataset {
		want = evarrow.DatasetSchema(meta)
	}
	cols, err := layoutColumns(schema, want)
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("%s: not an evtool %s file: %w", path, meta.Kind, err)
	}
	return &pqFile{path: path, closer: closer, size: size, pr: pr, fr: fr, meta: meta, cols: cols}, nil
}

// dropArrowSchema removes the serialised Arrow schema from the footer before pqarrow sees it. arrow-go
// trusts the lengths in that flatbuffer: a corrupt one made it allocate tens of GB and die (found by
// FuzzOpen), and a runtime out-of-memory cannot be recovered. Nothing is lost: the Parquet logical types
// give our columns their Arrow types (uint16, uint8, list<…>) and the evtool keys are also stored as
// plain key-value pairs.
func dropArrowSchema(md *metadata.FileMetaData) {
	if md == nil || md.FileMetaData == nil {
		return
	}
	kvs := md.FileMetaData.KeyValueMetadata
	kept := kvs[:0:0]
	for _, kv := range kvs {
		if kv != nil && kv.Key != "ARROW:schema" {
			kept = append(kept, kv)
		}
	}
	md.FileMetaData.KeyValueMetadata = kept
}

// metadataOf returns the evtool metadata: the Arrow schema's, else the plain Parquet key-value pairs.
func metadataOf(schema *arrow.Schema, pr *file.Reader) arrow.Metadata {
	if md := schema.Metadata(); md.FindKey(evarrow.KeyKind) >= 0 {
		return md
	}
	kv := pr.MetaData().KeyValueMetadata()
	var keys, vals []string
	for _, k := range kv.Keys() {
		if v := kv.FindValue(k); v != nil {
			keys, vals = append(keys, k), append(vals, *v)
		}
	}
	return arrow.NewMetadata(keys, vals)
}

// layoutColumns finds the columns of a layout by name and checks their types. List element nullability
// is not compared: other writers differ there and it does not change the values.
func layoutColumns(s *arrow.Schema, want *arrow.Schema) ([]int, error) {
	cols := make([]int, 0, want.NumFields())
	for _, wf := range want.Fields() {
		idx := s.FieldIndices(wf.Name)
		if len(idx) != 1 {
			return nil, fmt.Errorf("column %q is missing (want %s)", wf.Name, describe(want))
		}
		got := s.Field(idx[0]).Type
		ok := arrow.TypeEqual(got, wf.Type)
		if gl, isList := got.(*arrow.ListType); isList {
			if wl, wantList := wf.Type.(*arrow.ListType); wantList {
				ok = arrow.TypeEqual(gl.Elem(), wl.Elem())
			}
		}
		if !ok {
			return nil, fmt.Errorf("column %q has type %s; want %s", wf.Name, got, wf.Type)
		}
		cols = append(cols, idx[0])
	}
	return cols, nil
}

func describe(s *arrow.Schema) string {
	out := ""
	for i, f := range s.Fields() {
		if i > 0 {
			out += ", "
		}
		out += f.Name + ":" + f.Type.String()
	}
	return out
}

func (pf *pqFile) close() error {
	pf.pr.Close()
	if pf.closer != nil {
		return pf.closer.Close()
	}
	return nil
}

// rowGroupOffset is where row group i starts in the file, for error messages.
func (pf *pqFile) rowGroupOffset(i int) int64 {
	rg := pf.pr.MetaData().RowGroup(i)
	if rg == nil {
		return 0
	}
	if off := rg.FileOffset(); off > 0 {
		return off
	}
	if cc, err := rg.ColumnChunk(0); err == nil {
		return cc.DataPageOffset()
	}
	return 0
}

// checkChunks verifies that the column chunks of row group i lie inside the file. arrow-go allocates
// what the footer claims before reading, so a corrupt length would otherwise ask for gigabytes.
func (pf *pqFile) checkChunks(i int) error {
	rg := pf.pr.MetaData().RowGroup(i)
	for c := 0; c < rg.NumColumns(); c++ {
		cc, err := rg.ColumnChunk(c)
		if err != nil {
			return &events.DecodeError{Path: pf.path, Offset: pf.rowGroupOffset(i), Msg: fmt.Sprintf("row group %d, column %d", i, c), Err: err}
		}
		start := cc.DataPageOffset()
		if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
			start = cc.DictionaryPageOffset()
		}
		n := cc.TotalCompressedSize()
		if start < 4 || n < 0 || n > pf.size || start > pf.size-n {
			return &events.DecodeError{Path: pf.path, Offset: max(0, min(start, pf.size)),
				Msg: fmt.Sprintf("row group %d, column %d claims bytes %d..%d of a %d-byte file", i, c, start, start+n, pf.size)}
		}
	}
	return nil
}

// readRowGroup decodes the layout's columns of row group i, each as one contiguous array (the caller
// releases them).
func (pf *pqFile) readRowGroup(i int) (arrs []arrow.Array, err error) {
	off := pf.rowGroupOffset(i)
	defer guard(pf.path, off, &err)
	if err := pf.checkChunks(i); err != nil {
		return nil, err
	}
	tbl, err := pf.fr.RowGroup(i).ReadTable(context.Background(), pf.cols)
	if err != nil {
		return nil, &events.DecodeError{Path: pf.path, Offset: off, Msg: fmt.Sprintf("row group %d", i), Err: err}
	}
	defer tbl.Release()
	rows := tbl.NumRows()
	want := pf.pr.MetaData().RowGroup(i).NumRows()
	if rows != want {
		return nil, &events.DecodeError{Path: pf.path, Offset: off,
			Msg: fmt.Sprintf("row group %d decodes to %d rows; its metadata says %d", i, rows, want)}
	}
	arrs = make([]arrow.Array, tbl.NumCols())
	for c := range arrs {
		chunks := tbl.Column(c).Data().Chunks()
		if len(chunks) == 1 {
			chunks[0].Retain()
			arrs[c] = chunks[0]
		} else if arrs[c], err = array.Concatenate(chunks, memory.DefaultAllocator); err != nil {
			releaseAll(arrs)
			return nil, &events.DecodeError{Path: pf.path, Offset: off, Msg: fmt.Sprintf("row group %d", i), Err: err}
		}
	}
	return arrs, nil
}

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		if a != nil {
			a.Release()
		}
	}
}

// RecordingReader streams a recording-layout file row group by row group: memory is bounded by the
// largest row group.
type RecordingReader struct {
	*pqFile
	next    int // next row group
	arrs    []arrow.Array
	t       []int64
	x, y    []uint16
	p       []uint8
	pos     int   // next row of the current row group
	pending error // fault to report after the good events
	failed  bool
}

// OpenRecording opens a recording-layout file.
func OpenRecording(path string) (*RecordingReader, error) {
	pf, err := openFile(path)
	if err != nil {
		return nil, err
	}
	if pf.meta.Kind != events.KindRecording {
		pf.close()
		return nil, fmt.Errorf("%s is a dataset file, not a recording", path)
	}
	return &RecordingReader{pqFile: pf}, nil
}

// Meta describes the recording.
func (r *RecordingReader) Meta() events.Meta { return r.meta }

// Read fills dst with the next events (up to cap(dst.T), or 65536 when dst has no capacity).
func (r *RecordingReader) Read(dst *events.Batch) error {
	dst.Reset()
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	for dst.Len() < want && !r.failed {
		if r.pos >= len(r.t) {
			if r.next >= r.pr.NumRowGroups() {
				break
			}
			if err := r.load(r.next); err != nil {
				r.pending, r.failed = err, true
				break
			}
			r.next++
			continue
		}
		n := min(len(r.t)-r.pos, want-dst.Len())
		dst.T = append(dst.T, r.t[r.pos:r.pos+n]...)
		dst.X = append(dst.X, r.x[r.pos:r.pos+n]...)
		dst.Y = append(dst.Y, r.y[r.pos:r.pos+n]...)
		dst.P = append(dst.P, r.p[r.pos:r.pos+n]...)
		r.pos += n
	}
	if dst.Len() > 0 {
		return nil
	}
	if r.pending != nil {
		err := r.pending
		r.pending = nil
		return err
	}
	return io.EOF
}

// load makes row group i current.
func (r *RecordingReader) load(i int) error {
	arrs, err := r.readRowGroup(i)
	if err != nil {
		return err
	}
	for _, a := range arrs {
		if a.NullN() > 0 {
			releaseAll(arrs)
			return &events.DecodeError{Path: r.path, Offset: r.rowGroupOffset(i),
				Msg: fmt.Sprintf("row group %d: column %s holds nulls; events cannot be null", i, a.DataType())}
		}
	}
	releaseAll(r.arrs)
	r.arrs = arrs
	r.t = arrs[0].(*array.Int64).Int64Values()
	r.x = arrs[1].(*array.Uint16).Uint16Values()
	r.y = arrs[2].(*array.Uint16).Uint16Values()
	r.p = arrs[3].(*array.Uint8).Uint8Values()
	r.pos = 0
	return nil
}

// Close releases the file.
func (r *RecordingReader) Close() error {
	releaseAll(r.arrs)
	r.arrs, r.t, r.x, r.y, r.p = nil, nil, nil, nil, nil
	return r.close()
}

// DatasetReader gives random access to the samples of a dataset-layout file: the row-group sizes in the
// footer locate any sample, and only its row group is decoded (the last one stays cached, so reading
// samples in order decodes each row group once).
type DatasetReader struct {
	*pqFile
	starts []int // starts[g] = index of the first sample of row group g; len = row groups + 1
	cached int
	arrs   []arrow.Array
}

// OpenDataset opens a dataset-layout file.
func OpenDataset(path string) (*DatasetReader, error) {
	pf, err := openFile(path)
	if err != nil {
		return nil, err
	}
	if pf.meta.Kind != events.KindDataset {
		pf.close()
		return nil, fmt.Errorf("%s is a recording file, not a dataset", path)
	}
	return newDatasetReader(pf)
}

func newDatasetReader(pf *pqFile) (*DatasetReader, error) {
	ng := pf.pr.NumRowGroups()
	d := &DatasetReader{pqFile: pf, cached: -1, starts: make([]int, ng+1)}
	for g := 0; g < ng; g++ {
		n := pf.pr.MetaData().RowGroup(g).NumRows()
		if n < 0 || n > 1<<31 {
			pf.close()
			return nil, &events.DecodeError{Path: pf.path, Offset: pf.rowGroupOffset(g),
				Msg: fmt.Sprintf("row group %d claims %d rows", g, n)}
		}
		d.starts[g+1] = d.starts[g] + int(n)
	}
	return d, nil
}

// Meta describes the dataset.
func (d *DatasetReader) Meta() events.Meta { return d.meta }

// NumSamples is the number of samples in the file.
func (d *DatasetReader) NumSamples() int { return d.starts[len(d.starts)-1] }

// ReadSample decodes sample i into dst, reusing its buffers.
func (d *DatasetReader) ReadSample(i int, dst *events.Sample) (err error) {
	if i < 0 || i >= d.NumSamples() {
		return fmt.Errorf("%s: sample %d does not exist (the file holds %d)", d.path, i, d.NumSamples())
	}
	g := d.rowGroupOf(i)
	defer guard(d.path, d.rowGroupOffset(g), &err)
	if d.cached != g {
		arrs, err := d.readRowGroup(g)
		if err != nil {
			return err
		}
		releaseAll(d.arrs)
		d.arrs, d.cached = arrs, g
	}
	return d.decodeRow(i, i-d.starts[g], dst)
}

func (d *DatasetReader) decodeRow(i, row int, dst *events.Sample) error {
	dst.Reset()
	labels := d.arrs[0].(*array.Int32)
	if labels.IsValid(row) {
		dst.Label = labels.Value(row)
	}
	dst.ID = d.arrs[1].(*array.String).Value(row)
	var lists [4]*array.List
	var lo, hi [4]int64
	for c := range lists {
		lists[c] = d.arrs[2+c].(*array.List)
		lo[c], hi[c] = lists[c].ValueOffsets(row)
		if lists[c].ListValues().NullN() > 0 {
			return &events.DecodeError{Path: d.path, Offset: d.rowGroupOffset(d.cached),
				Msg: fmt.Sprintf("sample %d: list column %s holds null events", i, lists[c].DataType())}
		}
	}
	n := hi[0] - lo[0]
	for c := 1; c < 4; c++ {
		if hi[c]-lo[c] != n {
			return &events.DecodeError{Path: d.path, Offset: d.rowGroupOffset(d.cached),
				Msg: fmt.Sprintf("sample %d: list columns t, x, y, p differ in length (%d, %d, %d, %d)",
					i, n, hi[1]-lo[1], hi[2]-lo[2], hi[3]-lo[3])}
		}
	}
	ev := &dst.Events
	ev.T = append(ev.T, lists[0].ListValues().(*array.Int64).Int64Values()[lo[0]:hi[0]]...)
	ev.X = append(ev.X, lists[1].ListValues().(*array.Uint16).Uint16Values()[lo[1]:hi[1]]...)
	ev.Y = append(ev.Y, lists[2].ListValues().(*array.Uint16).Uint16Values()[lo[2]:hi[2]]...)
	ev.P = append(ev.P, lists[3].ListValues().(*array.Uint8).Uint8Values()[lo[3]:hi[3]]...)
	return nil
}

// rowGroupOf finds the row group holding sample i (binary search over starts).
func (d *DatasetReader) rowGroupOf(i int) int {
	lo, hi := 0, len(d.starts)-2
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if d.starts[mid] <= i {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// Close releases the file.
func (d *DatasetReader) Close() error {
	releaseAll(d.arrs)
	d.arrs = nil
	return d.close()
}
