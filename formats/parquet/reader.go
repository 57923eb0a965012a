package parquet

import (
	"fmt"
	"io"
	"math/bits"
	"os"
	"slices"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"

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

// maxAllocation caps one buffer arrow-go allocates while decoding. It sizes page buffers and
// dictionaries by the lengths in page headers; a corrupt header must give an error, not ask for
// gigabytes. Pages come nowhere near it (arrow-go and Spark write pages of 1 MB); the largest legitimate
// buffer is a dataset sample's t column, 8 bytes an event, so samples of up to 128 M events read.
const maxAllocation = 1 << 30

// cappedAllocator refuses allocations above maxAllocation by panicking, which guard reports.
type cappedAllocator struct{ memory.Allocator }

func (a cappedAllocator) Allocate(n int) []byte {
	checkAllocation(n)
	return a.Allocator.Allocate(n)
}

func (a cappedAllocator) Reallocate(n int, b []byte) []byte {
	checkAllocation(n)
	return a.Allocator.Reallocate(n, b)
}

func checkAllocation(n int) {
	if n > maxAllocation {
		panic(fmt.Sprintf("a buffer of %d bytes is asked for, above the %d-byte limit", n, maxAllocation))
	}
}

var allocator = cappedAllocator{memory.DefaultAllocator}

// readBatch is how many values (levels) are decoded per call.
const readBatch = 1 << 16

// pqFile is what both readers share: the open file, its footer and the layout's columns in it.
type pqFile struct {
	path   string
	closer io.Closer
	size   int64 // of the file, to check the byte ranges the footer claims
	pr     *file.Reader
	meta   events.Meta
	cols   []leafColumn // in layout order (recording: t,x,y,p; dataset: label,id,t,x,y,p)
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

// openReader reads the footer and schema of the Parquet data in f; closer is closed by close(), path is
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
	pr, err := file.NewParquetReader(f, file.WithReadProps(parquet.NewReaderProperties(allocator)))
	if err != nil {
		return nil, &events.DecodeError{Path: path, Offset: 0, Msg: "not a readable Parquet file", Err: err}
	}
	ok := false
	defer func() {
		if !ok {
			pr.Close()
		}
	}()
	md := pr.MetaData()
	meta, err := evarrow.MetaFromMetadata(plainMetadata(md.KeyValueMetadata()))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	meta.Format = "parquet"
	root := md.Schema.Root()
	if root.FieldIndexByName(evarrow.ColLabel) >= 0 || root.FieldIndexByName(evarrow.ColID) >= 0 {
		meta.Kind = events.KindDataset
	}
	cols, err := findColumns(md.Schema, meta.Kind)
	if err != nil {
		return nil, fmt.Errorf("%s: not an evtool %s file: %w", path, meta.Kind, err)
	}
	ok = true
	return &pqFile{path: path, closer: closer, size: size, pr: pr, meta: meta, cols: cols}, nil
}

// plainMetadata is the file's key-value metadata without ARROW:schema: the evtool keys are stored as
// plain pairs too, and the serialised schema is not parsed at all (arrow-go trusts the lengths inside it,
// and a corrupt one made it allocate tens of GB, found by FuzzOpen).
func plainMetadata(kv interface {
	Keys() []string
	Values() []string
}) arrow.Metadata {
	var keys, vals []string
	ks, vs := kv.Keys(), kv.Values()
	for i, k := range ks {
		if k != "ARROW:schema" {
			keys, vals = append(keys, k), append(vals, vs[i])
		}
	}
	return arrow.NewMetadata(keys, vals)
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

// errorAt is a decode error in row group g.
func (pf *pqFile) errorAt(g int, err error, format string, args ...any) error {
	return &events.DecodeError{Path: pf.path, Offset: pf.rowGroupOffset(g), Msg: fmt.Sprintf("row group %d: ", g) + fmt.Sprintf(format, args...), Err: err}
}

// columnReaders opens the layout's columns of row group g, after checking that their byte ranges lie
// inside the file (arrow-go reads a whole column chunk into memory, sized by the footer's claim).
//
// The columns are read through arrow-go's record readers (file.RecordReader, what pqarrow reads with), not
// the typed ColumnChunkReader.ReadBatch: on a page whose values end before its header's count, ReadBatch
// loops forever (found by FuzzOpen), while a record reader always consumes what it was asked for.
func (pf *pqFile) columnReaders(g int) (readers []file.RecordReader, err error) {
	defer guard(pf.path, pf.rowGroupOffset(g), &err)
	defer func() {
		if err != nil {
			releaseReaders(readers)
		}
	}()
	rg := pf.pr.MetaData().RowGroup(g)
	for _, c := range pf.cols {
		cc, err := rg.ColumnChunk(c.index)
		if err != nil {
			return nil, pf.errorAt(g, err, "column %s", c.name)
		}
		start := cc.DataPageOffset()
		if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
			start = cc.DictionaryPageOffset()
		}
		n := cc.TotalCompressedSize()
		if start < 4 || n < 0 || n > pf.size || start > pf.size-n {
			return nil, &events.DecodeError{Path: pf.path, Offset: max(0, min(start, pf.size)),
				Msg: fmt.Sprintf("row group %d, column %s claims bytes %d..%d of a %d-byte file", g, c.name, start, start+n, pf.size)}
		}
	}
	rgr := pf.pr.RowGroup(g)
	sc := pf.pr.MetaData().Schema
	for _, c := range pf.cols {
		pages, err := rgr.GetColumnPageReader(c.index)
		if err != nil {
			return readers, pf.errorAt(g, err, "column %s", c.name)
		}
		descr := sc.Column(c.index)
		rr := file.NewRecordReader(descr, levelInfo(descr), c.typ.arrowType(), allocator, pf.pr.BufferPool())
		rr.SetPageReader(pages)
		readers = append(readers, rr)
	}
	return readers, nil
}

func releaseReaders(readers []file.RecordReader) {
	for _, rr := range readers {
		rr.Release()
	}
}

// levelInfo describes a leaf's levels as the record reader needs them: a level at or above
// RepeatedAncestorDefLevel has a value slot (null or not), one at DefLevel a value.
func levelInfo(col *schema.Column) file.LevelInfo {
	info := file.LevelInfo{NullSlotUsage: 1, DefLevel: col.MaxDefinitionLevel(), RepLevel: col.MaxRepetitionLevel()}
	info.RepeatedAncestorDefLevel = info.DefLevel
	for n := col.SchemaNode(); n != nil && n.RepetitionType() != parquet.Repetitions.Repeated; n = n.Parent() {
		if n.RepetitionType() == parquet.Repetitions.Optional {
			info.RepeatedAncestorDefLevel--
		}
	}
	return info
}

// readRows reads the next rows (up to n) of a column; its levels and value slots are then in the reader's
// buffers. It returns the number of rows read.
func readRows(rr file.RecordReader, c leafColumn, n int) (int, error) {
	rr.Reset()
	got, err := rr.ReadRecords(int64(n))
	if err != nil {
		return 0, fmt.Errorf("column %s: %w", c.name, err)
	}
	return int(got), nil
}

// slots returns the value slots the last readRows decoded (one per present or null entry).
func slots[T int32 | int64](rr file.RecordReader) []T {
	var zero T
	b := rr.Values()
	n := rr.ValuesWritten()
	if len(b) < n*int(unsafe.Sizeof(zero)) {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// readFlat reads the next len(dst) values of a non-repeated column whose values must all be present.
func readFlat[T int32 | int64](rr file.RecordReader, c leafColumn, dst []T) error {
	got, err := readRows(rr, c, len(dst))
	if err != nil {
		return err
	}
	vals := slots[T](rr)
	if got < len(dst) || len(vals) < len(dst) {
		return fmt.Errorf("column %s ends %d values early", c.name, len(dst)-min(got, len(vals)))
	}
	if rr.NullCount() > 0 {
		return fmt.Errorf("column %s holds nulls; events cannot be null", c.name)
	}
	copy(dst, vals)
	return nil
}

// narrow copies int32 column values into a narrower unsigned type, refusing values that do not fit.
func narrow[T uint8 | uint16](name string, dst []T, src []int32, limit int32) error {
	for i, v := range src {
		if v < 0 || v > limit {
			return fmt.Errorf("column %s holds %d, outside its unsigned %d-bit type", name, v, bits.Len32(uint32(limit)))
		}
		dst[i] = T(v)
	}
	return nil
}

// RecordingReader streams a recording-layout file: a row group's columns are decoded a batch at a time,
// so memory is bounded by the batch and the row group's compressed column chunks.
type RecordingReader struct {
	*pqFile
	next    int   // next row group
	rows    int64 // rows of the current row group not yet read
	group   int   // current row group
	readers []file.RecordReader
	buf     []int32
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
		want = readBatch
	}
	for dst.Len() < want && !r.failed {
		if r.rows == 0 {
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
		n := int(min(r.rows, int64(want-dst.Len()), readBatch))
		if err := r.readEvents(dst, n); err != nil {
			r.pending, r.failed = err, true
			break
		}
		r.rows -= int64(n)
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

// load makes row group g current.
func (r *RecordingReader) load(g int) error {
	n := r.pr.MetaData().RowGroup(g).NumRows()
	if n < 0 {
		return r.errorAt(g, nil, "claims %d rows", n)
	}
	readers, err := r.columnReaders(g)
	if err != nil {
		return err
	}
	releaseReaders(r.readers)
	r.readers, r.rows, r.group = readers, n, g
	return nil
}

// readEvents appends the next n events of the current row group to dst; on a fault it appends none.
func (r *RecordingReader) readEvents(dst *events.Batch, n int) (err error) {
	start := dst.Len()
	defer func() {
		if err != nil {
			dst.Truncate(start)
		}
	}()
	defer guard(r.path, r.rowGroupOffset(r.group), &err)
	t, x, y, p := dst.Extend(n)
	r.buf = growTo(r.buf, n)
	c := r.cols
	fail := func(err error) error { return r.errorAt(r.group, nil, "%v", err) }
	if err := readFlat(r.readers[0], c[0], t); err != nil {
		return fail(err)
	}
	for i := 1; i < 4; i++ {
		if err := readFlat(r.readers[i], c[i], r.buf); err != nil {
			return fail(err)
		}
		switch i {
		case 1:
			err = narrow(c[i].name, x, r.buf, 0xFFFF)
		case 2:
			err = narrow(c[i].name, y, r.buf, 0xFFFF)
		case 3:
			err = narrow(c[i].name, p, r.buf, 0xFF)
		}
		if err != nil {
			return fail(err)
		}
	}
	return nil
}

// Close releases the file.
func (r *RecordingReader) Close() error {
	releaseReaders(r.readers)
	r.readers = nil
	return r.close()
}

// DatasetReader gives random access to the samples of a dataset-layout file: the row-group sizes in the
// footer locate any sample, and only its row group is decoded (the last one stays cached, so reading
// samples in order decodes each row group once).
type DatasetReader struct {
	*pqFile
	starts []int // starts[g] = index of the first sample of row group g; len = row groups + 1
	cached int
	group  datasetGroup
}

// datasetGroup is one decoded row group of a dataset.
type datasetGroup struct {
	labels []int32 // NoLabel where null
	ids    []string
	t      []int64
	x, y   []uint16
	p      []uint8
	i32    []int32      // x, y or p as stored, before narrowing
	lists  [4]listIndex // of t, x, y, p
}

// listIndex locates each row's entries in a list column's values.
type listIndex struct {
	offsets []int // row r: values offsets[r]..offsets[r+1]
	nulls   []int // rows that hold null entries (dropped from the values)
}

// datasetBatch is how many rows of a dataset column are decoded per call: the record reader's buffers
// hold one batch, evtool's own slices the whole row group.
const datasetBatch = 64

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
		if n < 0 || n > 1<<31 || int64(d.starts[g])+n > 1<<40 {
			err := pf.errorAt(g, nil, "claims %d rows", n)
			pf.close()
			return nil, err
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
func (d *DatasetReader) ReadSample(i int, dst *events.Sample) error {
	if i < 0 || i >= d.NumSamples() {
		return fmt.Errorf("%s: sample %d does not exist (the file holds %d)", d.path, i, d.NumSamples())
	}
	g := d.rowGroupOf(i)
	if d.cached != g {
		d.cached = -1
		if err := d.load(g); err != nil {
			return err
		}
		d.cached = g
	}
	return d.decodeRow(i, i-d.starts[g], dst)
}

// load decodes row group g. Buffers grow with the values actually decoded, a batch of rows at a time,
// never by a count the file claims.
func (d *DatasetReader) load(g int) (err error) {
	defer guard(d.path, d.rowGroupOffset(g), &err)
	readers, err := d.columnReaders(g)
	if err != nil {
		return err
	}
	defer releaseReaders(readers)
	rows := d.starts[g+1] - d.starts[g]
	gr := &d.group
	fail := func(err error) error { return d.errorAt(g, nil, "%v", err) }
	if err := gr.readLabels(readers[0], d.cols[0], rows); err != nil {
		return fail(err)
	}
	if err := gr.readIDs(readers[1], d.cols[1], rows); err != nil {
		return fail(err)
	}
	if gr.t, err = readList(readers[2], d.cols[2], rows, &gr.lists[0], gr.t[:0]); err != nil {
		return fail(err)
	}
	for c := 1; c < 4; c++ {
		col := d.cols[2+c]
		if gr.i32, err = readList(readers[2+c], col, rows, &gr.lists[c], gr.i32[:0]); err != nil {
			return fail(err)
		}
		switch c {
		case 1:
			gr.x = growTo(gr.x, len(gr.i32))
			err = narrow(col.name, gr.x, gr.i32, 0xFFFF)
		case 2:
			gr.y = growTo(gr.y, len(gr.i32))
			err = narrow(col.name, gr.y, gr.i32, 0xFFFF)
		case 3:
			gr.p = growTo(gr.p, len(gr.i32))
			err = narrow(col.name, gr.p, gr.i32, 0xFF)
		}
		if err != nil {
			return fail(err)
		}
	}
	return nil
}

// growTo returns s with length n, reusing its memory when it is large enough.
func growTo[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// defLevels returns the definition levels the last readRows consumed (nil for a required column).
func defLevels(rr file.RecordReader, c leafColumn) []int16 {
	if c.maxDef == 0 {
		return nil
	}
	return rr.DefLevels()[:rr.LevelsPos()]
}

// readLabels reads the label column: one value per row, null meaning no label.
func (gr *datasetGroup) readLabels(rr file.RecordReader, c leafColumn, rows int) error {
	gr.labels = gr.labels[:0]
	for len(gr.labels) < rows {
		got, err := readRows(rr, c, min(rows-len(gr.labels), datasetBatch))
		if err != nil {
			return err
		}
		vals := slots[int32](rr)
		if got == 0 || len(vals) != got {
			break
		}
		def := defLevels(rr, c)
		for i, v := range vals {
			if def != nil && def[i] < c.maxDef {
				v = events.NoLabel
			}
			gr.labels = append(gr.labels, v)
		}
	}
	if len(gr.labels) != rows {
		return fmt.Errorf("column %s has %d rows; the row group %d", c.name, len(gr.labels), rows)
	}
	return nil
}

// readIDs reads the id column (a null id reads as "").
func (gr *datasetGroup) readIDs(rr file.RecordReader, c leafColumn, rows int) error {
	gr.ids = gr.ids[:0]
	br, ok := rr.(file.BinaryRecordReader)
	if !ok {
		return fmt.Errorf("column %s: no string reader", c.name)
	}
	for len(gr.ids) < rows {
		got, err := readRows(rr, c, min(rows-len(gr.ids), datasetBatch))
		if err != nil {
			return err
		}
		before := len(gr.ids)
		for _, chunk := range br.GetBuilderChunks() {
			switch s := chunk.(type) {
			case *array.String:
				for i := 0; i < s.Len(); i++ {
					gr.ids = append(gr.ids, strings.Clone(s.Value(i)))
				}
			case *array.Binary:
				for i := 0; i < s.Len(); i++ {
					gr.ids = append(gr.ids, string(s.Value(i)))
				}
			}
			chunk.Release()
		}
		if got == 0 || len(gr.ids)-before != got {
			break
		}
	}
	if len(gr.ids) != rows {
		return fmt.Errorf("column %s has %d rows; the row group %d", c.name, len(gr.ids), rows)
	}
	return nil
}

// readList reads a whole list column of the row group, appending its values to out and indexing its rows
// in li. A row whose list is null reads as empty; null entries are dropped and the row noted.
func readList[T int32 | int64](rr file.RecordReader, c leafColumn, rows int, li *listIndex, out []T) ([]T, error) {
	li.offsets, li.nulls = li.offsets[:0], li.nulls[:0]
	for len(li.offsets) < rows {
		got, err := readRows(rr, c, min(rows-len(li.offsets), datasetBatch))
		if err != nil {
			return out, err
		}
		if got == 0 {
			break
		}
		vals := slots[T](rr)
		def, rep := rr.DefLevels()[:rr.LevelsPos()], rr.RepLevels()[:rr.LevelsPos()]
		slot := 0
		for k := range def {
			if rep[k] == 0 {
				li.offsets = append(li.offsets, len(out))
			} else if len(li.offsets) == 0 {
				return out, fmt.Errorf("column %s does not start with a new row", c.name)
			}
			if def[k] < c.entryDef {
				continue // an empty or null list
			}
			if slot >= len(vals) {
				return out, fmt.Errorf("column %s: fewer values than entries", c.name)
			}
			if def[k] == c.maxDef {
				out = append(out, vals[slot])
			} else if n := len(li.nulls); n == 0 || li.nulls[n-1] != len(li.offsets)-1 {
				li.nulls = append(li.nulls, len(li.offsets)-1)
			}
			slot++
		}
		if len(li.offsets) > rows {
			return out, fmt.Errorf("column %s holds more than the row group's %d rows", c.name, rows)
		}
	}
	if len(li.offsets) != rows {
		return out, fmt.Errorf("column %s has %d rows; the row group %d", c.name, len(li.offsets), rows)
	}
	li.offsets = append(li.offsets, len(out))
	return out, nil
}

func (d *DatasetReader) decodeRow(i, row int, dst *events.Sample) error {
	dst.Reset()
	gr := &d.group
	dst.Label = gr.labels[row]
	dst.ID = gr.ids[row]
	var lo, hi [4]int
	for c := range gr.lists {
		li := &gr.lists[c]
		if slices.Contains(li.nulls, row) {
			return &events.DecodeError{Path: d.path, Offset: d.rowGroupOffset(d.cached),
				Msg: fmt.Sprintf("sample %d: list column %s holds null events", i, d.cols[2+c].name)}
		}
		lo[c], hi[c] = li.offsets[row], li.offsets[row+1]
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
	ev.T = append(ev.T, gr.t[lo[0]:hi[0]]...)
	ev.X = append(ev.X, gr.x[lo[1]:hi[1]]...)
	ev.Y = append(ev.Y, gr.y[lo[2]:hi[2]]...)
	ev.P = append(ev.P, gr.p[lo[3]:hi[3]]...)
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
	d.group = datasetGroup{}
	return d.close()
}
