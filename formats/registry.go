// Package formats is the registry of event file formats: each format sub-package registers itself in an
// init function, and the CLI finds a format by name (--from/--to), by magic bytes, then by extension.
// Import formats/all to register every format evtool ships.
package formats

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/evtool/evtool/events"
)

// Options carries the settings a user can give any format. Format-specific settings live in Params
// (CLI: -O key=value), so new formats need no new CLI flags.
type Options struct {
	// Sensor overrides the sensor size (CLI --sensor WxH).
	Sensor events.Geometry
	// Compression for writers that compress: "zstd" (default), "lz4", "none".
	Compression string
	// Params holds format-specific settings, e.g. "chip"="davis346", "overflow-markers"="true".
	Params map[string]string
}

// Param returns a format-specific setting, or def when unset.
func (o Options) Param(key, def string) string {
	if v, ok := o.Params[key]; ok {
		return v
	}
	return def
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
	return false, fmt.Errorf("option %s=%q: want true or false", key, v)
}

// IntParam returns a format-specific integer setting, or def when unset.
func (o Options) IntParam(key string, def int) (int, error) {
	v, ok := o.Params[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("option %s=%q: want an integer", key, v)
	}
	return n, nil
}

// Format describes one file format.
type Format struct {
	Name        string   // registry name, used by --from/--to: "nmnist", "arrow", "aedat4", …
	Description string   // one line for `evtool info --formats` and docs
	Extensions  []string // lower-case, with the dot: ".bin"
	// Detect reports whether the first bytes of a file look like this format (head holds up to 4 KiB,
	// less for short files). Nil for formats without magic bytes; they are found by extension only.
	Detect func(head []byte) bool
	// Open opens a file for reading; it returns an events.Reader (one recording) or an
	// events.SampleReader (a dataset). Nil when the format is write-only.
	Open func(path string, opts Options) (Source, error)
	// Create opens an output. For meta.Kind == dataset it returns an events.SampleWriter, otherwise an
	// events.Writer. Nil when the format is read-only.
	Create func(path string, meta events.Meta, opts Options) (Sink, error)
	// DatasetCreate reports whether Create accepts datasets (e.g. a folder of per-sample files).
	DatasetCreate bool
	// InferGeometry gives the sensor size from the extent of the events when the file does not say
	// (dataset knowledge such as "fits 34x34: N-MNIST"). Nil means: use the extent.
	InferGeometry func(extent events.Geometry) events.Geometry
	// Params documents the format-specific -O options: name → help.
	Params map[string]string
	// Tensors reads and writes the tensors a representation makes of samples (tensors.go); nil for
	// formats that hold events only.
	Tensors *TensorIO
}

// Source is what Open returns: an events.Reader or an events.SampleReader.
type Source interface {
	Meta() events.Meta
	Close() error
}

// Sink is what Create returns: an events.Writer or an events.SampleWriter.
type Sink interface {
	Close() error
	Abort()
}

var (
	mu       sync.RWMutex
	registry = map[string]*Format{}
)

// Register adds a format. It panics on a duplicate name, which is a programming error caught at start-up.
func Register(f *Format) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[f.Name]; dup {
		panic("formats: duplicate registration of " + f.Name)
	}
	registry[f.Name] = f
}

// All returns the registered formats sorted by name.
func All() []*Format {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]*Format, 0, len(registry))
	for _, f := range registry {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
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
		return nil, fmt.Errorf("unknown format %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return f, nil
}

// HeadSize is how many leading bytes Detect functions are given.
const HeadSize = 4096

// Detect finds the format of a file: magic bytes first, then the extension.
func Detect(path string) (*Format, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	head := make([]byte, HeadSize)
	n, err := io.ReadFull(fh, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return DetectBytes(path, head[:n])
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
	return nil, fmt.Errorf("%s: unknown format (no magic bytes matched and extension %q is not known); use --from with one of: %s",
		path, filepath.Ext(path), strings.Join(Names(), ", "))
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
			if e == ext && (found == nil || (found.Open == nil && f.Open != nil)) {
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

// Open opens path with the named format, or detects it when name is empty.
func Open(path, name string, opts Options) (Source, *Format, error) {
	f, err := find(path, name)
	if err != nil {
		return nil, nil, err
	}
	if f.Open == nil && f.Tensors != nil {
		return nil, f, fmt.Errorf("%s: a %s file holds tensors, not events (evtool info and render read it)", path, f.Name)
	}
	if f.Open == nil {
		return nil, f, fmt.Errorf("%s: format %s cannot be read", path, f.Name)
	}
	src, err := f.Open(path, opts)
	if err != nil {
		return nil, f, err
	}
	return src, f, nil
}

// OutputFormat finds the format to write path with: --to name if given, else the extension.
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
				if e == ext {
					f = g
				}
			}
		}
		if f == nil {
			return nil, fmt.Errorf("%s: cannot tell the output format from extension %q; use --to with one of: %s",
				path, ext, strings.Join(writableNames(), ", "))
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
