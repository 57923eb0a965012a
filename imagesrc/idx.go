package imagesrc

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxIDXBytes bounds a decompressed IDX file (MNIST train images are 47 MB); it keeps a gzip bomb from
// exhausting memory.
const maxIDXBytes = 1 << 31

// IDX is an MNIST-style set: an images file (magic 0x00000803, [N, rows, cols] uint8) and, when found
// beside it, the labels file (0x00000801, [N] uint8).
type IDX struct {
	path       string
	n, rows    int
	cols       int
	pix        []byte // N·rows·cols
	labels     []byte // nil when no labels file was found
	split      string // "Train"/"Test" prefix of the ids, or ""
	labelsPath string
}

// OpenIDX reads an images file (gzip or not) and its labels file, found by replacing
// "-images-idx3-ubyte" with "-labels-idx1-ubyte" in the name (with or without .gz). split names the
// split in the sample ids; "" infers it from the name (t10k → Test, train → Train).
func OpenIDX(path, split string) (*IDX, error) {
	data, err := readMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	dims, body, err := parseIDX(path, data, 0x08, 3)
	if err != nil {
		return nil, err
	}
	d := &IDX{path: path, n: dims[0], rows: dims[1], cols: dims[2], pix: body}
	if d.rows == 0 || d.cols == 0 || d.rows > 4096 || d.cols > 4096 {
		return nil, fmt.Errorf("%s: images of %dx%d pixels; want 1..4096 on each side", path, d.cols, d.rows)
	}
	if lp := labelsPathFor(path); lp != "" {
		ldata, err := readMaybeGzip(lp)
		if err != nil {
			return nil, err
		}
		ldims, lbody, err := parseIDX(lp, ldata, 0x08, 1)
		if err != nil {
			return nil, err
		}
		if ldims[0] != d.n {
			return nil, fmt.Errorf("%s holds %d labels but %s holds %d images", lp, ldims[0], path, d.n)
		}
		for i, l := range lbody {
			if l > 9 {
				return nil, fmt.Errorf("%s: at byte %d: label %d; want 0..9", lp, len(ldata)-len(lbody)+i, l)
			}
		}
		d.labels, d.labelsPath = lbody, lp
	}
	d.split = splitName(split)
	if d.split == "" {
		base := strings.ToLower(filepath.Base(path))
		switch {
		case strings.Contains(base, "t10k") || strings.Contains(base, "test"):
			d.split = "Test"
		case strings.Contains(base, "train"):
			d.split = "Train"
		}
	}
	return d, nil
}

// labelsPathFor finds the labels file beside an images file, or "".
func labelsPathFor(path string) string {
	dir, base := filepath.Split(path)
	stem := strings.TrimSuffix(base, ".gz")
	if !strings.Contains(stem, "images-idx3-ubyte") {
		return ""
	}
	lstem := strings.Replace(stem, "images-idx3-ubyte", "labels-idx1-ubyte", 1)
	for _, cand := range []string{lstem + ".gz", lstem} {
		if _, err := os.Stat(filepath.Join(dir, cand)); err == nil {
			return filepath.Join(dir, cand)
		}
	}
	return ""
}

// readMaybeGzip reads a file, decompressing it when it starts with the gzip magic.
func readMaybeGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var head [2]byte
	n, _ := io.ReadFull(f, head[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var r io.Reader = f
	if n == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: not a valid gzip stream: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(r, maxIDXBytes+1)); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if buf.Len() > maxIDXBytes {
		return nil, fmt.Errorf("%s: more than %d bytes of IDX data", path, maxIDXBytes)
	}
	return buf.Bytes(), nil
}

// ParseIDX checks the magic and dimensions of an in-memory IDX file holding unsigned bytes and returns
// the dimensions and the data. name is used in errors.
func ParseIDX(name string, data []byte) (dims []int, body []byte, err error) {
	if len(data) < 4 {
		return nil, nil, fmt.Errorf("%s: at byte 0: file ends inside the 4-byte IDX magic", name)
	}
	return parseIDX(name, data, 0x08, int(data[3]))
}

func parseIDX(name string, data []byte, dtype byte, ndims int) ([]int, []byte, error) {
	if len(data) < 4 {
		return nil, nil, fmt.Errorf("%s: at byte 0: file ends inside the 4-byte IDX magic", name)
	}
	if data[0] != 0 || data[1] != 0 || data[2] != dtype || int(data[3]) != ndims {
		return nil, nil, fmt.Errorf("%s: at byte 0: IDX magic %02x %02x %02x %02x; want 00 00 %02x %02x (unsigned bytes, %d dimensions)",
			name, data[0], data[1], data[2], data[3], dtype, ndims, ndims)
	}
	if ndims < 1 || ndims > 8 {
		return nil, nil, fmt.Errorf("%s: at byte 3: %d dimensions; want 1..8", name, ndims)
	}
	hdr := 4 + 4*ndims
	if len(data) < hdr {
		return nil, nil, fmt.Errorf("%s: at byte %d: file ends inside the IDX dimensions", name, len(data))
	}
	dims := make([]int, ndims)
	total := uint64(1)
	for i := range dims {
		v := binary.BigEndian.Uint32(data[4+4*i:])
		dims[i] = int(v)
		total *= uint64(v)
		if total > maxIDXBytes {
			return nil, nil, fmt.Errorf("%s: at byte %d: dimensions describe more than %d bytes", name, 4+4*i, maxIDXBytes)
		}
	}
	if got := uint64(len(data) - hdr); got != total {
		return nil, nil, fmt.Errorf("%s: at byte %d: %d bytes of data; the dimensions %v need %d", name, hdr, got, dims, total)
	}
	return dims, data[hdr:], nil
}

// Len is the number of images.
func (d *IDX) Len() int { return d.n }

// Classes are the digits "0".."9" when labels were found, else none.
func (d *IDX) Classes() []string {
	if d.labels == nil {
		return nil
	}
	return []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
}

// Describe names the files.
func (d *IDX) Describe() string {
	s := "mnist-idx " + filepath.Base(d.path)
	if d.labelsPath != "" {
		s += " + " + filepath.Base(d.labelsPath)
	}
	return s
}

// Load copies image i. Its id follows N-MNIST's file names: "<Split>/<label>/<1-based index, 5 digits>"
// (N-MNIST's Test/7/00001.bin is t10k image 0).
func (d *IDX) Load(i int, dst *Image) error {
	if i < 0 || i >= d.n {
		return fmt.Errorf("%s: image %d out of range (0..%d)", d.path, i, d.n-1)
	}
	px := setGray(dst, d.cols, d.rows)
	sz := d.rows * d.cols
	copy(px, d.pix[i*sz:(i+1)*sz])
	class := "unlabelled"
	dst.Label = -1
	if d.labels != nil {
		dst.Label = int32(d.labels[i])
		class = string(rune('0' + d.labels[i]))
	}
	dst.ID = fmt.Sprintf("%s/%05d", class, i+1)
	if d.split != "" {
		dst.ID = d.split + "/" + dst.ID
	}
	return nil
}
