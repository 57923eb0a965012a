// Package npy reads and writes NumPy files: events as .npy files, the layout Python users load with
// numpy.load — a 1-D structured array with dtype [('t','<i8'),('x','<u2'),('y','<u2'),('p','u1')]
// (docs/formats-csv-npy-parquet.md) — and the tensors a representation makes, as .npy arrays and .npz
// archives (tensor.go, tensorread.go; registered as the formats npy and npz).
//
// The reader follows the NPY format versions 1.0, 2.0 and 3.0: the header dict is parsed as a Python
// literal (never evaluated). It accepts other field orders and types (t as int, unsigned or float µs;
// x and y as any integer type; p as integer, bool or -1/+1; extra fields skipped) and plain (N, 4)
// integer arrays in t,x,y,p column order. Reading streams in constant memory. The writer writes
// version 1.0 with the exact dtype above, and patches the record count into the header on Close.
package npy

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/npyarray"
	"github.com/evtool/evtool/tensors"
)

// Magic starts every .npy file.
const Magic = npyarray.Magic

// recordSize is the size of one event in the dtype the writer uses (packed, as numpy lays out a
// structured dtype unless told to align).
const recordSize = 13

// Descr is the dtype the writer declares, as numpy itself prints it.
const Descr = "[('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', '|u1')]"

func init() {
	formats.Register(&formats.Format{
		Name:        "npy",
		Description: "NumPy .npy structured array t:<i8 µs, x:<u2, y:<u2, p:u1 (also reads other field types and (N,4) arrays)",
		Extensions:  []string{".npy"},
		Detect:      func(head []byte) bool { return formats.HasPrefix(head, Magic) },
		NewReader: func(r io.Reader, name string, o formats.Options) (formats.Source, error) {
			return formats.EventSource(NewReader(r, name, o))
		},
		Create: func(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
			return formats.EventSink(Create(path, meta, o))
		},
		Params: map[string]string{
			"columns":   `read only: column order of a plain 2-D array, e.g. "x,y,p,t" ("-" skips a column; default t,x,y,p)`,
			"time-unit": `read only: unit of t in the file: us (default), ms, s or ns; converted to µs, rounded to the nearest`,
		},
		Tensors: &formats.TensorIO{
			NewReader: func(r io.Reader, name string, o formats.Options) (tensors.Reader, error) {
				stacked := true
				if _, set := o.Params["stacked"]; set {
					var err error
					if stacked, err = o.BoolParam("stacked"); err != nil {
						return nil, err
					}
				}
				return NewTensorReader(r, name, stacked)
			},
			Create: func(path string, meta events.Meta, spec tensors.Spec, o formats.Options) (tensors.Writer, error) {
				return createTensors(path, meta, spec, false, o)
			},
			Params: map[string]string{
				"stacked":          `read only: true (default) reads an array of 3 or more dimensions as samples along its first axis; false as one tensor (what a single recording's tensor is)`,
				formats.ParamDType: `write: element type stored: int16 (default for counts: torch.from_numpy takes it on every torch), uint16 or float32 (default for values)`,
			},
		},
		Conformance: formats.Conformance{
			Framed:   true, // the header states the record count
			Geometry: events.Geometry{Width: 65536, Height: 65536},
			Extremes: []events.Event{{T: math.MinInt64, X: 65535, Y: 0, P: 1}, {T: 0, X: 0, Y: 65535},
				{T: math.MaxInt64, X: 65535, Y: 65535, P: 1}},
		},
	})
	formats.Register(&formats.Format{
		Name:         "npz",
		Description:  "NumPy .npz archive of tensors: x (N, …shape), y (int32 labels, −1 unknown), ids, classes (tensors only)",
		Extensions:   []string{".npz"},
		Detect:       IsNPZ,
		RandomAccess: true, // a zip archive keeps its directory at the end
		Tensors: &formats.TensorIO{
			NewReader: func(r io.Reader, name string, _ formats.Options) (tensors.Reader, error) {
				return NewNPZReader(r, name)
			},
			Create: func(path string, meta events.Meta, spec tensors.Spec, o formats.Options) (tensors.Writer, error) {
				return createTensors(path, meta, spec, true, o)
			},
			Params: map[string]string{
				formats.ParamDType: `element type stored for x: int16 (default for counts: torch.from_numpy takes it on every torch), uint16 or float32 (default for values)`,
			},
			Boxes: true,
		},
	})
}

// createTensors is the registry's tensor writer: the element type stored comes from option dtype.
func createTensors(path string, meta events.Meta, spec tensors.Spec, npz bool, o formats.Options) (tensors.Writer, error) {
	stored, err := formats.StoredDType(o, spec.DType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w, err := CreateTensors(path, meta, spec, npz, stored)
	if err != nil {
		return nil, err // not a nil *TensorWriter in a non-nil interface
	}
	return w, nil
}

// timeUnits maps a unit name onto its power of ten relative to a microsecond.
var timeUnits = map[string]int{"us": 0, "µs": 0, "ms": 3, "s": 6, "ns": -3}

// readOptions are the parsed -O options of the reader.
type readOptions struct {
	columns []int // nil: t,x,y,p
	timeExp int
}

func parseReadOptions(o formats.Options) (readOptions, error) {
	var ro readOptions
	if v := o.Param("columns", ""); v != "" {
		seen := [4]bool{}
		for _, name := range strings.Split(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			role := colSkip
			if name != "-" && name != "_" {
				r, ok := aliases[name]
				if !ok || seen[r] {
					return ro, o.BadParam("columns", "%q is unknown or named twice (want t, x, y, p or -)", name)
				}
				role, seen[r] = r, true
			}
			ro.columns = append(ro.columns, role)
		}
		for r, ok := range seen {
			if !ok {
				return ro, o.BadParam("columns", "column %s is missing", roleNames[r])
			}
		}
	}
	if u := strings.ToLower(o.Param("time-unit", "us")); u != "" {
		e, ok := timeUnits[u]
		if !ok {
			return ro, o.BadParam("time-unit", "want us, ms, s or ns")
		}
		ro.timeExp = e
	}
	return ro, nil
}
