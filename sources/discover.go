// Package sources finds and opens what commands read events from: the files of a folder tree or a list
// (Discover: N-MNIST's Train/<digit>/*.bin layout, or any <class>/<file> tree, becomes labelled samples in
// a deterministic order), a whole file's events (ReadFile), and a recording's sensor size when its file
// does not say (SensorOf). convert, datasets and the player share it; it knows nothing of outputs.
package sources

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// Item is one input file of a dataset.
type Item struct {
	Path   string // file path
	ID     string // sample id: the path relative to the input folder, with forward slashes
	Label  int32  // index into the classes, or events.NoLabel
	Format *formats.Format
}

// Plan is what the inputs turned out to be.
type Plan struct {
	// Dataset is true when the inputs form a set of samples (a folder, several files, Groups).
	Dataset bool
	// Recording is the single input file when Dataset is false.
	Recording string
	// Items are the samples, sorted by id (deterministic row order).
	Items   []Item
	Classes []string
	// Boxes says that the samples carry boxes (labels over time: a detection dataset's Groups fill
	// Sample.Boxes); BoxClasses names their classes.
	Boxes      bool
	BoxClasses []string
	// Groups, when set, yields the samples instead of Items: samples cut from larger inputs, such as
	// DVSGesture's clips from its trial recordings.
	Groups Groups
	// Sensor is the samples' sensor size when it is known from outside the files (a dataset's
	// definition); zero otherwise.
	Sensor events.Geometry
	// Source describes the inputs for evtool.source; empty means their path.
	Source string
	// Params are format settings the inputs call for, applied to the output unless the caller sets them
	// (DVSGesture's long clips want small record batches: "batch-samples" = "4").
	Params map[string]string
}

// Groups is a dataset whose samples are decoded a group at a time: DVSGesture's clips are cut from one
// trial recording, read once. Distinct groups may be read concurrently.
type Groups interface {
	// Len is the number of groups; Samples the number of samples in all of them.
	Len() int
	Samples() int
	// Read decodes group i's samples into dst, reusing its samples' buffers, and returns them.
	Read(i int, dst []events.Sample) ([]events.Sample, error)
}

// GroupsIn is Groups that can decode a group's samples one after the other into one buffer, buf, which
// it grows as the groups need (events.Batch.Rest): a sample's events are then a clipped run of buf
// where they fit, so that a writer can take consecutive samples as they lie, without copying
// (evarrow.DatasetWriter.WriteSampleIn). each, when not nil, is called with every sample as soon as it
// is decoded (while its events are in the cache); its error stops the read.
type GroupsIn interface {
	Groups
	ReadIn(i int, dst []events.Sample, buf *events.Batch, each func(*events.Sample) error) ([]events.Sample, error)
}

// Discover classifies the inputs. A folder that holds a format's index file (a sharded dataset) is one
// input, like a file; any other folder is walked recursively; every file whose format is readable
// becomes a sample labelled by its parent folder's name (files directly in the folder are unlabelled).
// Several files become an unlabelled dataset. from forces the input format ("" = detect).
func Discover(inputs []string, from string) (*Plan, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("no input given")
	}
	var forced *formats.Format
	if from != "" {
		f, err := formats.Lookup(from)
		if err != nil {
			return nil, err
		}
		forced = f
	}
	if len(inputs) == 1 {
		if _, err := os.Stat(inputs[0]); err != nil {
			return nil, err
		}
		if !IsSampleFolder(inputs[0]) {
			// A file, or a folder that is one dataset (a sharded dataset's folder and its manifest).
			return &Plan{Recording: inputs[0]}, nil
		}
		return discoverFolder(inputs[0], forced)
	}
	p := &Plan{Dataset: true}
	for _, in := range inputs {
		if _, err := os.Stat(in); err != nil {
			return nil, err
		}
		if IsSampleFolder(in) {
			return nil, fmt.Errorf("%s is a folder: convert one folder at a time, or list files only", in)
		}
		f := forced
		if f == nil {
			var err error
			if f, err = formats.Detect(in); err != nil {
				return nil, err
			}
		}
		p.Items = append(p.Items, Item{Path: in, ID: filepath.ToSlash(in), Label: events.NoLabel, Format: f})
	}
	return p, nil
}

func discoverFolder(root string, forced *formats.Format) (*Plan, error) {
	type found struct {
		path, rel, class string
		f                *formats.Format
	}
	var files []found
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") && path != root {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			// Linked sample files count (datasets assembled with symlinks); linked folders are not
			// followed (WalkDir's rule, which also keeps link cycles out).
			st, err := os.Stat(path)
			if d.Type()&fs.ModeSymlink == 0 || err != nil || !st.Mode().IsRegular() {
				return nil
			}
		}
		f := forced
		if f == nil {
			f = formats.ByExtension(path)
			if f == nil || f.NewReader == nil {
				return nil // not an event file (labels, READMEs…)
			}
		}
		rel, _ := filepath.Rel(root, path)
		class := ""
		if dir := filepath.Dir(rel); dir != "." {
			class = filepath.Base(dir)
		}
		files = append(files, found{path, filepath.ToSlash(rel), class, f})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	// A Gen1 / 1 Megapixel box label file (<name>_bbox.npy) beside its recording is labels, not a sample.
	paths := map[string]bool{}
	for _, f := range files {
		paths[f.path] = true
	}
	kept := files[:0]
	for _, f := range files {
		if !isLabelFile(f.path, paths) {
			kept = append(kept, f)
		}
	}
	files = kept
	if len(files) == 0 {
		return nil, fmt.Errorf("%s holds no file of a known event format", root)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	seen := map[string]bool{}
	var classes []string
	for _, f := range files {
		if f.class != "" && !seen[f.class] {
			seen[f.class] = true
			classes = append(classes, f.class)
		}
	}
	SortClassNames(classes)
	index := map[string]int32{}
	for i, c := range classes {
		index[c] = int32(i)
	}
	p := &Plan{Dataset: true, Classes: classes}
	for _, f := range files {
		label := events.NoLabel
		if f.class != "" {
			label = index[f.class]
		}
		p.Items = append(p.Items, Item{Path: f.path, ID: f.rel, Label: label, Format: f.f})
	}
	return p, nil
}

// SortClassNames orders class names numerically when all are integers (so N-MNIST's "0".."9" get
// labels equal to the digit), else lexicographically.
func SortClassNames(classes []string) {
	numeric := len(classes) > 0
	for _, c := range classes {
		if _, err := strconv.Atoi(c); err != nil {
			numeric = false
			break
		}
	}
	if numeric {
		sort.Slice(classes, func(i, j int) bool {
			a, _ := strconv.Atoi(classes[i])
			b, _ := strconv.Atoi(classes[j])
			return a < b
		})
		return
	}
	sort.Strings(classes)
}

// IsSampleFolder reports whether path is a folder of sample files — a folder, but not one that is a single
// dataset through a registered format's index file (a sharded dataset's manifest.json).
func IsSampleFolder(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir() && formats.Resolve(path) == path
}
