package npy

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/output"
	"github.com/evtool/evtool/internal/npyarray"
	"github.com/evtool/evtool/internal/pdeflate"
	"github.com/evtool/evtool/tensors"
)

// Tensors for NumPy and PyTorch users (docs/FORMAT.md, layout 3):
//   - .npy: one array x of shape (N, *shape), or, for the tensor of a single recording, the tensor itself;
//   - .npz: x (N, *shape), y (int32 labels, −1 when unknown), ids (sample ids) and classes (class names),
//     as numpy.savez_compressed writes them, and the samples' boxes when they have them (boxes.go).
//
// Every tensor of a file has one shape (frames by bins, voxel grids); the element type is uint16 (counts)
// or float32. The readers take any C-order integer, float or bool array of three or more dimensions.

// ArrayHeader renders the NPY 1.0 preamble of a plain array (descr like '<f4', C order), padded with
// spaces to a multiple of 64 bytes as numpy pads its own.
func ArrayHeader(descr string, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	return npyarray.AppendHeader(nil, 1, dict)
}

// TensorWriter writes tensors to a .npy or .npz file.
type TensorWriter struct {
	out     *output.File
	zw      *zip.Writer
	bw      io.Writer // the array's data: the file, or x.npy's zip entry
	name    string
	spec    tensors.Spec
	descr   string
	stored  tensors.DType // the element type written
	shape   []int         // every tensor's shape: the spec's, with varying sizes taken from the first tensor
	stacked bool
	written int
	labels  []int32
	ids     []string
	classes []string
	boxes   *boxArrays // the samples' boxes, for a .npz created with events.Meta.Boxes
	buf     []byte
}

// CreateTensors creates path for spec.Samples tensors as spec describes: a .npz archive when npz is set,
// else a .npy array, of elements of type stored (formats.StoredDType: int16 for counts by default; "" is
// spec.DType). The count must be known in advance: both state it before the data. A size that varies in
// spec.Shape is taken from the first tensor, and every later one must match it.
func CreateTensors(path string, meta events.Meta, spec tensors.Spec, npz bool, stored tensors.DType) (*TensorWriter, error) {
	if spec.DType != tensors.Uint16 && spec.DType != tensors.Float32 {
		return nil, fmt.Errorf("tensor element type %q: want uint16 or float32", spec.DType)
	}
	if stored == "" {
		stored = spec.DType
	}
	descr := map[tensors.DType]string{tensors.Uint16: "<u2", tensors.Int16: "<i2", tensors.Float32: "<f4"}[stored]
	if descr == "" || (spec.DType == tensors.Float32 && stored != tensors.Float32) {
		return nil, fmt.Errorf("%s: %s tensors cannot be stored as %q", path, spec.DType, stored)
	}
	if spec.Samples <= 0 {
		return nil, fmt.Errorf("%s: .npy and .npz state the number of tensors before the data, and it is not known in advance here (slices are counted only at the end): write .arrow", path)
	}
	stacked := npz || !spec.Single
	if !stacked && spec.Samples != 1 {
		return nil, fmt.Errorf("%s: an unstacked tensor file holds one .npy array", path)
	}
	f, err := output.Create(path)
	if err != nil {
		return nil, err
	}
	w := &TensorWriter{out: f, name: path, spec: spec, descr: descr, stored: stored, stacked: stacked, classes: meta.Classes, bw: f}
	if meta.Boxes {
		if !npz {
			f.Abort()
			return nil, fmt.Errorf("%s: a .npy holds one array, without the samples' boxes: write .npz (or .arrow)", path)
		}
		w.boxes = &boxArrays{classes: meta.BoxClasses}
	}
	if npz {
		w.zw = zip.NewWriter(f)
		w.zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return pdeflate.NewWriter(out, npzLevel, 0)
		})
		x, err := w.zw.CreateHeader(entryHeader("x.npy"))
		if err != nil {
			f.Abort()
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		w.bw = x // unbuffered: the compressor gathers its chunks itself
	}
	return w, nil
}

