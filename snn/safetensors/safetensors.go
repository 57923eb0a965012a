// Package safetensors reads and writes the safetensors tensor container (float32 tensors only), so models
// trained by evtool load in PyTorch with `safetensors.torch.load_file`.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON mapping each tensor name to
// {"dtype","shape","data_offsets":[begin,end]} (offsets relative to the data section) plus an optional
// "__metadata__" object of string → string, then the raw little-endian tensor bytes. The header is padded
// with spaces to a multiple of 8 bytes so the data section is aligned, as the reference writer does.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// Tensor is one named float32 tensor in row-major (C) order.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// maxHeader bounds the JSON header we accept (the reference implementation uses 100 MB).
const maxHeader = 100 << 20

type entry struct {
	Dtype       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// Write encodes tensors (in the given order) and string metadata to w.
func Write(w io.Writer, tensors []Tensor, meta map[string]string) error {
	header := make(map[string]any, len(tensors)+1)
	if len(meta) > 0 {
		header["__metadata__"] = meta
	}
	var off int64
	for _, t := range tensors {
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if n != len(t.Data) {
			return fmt.Errorf("safetensors: tensor %s has shape %v but %d values", t.Name, t.Shape, len(t.Data))
		}
		if _, dup := header[t.Name]; dup || t.Name == "__metadata__" {
			return fmt.Errorf("safetensors: duplicate or reserved tensor name %q", t.Name)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = entry{Dtype: "F32", Shape: shape, DataOffsets: [2]int64{off, off + 4*int64(n)}}
		off += 4 * int64(n)
	}
	js, err := json.Marshal(header) // map keys are sorted: the output is deterministic
	if err != nil {
		return fmt.Errorf("safetensors: encode header: %w", err)
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, t := range tensors {
		for _, v := range t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	_, err = w.Write(buf)
	return err
}

// File is a decoded safetensors file.
type File struct {
	Tensors  map[string]Tensor
	Metadata map[string]string
}

// Names returns the tensor names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Tensors))
	for n := range f.Tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ReadFile decodes a safetensors file.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid safetensors file: %w", path, err)
	}
	return f, nil
}

// Decode parses a whole safetensors file held in memory. Only F32 tensors are accepted.
func Decode(data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("at byte 0: file too short for a safetensors header length")
	}
	n := binary.LittleEndian.Uint64(data)
	if n > maxHeader || n > uint64(len(data)-8) {
		return nil, fmt.Errorf("at byte 0: header length %d exceeds the file (%d bytes)", n, len(data))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("at byte 8: header is not valid JSON: %w", err)
	}
	body := data[8+n:]
	f := &File{Tensors: map[string]Tensor{}, Metadata: map[string]string{}}
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fmt.Errorf("at byte 8: __metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		var e entry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("at byte 8: tensor %q: %w", name, err)
		}
		if e.Dtype != "F32" {
			return nil, fmt.Errorf("tensor %q has dtype %s; only F32 is supported", name, e.Dtype)
		}
		count := int64(1)
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && count > math.MaxInt32/int64(d)) {
				return nil, fmt.Errorf("tensor %q has an invalid shape %v", name, e.Shape)
			}
			count *= int64(d)
		}
		b, end := e.DataOffsets[0], e.DataOffsets[1]
		if b < 0 || end < b || end > int64(len(body)) || end-b != 4*count {
			return nil, fmt.Errorf("at byte %d: tensor %q: data offsets [%d,%d] do not match shape %v and a %d-byte data section",
				8+n, name, b, end, e.Shape, len(body))
		}
		vals := make([]float32, count)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[b+4*int64(i):]))
		}
		f.Tensors[name] = Tensor{Name: name, Shape: e.Shape, Data: vals}
	}
	return f, nil
}
