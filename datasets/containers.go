package datasets

import (
	"bufio"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	h5events "github.com/evtool/evtool/formats/hdf5"
	"github.com/evtool/evtool/internal/columns"
	"github.com/evtool/evtool/internal/hdf5"
	"github.com/evtool/evtool/sources"
)

// findFile locates a file by name under root: directly, or in a sub-folder up to three levels down
// (archives that wrap their content in folders of their own).
func findFile(root, name string) (string, error) {
	p := filepath.Join(root, name)
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p, nil
	}
	var found string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || found != "" {
			return fs.SkipDir
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() && strings.Count(rel, string(filepath.Separator)) >= 3 {
			return fs.SkipDir
		}
		if !d.IsDir() && d.Name() == name {
			found = p
		}
		return nil
	})
	if found == "" {
		return "", fmt.Errorf("%s: no file %s (is this the folder the dataset was fetched or extracted into?)", root, name)
	}
	return found, nil
}

// openH5 finds an HDF5 file by name under from and opens it.
func openH5(from, name string) (*hdf5.File, string, error) {
	path, err := findFile(from, name)
	if err != nil {
		return nil, "", err
	}
	f, err := hdf5.Open(path)
	return f, path, err
}

// ---- SHD and SSC: one HDF5 file per split, a variable-length spike train per sample ----

// h5Samples serves datasets whose split files hold variable-length samples (formats/hdf5's sample
// layout: SHD, SSC).
type h5Samples struct {
	Files map[string]string // split → file name
}

func (s h5Samples) Plan(def *Definition, from, split string, _ SourceOptions) (*Plan, error) {
	var names []string
	if split == "all" {
		for _, sp := range def.SplitNames() {
			names = append(names, s.Files[sp])
		}
	} else if n, ok := s.Files[split]; ok {
		names = []string{n}
	} else {
		return nil, noSplit(def, split)
	}
	p := &Plan{}
	var paths []string
	var starts []int
	for _, n := range names {
		path, err := findFile(from, n)
		if err != nil {
			return nil, err
		}
		src, err := h5events.Open(path, formats.Options{})
		if err != nil {
			return nil, err
		}
		r := src.Samples
		if r == nil {
			src.Close()
			return nil, fmt.Errorf("%s holds one recording, not %s's variable-length samples", path, def.Name)
		}
		cls := r.Meta().Classes
		r.Close()
		if p.Classes == nil {
			p.Classes = cls
		} else if strings.Join(cls, "\n") != strings.Join(p.Classes, "\n") {
			return nil, fmt.Errorf("%s names other classes than %s", path, paths[0])
		}
		paths = append(paths, path)
		starts = append(starts, p.N)
		p.N += r.NumSamples()
	}
	if len(def.Classes) > 0 && len(p.Classes) != 0 && len(p.Classes) != len(def.Classes) {
		return nil, fmt.Errorf("%s names %d classes; %s has %d", paths[0], len(p.Classes), def.Name, len(def.Classes))
	}
	p.Source = strings.Join(paths, ", ")
	// Each group opens the files anew and parses their metadata: groups of 256 SHD samples (~16 MB of
	// events) read 14 % faster than groups of 64 (BenchmarkReadSHD).
	p.Group = 256
	p.Open = func() (Decoder, error) {
		return &h5SamplesDecoder{paths: paths, starts: starts, readers: make([]events.SampleReader, len(paths))}, nil
	}
	return p, nil
}

type h5SamplesDecoder struct {
	paths   []string
	starts  []int
	readers []events.SampleReader
}

func (d *h5SamplesDecoder) ReadSample(i int, dst *events.Sample) error {
	k := sort.SearchInts(d.starts, i+1) - 1
	if d.readers[k] == nil {
		src, err := h5events.Open(d.paths[k], formats.Options{})
		if err != nil {
			return err
		}
		if src.Samples == nil {
			src.Close()
			return fmt.Errorf("%s holds one recording, not variable-length samples", d.paths[k])
		}
		d.readers[k] = src.Samples
	}
	if err := d.readers[k].ReadSample(i-d.starts[k], dst); err != nil {
		return err
	}
	dst.ID = filepath.Base(d.paths[k]) + "/" + dst.ID
	return nil
}

func (d *h5SamplesDecoder) Close() error {
	for _, r := range d.readers {
		if r != nil {
			r.Close()
		}
	}
	return nil
}

// ---- N-TIDIGITS18: one HDF5 file, one dataset per utterance in per-split groups ----

type ntidigits struct{}

var ntidigitsSymbols = []string{"o", "1", "2", "3", "4", "5", "6", "7", "8", "9", "z"}

