package datasets

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/transforms"
)

// PrepareOptions steer Prepare.
type PrepareOptions struct {
	Split   string          // "train", "test" or "all"
	Workers int             // 0 = all cores
	Format  formats.Options // output compression, -O options (batch-samples…)
	// Progress is called after each sample written (done, total).
	Progress func(done, total int64)
	// Chain transforms every sample (recorded as evtool.transforms); Seed seeds its random stages.
	Chain *transforms.Chain
	Seed  uint64
	// DVSGestureSamples: "rows" (default: one sample per labels-CSV row, 1,464 in all) or "per-class"
	// (rows of the same class in a trial merged: 1,342, the paper's count).
	DVSGestureSamples string
	// Window cuts unlabelled recordings into samples of this many µs (DSEC); 0: the dataset's default.
	Window int64
}

// Prepare turns an extracted official download under from into one dataset-layout file at out.
func Prepare(ctx context.Context, def *Definition, from, out string, o PrepareOptions) (*convert.Result, error) {
	if o.Split == "" {
		o.Split = "all"
	}
	if def.Layout == DVSGesture {
		return prepareDVSGesture(ctx, def, from, out, o)
	}
	if def.Source != nil {
		return prepareSource(ctx, def, from, out, o)
	}
	items, classes, err := classFolderItems(def, from, o.Split)
	if err != nil {
		return nil, err
	}
	plan := &convert.Plan{Dataset: true, Items: items, Classes: classes}
	fo := o.Format
	fo.Params = withParams(def.ReadParams, fo.Params)
	if def.Sensor.Known() {
		fo.Sensor = def.Sensor
	}
	return convert.Run(ctx, plan, out, convert.Options{Format: fo, Workers: o.Workers, Progress: o.Progress,
		Chain: o.Chain, Seed: o.Seed,
		Source: fmt.Sprintf("%s (%s split) from %s", def.Name, o.Split, from)})
}

// findFolder locates a split folder under root, tolerating one extra level (archives that wrap their
// content in a folder of their own).
func findFolder(root, name string) (string, error) {
	p := filepath.Join(root, name)
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return p, nil
	}
	matches, _ := filepath.Glob(filepath.Join(root, "*", name))
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.IsDir() {
			return m, nil
		}
	}
	return "", fmt.Errorf("%s: no folder %q (is this the folder the dataset was fetched or extracted into?)", root, name)
}

// classFolderItems lists the samples of a ClassFolders dataset for a split, in a deterministic order.
func classFolderItems(def *Definition, from, split string) ([]convert.Item, []string, error) {
	f, err := formats.Lookup(def.Format)
	if err != nil {
		return nil, nil, err
	}
	var folders []string // split folders to include, in order
	ratio := ""
	switch {
	case def.Splits[split] != "":
		folders = []string{def.Splits[split]}
	case split == "all":
		for _, name := range def.SplitNames() {
			if v := def.Splits[name]; v != "" {
				folders = append(folders, v)
			}
		}
	case def.RatioSplit > 0 && (split == "train" || split == "test"):
		folders, ratio = []string{def.Splits["all"]}, split
	default:
		return nil, nil, fmt.Errorf("%s has no split %q (splits: %s)", def.Name, split, strings.Join(def.SplitNames(), ", "))
	}
	folderToClass := map[string]int32{}
	classes := def.Classes
	for i := range def.Classes {
		name := def.Classes[i]
		if i < len(def.Folders) {
			name = def.Folders[i]
		}
		folderToClass[name] = int32(i)
	}
	type file struct {
		path, id, class string
	}
	var files []file
	for _, folder := range folders {
		dir, err := findFolder(from, folder)
		if err != nil {
			return nil, nil, err
		}
		err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !hasExt(p, def.Extensions) || strings.HasPrefix(d.Name(), ".") || excluded(def, d.Name()) {
				return nil
			}
			rel, _ := filepath.Rel(from, p)
			files = append(files, file{p, filepath.ToSlash(rel), filepath.Base(filepath.Dir(p))})
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("%s: no %s files found for split %s", from, strings.Join(def.Extensions, "/"), split)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].id < files[j].id })
	if classes == nil {
		seen := map[string]bool{}
		for _, fl := range files {
			if !seen[fl.class] {
				seen[fl.class] = true
				classes = append(classes, fl.class)
			}
		}
		convert.SortClassNames(classes)
		for i, c := range classes {
			folderToClass[c] = int32(i)
		}
	}
	var items []convert.Item
	perClass := map[string][]convert.Item{}
	for _, fl := range files {
		label, ok := folderToClass[fl.class]
		if !ok {
			return nil, nil, fmt.Errorf("%s: folder %q is not a class of %s", fl.path, fl.class, def.Name)
		}
		it := convert.Item{Path: fl.path, ID: fl.id, Label: label, Format: f}
		items = append(items, it)
		perClass[fl.class] = append(perClass[fl.class], it)
	}
	if ratio != "" {
		items = items[:0]
		for _, fl := range files { // keep the sorted order; choose by rank inside the class
			group := perClass[fl.class]
			cut := int(def.RatioSplit * float64(len(group)))
			rank := sort.Search(len(group), func(i int) bool { return group[i].ID >= fl.id })
			if (ratio == "train") == (rank < cut) {
				items = append(items, group[rank])
			}
		}
	}
	return items, classes, nil
}

func hasExt(p string, exts []string) bool {
	e := strings.ToLower(filepath.Ext(p))
	for _, x := range exts {
		if e == x {
			return true
		}
	}
	return false
}

// Open returns every labelled sample of a dataset split from its extracted download, decoded on demand,
// in the same order Prepare writes them. Use it to feed your own Go code without an intermediate file.
func Open(def *Definition, from, split string) (events.SampleReader, error) {
	if def.Layout == DVSGesture {
		return openDVSGesture(def, from, split, "rows")
	}
	if def.Source != nil {
		return openSource(def, from, split)
	}
	items, classes, err := classFolderItems(def, from, split)
	if err != nil {
		return nil, err
	}
	return &itemReader{items: items, params: def.ReadParams, meta: events.Meta{Format: def.Name, Kind: events.KindDataset,
		Geometry: def.Sensor, Classes: classes, Source: from}}, nil
}

// itemReader serves files as dataset samples.
type itemReader struct {
	items  []convert.Item
	params map[string]string
	meta   events.Meta
}

func (r *itemReader) NumSamples() int   { return len(r.items) }
func (r *itemReader) Meta() events.Meta { return r.meta }
func (r *itemReader) Close() error      { return nil }
func (r *itemReader) ReadSample(i int, dst *events.Sample) error {
	if i < 0 || i >= len(r.items) {
		return fmt.Errorf("sample %d does not exist (%d samples)", i, len(r.items))
	}
	it := r.items[i]
	dst.Reset()
	dst.ID, dst.Label = it.ID, it.Label
	return convert.ReadFile(it.Path, it.Format, formats.Options{Sensor: r.meta.Geometry, Params: r.params}, &dst.Events)
}
