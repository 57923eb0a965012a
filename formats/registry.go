// Package formats is the registry of event file formats: each format sub-package registers itself in an
// init function, and Open, OpenTensors and OutputFormat find a format by name, by magic bytes, then by
// extension.
//
// A program registers the formats it needs by importing their packages; import
// github.com/evtool/evtool/formats/all to register every format evtool ships:
//
//	import (
//		"github.com/evtool/evtool/formats"
//		_ "github.com/evtool/evtool/formats/all"
//	)
package formats

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/internal/input"
	"github.com/evtool/evtool/internal/suggest"
)

// Options carries the settings a user can give any format. Format-specific settings live in Params
// (CLI: -O key=value), so new formats need no new CLI flags.
type Options struct {
	// Sensor overrides the sensor size (CLI --sensor WxH).
	Sensor events.Geometry
	// Compression names the writer's codec, one of its format's Compressions; empty means the first.
	Compression string
	// Params holds format-specific settings, e.g. "chip"="davis346", "overflow-markers"="true".
	Params map[string]string
	// Strict makes a reader stop with an error wrapping ErrLoss where it would otherwise drop data (a
	// damaged packet, events outside the sensor): the error policy in notice.go.
	Strict bool
	// Warn receives what a reader dropped, altered or distrusted (Notice); nil ignores the notices (the
	// counts stay in the reader's Meta().Extra). A Tally's Add sums them for a summary.
	Warn func(Notice)
	// Overwrite lets a writer of an output folder replace an existing folder (once the new one is
	// complete); without it an existing folder is refused. Output files are always replaced when they
	// are moved into place (the CLI refuses existing outputs unless --force).
	Overwrite bool
}

// Param returns a format-specific setting, or def when unset.
func (o Options) Param(key, def string) string {
	if v, ok := o.Params[key]; ok {
		return v
	}
	return def
}

// WithDefault returns o with the format-specific setting key set to val unless o sets it already (o's
// map is not modified).
func (o Options) WithDefault(key, val string) Options {
	if _, ok := o.Params[key]; ok {
		return o
	}
	p := make(map[string]string, len(o.Params)+1)
	for k, v := range o.Params {
		p[k] = v
	}
	p[key] = val
	o.Params = p
	return o
}

