package shards

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/atomicfile"
)

// Options steer a Writer.
type Options struct {
	// Format is the registry format of the shard files: "arrow" (the default) or "parquet" — any
	// format that writes a dataset as one file.
	Format string
	// Samples closes a shard once it holds this many samples (0: no limit).
	Samples int
	// Bytes closes a shard once its file is estimated to reach this size (0: no limit): the first shard
	// is cut at this many bytes of uncompressed samples (13 bytes per event, 36 per box), later ones by the
	// compression ratio of the shards written so far.
	Bytes int64
	// Part, when it splits (Count > 1), writes one part of an array job: its files and its part
	// manifest go into the shared folder, each atomically, and Merge joins the parts.
	Part Part
	// ByLabel writes hive-style partitions: every shard holds one label, in a folder label=K
	// (label=__HIVE_DEFAULT_PARTITION__ for unlabelled samples), as DuckDB, polars, Spark and Ray read them.
	ByLabel bool
	// Within are hive folders key=value that hold the whole dataset, outermost first: with split=train
	// the dataset goes into root/split=train (its manifest there), so that another run can fill
	// root/split=test and a reader of root/**/*.parquet sees a split column.
	Within []string
	// Files are the options of the shard files (compression, the format's -O parameters).
	Files formats.Options
}

// boxBytes is the uncompressed size of one box (events.Box's fields), for Options.Bytes.
const boxBytes = 36

// maxOpenPartitions is how many label partitions keep a shard open at once; a label arriving beyond them
// closes the shard that was written to least recently (a dataset sorted by label has one open).
const maxOpenPartitions = 16

// NullPartition is the hive folder value of a missing label (Hive's and Spark's name for null).
const NullPartition = "__HIVE_DEFAULT_PARTITION__"

// Writer cuts a stream of samples into shards and writes the manifest at Close. A whole dataset is built
// in a temporary folder renamed into place at Close; a part goes straight into the shared folder, each
// file atomically, its manifest last. Abort removes everything the writer made.
type Writer struct {
	root   string          // the dataset's folder
	dir    string          // where files go while writing (a temporary folder for a whole dataset)
	tmp    *atomicfile.Dir // nil for a part
	o      Options
	format *formats.Format
	meta   events.Meta // of each shard file
	m      Manifest
	open   []*shardFile // least recently written first
	made   []string     // shard files committed so far (under dir)
	rows   int64        // samples written
	// The compression ratio so far, for Options.Bytes.
	fileBytes, rawBytes int64
	done                bool
}

// shardFile is a shard being written.
type shardFile struct {
	k   int    // its index in the manifest
	key string // its partition folder ("label=3"), or ""
	w   events.SampleWriter
	raw int64 // uncompressed bytes written
}

// Create starts a sharded dataset in folder root with the metadata of the samples to come. The folder
// must not exist, unless o.Part splits: then the parts of all jobs share it.
func Create(root string, meta events.Meta, o Options) (*Writer, error) {
	if meta.Kind != events.KindDataset {
		return nil, fmt.Errorf("%s: shards hold the samples of a dataset, not a %s", root, meta.Kind)
	}
	if o.Format == "" {
		o.Format = "arrow"
	}
	f, err := formats.Lookup(o.Format)
	if err != nil {
		return nil, err
	}
	if f.Create == nil || !f.DatasetCreate || f.Index != "" || f.NewReader == nil {
		return nil, fmt.Errorf("shards are written as arrow or parquet files, not %s", f.Name)
	}
	if err := f.CheckCompression(o.Files.Compression); err != nil {
		return nil, err
	}
	var boxes events.Meta // the shard format must keep the boxes: Arrow does, Parquet refuses here
	if err := f.CarryBoxes(&boxes, meta, o.Files); err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	if o.Samples < 0 || o.Bytes < 0 {
		return nil, fmt.Errorf("shard size: want a positive number")
	}
	if !o.Part.Whole() && (o.Part.Index < 0 || o.Part.Index >= o.Part.Count) {
		return nil, fmt.Errorf("part %d of %d does not exist", o.Part.Index, o.Part.Count)
	}
	for _, kv := range o.Within {
		if err := checkHiveFolder(kv); err != nil {
			return nil, err
		}
		root = filepath.Join(root, kv)
	}
	w := &Writer{root: root, o: o, format: f, meta: meta}
	w.meta.Format = f.Name
	w.m = Manifest{Version: Version, Kind: events.KindDataset, Format: f.Name, Classes: meta.Classes,
		Sensor: meta.Geometry, Transforms: meta.Transforms, Source: meta.Source, Extra: meta.Extra, Shards: []Shard{}}
	if w.m.Classes == nil {
		w.m.Classes = []string{}
	}
	w.m.Boxes, w.m.BoxClasses = boxes.Boxes, boxes.BoxClasses
	if o.ByLabel {
		w.m.Partition = []string{"label"}
	}
	if o.Part.Whole() {
		if w.tmp, err = atomicfile.CreateDir(root, o.Files.Overwrite); err != nil {
			return nil, err
		}
		w.dir = w.tmp.Tmp
	} else {
		p := o.Part
		w.m.Part = &p
		if err := os.MkdirAll(root, 0o755); err != nil {
			return nil, fmt.Errorf("create output folder %s: %w", root, err)
		}
		w.dir = root
	}
	return w, nil
}

