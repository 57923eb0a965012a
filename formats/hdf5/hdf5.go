// Package hdf5 reads events from HDF5 files (.h5, .hdf5) through evtool's own HDF5 reader
// (internal/hdf5): one recording whose t, x, y and p are datasets (or columns of one 2-D or compound
// dataset), or a dataset of samples whose columns are variable-length sequences, one element per sample
// (SHD and SSC's spikes/times and spikes/units), with per-sample labels (docs/formats-hdf5.md).
//
// -O options name the datasets: t=/events/t x=/events/x y=/events/y p=/events/p, a column of a 2-D
// dataset as PATH[k], a compound member as PATH:member, or a constant (y=0, p=1). events=PATH with
// columns=t,x,y,p reads a whole (N, k) array; label= and classes= name the labels and class names of a
// sample dataset. Without options the common layouts are recognised: DSEC's /events/{t,x,y,p} with
// /t_offset, an (N, 4) /events array (ThreeET), compound /events or /CD/events, SHD/SSC's /spikes, and
// root datasets named t/ts/timestamps, x, y, p/pol/polarity.
//
// Times are integers in µs or floats in seconds unless -O time-unit says otherwise; floats are rounded to
// the nearest µs (tonic truncates). A recording streams by chunk in bounded memory (one decoded chunk per
// dataset plus one block of rows); a chunk that was never written is an error, never silent zeros.
// Deflate, shuffle, fletcher32 and hdf5plugin's Blosc and LZ4 are decoded; other compression (lzf, the
// zstd and bitshuffle plug-ins, Prophesee's ECF…) is refused before any event is read, with its name.
package hdf5

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
	"github.com/evtool/evtool/internal/columns"
	h5 "github.com/evtool/evtool/internal/hdf5"
)

func init() {
	formats.Register(&formats.Format{
		Name:         "hdf5",
		Description:  "HDF5 events: t, x, y, p datasets (DSEC, ThreeET, any -O t=/path …) or variable-length samples (SHD, SSC); read only",
		Extensions:   []string{".h5", ".hdf5", ".hdf", ".he5"},
		Detect:       Detect,
		NewReader:    NewReader,
		RandomAccess: true,
		// The superblock states the file's length: every cut is reported.
		Conformance: formats.Conformance{Encode: encode, Framed: true},
		Params: map[string]string{
			"t":           "dataset holding the times: PATH, PATH[k] (column k of a 2-D dataset), PATH:member (of a compound), or a number",
			"x":           "dataset holding x (as for t), or a constant such as 0",
			"y":           "dataset holding y (as for t), or a constant such as 0",
			"p":           "dataset holding the polarity (0/1, -1/+1 or bool), or a constant such as 1",
			"events":      "one (N, k) or compound dataset holding every column (see columns)",
			"columns":     `column order of the events= array, e.g. "t,x,y,p" (default; "-" skips a column)`,
			"time-unit":   "unit of t: us, ms, s or ns (default: us for integer times, s for floating-point times)",
			"time-offset": "µs added to every time: a number, or the path of a scalar dataset (DSEC's /t_offset)",
			"label":       "samples: dataset of per-sample labels (integers)",
			"classes":     "samples: dataset of class names (strings), label i naming classes[i]",
			"flip-y":      "true: y is counted from the bottom; flip it within the sensor height (--sensor)",
		},
	})
}

// encode makes the conformance kit's files: t, x, y and p datasets in the root group.
func encode(b *events.Batch, _ events.Geometry) []byte {
	cols := []h5.IntColumn{{Name: "t", Size: 8, Signed: true}, {Name: "x", Size: 2}, {Name: "y", Size: 2}, {Name: "p", Size: 1}}
	for i := range b.T {
		cols[0].Values = append(cols[0].Values, b.T[i])
		cols[1].Values = append(cols[1].Values, int64(b.X[i]))
		cols[2].Values = append(cols[2].Values, int64(b.Y[i]))
		cols[3].Values = append(cols[3].Values, int64(b.P[i]))
	}
	return h5.IntFile(cols)
}

// Detect recognises the HDF5 signature at the start of a file or after a 512-byte user block that is not
// a MATLAB 7.3 header (those are .mat files: the mat format reads them).
func Detect(head []byte) bool {
	if formats.HasPrefix(head, h5.Signature) {
		return true
	}
	return len(head) >= 520 && string(head[512:520]) == h5.Signature && !formats.HasPrefix(head, "MATLAB")
}

// colSpec says where one column comes from.
type colSpec struct {
	path    string
	member  string
	index   uint64
	isConst bool
	value   int64
}

