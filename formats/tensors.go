package formats

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/internal/input"
	"github.com/evtool/evtool/tensors"
)

// TensorIO is a format's support for tensors: what a transform chain ending in a representation (frames,
// voxel grid…) makes of each sample. A file format may hold events, tensors or both (an Arrow file holds
// one recording, a dataset or tensors; a .npy file a structured array of events or a plain array).
type TensorIO struct {
	// NewReader reads tensors from r (closed by the Reader's Close when it is an io.Closer); name is used
	// in errors. Formats that need random access take an *os.File, *bytes.Reader or *io.SectionReader.
	// Given content of this format that holds events it returns an error wrapping tensors.ErrNotTensors.
	// Nil when the format cannot read tensors back.
	NewReader func(r io.Reader, name string, opts Options) (tensors.Reader, error)
	// Create opens a tensors output for tensors as spec describes (shape −1 where a size varies per
	// sample; Samples when the count is known in advance). Nil when the format cannot write tensors.
	Create func(path string, meta events.Meta, spec tensors.Spec, opts Options) (tensors.Writer, error)
	// Params documents the settings the tensor reader and writer read (CLI: -O key=value), as
	// Format.Params does for events; CheckParams takes them through Format.TensorFormat.
	Params map[string]string
	// Boxes says that the writer keeps each sample's boxes (tensors.Sample.Boxes) when created with
	// events.Meta.Boxes, and the reader gives them back: a detection loader's inputs and targets in one file.
	Boxes bool
}

// ParamDType is the tensor writers' option (-O dtype=) naming the element type stored.
const ParamDType = "dtype"

// StoredDType is the element type a tensor writer stores tensors of element type dtype as: option dtype,
// else int16 for counts (Uint16 tensors: what torch.from_numpy takes on every torch and tonic gives) and
// float32 for values. Counts may be stored as int16, uint16 or float32; values as float32 only.
func StoredDType(o Options, dtype tensors.DType) (tensors.DType, error) {
	v := tensors.DType(o.Param(ParamDType, ""))
	switch {
	case v == "" && dtype == tensors.Uint16:
		return tensors.Int16, nil
	case v == "":
		return dtype, nil
	case v == tensors.Float32 || (dtype == tensors.Uint16 && (v == tensors.Int16 || v == tensors.Uint16)):
		return v, nil
	case dtype == tensors.Uint16:
		return "", o.BadParam(ParamDType, "counts are stored as int16 (the default), uint16 or float32")
	}
	return "", o.BadParam(ParamDType, "%s values are stored as float32", dtype)
}

// CheckStored reports whether t's values fit the element type stored (StoredDType): a count beyond what
// int16 holds is an error (the caller names the file and the sample), never a wrapped negative number.
func CheckStored(t *tensors.Tensor, stored tensors.DType) error {
	if stored != tensors.Int16 {
		return nil
	}
	for i, v := range t.U16 {
		if v > tensors.MaxInt16Count {
			return OptionErrorf("value %d is a count of %d, more than int16 holds (%d): store uint16 or float32 (option %s)",
				i, v, tensors.MaxInt16Count, ParamDType)
		}
	}
	return nil
}

// AppendStored appends t's values to dst as little-endian elements of type stored (StoredDType). A count
// beyond what int16 holds is an error: the caller names the file and the sample.
func AppendStored(dst []byte, t *tensors.Tensor, stored tensors.DType) ([]byte, error) {
	switch {
	case t.F32 != nil || stored == tensors.Float32 && t.U16 == nil:
		for _, v := range t.F32 {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
		}
	case stored == tensors.Float32:
		for _, v := range t.U16 {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(v)))
		}
	default:
		// Int16 or uint16: the same bits for counts ≤ 32767. One pass converts and gathers every bit set,
		// and only a count with the high bit is looked for again, for the error.
		var bits uint16
		dst, bits = appendUint16s(dst, t.U16)
		if bits > tensors.MaxInt16Count {
			if err := CheckStored(t, stored); err != nil {
				return dst[:len(dst)-2*len(t.U16)], err
			}
		}
	}
	return dst, nil
}

// appendUint16s appends vs to dst as little-endian uint16s, and returns the OR of them all.
func appendUint16s(dst []byte, vs []uint16) ([]byte, uint16) {
	n := len(dst)
	dst = slices.Grow(dst, 2*len(vs))[:n+2*len(vs)]
	out := dst[n:]
	var bits uint16
	for i, v := range vs {
		bits |= v
		binary.LittleEndian.PutUint16(out[2*i:2*i+2], v)
	}
	return dst, bits
}

// OpenTensors opens a tensors file with the named format, or the detected one when name is empty. When
// the file holds events (or its format holds events only), the error wraps tensors.ErrNotTensors, so
// callers that accept both can fall back to Open.
func OpenTensors(path, name string, opts Options) (tensors.Reader, *Format, error) {
	path = Resolve(path)
	f, err := find(path, name)
	if err != nil {
		return nil, nil, err
	}
	if f.Tensors == nil || f.Tensors.NewReader == nil {
		return nil, f, fmt.Errorf("%s: %w (format %s)", path, tensors.ErrNotTensors, f.Name)
	}
	fh, err := input.OpenFile(path)
	if err != nil {
		return nil, f, err
	}
	r, err := f.Tensors.NewReader(fh, path, opts)
	if err != nil {
		fh.Close()
		return nil, f, err
	}
	return r, f, nil
}

// TensorOutputFormat finds the format to write tensors to path with: the named one if given, else the one
// the extension says.
func TensorOutputFormat(path, name string) (*Format, error) {
	if name != "" {
		f, err := Lookup(name)
		if err != nil {
			return nil, err
		}
		if f.Tensors == nil || f.Tensors.Create == nil {
			return nil, fmt.Errorf("format %s cannot hold tensors (a chain ending in a representation makes tensors; formats that hold them: %s)",
				f.Name, strings.Join(TensorWritableNames(), ", "))
		}
		return f, nil
	}
	ext := strings.ToLower(filepath.Ext(path))
	for _, f := range All() {
		if f.Tensors == nil || f.Tensors.Create == nil {
			continue
		}
		for _, e := range f.Extensions {
			if e == ext {
				return f, nil
			}
		}
	}
	return nil, fmt.Errorf("%s: a chain ending in a representation makes tensors, which go to %s", path, TensorExtensions())
}

// TensorWritableNames lists the formats that can write tensors, sorted.
func TensorWritableNames() []string {
	var names []string
	for _, f := range All() {
		if f.Tensors != nil && f.Tensors.Create != nil {
			names = append(names, f.Name)
		}
	}
	return names
}

// TensorExtensions lists the main extension of every format that writes tensors: ".arrow, .npy or .npz".
func TensorExtensions() string {
	var exts []string
	for _, f := range All() {
		if f.Tensors != nil && f.Tensors.Create != nil && len(f.Extensions) > 0 {
			exts = append(exts, f.Extensions[0])
		}
	}
	switch len(exts) {
	case 0:
		return "no registered format"
	case 1:
		return exts[0]
	}
	return strings.Join(exts[:len(exts)-1], ", ") + " or " + exts[len(exts)-1]
}