// Write appends one tensor.
func (w *TensorWriter) Write(s *tensors.Sample) error {
	t := &s.Tensor
	if w.written == w.spec.Samples {
		return fmt.Errorf("%s: more than the %d tensors announced", w.name, w.spec.Samples)
	}
	if w.written == 0 {
		if len(t.Shape) != len(w.spec.Shape) {
			return fmt.Errorf("%s: sample %q: tensor shape %v, the file holds %s", w.name, s.ID, t.Shape, tensors.ShapeString(w.spec.Shape))
		}
		w.shape = make([]int, len(t.Shape))
		for i, d := range w.spec.Shape {
			if d < 0 {
				d = t.Shape[i]
			}
			w.shape[i] = d
		}
		full := w.shape
		if w.stacked {
			full = append([]int{w.spec.Samples}, w.shape...)
		}
		if _, err := w.bw.Write(ArrayHeader(w.descr, full)); err != nil {
			return fmt.Errorf("write %s: %w", w.name, err)
		}
	}
	if fmt.Sprint(t.Shape) != fmt.Sprint(w.shape) {
		return fmt.Errorf("sample %q: tensor shape %v, earlier samples %v: a .npy/.npz array needs one shape (frames by window vary per sample: use frames(bins=…), or write .arrow)", s.ID, t.Shape, w.shape)
	}
	if err := (tensors.Spec{DType: w.spec.DType, Shape: w.shape}).Check(t); err != nil {
		return fmt.Errorf("%s: sample %q: %w", w.name, s.ID, err)
	}
	if w.boxes != nil {
		if err := w.boxes.add(s); err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
	} else if len(s.Boxes) > 0 {
		return fmt.Errorf("%s: sample %q has %d boxes, but the file was created without them (events.Meta.Boxes)", w.name, s.ID, len(s.Boxes))
	}
	var err error
	if w.buf, err = formats.AppendStored(w.buf[:0], t, w.stored); err != nil {
		return fmt.Errorf("%s: sample %q: %w", w.name, s.ID, err)
	}
	if _, err := w.bw.Write(w.buf); err != nil {
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	w.written++
	w.labels = append(w.labels, s.Label)
	w.ids = append(w.ids, s.ID)
	return nil
}

// entryDate is the modification time of every .npz entry: a valid date (a zero time writes the invalid
// DOS date 1980-00-00), and a fixed one, so that the same tensors make the same bytes.
var entryDate = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// entryHeader is a compressed .npz entry, as numpy.savez_compressed writes them.
func entryHeader(name string) *zip.FileHeader {
	return &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: entryDate}
}

// stringArray renders strs as a numpy '<U' array (UTF-32, fixed width).
func stringArray(strs []string) []byte {
	width := 1
	for _, s := range strs {
		width = max(width, utf8.RuneCountInString(s))
	}
	b := ArrayHeader(fmt.Sprintf("<U%d", width), []int{len(strs)})
	for _, s := range strs {
		k := 0
		for _, r := range s {
			b = binary.LittleEndian.AppendUint32(b, uint32(r))
			k++
		}
		b = append(b, make([]byte, 4*(width-k))...)
	}
	return b
}

// Close finishes the arrays and moves the file into place.
func (w *TensorWriter) Close() error {
	if w.written != w.spec.Samples {
		w.Abort()
		return fmt.Errorf("%s: %d tensors written, %d announced", w.name, w.written, w.spec.Samples)
	}
	return w.out.Close(w.finish)
}

// finish writes what follows x in a .npz: y, ids and classes, and the zip directory.
func (w *TensorWriter) finish() error {
	if w.zw != nil {
		y := ArrayHeader("<i4", []int{len(w.labels)})
		for _, l := range w.labels {
			y = binary.LittleEndian.AppendUint32(y, uint32(l))
		}
		entries := []npzEntry{{"y.npy", y}, {"ids.npy", stringArray(w.ids)}, {"classes.npy", stringArray(w.classes)}}
		if w.boxes != nil {
			entries = append(entries, w.boxes.entries()...)
		}
		for _, e := range entries {
			ew, err := w.zw.CreateHeader(entryHeader(e.name))
			if err == nil {
				_, err = ew.Write(e.data)
			}
			if err != nil {
				return fmt.Errorf("write %s: %w", w.name, err)
			}
		}
		if err := w.zw.Close(); err != nil {
			return fmt.Errorf("write %s: %w", w.name, err)
		}
	}
	return nil
}

// Abort discards the output.
func (w *TensorWriter) Abort() { w.out.Abort() }

// npzLevel is the deflate level of .npz entries. klauspost/compress's deflate at level 6 makes 5 % smaller
// entries than the standard library's default level in 45 % of its CPU time (a 1,000-sample frames(bins=10)
// .npz of the N-MNIST fixtures: 2.02 vs 2.13 MB, 0.22 vs 0.40 CPU-s for the whole convert); any zip
// reader (numpy's zipfile) inflates it alike. Entries are deflated on all cores (internal/pdeflate): the
// frames array is most of a convert's work.
const npzLevel = 6
