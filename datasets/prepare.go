package datasets

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/sources"
)

// Selection picks what of a dataset's download to prepare.
type Selection struct {
	Split string // "train", "test" or "all" (the default)
	// DVSGestureSamples: "rows" (default: one sample per labels-CSV row, 1,464 in all) or "per-class"
	// (rows of the same class in a trial merged: 1,342, the paper's count).
	DVSGestureSamples string
	// Window cuts unlabelled recordings into samples of this many µs (DSEC); 0: the dataset's default.
	Window int64
	// History is how many µs of events before each label time a detection sample holds (Gen1, 1
	// Megapixel); 0: 50 ms.
	History int64
}

// Inputs lists what a split of the extracted official download under from holds, in a deterministic
// order: the sample files of a class-folder dataset, or the clips DVSGesture cuts from its trial
// recordings. convert.Run turns the plan into one dataset file:
//
//	plan, err := datasets.Inputs(def, dir, datasets.Selection{Split: "train"})
//	res, err := convert.Run(ctx, plan, "train.arrow", convert.Options{})
func Inputs(def *Definition, from string, sel Selection) (*sources.Plan, error) {
	if sel.Split == "" {
		sel.Split = "all"
	}
	if def.Layout == DVSGesture {
		return gestureInputs(def, from, sel)
	}
	if def.Layout == Detection {
		return detectionInputs(def, from, sel)
	}
	if def.Source != nil {
		return containerInputs(def, from, sel)
	}
	items, classes, err := classFolderItems(def, from, sel.Split)
	if err != nil {
		return nil, err
	}
	return &sources.Plan{Dataset: true, Items: items, Classes: classes, Sensor: def.Sensor,
		Source: fmt.Sprintf("%s (%s split) from %s", def.Name, sel.Split, from), Params: def.ReadParams}, nil
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
func classFolderItems(def *Definition, from, split string) ([]sources.Item, []string, error) {
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
		return nil, nil, noSplit(def, split)
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
		sources.SortClassNames(classes)
		for i, c := range classes {
			folderToClass[c] = int32(i)
		}
	}
	var items []sources.Item
	perClass := map[string][]sources.Item{}
	for _, fl := range files {
		label, ok := folderToClass[fl.class]
		if !ok {
			return nil, nil, fmt.Errorf("%s: folder %q is not a class of %s", fl.path, fl.class, def.Name)
		}
		it := sources.Item{Path: fl.path, ID: fl.id, Label: label, Format: f}
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
