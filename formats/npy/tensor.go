package npy

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/evtool/evtool/formats/internal/output"
)

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
	total := (len(Magic) + 4 + len(dict) + 1 + 63) / 64 * 64
	b := make([]byte, 0, total)
	b = append(b, Magic...)
	b = append(b, 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(total-len(Magic)-4))
	b = append(b, dict...)
	b = append(b, strings.Repeat(" ", total-len(b)-1)...)
	return append(b, '\n')
}

// TensorWriter writes the tensors a transform chain makes of a dataset for NumPy/PyTorch users:
//   - .npy: one array x of shape (N, *shape) — or the tensor itself for a single recording;
//   - .npz: x, plus y (int32 labels, −1 when unknown), ids (sample ids) and classes (class names), as
//     numpy.savez_compressed writes them.
//
// Every tensor must have the same shape (frames by bins, voxel grids); the element type is uint16
// (counts) or float32.
type TensorWriter struct {
	out     *output.File
	zw      *zip.Writer
	bw      io.Writer // x's data: the file, or x.npy's buffered zip entry
	name    string
	dtype   string
	shape   []int
	n       int // tensors announced in x's header
	written int
	stacked bool
	labels  []int32
	ids     []string
	classes []string
	buf     []byte
}

// CreateTensors creates path (.npy or .npz) for n tensors of one shape and element type ("uint16" or
// "float32"). stacked=false writes a single tensor as it is (n must be 1, .npy only).
func CreateTensors(path, dtype string, shape []int, n int, stacked bool, classes []string) (*TensorWriter, error) {
	descr := map[string]string{"uint16": "<u2", "float32": "<f4"}[dtype]
	if descr == "" {
		return nil, fmt.Errorf("tensor element type %q: want uint16 or float32", dtype)
	}
	npz := strings.EqualFold(filepath.Ext(path), ".npz")
	if !stacked && (n != 1 || npz) {
		return nil, fmt.Errorf("%s: an unstacked tensor file holds one .npy array", path)
	}
	f, err := output.Create(path)
	if err != nil {
		return nil, err
	}
	w := &TensorWriter{out: f, name: path, dtype: dtype, shape: append([]int(nil), shape...), n: n,
		stacked: stacked, classes: classes}
	var out io.Writer = f
	if npz {
		w.zw = zip.NewWriter(f)
		if out, err = w.zw.Create("x.npy"); err != nil {
			f.Abort()
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		out = bufio.NewWriterSize(out, 1<<20) // the compressor takes large writes best
	}
	w.bw = out
	full := shape
	if stacked {
		full = append([]int{n}, shape...)
	}
	if _, err := w.bw.Write(ArrayHeader(descr, full)); err != nil {
		f.Abort()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return w, nil
}

// WriteTensor appends one tensor (values in u16 or f32, as the element type says).
func (w *TensorWriter) WriteTensor(id string, label int32, shape []int, u16 []uint16, f32 []float32) error {
	if w.written == w.n {
		return fmt.Errorf("%s: more than the %d tensors announced", w.name, w.n)
	}
	if fmt.Sprint(shape) != fmt.Sprint(w.shape) {
		return fmt.Errorf("sample %q: tensor shape %v, earlier samples %v: a .npy/.npz array needs one shape (frames by window vary per sample: use frames(bins=…), or write .arrow)", id, shape, w.shape)
	}
	var err error
	if w.dtype == "uint16" {
		w.buf = w.buf[:0]
		for _, v := range u16 {
			w.buf = binary.LittleEndian.AppendUint16(w.buf, v)
		}
	} else {
		w.buf = w.buf[:0]
		for _, v := range f32 {
			w.buf = binary.LittleEndian.AppendUint32(w.buf, math.Float32bits(v))
		}
	}
	if _, err = w.bw.Write(w.buf); err != nil {
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	w.written++
	w.labels = append(w.labels, label)
	w.ids = append(w.ids, id)
	return nil
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
	if w.written != w.n {
		w.Abort()
		return fmt.Errorf("%s: %d tensors written, %d announced", w.name, w.written, w.n)
	}
	return w.out.Close(w.finish)
}

// finish writes what follows x in a .npz: y, ids and classes, and the zip directory.
func (w *TensorWriter) finish() error {
	if w.zw == nil {
		return nil
	}
	if err := w.bw.(*bufio.Writer).Flush(); err != nil {
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	y := ArrayHeader("<i4", []int{len(w.labels)})
	for _, l := range w.labels {
		y = binary.LittleEndian.AppendUint32(y, uint32(l))
	}
	entries := []struct {
		name string
		data []byte
	}{{"y.npy", y}, {"ids.npy", stringArray(w.ids)}, {"classes.npy", stringArray(w.classes)}}
	for _, e := range entries {
		ew, err := w.zw.Create(e.name)
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
	return nil
}

// Abort discards the output.
func (w *TensorWriter) Abort() { w.out.Abort() }