func (c colSpec) String() string {
	switch {
	case c.isConst:
		return strconv.FormatInt(c.value, 10)
	case c.member != "":
		return c.path + ":" + c.member
	case c.index > 0:
		return fmt.Sprintf("%s[%d]", c.path, c.index)
	}
	return c.path
}

func parseCol(s string) (colSpec, error) {
	s = strings.TrimSpace(s)
	if v, ok := columns.ParseConst(s); ok {
		return colSpec{isConst: true, value: v}, nil
	}
	c := colSpec{path: s}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		c.path, c.member = s[:i], s[i+1:]
	}
	if strings.HasSuffix(c.path, "]") {
		i := strings.LastIndexByte(c.path, '[')
		if i < 0 {
			return c, fmt.Errorf("%q: unbalanced [", s)
		}
		k, err := strconv.ParseUint(c.path[i+1:len(c.path)-1], 10, 32)
		if err != nil {
			return c, fmt.Errorf("%q: column index %q is not a number", s, c.path[i+1:len(c.path)-1])
		}
		c.path, c.index = c.path[:i], k
	}
	if c.path == "" {
		return c, fmt.Errorf("%q names no dataset", s)
	}
	return c, nil
}

// layout is where a file's events are.
type layout struct {
	cols     [4]colSpec // t, x, y, p
	timeExp  int
	timeAuto bool
	offset   colSpec
	label    string
	classes  string
	flipY    bool
	what     string // how it was found, for info
}

var roleNames = [4]string{"t", "x", "y", "p"}

// parseLayout reads the -O options; ok is false when they name no column (the layout is then inferred).
func parseLayout(o formats.Options) (l layout, ok bool, err error) {
	l.timeAuto = true
	if u := o.Param("time-unit", ""); u != "" {
		if l.timeExp, err = columns.ParseUnit(u); err != nil {
			return l, false, o.BadParam("time-unit", "want us, ms, s or ns")
		}
		l.timeAuto = false
	}
	if v := o.Param("time-offset", ""); v != "" {
		if l.offset, err = parseCol(v); err != nil {
			return l, false, o.BadParam("time-offset", "%v", err)
		}
	}
	if l.flipY, err = o.BoolParam("flip-y"); err != nil {
		return l, false, err
	}
	l.label, l.classes = o.Param("label", ""), o.Param("classes", "")
	set := 0
	if ev := o.Param("events", ""); ev != "" {
		order := strings.Split(o.Param("columns", "t,x,y,p"), ",")
		for k, name := range order {
			name = strings.TrimSpace(name)
			if name == "-" || name == "_" {
				continue
			}
			r := roleIndex(name)
			if r < 0 {
				return l, false, o.BadParam("columns", "%q is not t, x, y, p or -", name)
			}
			c, err := parseCol(ev)
			if err != nil {
				return l, false, o.BadParam("events", "%v", err)
			}
			c.index = uint64(k)
			l.cols[r] = c
			set |= 1 << r
		}
		l.what = "events=" + ev
	}
	for r, name := range roleNames {
		v := o.Param(name, "")
		if v == "" {
			continue
		}
		c, err := parseCol(v)
		if err != nil {
			return l, false, o.BadParam(name, "%v", err)
		}
		l.cols[r] = c
		set |= 1 << r
	}
	if set == 0 {
		return l, false, nil
	}
	if set&1 == 0 || set&2 == 0 {
		return l, false, formats.OptionErrorf("options name some columns but not t and x: give at least the options t=PATH and x=PATH (y and p default to 0 and 1)")
	}
	if set&4 == 0 {
		l.cols[2] = colSpec{isConst: true}
	}
	if set&8 == 0 {
		l.cols[3] = colSpec{isConst: true, value: 1}
	}
	if l.what == "" {
		l.what = "options"
	}
	return l, true, nil
}

func roleIndex(name string) int {
	switch strings.ToLower(name) {
	case "t", "ts", "time", "times", "timestamp", "timestamps":
		return 0
	case "x":
		return 1
	case "y":
		return 2
	case "p", "pol", "polarity", "polarities":
		return 3
	}
	return -1
}

