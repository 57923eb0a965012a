// Package mat reads events from MATLAB .mat files (versions 4, 5 and 7.3) through internal/matfile: one
// recording whose t, x, y and p are variables (struct fields as TD.ts), or ST-MNIST's tactile layout
// (docs/formats-mat.md).
//
// -O options name the variables: t=ts x=x y=y p=pol (a dotted path reaches struct fields: t=TD.ts), or
// constants (p=1). Without options, variables named t/ts/timestamp(s), x, y and p/pol/polarity are used
// (ASL-DVS's ts, x, y, pol), at the top level or in a struct TD; a variable spiketrain of 101 rows is read
// as ST-MNIST: rows 0–99 are the taxels of a 10×10 array (x = taxel mod 10, y = taxel div 10), values
// +1/-1 the polarity, row 100 the time in seconds.
//
// Times are in µs unless -O time-unit says otherwise (MATLAB stores µs timestamps as doubles); fractional
// values are rounded to the nearest µs (tonic truncates). -O flip-y=true turns a bottom-left origin into
// evtool's top-left within --sensor's height (ASL-DVS). A .mat variable is decoded whole: memory holds the
// event columns of one file.
package mat

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
	"github.com/evtool/evtool/internal/columns"
	"github.com/evtool/evtool/internal/matfile"
)

func init() {
	formats.Register(&formats.Format{
		Name:        "mat",
		Description: "MATLAB .mat events (v4, v5, v7.3): t, x, y, p variables (ASL-DVS ts/x/y/pol, -O t=… names them) or ST-MNIST's spiketrain; read only",
		Extensions:  []string{".mat"},
		Detect:      Detect,
		NewReader: func(r io.Reader, name string, o formats.Options) (formats.Source, error) {
			return formats.EventSource(NewReader(r, name, o))
		},
		RandomAccess: true,
		// Separate variables can lose a whole one to a cut undetected (y and p have defaults), so the
		// kit's files hold ASL-DVS's struct TD: one element, whose tag states its length.
		Conformance: formats.Conformance{Encode: encode, Files: []string{"other/stmnist/sample_stmnist.mat"}},
		Params: map[string]string{
			"t":         "variable holding the times (a dotted path reaches struct fields: TD.ts), or a number",
			"x":         "variable holding x, or a constant",
			"y":         "variable holding y, or a constant",
			"p":         "variable holding the polarity (0/1, -1/+1 or logical), or a constant",
			"time-unit": "unit of t: us (default), ms, s or ns",
			"flip-y":    "true: y is counted from the bottom; flip it within the sensor height (--sensor)",
			"layout":    `"columns" (t, x, y, p variables) or "stmnist" (a spiketrain matrix); default: recognised`,
		},
	})
}

// Detect recognises the MATLAB 5 and 7.3 headers (version 4 files have none: they go by extension).
func Detect(head []byte) bool {
	if !formats.HasPrefix(head, "MATLAB ") || len(head) < 128 {
		return false
	}
	return formats.HasPrefix(head, "MATLAB 7.3 MAT-file") || string(head[126:128]) == "IM" || string(head[126:128]) == "MI"
}

// STMNISTSensor is the taxel array of ST-MNIST's tactile sensor.
var STMNISTSensor = events.Geometry{Width: 10, Height: 10}

var roleNames = [4]string{"t", "x", "y", "p"}

var defaults = [4][]string{{"ts", "t", "timestamp", "timestamps", "time"}, {"x"}, {"y"}, {"pol", "p", "polarity"}}

// Open reads the events of a .mat file.
func Open(path string, o formats.Options) (*events.BatchReader, error) {
	return input.Open(path, func(f *os.File) (*events.BatchReader, error) { return NewReader(f, path, o) })
}

