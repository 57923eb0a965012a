package shards

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// Reader presents a sharded dataset as one events.SampleReader: sample i is the dataset's row i, in the
// order the single-file output would have, whichever shard holds it. Shards are opened on first use; the
// most recently used stay open (see interleaved). Like every SampleReader it serves one goroutine at a
// time.
type Reader struct {
	m      *Manifest
	name   string // the manifest's path, for errors
	dir    string // the folder the shards' names are relative to
	format *formats.Format
	opts   formats.Options
	runs   []indexRun // sorted by first index
	open   []openShard
	keep   int // shards kept open
	meta   events.Meta
}

// indexRun maps a run of dataset indices onto the rows of a shard.
type indexRun struct {
	first, count int64
	shard        int
	row          int64 // the shard row of index first
}

type openShard struct {
	shard int
	r     events.SampleReader
}

// A Reader keeps open as many shards as reading the dataset in order interleaves — one for plain
// shards, one per label for hive partitions of a dataset whose labels alternate — within these bounds:
// at least minOpen, at most maxOpen (file descriptors, and a decoded record batch each).
const (
	minOpen = 8
	maxOpen = 64
)

// interleaved is how many shards are in use at once when the dataset is read in order: the most shards
// whose row ranges (first to last row) overlap at any row.
func interleaved(m *Manifest) int {
	type edge struct {
		row   int64
		delta int
	}
	var edges []edge
	for _, s := range m.Shards {
		if len(s.Rows) == 0 {
			continue
		}
		lo, hi := s.Rows[0].First(), s.Rows[0].First()+s.Rows[0].Count()
		for _, r := range s.Rows {
			lo, hi = min(lo, r.First()), max(hi, r.First()+r.Count())
		}
		edges = append(edges, edge{lo, 1}, edge{hi, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].row != edges[j].row {
			return edges[i].row < edges[j].row
		}
		return edges[i].delta < edges[j].delta // a range that ends where another starts does not overlap it
	})
	most, cur := 0, 0
	for _, e := range edges {
		cur += e.delta
		most = max(most, cur)
	}
	return most
}

// Open opens a sharded dataset: its folder or its manifest (or the manifest of one part). With the
// option verify, every shard's size and sha256 are checked against the manifest first.
func Open(path string, o formats.Options) (*Reader, error) {
	path = formats.Resolve(path)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return NewReader(f, path, o)
}

// NewReader reads a manifest from r; name is its path, which locates the shards.
func NewReader(r io.Reader, name string, o formats.Options) (*Reader, error) {
	m, err := ReadManifest(r, name)
	if err != nil {
		return nil, err
	}
	return newReader(m, name, o)
}

