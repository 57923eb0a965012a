// Package imagesrc serves labelled gray-scale images for synthesis: MNIST IDX files (gzip or not),
// folders of PNG/JPEG files (class = sub-folder name) and a built-in set of procedurally drawn digits
// (no download; the data of `evtool demo`). Every source gives random access, safe for concurrent use,
// so workers can load images in any order and the output stays the same.
package imagesrc

import (
	"fmt"
	"image"
	"os"
	"strconv"
	"strings"
)

// Image is one labelled image. Load reuses Gray's buffer when it has the right size.
type Image struct {
	Gray  *image.Gray
	Label int32  // class index, or -1 when unknown
	ID    string // unique within the source: "<Split>/<class>/<n>" or the file's relative path without extension
}

// Source is a random-access set of images.
type Source interface {
	// Len is the number of images.
	Len() int
	// Classes names the labels: label i is Classes()[i].
	Classes() []string
	// Load decodes image i into dst. Safe for concurrent use.
	Load(i int, dst *Image) error
	// Describe names the source for metadata ("mnist t10k-images-idx3-ubyte.gz", "builtin:digits:1000").
	Describe() string
}

// Options choose among a source's parts.
type Options struct {
	// Split picks "train" or "test" where the source has both (a folder with Train/ and Test/ sub-folders,
	// the built-in digits); for IDX files it only names the split in the sample ids. "" means the
	// source's own default.
	Split string
	// Seed varies the built-in digits.
	Seed uint64
}

// Open interprets spec: "builtin:digits[:N]", a folder of images, or an IDX images file.
func Open(spec string, o Options) (Source, error) {
	switch s := strings.ToLower(o.Split); s {
	case "", "train", "test":
	default:
		return nil, fmt.Errorf("split %q: want train or test", o.Split)
	}
	if rest, ok := strings.CutPrefix(spec, "builtin:"); ok {
		name, count, _ := strings.Cut(rest, ":")
		if name != "digits" {
			return nil, fmt.Errorf("%s: unknown built-in image set %q (known: digits)", spec, name)
		}
		n := DefaultDigits
		if count != "" {
			v, err := strconv.Atoi(count)
			if err != nil || v < 1 || v > 10_000_000 {
				return nil, fmt.Errorf("%s: want builtin:digits:N with N in 1..10000000", spec)
			}
			n = v
		}
		return NewDigits(n, o.Split, o.Seed), nil
	}
	st, err := os.Stat(spec)
	if err != nil {
		return nil, fmt.Errorf("image source %s: %w", spec, err)
	}
	if st.IsDir() {
		return OpenFolder(spec, o.Split)
	}
	return OpenIDX(spec, o.Split)
}

// setGray makes dst.Gray a w×h image, reusing its buffer when possible.
func setGray(dst *Image, w, h int) []byte {
	if dst.Gray == nil || cap(dst.Gray.Pix) < w*h {
		dst.Gray = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		dst.Gray.Pix = dst.Gray.Pix[:w*h]
		dst.Gray.Stride = w
		dst.Gray.Rect = image.Rect(0, 0, w, h)
	}
	return dst.Gray.Pix
}

// splitName capitalises a split the way N-MNIST names its folders ("Train", "Test").
func splitName(s string) string {
	switch strings.ToLower(s) {
	case "train":
		return "Train"
	case "test":
		return "Test"
	}
	return ""
}