// NewReader reads the events of a .mat file from r, which must give random access (an *os.File,
// *bytes.Reader or *io.SectionReader). The variables are decoded here: r, when it is an io.Closer, is
// closed before NewReader returns.
func NewReader(r io.Reader, path string, o formats.Options) (*events.BatchReader, error) {
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	ra, size, ok := input.RandomAccess(r)
	if !ok {
		return nil, fmt.Errorf("%s: a .mat file is read by offset: reading it needs random access (a file, not a stream)", path)
	}
	m, err := matfile.NewFile(ra, size, path)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	spec := columns.Spec{}
	if u := o.Param("time-unit", ""); u != "" {
		if spec.TimeExp, err = columns.ParseUnit(u); err != nil {
			return nil, o.BadParam("time-unit", "want us, ms, s or ns")
		}
	}
	flip, err := o.BoolParam("flip-y")
	if err != nil {
		return nil, err
	}
	if flip {
		if !o.Sensor.Known() {
			return nil, events.SensorErrorf("%s: flip-y needs the sensor height, which the file does not state", path)
		}
		spec.FlipY = o.Sensor.Height
	}
	meta := events.Meta{Format: "mat", Kind: events.KindRecording, Geometry: o.Sensor, Source: path}
	meta.SetExtra("mat version", m.Version)
	names, err := m.Names()
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, &events.DecodeError{Path: path, Offset: size, Msg: "the file holds no variables (empty, or cut short)", Err: events.ErrTruncated}
	}
	has := map[string]bool{}
	for _, n := range names {
		has[n] = true
	}
	layout := o.Param("layout", "")
	named := o.Param("t", "") != "" || o.Param("x", "") != ""
	if layout == "" && !named && has["spiketrain"] {
		layout = "stmnist"
	}
	b := events.NewBatch(0)
	switch layout {
	case "stmnist":
		if spec.TimeExp == 0 && o.Param("time-unit", "") == "" {
			spec.TimeExp = 6 // the time row is in seconds
		}
		if err := readSTMNIST(m, path, spec, b); err != nil {
			return nil, err
		}
		if !meta.Geometry.Known() {
			meta.Geometry = STMNISTSensor
		}
		meta.SetExtra("layout", "ST-MNIST spiketrain (10×10 taxels)")
	case "", "columns":
		if err := readColumns(m, path, o, spec, has, b, &meta); err != nil {
			return nil, err
		}
	default:
		return nil, o.BadParam("layout", "want columns or stmnist")
	}
	return &events.BatchReader{B: b, M: meta}, nil
}

// lookup reads a variable or a struct field path (TD.ts).
func lookup(m *matfile.File, name string) (*matfile.Var, error) {
	parts := strings.Split(name, ".")
	v, err := m.Read(parts[0])
	if err != nil {
		return nil, err
	}
	for _, p := range parts[1:] {
		f := v.Field(p)
		if f == nil {
			return nil, fmt.Errorf("%s has no field %q (fields: %s)", v.Name, p, strings.Join(v.Fields, ", "))
		}
		v = f
	}
	return v, nil
}

func readColumns(m *matfile.File, path string, o formats.Options, spec columns.Spec, has map[string]bool, b *events.Batch, meta *events.Meta) error {
	var vals [4]columns.Values
	n := -1
	var from string
	for r, role := range roleNames {
		name := o.Param(role, "")
		if name == "" {
			for _, cand := range defaults[r] {
				if has[cand] {
					name = cand
					break
				}
				if has["TD"] {
					if _, err := lookup(m, "TD."+cand); err == nil {
						name = "TD." + cand
						break
					}
				}
			}
		}
		if name == "" {
			switch r {
			case 2:
				name = "0"
			case 3:
				name = "1"
			default:
				names, _ := m.Names()
				return formats.OptionErrorf("%s: no variable for %s (variables: %s); name it with the option %s=NAME", path, role, strings.Join(names, ", "), role)
			}
		}
		meta.SetExtra("column "+role, name)
		if c, ok := columns.ParseConst(name); ok {
			vals[r] = columns.Constant(c)
			continue
		}
		v, err := lookup(m, name)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if !v.Class.Numeric() {
			return fmt.Errorf("%s: %s is a %s array, not numbers", path, name, v.Class)
		}
		if v.Floats != nil || v.Class == matfile.Double || v.Class == matfile.Single {
			vals[r] = columns.Values{Floats: v.Floats}
		} else {
			vals[r] = columns.Values{Ints: v.Ints}
		}
		if k := v.Len(); n < 0 {
			n, from = k, name
		} else if k != n {
			return fmt.Errorf("%s: %s holds %d values but %s holds %d: the columns must be equally long", path, name, k, from, n)
		}
	}
	if n < 0 {
		return fmt.Errorf("%s: every column is a constant", path)
	}
	if _, err := columns.Append(b, vals[0], vals[1], vals[2], vals[3], n, spec); err != nil {
		return &events.DecodeError{Path: path, Msg: err.Error()}
	}
	return nil
}