func (ntidigits) Plan(def *Definition, from, split string, _ SourceOptions) (*Plan, error) {
	part, all := strings.CutSuffix(split, "-sequences")
	if part != "train" && part != "test" {
		return nil, noSplit(def, split)
	}
	f, path, err := openH5(from, "n-tidigits.hdf5")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := f.Dataset("/" + part + "_labels")
	if err != nil {
		return nil, err
	}
	names, err := d.Strings()
	if err != nil {
		return nil, err
	}
	type utt struct {
		name  string
		label int32
	}
	var list []utt
	for _, n := range names {
		digits := n[strings.LastIndexByte(n, '-')+1:]
		if all {
			list = append(list, utt{n, events.NoLabel})
			continue
		}
		if len(digits) != 1 {
			continue
		}
		idx := strings.Index("o123456789z", digits)
		if idx < 0 {
			return nil, fmt.Errorf("%s: utterance %q ends in %q, not one of o, 1–9, z", path, n, digits)
		}
		list = append(list, utt{n, int32(idx)})
	}
	p := &Plan{N: len(list), Source: path, Group: 64}
	if all {
		p.Classes = []string{}
	}
	p.Open = func() (Decoder, error) {
		f, err := hdf5.Open(path)
		if err != nil {
			return nil, err
		}
		return &ntidigitsDecoder{f: f, part: part, list: func(i int) (string, int32) { return list[i].name, list[i].label }}, nil
	}
	return p, nil
}

type ntidigitsDecoder struct {
	f    *hdf5.File
	part string
	list func(int) (string, int32)
}

func (d *ntidigitsDecoder) ReadSample(i int, dst *events.Sample) error {
	name, label := d.list(i)
	dst.Reset()
	dst.ID, dst.Label = name, label
	addr, err := d.f.Dataset("/" + d.part + "_addresses/" + name)
	if err != nil {
		return err
	}
	ts, err := d.f.Dataset("/" + d.part + "_timestamps/" + name)
	if err != nil {
		return err
	}
	x, err := addr.Int64s()
	if err != nil {
		return err
	}
	t, err := ts.Float64s()
	if err != nil {
		return err
	}
	if len(x) != len(t) {
		return fmt.Errorf("%s: utterance %s has %d addresses and %d timestamps", d.f.Name(), name, len(x), len(t))
	}
	// Timestamps are seconds; addresses are the cochlea channels (x), one row, one polarity.
	_, err = columns.Append(&dst.Events, columns.Values{Floats: t}, columns.Values{Ints: x}, columns.Constant(0), columns.Constant(1),
		len(t), columns.Spec{TimeExp: 6})
	if err != nil {
		return fmt.Errorf("%s: utterance %s: %w", d.f.Name(), name, err)
	}
	return nil
}

func (d *ntidigitsDecoder) Close() error { return d.f.Close() }

// ---- ThreeET: one HDF5 recording per file, gaze labels in text files, split by file lists ----

type threeET struct{}

func threeETRoot(from string) (string, error) {
	if _, err := os.Stat(filepath.Join(from, "train_files.txt")); err == nil {
		return from, nil
	}
	return findFolder(from, "ThreeET_Eyetracking")
}

func (threeET) Plan(def *Definition, from, split string, _ SourceOptions) (*Plan, error) {
	root, err := threeETRoot(from)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, sp := range []string{"train", "val"} {
		if split != sp && split != "all" {
			continue
		}
		list, err := os.ReadFile(filepath.Join(root, sp+"_files.txt"))
		if err != nil {
			return nil, fmt.Errorf("%s: the %s split list: %w", def.Name, sp, err)
		}
		for _, l := range strings.Split(string(list), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				names = append(names, l)
			}
		}
	}
	if split != "train" && split != "val" && split != "all" {
		return nil, noSplit(def, split)
	}
	cols := []string{"row", "x", "y"}
	if len(names) > 0 {
		rows, err := readLabelRows(filepath.Join(root, "labels", names[0]+".txt"))
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 {
			switch k := len(rows[0]) - 1; k {
			case 2:
			case 3:
				cols = append(cols, "closed")
			default:
				cols = []string{"row"}
				for j := 1; j <= k; j++ {
					cols = append(cols, "v"+strconv.Itoa(j))
				}
			}
		}
	}
	p := &Plan{N: len(names), Source: root, Classes: []string{},
		Notes: &Notes{Suffix: ".gaze.csv", Columns: cols, Doc: "gaze labels: one row per line of labels/<recording>.txt"}}
	p.Open = func() (Decoder, error) { return &threeETDecoder{root: root, names: names}, nil }
	p.NoteRows = func(i int) (string, [][]string, error) {
		rows, err := readLabelRows(filepath.Join(root, "labels", names[i]+".txt"))
		return names[i], rows, err
	}
	return p, nil
}

