package imagesrc

import (
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register the decoders Folder reads
	_ "image/png"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Folder is a tree of PNG/JPEG files: <root>/<class>/<file>. Files directly in the root are unlabelled.
type Folder struct {
	root    string   // the folder given to OpenFolder
	files   []string // relative to root, slash-separated, sorted (they include the split sub-folder)
	labels  []int32
	classes []string
}

// OpenFolder lists the images under dir. When dir holds Train/ and Test/ sub-folders (any case), split
// picks one of them (default: train) and the ids keep its name, as in N-MNIST's layout.
func OpenFolder(dir, split string) (*Folder, error) {
	walk := dir // the split sub-folder, when there is one
	prefix := ""
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("image folder %s: %w", dir, err)
	}
	splits := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			if n := splitName(e.Name()); n != "" {
				splits[n] = e.Name()
			}
		}
	}
	if len(splits) > 0 {
		want := splitName(split)
		if want == "" {
			want = "Train"
		}
		sub, ok := splits[want]
		if !ok {
			return nil, fmt.Errorf("image folder %s has no %s sub-folder", dir, want)
		}
		walk, prefix = filepath.Join(dir, sub), sub+"/"
	} else if split != "" {
		return nil, fmt.Errorf("image folder %s has no Train/Test sub-folders, so no split %q can be chosen", dir, split)
	}
	f := &Folder{root: dir}
	classIndex := map[string]int32{}
	var rel []string
	err = filepath.WalkDir(walk, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".png", ".jpg", ".jpeg":
			r, err := filepath.Rel(walk, path)
			if err != nil {
				return err
			}
			rel = append(rel, filepath.ToSlash(r))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("image folder %s: %w", dir, err)
	}
	if len(rel) == 0 {
		return nil, fmt.Errorf("image folder %s holds no .png, .jpg or .jpeg files", dir)
	}
	sort.Strings(rel)
	for _, r := range rel {
		if class, _, ok := strings.Cut(r, "/"); ok {
			if _, seen := classIndex[class]; !seen {
				classIndex[class] = 0
				f.classes = append(f.classes, class)
			}
		}
	}
	sort.Strings(f.classes)
	for i, c := range f.classes {
		classIndex[c] = int32(i)
	}
	for _, r := range rel {
		label := int32(-1)
		if class, _, ok := strings.Cut(r, "/"); ok {
			label = classIndex[class]
		}
		f.files = append(f.files, prefix+r)
		f.labels = append(f.labels, label)
	}
	return f, nil
}

// Len is the number of images.
func (f *Folder) Len() int { return len(f.files) }

// Classes are the sub-folder names, sorted.
func (f *Folder) Classes() []string { return f.classes }

// Describe names the folder.
func (f *Folder) Describe() string { return "image folder " + f.root }

// Load decodes image i and converts it to 8-bit luminance. Its id is its relative path without the
// extension.
func (f *Folder) Load(i int, dst *Image) error {
	if i < 0 || i >= len(f.files) {
		return fmt.Errorf("%s: image %d out of range (0..%d)", f.root, i, len(f.files)-1)
	}
	path := filepath.Join(f.root, filepath.FromSlash(f.files[i]))
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	img, _, err := image.Decode(fh)
	if err != nil {
		return fmt.Errorf("%s: cannot decode image: %w", path, err)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > 1<<14 || h > 1<<14 {
		return fmt.Errorf("%s: image of %dx%d pixels is too large (at most 16384 per side)", path, w, h)
	}
	px := setGray(dst, w, h)
	switch g := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			copy(px[y*w:(y+1)*w], g.Pix[g.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.YCbCr:
		// JPEG's Y plane is already the luminance.
		for y := 0; y < h; y++ {
			copy(px[y*w:(y+1)*w], g.Y[g.YOffset(b.Min.X, b.Min.Y+y):])
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				px[y*w+x] = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
			}
		}
	}
	dst.Label = f.labels[i]
	dst.ID = strings.TrimSuffix(f.files[i], filepath.Ext(f.files[i]))
	return nil
}