// BoolParam returns a format-specific boolean setting ("true", "1", "yes" or an empty value mean true).
func (o Options) BoolParam(key string) (bool, error) {
	v, ok := o.Params[key]
	if !ok {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "", "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, o.BadParam(key, "want true or false")
}

// IntParam returns a format-specific integer setting, or def when unset.
func (o Options) IntParam(key string, def int) (int, error) {
	v, ok := o.Params[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, o.BadParam(key, "want an integer")
	}
	return n, nil
}

// Format describes one file format.
type Format struct {
	Name        string   // registry name (Open's and OutputFormat's name argument; the CLI's --from/--to): "nmnist", "arrow", …
	Description string   // one line for `evtool info --formats` and docs
	Extensions  []string // lower-case, with the dot: ".bin"
	// Detect reports whether the first bytes of a file look like this format (head holds up to 4 KiB,
	// less for short files). Nil for formats without magic bytes; they are found by extension only.
	Detect func(head []byte) bool
	// NewReader reads the format from r (closed by the Source's Close when it is an io.Closer); name is
	// used in errors and metadata. Nil when the format is write-only. Open calls it on a file.
	NewReader func(r io.Reader, name string, opts Options) (Source, error)
	// RandomAccess says that NewReader needs r to be a file, not a stream: an io.ReaderAt whose length
	// input can tell (an *os.File, *bytes.Reader, *io.SectionReader), because the format keeps its
	// index at the end (Arrow, Parquet).
	RandomAccess bool
	// Create opens an output. For meta.Kind == dataset it returns a Sink with Samples set, otherwise one
	// with Events set. Nil when the format is read-only.
	Create func(path string, meta events.Meta, opts Options) (Sink, error)
	// DatasetCreate reports whether Create accepts datasets (e.g. a folder of per-sample files).
	DatasetCreate bool
	// WriteDefault makes this format the one an output path with its extension gets when several
	// writable formats share the extension (.raw: EVT 2.0, .aedat: AEDAT 3.1).
	WriteDefault bool
	// InferGeometry gives the sensor size from the extent of the events when the file does not say
	// (dataset knowledge such as "fits 34x34: N-MNIST"). Nil means: use the extent.
	InferGeometry func(extent events.Geometry) events.Geometry
	// Params documents the format-specific settings its reader and writer read (CLI: -O key=value): name
	// → help. CheckParams refuses any other key, so every key read must be here.
	Params map[string]string
	// Inner, for a format whose files are written with another format (a sharded dataset's shards), gives
	// that format under o; the settings pass through to it, so CheckParams accepts its keys too.
	Inner func(o Options) (*Format, error)
	// Compressions lists the codecs the writer accepts in Options.Compression, its default first; nil when
	// the format does not compress. The CLI's --compression check, `evtool formats` and the docs use it.
	Compressions []string
	// Boxes says that the format stores boxes (labels over time) beside the events: a writer created with
	// events.Meta.Boxes keeps every sample's boxes (and a recording's, through events.BoxWriter) and its
	// reader gives them back. Conversions refuse to write boxes to a format without them. A format with
	// Inner leaves it false: its inner format decides (StoresBoxes).
	Boxes bool
	// Tensors reads and writes the tensors a representation makes of samples (tensors.go); nil for
	// formats that hold events only.
	Tensors *TensorIO
	// Conformance tells the conformance kit (formats/formattest) what valid content of this format is.
	Conformance Conformance
	// tensorView is what TensorFormat returns, made once by Register.
	tensorView *Format
	// Index, for a format kept as a folder of files (a sharded dataset: formats/shards), names the file
	// in the folder that describes the rest (manifest.json). Every lookup that takes a path takes the
	// folder for that file (Resolve); Detect and NewReader work on the index file.
	Index string
}

// StoresBoxes reports whether f's output under the settings o keeps boxes (events.Meta.Boxes): f.Boxes,
// or for a format with Inner, the inner format's — a sharded dataset keeps them in Arrow shards, not in
// Parquet ones. A setting that names no format stores nothing.
func (f *Format) StoresBoxes(o Options) bool {
	if f.Inner == nil {
		return f.Boxes
	}
	inner, err := f.Inner(o)
	return err == nil && inner != f && inner.StoresBoxes(o)
}

// CarryBoxes sets out's boxes from in's, for an output of format f under the settings o: an error when in
// has boxes and f cannot store them (for tensors, f's Tensors; for a format with Inner, its inner
// format), so that no conversion drops them silently.
func (f *Format) CarryBoxes(out *events.Meta, in events.Meta, o Options) error {
	if !in.Boxes {
		return nil
	}
	tensors := out.Kind == events.KindTensors
	can := f.StoresBoxes(o)
	if tensors {
		can = f.Tensors != nil && f.Tensors.Boxes
	}
	if !can {
		if f.Inner != nil && !tensors {
			inner, err := f.Inner(o)
			if err != nil {
				return err
			}
			return fmt.Errorf("the input has boxes (labels over time) and format %s of %s files cannot store them: write %s, or %s of %s files",
				f.Name, inner.Name, List(boxFormats(false)), f.Name, List(boxFileFormats()))
		}
		return fmt.Errorf("the input has boxes (labels over time) and format %s cannot store them: write %s", f.Name, List(boxFormats(tensors)))
	}
	out.Boxes, out.BoxClasses = true, in.BoxClasses
	return nil
}

// boxFormats lists the extensions of the formats that store boxes (of tensors when tensors is set).
func boxFormats(tensors bool) []string {
	var exts []string
	for _, f := range All() {
		if len(f.Extensions) > 0 && ((!tensors && f.Boxes) || (tensors && f.Tensors != nil && f.Tensors.Boxes)) {
			exts = append(exts, f.Extensions[0])
		}
	}
	return exts
}

// boxFileFormats names the formats that store boxes in a dataset file, as a sharded dataset's files.
func boxFileFormats() []string {
	var names []string
	for _, f := range All() {
		if f.Boxes && f.DatasetCreate && f.Index == "" && f.Inner == nil {
			names = append(names, f.Name)
		}
	}
	return names
}

// CheckCompression reports whether the format's writer accepts the codec name (empty: its default).
func (f *Format) CheckCompression(name string) error {
	if name == "" {
		return nil
	}
	if len(f.Compressions) == 0 {
		return fmt.Errorf("format %s does not compress its output", f.Name)
	}
	for _, c := range f.Compressions {
		if strings.EqualFold(c, name) {
			return nil
		}
	}
	return fmt.Errorf("format %s does not offer compression %q (it offers %s)", f.Name, name, List(f.Compressions))
}

// List joins names as prose: "a", "a or b", "a, b or c".
func List(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Conformance describes, for the conformance kit (formats/formattest), the content a format stores. The
// kit tests every registered format with it: the zero value suits a writable format that stores small
// recordings of any sensor; a format fills in what differs.
type Conformance struct {
	// Options are the settings the kit writes and reads with.
	Options Options
	// Geometry is the sensor size the kit writes with; events lie inside it. Zero means 64x64.
	Geometry events.Geometry
	// Extremes are events at the edges of what the format stores, in time order: the largest
	// coordinates, the earliest and the latest timestamps, the longest gap. The kit checks that they
	// survive a write and a read.
	Extremes []events.Event
	// Encode makes file content from events, for a format evtool reads but does not write (Create nil).
	Encode func(b *events.Batch, g events.Geometry) []byte
	// Framed says that a file states its length (a record count, a footer), so that any cut is reported.
	Framed bool
	// LibraryAllocs are the allocations per 1,000 events that a library the reader builds on makes and
	// evtool cannot avoid; the kit's allocation check allows them. Say which library, and why.
	LibraryAllocs float64
	// Files are valid files relative to the fixture folder ($EVTOOL_FIXTURES), for a read-only format
	// without Encode or besides it: the kit reads them intact as the reference and checks batch sizes,
	// hostile sources, truncation and detection on them too.
	Files []string
}

// Source is an opened input: Events for a recording (a stream of events), Samples for a dataset
// (random access to labelled samples). Exactly one of them is set.
type Source struct {
	Events  events.Reader
	Samples events.SampleReader
}

// Meta describes the input.
func (s Source) Meta() events.Meta {
	if s.Samples != nil {
		return s.Samples.Meta()
	}
	return s.Events.Meta()
}

// Close closes the input.
func (s Source) Close() error {
	if s.Samples != nil {
		return s.Samples.Close()
	}
	return s.Events.Close()
}

// Sink is what Create returns: Events for a recording, Samples for a dataset. Exactly one is set.
type Sink struct {
	Events  events.Writer
	Samples events.SampleWriter
}

// Close finishes the output and moves it into place.
func (s Sink) Close() error {
	if s.Samples != nil {
		return s.Samples.Close()
	}
	return s.Events.Close()
}

// Abort discards the output.
func (s Sink) Abort() {
	if s.Samples != nil {
		s.Samples.Abort()
	} else {
		s.Events.Abort()
	}
}

// Open opens a file of this format (or a folder, for a format with an Index).
func (f *Format) Open(path string, opts Options) (Source, error) {
	if f.NewReader == nil {
		return Source{}, fmt.Errorf("%s: format %s cannot be read", path, f.Name)
	}
	path = Resolve(path)
	fh, err := input.OpenFile(path)
	if err != nil {
		return Source{}, err
	}
	src, err := f.NewReader(fh, path, opts)
	if err != nil {
		fh.Close()
		return Source{}, err
	}
	return src, nil
}

// ErrUnknownFormat is wrapped by the errors of lookups that find no registered format: a name that is
// not registered, or a file whose magic bytes and extension no registered format claims.
var ErrUnknownFormat = errors.New("unknown format")

// allRegistered is set by formats/all: errors then need not tell how to register formats.
var allRegistered bool

// RegisteredAll is called by formats/all once it has registered every format evtool ships.
func RegisteredAll() { allRegistered = true }

// unknownFormat builds the error for a failed lookup, listing the registered names (and, when a program
// did not import formats/all, how to register the others).
func unknownFormat(what, listed string, names []string) error {
	const how = "import github.com/evtool/evtool/formats/all to register every format evtool ships"
	switch {
	case len(names) == 0:
		return &formatError{fmt.Sprintf("%s (no format is registered: %s)", what, how)}
	case !allRegistered:
		return &formatError{fmt.Sprintf("%s (%s: %s; %s)", what, listed, strings.Join(names, ", "), how)}
	}
	return &formatError{fmt.Sprintf("%s (%s: %s)", what, listed, strings.Join(names, ", "))}
}

type formatError struct{ msg string }

func (e *formatError) Error() string        { return e.msg }
func (e *formatError) Is(target error) bool { return target == ErrUnknownFormat }

// ErrOption is matched (errors.Is) by the errors that a format option (Options.Params) would fix: which
// chip, which columns.
var ErrOption = errors.New("a format option is needed")

// OptionErrorf builds an error that matches ErrOption, with its own text.
func OptionErrorf(format string, a ...any) error { return &optionError{fmt.Sprintf(format, a...)} }

type optionError struct{ msg string }

func (e *optionError) Error() string        { return e.msg }
func (e *optionError) Is(target error) bool { return target == ErrOption }

// ErrTimeRange is wrapped by the errors of writers given timestamps their format cannot store compactly
// (an absolute time near 10^15 µs, a gap of hours): shifting the times to start at 0 — the time-align
// transform — is usually the fix, and the error says so.
var ErrTimeRange = errors.New("timestamps outside what the format stores")

var (
	mu       sync.RWMutex
	registry = map[string]*Format{}
	// byName is the registry sorted by name, made on first use after a registration: detection asks for
	// it once per file, thousands of times in a dataset.
	byName []*Format
)

// Register adds a format. It panics on a duplicate name, which is a programming error caught at start-up.
// The Create of a format without DatasetCreate refuses datasets here, once for all formats.
func Register(f *Format) {
	if create := f.Create; create != nil && !f.DatasetCreate {
		f.Create = func(path string, meta events.Meta, o Options) (Sink, error) {
			if meta.Kind == events.KindDataset {
				return Sink{}, fmt.Errorf("%s: format %s holds one recording per file, not a dataset; write the dataset as arrow or parquet (or as a folder of nmnist .bin files)", path, f.Name)
			}
			return create(path, meta, o)
		}
	}
	if f.Tensors != nil {
		f.tensorView = f.TensorFormat()
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[f.Name]; dup {
		panic("formats: duplicate registration of " + f.Name)
	}
	registry[f.Name] = f
	byName = nil
}

// All returns the registered formats sorted by name.
func All() []*Format {
	mu.RLock()
	sorted := byName
	mu.RUnlock()
	if sorted == nil {
		mu.Lock()
		if byName == nil {
			byName = make([]*Format, 0, len(registry))
			for _, f := range registry {
				byName = append(byName, f)
			}
			sort.Slice(byName, func(i, j int) bool { return byName[i].Name < byName[j].Name })
		}
		sorted = byName
		mu.Unlock()
	}
	return slices.Clone(sorted) // the caller's to change
}

// Names returns the registered format names, sorted.
func Names() []string {
	var names []string
	for _, f := range All() {
		names = append(names, f.Name)
	}
	return names
}

// Lookup finds a format by name.
func Lookup(name string) (*Format, error) {
	mu.RLock()
	f, ok := registry[strings.ToLower(name)]
	mu.RUnlock()
	if !ok {
		return nil, unknownFormat(fmt.Sprintf("unknown format %q%s", name, suggest.DidYouMean(name, Names())), "registered formats", Names())
	}
	return f, nil
}

// HeadSize is how many leading bytes Detect functions are given.
const HeadSize = 4096

// Resolve returns the file that stands for path: the index file when path is a folder that holds the
// Index of a registered format (a sharded dataset's manifest.json), else path itself.
func Resolve(path string) string {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return path
	}
	for _, f := range All() {
		if f.Index == "" {
			continue
		}
		p := filepath.Join(path, f.Index)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return path
}

// Detect finds the format of a file (or of a folder with a format's Index file): magic bytes first,
// then the extension.
func Detect(path string) (*Format, error) {
	path = Resolve(path)
	fh, err := input.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return detectFile(fh, path)
}

// detectFile detects the format of an open file from its first bytes, read without moving its offset.
func detectFile(fh *os.File, path string) (*Format, error) {
	var head [HeadSize]byte
	n, err := fh.ReadAt(head[:], 0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return DetectBytes(path, head[:n])
}

// OpenFile opens path once for a command that reads it whole: the named format, or the one detected from
// the file's first bytes, and the file at its start, ready for that format's NewReader (or its Tensors'
// NewReader). The caller closes the file when no reader took it.
func OpenFile(path, name string) (*os.File, *Format, error) {
	fh, err := input.OpenFile(path)
	if err != nil {
		return nil, nil, err
	}
	var f *Format
	if name != "" {
		f, err = Lookup(name)
	} else {
		f, err = detectFile(fh, path)
	}
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	return fh, f, nil
}

// DetectBytes is Detect on bytes already read.
func DetectBytes(path string, head []byte) (*Format, error) {
	all := All()
	for _, f := range all {
		if f.Detect != nil && f.Detect(head) {
			return f, nil
		}
	}
	if f := ByExtension(path); f != nil {
		return f, nil
	}
	return nil, unknownFormat(fmt.Sprintf("%s: unknown format: no registered format recognises its first bytes or its extension %q; name the format",
		path, filepath.Ext(path)), "registered formats", Names())
}

// ByExtension finds a format by the file extension, or nil. Formats that can read win over write-only ones.
func ByExtension(path string) *Format {
	ext := strings.ToLower(filepath.Ext(path))
	if ext == "" {
		return nil
	}
	var found *Format
	for _, f := range All() {
		for _, e := range f.Extensions {
			if e == ext && (found == nil || (found.NewReader == nil && f.NewReader != nil)) {
				found = f
			}
		}
	}
	return found
}

// find returns the named format, or detects path's when name is empty.
func find(path, name string) (*Format, error) {
	if name != "" {
		return Lookup(name)
	}
	return Detect(path)
}

// Open opens path with the named format, or detects it when name is empty. A folder that holds a
// format's Index file (a sharded dataset) opens as that format.
func Open(path, name string, opts Options) (Source, *Format, error) {
	path = Resolve(path)
	f, err := find(path, name)
	if err != nil {
		return Source{}, nil, err
	}
	if f.NewReader == nil && f.Tensors != nil {
		return Source{}, f, fmt.Errorf("%s: a %s file holds tensors, not events (evtool info and render read it)", path, f.Name)
	}
	src, err := f.Open(path, opts)
	if err != nil {
		return Source{}, f, err
	}
	return src, f, nil
}

// OutputFormat finds the format to write path with: the named one if name is given, else the one its
// extension says.
func OutputFormat(path, name string) (*Format, error) {
	var f *Format
	if name != "" {
		var err error
		if f, err = Lookup(name); err != nil {
			return nil, err
		}
	} else {
		ext := strings.ToLower(filepath.Ext(path))
		for _, g := range All() {
			if g.Create == nil {
				continue
			}
			for _, e := range g.Extensions {
				if e == ext && (f == nil || !f.WriteDefault) {
					f = g
				}
			}
		}
		if f == nil {
			return nil, unknownFormat(fmt.Sprintf("%s: no registered format writes extension %q; name the output format", path, ext),
				"registered formats that write", writableNames())
		}
	}
	if f.Create == nil {
		return nil, fmt.Errorf("format %s cannot be written (writable: %s)", f.Name, strings.Join(writableNames(), ", "))
	}
	return f, nil
}

func writableNames() []string {
	var names []string
	for _, f := range All() {
		if f.Create != nil {
			names = append(names, f.Name)
		}
	}
	return names
}

// HasPrefix is a helper for Detect functions.
func HasPrefix(head []byte, magic string) bool { return bytes.HasPrefix(head, []byte(magic)) }

// EventSource makes the Source of a recording reader's constructor result (nil stays nil on error), so
// registrations read: NewReader: func(…) (formats.Source, error) { return formats.EventSource(NewReader(…)) }.
func EventSource[R events.Reader](r R, err error) (Source, error) {
	if err != nil {
		return Source{}, err
	}
	return Source{Events: r}, nil
}

// SampleSource is EventSource for a dataset reader.
func SampleSource[R events.SampleReader](r R, err error) (Source, error) {
	if err != nil {
		return Source{}, err
	}
	return Source{Samples: r}, nil
}

// EventSink makes the Sink of a recording writer's constructor result.
func EventSink[W events.Writer](w W, err error) (Sink, error) {
	if err != nil {
		return Sink{}, err
	}
	return Sink{Events: w}, nil
}

// SampleSink makes the Sink of a dataset writer's constructor result.
func SampleSink[W events.SampleWriter](w W, err error) (Sink, error) {
	if err != nil {
		return Sink{}, err
	}
	return Sink{Samples: w}, nil
}