// readLabelRows reads a whitespace-separated text file of numbers, prefixing each row with its number.
func readLabelRows(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		for _, v := range fields {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return nil, fmt.Errorf("%s: line %d: %q is not a number", path, line, v)
			}
		}
		rows = append(rows, append([]string{strconv.Itoa(len(rows))}, fields...))
	}
	return rows, sc.Err()
}

type threeETDecoder struct {
	root  string
	names []string
}

func (d *threeETDecoder) ReadSample(i int, dst *events.Sample) error {
	name := d.names[i]
	dst.Reset()
	dst.ID = name
	f, err := formats.Lookup("hdf5")
	if err != nil {
		return err
	}
	return sources.ReadFile(filepath.Join(d.root, "data", name+".h5"), f, formats.Options{}, &dst.Events)
}

func (d *threeETDecoder) Close() error { return nil }

// ---- EBSSA: one HDF5 (MATLAB 7.3) file, a group per recording with TD events and Obj positions ----

type ebssa struct{}

func (ebssa) Plan(def *Definition, from, split string, _ SourceOptions) (*Plan, error) {
	if split != "all" && split != "labelled" {
		return nil, noSplit(def, split)
	}
	f, path, err := openH5(from, "labelled_ebssa.h5")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	root, err := f.Root()
	if err != nil {
		return nil, err
	}
	links, err := root.Links()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range links {
		if !strings.HasPrefix(l.Name, "#") {
			names = append(names, l.Name)
		}
	}
	p := &Plan{N: len(names), Source: path, Classes: []string{},
		Notes: &Notes{Suffix: ".objects.csv", Columns: []string{"t", "x", "y", "object"},
			Doc: "objects: time (µs), position (0-based pixels, as the events), id"}}
	p.Open = func() (Decoder, error) {
		f, err := hdf5.Open(path)
		if err != nil {
			return nil, err
		}
		return &ebssaDecoder{f: f, names: names}, nil
	}
	p.NoteRows = func(i int) (string, [][]string, error) {
		f, err := hdf5.Open(path)
		if err != nil {
			return "", nil, err
		}
		defer f.Close()
		rows, err := (&ebssaDecoder{f: f, names: names}).objects(names[i])
		return names[i], rows, err
	}
	return p, nil
}

type ebssaDecoder struct {
	f     *hdf5.File
	names []string
}

// column reads group/name as floats, whatever its shape ((1, N) or (N, 1) from MATLAB).
func (d *ebssaDecoder) column(group, name string) ([]float64, error) {
	ds, err := d.f.Dataset("/" + group + "/" + name)
	if err != nil {
		return nil, err
	}
	return ds.Float64s()
}

func (d *ebssaDecoder) ReadSample(i int, dst *events.Sample) error {
	name := d.names[i]
	dst.Reset()
	dst.ID = name
	var cols [4][]float64
	for k, c := range []string{"ts", "x", "y", "p"} {
		v, err := d.column(name+"/TD", c)
		if err != nil {
			return err
		}
		if k > 0 && len(v) != len(cols[0]) {
			return fmt.Errorf("%s: %s/TD/%s holds %d values, ts %d", d.f.Name(), name, c, len(v), len(cols[0]))
		}
		cols[k] = v
	}
	// MATLAB counts pixels from 1.
	for _, c := range cols[1:3] {
		for j := range c {
			c[j]--
		}
	}
	vals := [4]columns.Values{{Floats: cols[0]}, {Floats: cols[1]}, {Floats: cols[2]}, {Floats: cols[3]}}
	if _, err := columns.Append(&dst.Events, vals[0], vals[1], vals[2], vals[3], len(cols[0]), columns.Spec{}); err != nil {
		return fmt.Errorf("%s: recording %s: %w", d.f.Name(), name, err)
	}
	return nil
}

// objects reads a recording's Obj entries (none for an unlabelled recording).
func (d *ebssaDecoder) objects(name string) ([][]string, error) {
	if _, err := d.f.Get("/" + name + "/Obj"); err != nil {
		return nil, nil
	}
	var obj [4][]float64
	for k, c := range []string{"ts", "x", "y", "id"} {
		v, err := d.column(name+"/Obj", c)
		if err != nil {
			return nil, err
		}
		if k > 0 && len(v) != len(obj[0]) {
			return nil, fmt.Errorf("%s: %s/Obj/%s holds %d values, ts %d", d.f.Name(), name, c, len(v), len(obj[0]))
		}
		obj[k] = v
	}
	rows := make([][]string, len(obj[0]))
	for j := range rows {
		rows[j] = []string{strconv.FormatInt(int64(math.Round(obj[0][j])), 10), strconv.FormatFloat(obj[1][j]-1, 'g', -1, 64),
			strconv.FormatFloat(obj[2][j]-1, 'g', -1, 64), strconv.FormatFloat(obj[3][j], 'g', -1, 64)}
	}
	return rows, nil
}

func (d *ebssaDecoder) Close() error { return d.f.Close() }