// infer recognises the usual layouts.
func infer(f *h5.File, l layout) (layout, error) {
	has := func(path string) *h5.Dataset {
		d, err := f.Dataset(path)
		if err != nil {
			return nil
		}
		return d
	}
	setCols := func(paths [4]string) {
		for r, p := range paths {
			l.cols[r] = colSpec{path: p}
		}
	}
	// DSEC (and TUM-VIE): a group of columns, times relative to /t_offset.
	for _, g := range []string{"/events", "/CD", "/"} {
		var paths [4]string
		found := 0
		for r, names := range [4][]string{{"t", "ts", "timestamp", "timestamps"}, {"x"}, {"y"}, {"p", "pol", "polarity"}} {
			for _, n := range names {
				p := strings.TrimSuffix(g, "/") + "/" + n
				if d := has(p); d != nil && d.Type.Numeric() && len(d.Dims) >= 1 {
					paths[r] = p
					found |= 1 << r
					break
				}
			}
		}
		if found == 15 {
			setCols(paths)
			if d := has("/t_offset"); d != nil && l.offset.path == "" && !l.offset.isConst {
				l.offset = colSpec{path: "/t_offset"}
			}
			l.what = "columns " + strings.Join(paths[:], ", ")
			return l, nil
		}
	}
	// One array or compound dataset.
	for _, p := range []string{"/events", "/CD/events", "/data/events"} {
		d := has(p)
		if d == nil {
			continue
		}
		if d.Type.Class == h5.ClassCompound {
			for r, names := range [4][]string{{"t", "ts", "timestamp"}, {"x"}, {"y"}, {"p", "pol", "polarity"}} {
				for _, n := range names {
					if _, ok := d.Type.Member(n); ok {
						l.cols[r] = colSpec{path: p, member: n}
						break
					}
				}
				if l.cols[r].path == "" {
					return l, fmt.Errorf("%s: %s is a compound of %s without a %s member; name the columns with -O", f.Name(), p, d.Type, roleNames[r])
				}
			}
			l.what = "compound " + p
			return l, nil
		}
		if len(d.Dims) == 2 && d.Dims[1] >= 4 && d.Type.Numeric() {
			for r := range l.cols {
				l.cols[r] = colSpec{path: p, index: uint64(r)}
			}
			l.what = fmt.Sprintf("%s as (N, %d) columns t, x, y, p", p, d.Dims[1])
			return l, nil
		}
	}
	// SHD / SSC: variable-length spike trains, one per sample.
	if t, x := has("/spikes/times"), has("/spikes/units"); t != nil && x != nil {
		l.cols = [4]colSpec{{path: "/spikes/times"}, {path: "/spikes/units"}, {isConst: true}, {isConst: true, value: 1}}
		if has("/labels") != nil && l.label == "" {
			l.label = "/labels"
		}
		if has("/extra/keys") != nil && l.classes == "" {
			l.classes = "/extra/keys"
		}
		l.what = "SHD/SSC spikes (units as x, y = 0, p = 1)"
		return l, nil
	}
	return l, formats.OptionErrorf("%s: no event layout recognised; %s; name the columns with the options t=PATH, x=PATH, y=PATH and p=PATH",
		f.Name(), listing(f))
}

// listing describes the datasets of the top two levels, for errors.
func listing(f *h5.File) string {
	var out []string
	var walk func(path string, depth int)
	walk = func(path string, depth int) {
		o, err := f.Get(path)
		if err != nil {
			return
		}
		if o.Kind() == h5.KindDataset {
			if d, err := o.Dataset(); err == nil {
				out = append(out, fmt.Sprintf("%s (%s %v)", path, d.Type, d.Dims))
			}
			return
		}
		if depth > 2 || len(out) > 30 {
			return
		}
		links, err := o.Links()
		if err != nil {
			return
		}
		for _, l := range links {
			walk(strings.TrimSuffix(path, "/")+"/"+l.Name, depth+1)
		}
	}
	walk("/", 0)
	if len(out) == 0 {
		return "it holds no datasets"
	}
	sort.Strings(out)
	return "datasets: " + strings.Join(out, ", ")
}

// Open opens an HDF5 events file: Events for a recording, Samples when the columns are
// variable-length (one sample per element).
func Open(path string, o formats.Options) (formats.Source, error) {
	return input.Open(path, func(f *os.File) (formats.Source, error) { return NewReader(f, path, o) })
}

// NewReader reads an HDF5 events file from r, which must give random access (an *os.File,
// *bytes.Reader or *io.SectionReader); r is closed by Close when it is an io.Closer.
func NewReader(r io.Reader, name string, o formats.Options) (formats.Source, error) {
	l, named, err := parseLayout(o)
	if err != nil {
		return formats.Source{}, err
	}
	ra, size, ok := input.RandomAccess(r)
	if !ok {
		return formats.Source{}, fmt.Errorf("%s: HDF5 is read by address: reading it needs random access (a file, not a stream)", name)
	}
	f, err := h5.NewFile(ra, size, name)
	if err != nil {
		return formats.Source{}, err
	}
	if !named {
		if l, err = infer(f, l); err != nil {
			return formats.Source{}, err
		}
	}
	closer, _ := r.(io.Closer)
	return open(f, closer, name, l, o)
}