// Root is the dataset's folder.
func (w *Writer) Root() string { return w.root }

// ManifestPath is where Close writes the manifest: manifest.json, or a part's own part-….json.
func (w *Writer) ManifestPath() string {
	if w.o.Part.Whole() {
		return filepath.Join(w.root, ManifestName)
	}
	return filepath.Join(w.root, PartManifestName(w.o.Part))
}

// PartManifestName is the name of part p's manifest in the shared folder: part-00001-of-00004.json.
func PartManifestName(p Part) string { return partPrefix(p) + ".json" }

// partPrefix names part p's files: part-00001-of-00004.
func partPrefix(p Part) string {
	width := max(5, len(strconv.Itoa(p.Count-1)))
	return fmt.Sprintf("part-%0*d-of-%0*d", width, p.Index, width, p.Count)
}

// fileName is the name of the shard file number n of this writer.
func (w *Writer) fileName(n int) string {
	ext := ".dat"
	if len(w.format.Extensions) > 0 {
		ext = w.format.Extensions[0]
	}
	if w.o.Part.Whole() {
		return fmt.Sprintf("part-%05d%s", n, ext)
	}
	if w.o.Samples == 0 && w.o.Bytes == 0 && !w.o.ByLabel {
		return partPrefix(w.o.Part) + ext // one file per part
	}
	return fmt.Sprintf("%s-%05d%s", partPrefix(w.o.Part), n, ext)
}

// checkHiveFolder checks a constant hive folder name: key=value, a plain name on each side.
func checkHiveFolder(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	bad := !ok || k == "" || v == "" || strings.ContainsAny(kv, "/\\\x00") || v == "." || v == ".." || strings.Contains(v, "=")
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			bad = true
		}
	}
	if bad {
		return fmt.Errorf("hive folder %q: want key=value, like split=train (letters, digits and _ in the key; no / in the value)", kv)
	}
	return nil
}

// partitionOf is the hive folder of a label.
func partitionOf(label int32) string {
	if label < 0 {
		return "label=" + NullPartition
	}
	return "label=" + strconv.Itoa(int(label))
}

// WriteSample appends one sample to its shard.
func (w *Writer) WriteSample(s *events.Sample) error {
	if w.done {
		return fmt.Errorf("%s: write after Close or Abort", w.root)
	}
	if s.Label < events.NoLabel || (len(w.m.Classes) > 0 && int(s.Label) >= len(w.m.Classes)) || s.Label >= maxLabels {
		return fmt.Errorf("%s: sample %q: label %d outside the dataset's %d classes", w.root, s.ID, s.Label, len(w.m.Classes))
	}
	if len(s.Boxes) > 0 && !w.m.Boxes {
		return fmt.Errorf("%s: sample %q has %d boxes, but the dataset was created without boxes (events.Meta.Boxes)", w.root, s.ID, len(s.Boxes))
	}
	key := ""
	if w.o.ByLabel {
		key = partitionOf(s.Label)
	}
	sf, err := w.shardFor(key)
	if err != nil {
		return err
	}
	if err := sf.w.WriteSample(s); err != nil {
		return err
	}
	e := &w.m.Shards[sf.k]
	e.Samples++
	e.Events += int64(s.Events.Len())
	if s.Label == events.NoLabel {
		e.Unlabelled++
	} else {
		for int(s.Label) >= len(e.Labels) {
			e.Labels = append(e.Labels, 0)
		}
		e.Labels[s.Label]++
	}
	if n := len(e.Rows); n > 0 && e.Rows[n-1].First()+e.Rows[n-1].Count() == w.rows {
		e.Rows[n-1][1]++
	} else {
		e.Rows = append(e.Rows, Run{w.rows, 1})
	}
	w.rows++
	sf.raw += 13*int64(s.Events.Len()) + int64(len(s.ID)) + 4 + boxBytes*int64(len(s.Boxes))
	if (w.o.Samples > 0 && e.Samples >= w.o.Samples) || (w.o.Bytes > 0 && w.estimate(sf.raw) >= w.o.Bytes) {
		return w.closeShard(sf)
	}
	return nil
}

// estimate is the file size that raw bytes of samples are expected to make, by the compression ratio of
// the shards closed so far (none yet: as many bytes).
func (w *Writer) estimate(raw int64) int64 {
	if w.rawBytes == 0 {
		return raw
	}
	return int64(float64(raw) * float64(w.fileBytes) / float64(w.rawBytes))
}