func newReader(m *Manifest, name string, o formats.Options) (*Reader, error) {
	f, err := formats.Lookup(m.Format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if f.NewReader == nil || f.Index != "" {
		return nil, fmt.Errorf("%s: shards of format %s cannot be read", name, f.Name)
	}
	verify, err := o.BoolParam("verify")
	if err != nil {
		return nil, err
	}
	d := &Reader{m: m, name: name, dir: filepath.Dir(name), format: f, opts: o, meta: m.Meta(),
		keep: min(max(interleaved(m), minOpen), maxOpen)}
	for k, s := range m.Shards {
		var row int64
		for _, r := range s.Rows {
			d.runs = append(d.runs, indexRun{first: r.First(), count: r.Count(), shard: k, row: row})
			row += r.Count()
		}
	}
	sort.Slice(d.runs, func(i, j int) bool { return d.runs[i].first < d.runs[j].first })
	for k, v := range m.Extra {
		d.meta.SetExtra(k, v)
	}
	d.meta.SetExtra("shards", len(m.Shards))
	d.meta.SetExtra("shard_format", m.Format)
	if len(m.Partition) > 0 {
		d.meta.SetExtra("partition", m.Partition)
	}
	if m.Part != nil {
		d.meta.SetExtra("part", m.Part.String())
	}
	if verify {
		for k := range m.Shards {
			if err := d.verify(k); err != nil {
				return nil, err
			}
		}
		d.meta.SetExtra("sha256", fmt.Sprintf("verified (%d shards)", len(m.Shards)))
	}
	return d, nil
}

// Manifest is the dataset's manifest.
func (d *Reader) Manifest() *Manifest { return d.m }

// Path is the file of shard k.
func (d *Reader) Path(k int) string {
	return filepath.Join(d.dir, filepath.FromSlash(d.m.Shards[k].File))
}

// Blocks lists, for each shard, its dataset indices in file order as runs [first, count]: reading a
// shard's samples in this order reads its file front to back (snn's streaming loader uses it).
func (d *Reader) Blocks() [][][2]int64 {
	out := make([][][2]int64, len(d.m.Shards))
	for k, s := range d.m.Shards {
		for _, r := range s.Rows {
			out[k] = append(out[k], [2]int64(r))
		}
	}
	return out
}

// verify checks shard k's size and sha256 against the manifest.
func (d *Reader) verify(k int) error {
	s := &d.m.Shards[k]
	size, sum, err := hashFile(d.Path(k))
	if err != nil {
		return fmt.Errorf("%s: shard %s: %w", d.name, s.File, err)
	}
	if size != s.Bytes {
		return fmt.Errorf("%s: shard %s holds %d bytes, the manifest says %d (the file changed or is damaged)", d.name, s.File, size, s.Bytes)
	}
	if sum != s.SHA256 {
		return fmt.Errorf("%s: shard %s has sha256 %s, the manifest says %s (the file changed or is damaged)", d.name, s.File, sum, s.SHA256)
	}
	return nil
}

// hashFile returns a file's size and sha256 (lower-case hex).
func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Meta describes the dataset: the manifest's metadata (with its boxes and box classes), and in Extra the shard count and format.
func (d *Reader) Meta() events.Meta { return d.meta }

// NumSamples is the number of samples in all shards.
func (d *Reader) NumSamples() int { return d.m.Samples }

// ReadSample decodes dataset row i into dst, reusing its buffers.
func (d *Reader) ReadSample(i int, dst *events.Sample) error {
	if i < 0 || i >= d.m.Samples {
		return fmt.Errorf("%s: sample %d does not exist (the dataset holds %d)", d.name, i, d.m.Samples)
	}
	j := sort.Search(len(d.runs), func(j int) bool { return d.runs[j].first > int64(i) }) - 1
	run := d.runs[j]
	r, err := d.shard(run.shard)
	if err != nil {
		return err
	}
	return r.ReadSample(int(run.row+int64(i)-run.first), dst)
}

// shard returns shard k's reader, opening it (and closing the least recently used one) when needed.
func (d *Reader) shard(k int) (events.SampleReader, error) {
	for j, o := range d.open {
		if o.shard == k {
			if j != len(d.open)-1 {
				d.open = append(append(d.open[:j:j], d.open[j+1:]...), o)
			}
			return o.r, nil
		}
	}
	s := &d.m.Shards[k]
	src, err := d.format.Open(d.Path(k), d.opts)
	if err != nil {
		return nil, fmt.Errorf("%s: shard %s: %w", d.name, s.File, err)
	}
	r := src.Samples
	if r == nil {
		src.Close()
		return nil, fmt.Errorf("%s: shard %s holds a recording, not samples", d.name, s.File)
	}
	if err := d.matches(s, r); err != nil {
		r.Close()
		return nil, err
	}
	if len(d.open) == d.keep {
		d.open[0].r.Close()
		d.open = d.open[1:]
	}
	d.open = append(d.open, openShard{k, r})
	return r, nil
}

// matches checks that an opened shard is the one the manifest describes.
func (d *Reader) matches(s *Shard, r events.SampleReader) error {
	meta := r.Meta()
	switch {
	case r.NumSamples() != s.Samples:
		return fmt.Errorf("%s: shard %s holds %d samples, the manifest says %d", d.name, s.File, r.NumSamples(), s.Samples)
	case meta.Geometry != d.m.Sensor:
		return fmt.Errorf("%s: shard %s has sensor %s, the manifest says %s", d.name, s.File, meta.Geometry, d.m.Sensor)
	case !slices.Equal(meta.Classes, d.m.Classes):
		return fmt.Errorf("%s: shard %s names classes %q, the manifest %q", d.name, s.File, meta.Classes, d.m.Classes)
	case meta.Boxes != d.m.Boxes:
		return fmt.Errorf("%s: shard %s %s, the manifest says it %s", d.name, s.File, hasBoxes(meta.Boxes), hasBoxes(d.m.Boxes))
	case d.m.Boxes && !slices.Equal(meta.BoxClasses, d.m.BoxClasses):
		return fmt.Errorf("%s: shard %s names box classes %q, the manifest %q", d.name, s.File, meta.BoxClasses, d.m.BoxClasses)
	}
	return nil
}

// hasBoxes says whether a dataset or a shard has boxes, for messages.
func hasBoxes(b bool) string {
	if b {
		return "has boxes"
	}
	return "has no boxes"
}

// Sequential tells the reader that it will be read in dataset order: it then keeps open only as many
// shards as reading in order interleaves (one for plain shards), each holding a decoded record batch,
// instead of at least minOpen for random access. snn's streamed evaluation reads so, within a memory
// bound.
func (d *Reader) Sequential() {
	d.keep = min(max(interleaved(d.m), 1), maxOpen)
	for len(d.open) > d.keep {
		d.open[0].r.Close()
		d.open = d.open[1:]
	}
}

// Release closes the shards the reader holds open, and with them the data they keep decoded; the next
// read opens its shard again. A reader that has read a block of a shard and moves on to another part of
// the dataset calls it to keep memory small (snn's streaming loader does).
func (d *Reader) Release() {
	for _, o := range d.open {
		o.r.Close()
	}
	d.open = d.open[:0]
}

// Close closes the open shards.
func (d *Reader) Close() error {
	var first error
	for _, o := range d.open {
		if err := o.r.Close(); err != nil && first == nil {
			first = err
		}
	}
	d.open = nil
	return first
}