func open(f *h5.File, closer io.Closer, path string, l layout, o formats.Options) (formats.Source, error) {
	fail := func(err error) (formats.Source, error) { return formats.Source{}, err }
	vlen := false
	for _, c := range l.cols {
		if c.isConst {
			continue
		}
		d, err := f.Dataset(c.path)
		if err != nil {
			return fail(err)
		}
		if d.Type.Class == h5.ClassVLen {
			vlen = true
		}
	}
	spec := columns.Spec{TimeExp: l.timeExp}
	if l.flipY {
		if !o.Sensor.Known() {
			return fail(events.SensorErrorf("%s: flip-y needs the sensor height, which the file does not state", path))
		}
		spec.FlipY = o.Sensor.Height
	}
	if l.offset.isConst {
		spec.TimeOffset = l.offset.value
	} else if l.offset.path != "" {
		d, err := f.Dataset(l.offset.path)
		if err != nil {
			return fail(err)
		}
		v, err := d.Int64s()
		if err != nil {
			return fail(err)
		}
		if len(v) != 1 {
			return fail(fmt.Errorf("%s: time offset %s holds %d values, not one", path, l.offset.path, len(v)))
		}
		spec.TimeOffset = v[0]
	}
	meta := events.Meta{Format: "hdf5", Kind: events.KindRecording, Geometry: o.Sensor, Source: path}
	meta.SetExtra("layout", l.what)
	for r, c := range l.cols {
		meta.SetExtra("column "+roleNames[r], c.String())
	}
	if vlen {
		r, err := openSamples(f, path, l, spec, meta)
		if err != nil {
			return fail(err)
		}
		r.closer = closer
		return formats.Source{Samples: r}, nil
	}
	r, err := openRecording(f, path, l, spec, meta)
	if err != nil {
		return fail(err)
	}
	r.closer = closer
	return formats.Source{Events: r}, nil
}

// closeAll closes the file and the reader it was read from.
func closeAll(f *h5.File, c io.Closer) error {
	err := f.Close()
	if c != nil {
		if e := c.Close(); err == nil {
			err = e
		}
	}
	return err
}

// column reads one role's values, from a shared block of rows of its dataset.
type column struct {
	spec   colSpec
	src    *rowSource
	field  h5.Field
	float  bool
	ints   []int64
	floats []float64
}

type rowSource struct {
	d    *h5.Dataset
	buf  []byte
	rows []byte
}

// Reader streams a recording.
type Reader struct {
	f         *h5.File
	path      string
	meta      events.Meta
	srcs      []*rowSource
	cols      [4]*column
	spec      columns.Spec
	n, pos    uint64
	blockRows int
	pending   error
	closer    io.Closer // what the file was read from
}

const maxBlock = 16 << 20 // bytes of rows read at once from one dataset

func openRecording(f *h5.File, path string, l layout, spec columns.Spec, meta events.Meta) (*Reader, error) {
	r := &Reader{f: f, path: path, meta: meta, spec: spec}
	byPath := map[string]*rowSource{}
	rows := int64(-1)
	var rowsFrom string
	for i, c := range l.cols {
		col := &column{spec: c}
		r.cols[i] = col
		if c.isConst {
			continue
		}
		src := byPath[c.path]
		if src == nil {
			d, err := f.Dataset(c.path)
			if err != nil {
				return nil, err
			}
			if err := d.CheckFilters(); err != nil {
				return nil, err
			}
			d.FillMissing = false
			src = &rowSource{d: d}
			byPath[c.path] = src
			r.srcs = append(r.srcs, src)
		}
		col.src = src
		fl, err := src.d.Field(c.member, c.index)
		if err != nil {
			return nil, err
		}
		col.field = fl
		col.float = fl.Type.Class == h5.ClassFloat
		if i == 0 && l.timeAuto && col.float {
			r.spec.TimeExp = 6 // floating-point times are seconds unless -O time-unit says otherwise
		}
		if n := int64(src.d.Rows()); rows < 0 {
			rows, rowsFrom = n, c.path
		} else if n != rows {
			return nil, fmt.Errorf("%s: %s has %d rows but %s has %d: the columns of one recording must be equally long", path, c.path, n, rowsFrom, rows)
		}
	}
	if rows < 0 {
		return nil, fmt.Errorf("%s: every column is a constant; name at least t and x", path)
	}
	r.n = uint64(rows)
	// One block of rows of every source stays within 16 MiB.
	widest := 1
	for _, s := range r.srcs {
		widest = max(widest, s.d.RowBytes())
	}
	if widest > maxBlock {
		return nil, fmt.Errorf("%s: rows of %d bytes: an events dataset has a few columns per event, not %d bytes of them", path, widest, widest)
	}
	r.blockRows = maxBlock / widest
	return r, nil
}