// shardFor returns the open shard of a partition, starting a new shard file when there is none.
func (w *Writer) shardFor(key string) (*shardFile, error) {
	for j, sf := range w.open {
		if sf.key == key {
			if j != len(w.open)-1 {
				w.open = append(append(w.open[:j:j], w.open[j+1:]...), sf)
			}
			return sf, nil
		}
	}
	if len(w.open) == maxOpenPartitions {
		if err := w.closeShard(w.open[0]); err != nil {
			return nil, err
		}
	}
	k := len(w.m.Shards)
	rel := w.fileName(k)
	if key != "" {
		rel = path.Join(key, rel)
		if err := os.MkdirAll(filepath.Join(w.dir, key), 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", filepath.Join(w.root, key), err)
		}
	}
	sink, err := w.format.Create(filepath.Join(w.dir, filepath.FromSlash(rel)), w.meta, w.o.Files)
	if err != nil {
		return nil, err
	}
	if sink.Samples == nil {
		sink.Abort()
		return nil, fmt.Errorf("format %s gave no dataset writer", w.format.Name)
	}
	labels := []int64{}
	if len(w.m.Classes) > 0 {
		labels = make([]int64, len(w.m.Classes))
	}
	w.m.Shards = append(w.m.Shards, Shard{File: rel, Labels: labels})
	sf := &shardFile{k: k, key: key, w: sink.Samples}
	w.open = append(w.open, sf)
	return sf, nil
}

// closeShard finishes a shard file and records its size and checksum.
func (w *Writer) closeShard(sf *shardFile) error {
	for j, o := range w.open {
		if o == sf {
			w.open = append(w.open[:j:j], w.open[j+1:]...)
			break
		}
	}
	e := &w.m.Shards[sf.k]
	if err := sf.w.Close(); err != nil {
		return err
	}
	p := filepath.Join(w.dir, filepath.FromSlash(e.File))
	w.made = append(w.made, p)
	size, sum, err := hashFile(p)
	if err != nil {
		return err
	}
	e.Bytes, e.SHA256 = size, sum
	w.fileBytes += size
	w.rawBytes += sf.raw
	return nil
}

// Close finishes every shard and writes the manifest; a whole dataset then moves into place.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	fail := func(err error) error { w.Abort(); return err }
	for len(w.open) > 0 {
		// In shard order, so that the same samples always make the same bytes.
		first := w.open[0]
		for _, sf := range w.open {
			if sf.k < first.k {
				first = sf
			}
		}
		if err := w.closeShard(first); err != nil {
			return fail(err)
		}
	}
	w.m.total()
	b, err := w.m.Encode()
	if err != nil {
		return fail(err)
	}
	name := filepath.Base(w.ManifestPath())
	f, err := atomicfile.Create(filepath.Join(w.dir, name))
	if err != nil {
		return fail(err)
	}
	if _, err := f.Write(b); err != nil {
		f.Abort()
		return fail(fmt.Errorf("write %s: %w", w.ManifestPath(), err))
	}
	if err := f.Commit(); err != nil {
		return fail(err)
	}
	if w.tmp != nil {
		if err := w.tmp.Commit(); err != nil {
			w.done = true
			return err
		}
	} else if err := w.removeStale(); err != nil {
		w.done = true
		return err
	}
	w.done = true
	return nil
}

// removeStale deletes what an earlier run of the same part left that its new manifest does not list
// (more shard files, a temporary file of a killed job), so that a glob over the folder sees this run only.
func (w *Writer) removeStale() error {
	prefix := partPrefix(w.o.Part)
	keep := map[string]bool{PartManifestName(w.o.Part): true}
	for _, s := range w.m.Shards {
		keep[s.File] = true
	}
	return filepath.WalkDir(w.root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != w.root && !strings.HasPrefix(d.Name(), "label=") {
				return filepath.SkipDir
			}
			return nil
		}
		name := strings.TrimPrefix(d.Name(), ".")
		if !strings.HasPrefix(name, prefix+".") && !strings.HasPrefix(name, prefix+"-") {
			return nil
		}
		rel, _ := filepath.Rel(w.root, p)
		if keep[filepath.ToSlash(rel)] {
			return nil
		}
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("remove %s, left by an earlier run of part %s: %w", p, w.o.Part, err)
		}
		return nil
	})
}

// Abort removes everything the writer made.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	for _, sf := range w.open {
		sf.w.Abort()
	}
	w.open = nil
	if w.tmp != nil {
		w.tmp.Abort()
		return
	}
	for _, p := range w.made {
		os.Remove(p)
	}
	if w.o.ByLabel {
		for _, s := range w.m.Shards {
			os.Remove(filepath.Join(w.root, filepath.FromSlash(path.Dir(s.File)))) // only when empty
		}
	}
}

// Remove deletes a sharded dataset that Create made in root — or, for a part, only that part's files and
// manifest, leaving the other parts in the shared folder.
func Remove(root string, p Part) error {
	if p.Whole() {
		return os.RemoveAll(root)
	}
	name := filepath.Join(root, PartManifestName(p))
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	m, err := ReadManifest(f, name)
	f.Close()
	if err != nil {
		return err
	}
	for _, s := range m.Shards {
		if err := os.Remove(filepath.Join(root, filepath.FromSlash(s.File))); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return os.Remove(name)
}