// readSTMNIST decodes ST-MNIST's spiketrain: 101 rows × one column per time step.
func readSTMNIST(m *matfile.File, path string, spec columns.Spec, b *events.Batch) error {
	v, err := m.Read("spiketrain")
	if err != nil {
		return err
	}
	if v.Class != matfile.Double && v.Class != matfile.Single || len(v.Dims) != 2 || v.Dims[0] != 101 {
		return &events.DecodeError{Path: path, Msg: fmt.Sprintf("spiketrain is a %s %v array; ST-MNIST's is 101 × N doubles", v.Class, v.Dims)}
	}
	rows, cols := v.Dims[0], v.Dims[1]
	var ts []float64
	var x, y, p []int64
	for c := 0; c < cols; c++ {
		col := v.Floats[c*rows : (c+1)*rows]
		for taxel := 0; taxel < 100; taxel++ {
			s := col[taxel]
			if s == 0 {
				continue
			}
			if s != 1 && s != -1 || math.IsNaN(col[100]) {
				return &events.DecodeError{Path: path, Msg: fmt.Sprintf("spiketrain(%d, %d) = %g: want -1, 0 or +1", taxel+1, c+1, s)}
			}
			ts = append(ts, col[100])
			x = append(x, int64(taxel%10))
			y = append(y, int64(taxel/10))
			p = append(p, int64(s))
		}
	}
	_, err = columns.Append(b, columns.Values{Floats: ts}, columns.Values{Ints: x}, columns.Values{Ints: y}, columns.Values{Ints: p}, len(ts), spec)
	if err != nil {
		return &events.DecodeError{Path: path, Msg: err.Error()}
	}
	return nil
}

// encode makes the conformance kit's files: MATLAB 5, a struct TD whose fields ts, x, y and pol are
// double column vectors (ASL-DVS's layout, as MATLAB's save writes it uncompressed).
func encode(b *events.Batch, _ events.Geometry) []byte {
	le := binary.LittleEndian
	elem := func(typ uint32, data []byte) []byte {
		out := le.AppendUint32(le.AppendUint32(nil, typ), uint32(len(data)))
		out = append(out, data...)
		return append(out, make([]byte, (8-len(data)%8)%8)...)
	}
	const miINT8, miINT32, miUINT32, miDOUBLE, miMATRIX = 1, 5, 6, 9, 14
	const mxStruct, mxDouble = 2, 6
	matrix := func(class uint32, rows, cols int, name string, body ...[]byte) []byte {
		m := elem(miUINT32, le.AppendUint32(le.AppendUint32(nil, class), 0))
		m = append(m, elem(miINT32, le.AppendUint32(le.AppendUint32(nil, uint32(rows)), uint32(cols)))...)
		m = append(m, elem(miINT8, []byte(name))...)
		for _, p := range body {
			m = append(m, p...)
		}
		return elem(miMATRIX, m)
	}
	n := b.Len()
	column := func(v func(i int) float64) []byte {
		data := make([]byte, 0, 8*n)
		for i := range n {
			data = le.AppendUint64(data, math.Float64bits(v(i)))
		}
		return matrix(mxDouble, n, 1, "", elem(miDOUBLE, data))
	}
	fields := []string{"ts", "x", "y", "pol"}
	names := make([]byte, 32*len(fields))
	for i, f := range fields {
		copy(names[32*i:], f)
	}
	td := matrix(mxStruct, 1, 1, "TD", elem(miINT32, le.AppendUint32(nil, 32)), elem(miINT8, names),
		column(func(i int) float64 { return float64(b.T[i]) }),
		column(func(i int) float64 { return float64(b.X[i]) }),
		column(func(i int) float64 { return float64(b.Y[i]) }),
		column(func(i int) float64 { return float64(b.P[i]) }))
	head := make([]byte, 128)
	copy(head, fmt.Sprintf("%-116s", "MATLAB 5.0 MAT-file, written by evtool's conformance kit"))
	le.PutUint16(head[124:], 0x0100)
	copy(head[126:], "IM")
	return append(head, td...)
}