// Meta describes the recording.
func (r *Reader) Meta() events.Meta { return r.meta }

// Close closes the file.
func (r *Reader) Close() error { return closeAll(r.f, r.closer) }

// Read fills dst with the next events (up to cap(dst.T), or 65536 when dst has no capacity).
func (r *Reader) Read(dst *events.Batch) error {
	dst.Reset()
	if r.pending != nil {
		err := r.pending
		r.pending = io.EOF // after a fault, the end
		return err
	}
	if r.pos >= r.n {
		return io.EOF
	}
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	n := int(min(uint64(want), r.n-r.pos, uint64(r.blockRows)))
	for _, s := range r.srcs {
		var err error
		if s.rows, err = s.d.ReadRows(r.pos, uint64(n), s.buf); err != nil {
			r.pending = io.EOF
			return err
		}
		s.buf = s.rows
	}
	var vals [4]columns.Values
	for i, c := range r.cols {
		v, err := c.values(n)
		if err != nil {
			r.pending = io.EOF
			return r.fault(c, fmt.Sprintf("%s (%s) row %d: %v", c.spec, roleNames[i], r.pos, err))
		}
		vals[i] = v
	}
	got, err := columns.Append(dst, vals[0], vals[1], vals[2], vals[3], n, r.spec)
	r.pos += uint64(got)
	if err != nil {
		r.pending = r.fault(r.cols[0], fmt.Sprintf("recording event %d: %v", r.pos, err))
		if got == 0 {
			e := r.pending
			r.pending = io.EOF
			return e
		}
	}
	return nil
}

// fault reports a bad value, at the offset of the header of the dataset that holds it.
func (r *Reader) fault(c *column, msg string) error {
	var off int64
	if c.src != nil {
		off = c.src.d.Offset()
	}
	return &events.DecodeError{Path: r.path, Offset: off, Msg: msg}
}

func (c *column) values(n int) (columns.Values, error) {
	if c.spec.isConst {
		return columns.Constant(c.spec.value), nil
	}
	rb := c.src.d.RowBytes()
	if c.float {
		if cap(c.floats) < n {
			c.floats = make([]float64, n)
		}
		c.floats = c.floats[:n]
		_, err := c.field.Float64s(c.src.rows, rb, n, c.floats)
		return columns.Values{Floats: c.floats}, err
	}
	if cap(c.ints) < n {
		c.ints = make([]int64, n)
	}
	c.ints = c.ints[:n]
	_, err := c.field.Int64s(c.src.rows, rb, n, c.ints)
	return columns.Values{Ints: c.ints}, err
}

// Len is the number of events of the recording.
func (r *Reader) Len() uint64 { return r.n }

// Seek makes the next Read start at event i.
func (r *Reader) Seek(i uint64) error {
	if i > r.n {
		return fmt.Errorf("%s: event %d is beyond the recording's %d events", r.path, i, r.n)
	}
	r.pos, r.pending = i, nil
	return nil
}

// TimeAt returns the time of event i in µs (unit and offset applied), for searching by time.
func (r *Reader) TimeAt(i uint64) (int64, error) {
	if i >= r.n {
		return 0, fmt.Errorf("%s: event %d is beyond the recording's %d events", r.path, i, r.n)
	}
	c := r.cols[0]
	if c.spec.isConst {
		return c.spec.value, nil
	}
	rows, err := c.src.d.ReadRows(i, 1, nil)
	if err != nil {
		return 0, err
	}
	saved := c.src.rows
	c.src.rows = rows
	v, err := c.values(1)
	c.src.rows = saved
	if err != nil {
		return 0, err
	}
	var b events.Batch
	if _, err := columns.Append(&b, v, columns.Constant(0), columns.Constant(0), columns.Constant(0), 1, r.spec); err != nil {
		return 0, r.fault(c, fmt.Sprintf("event %d: %v", i, err))
	}
	return b.T[0], nil
}

// SearchTime returns the index of the first event with time ≥ t (times must not decrease).
func (r *Reader) SearchTime(t int64) (uint64, error) {
	lo, hi := uint64(0), r.n
	for lo < hi {
		mid := lo + (hi-lo)/2
		v, err := r.TimeAt(mid)
		if err != nil {
			return 0, err
		}
		if v < t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}
