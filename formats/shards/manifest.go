// Package shards keeps a dataset as a folder of files — shards, each an ordinary Arrow or Parquet
// dataset file — described by a manifest.json: what every evtool verb, DuckDB, polars, Spark and Ray
// read as one dataset when it outgrows one file or one machine.
//
// The package holds the whole shard layer: the manifest (this file), the writer that cuts a stream of
// samples into shards (optionally in hive-style label=K partitions), the reader that presents a folder as
// one events.SampleReader with random access across shards in the original row order, parts (Part: one
// of N contiguous pieces of a job's inputs, for cluster array jobs) and Merge, which joins the parts that
// array jobs wrote into one manifest without copying a byte. It registers itself as the format "shards",
// so formats.Open takes a shard folder or its manifest anywhere a dataset file is taken.
package shards

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/evtool/evtool/events"
)

// ManifestName is the file that describes a shard folder.
const ManifestName = "manifest.json"

// Version is the manifest layout this package writes and reads (the manifest's "evtool_shards").
const Version = 1

// versionKey opens every manifest, so that Detect recognises one by its first bytes.
const versionKey = `"evtool_shards"`

// Manifest describes a sharded dataset, or one part of it that an array job wrote (Part set).
type Manifest struct {
	Version    int             `json:"evtool_shards"`
	Kind       events.Kind     `json:"kind"`
	Format     string          `json:"format"` // the registry format of every shard: arrow or parquet
	Classes    []string        `json:"classes"`
	Sensor     events.Geometry `json:"sensor"`
	Transforms string          `json:"transforms,omitempty"`
	Source     string          `json:"source,omitempty"`
	Extra      map[string]any  `json:"extra,omitempty"`
	// Boxes says that every shard's samples carry boxes (labels over time, events.Sample.Boxes), whose
	// classes BoxClasses names; only shard formats that store boxes (arrow) hold them. Both are left out
	// of a manifest without boxes, as manifests written before boxes were kept.
	Boxes      bool     `json:"boxes,omitempty"`
	BoxClasses []string `json:"box_classes,omitempty"`
	// Partition names the hive-style keys of the shards' folders ("label": label=K/part-….parquet).
	Partition []string `json:"partition,omitempty"`
	// Part is set in the manifest of one part of an array job (part-00001-of-00004.json).
	Part *Part `json:"part,omitempty"`
	// Totals over the shards.
	Samples    int     `json:"samples"`
	Events     int64   `json:"events"`
	Labels     []int64 `json:"label_counts"` // samples per label (index = label)
	Unlabelled int64   `json:"unlabelled,omitempty"`
	Shards     []Shard `json:"shards"`
}

// Shard is one file of a sharded dataset.
type Shard struct {
	File       string  `json:"file"` // relative to the manifest's folder, with forward slashes
	Samples    int     `json:"samples"`
	Events     int64   `json:"events"`
	Bytes      int64   `json:"bytes"`
	Labels     []int64 `json:"label_counts"`
	Unlabelled int64   `json:"unlabelled,omitempty"`
	SHA256     string  `json:"sha256"`
	// Rows are the dataset indices of the shard's samples, in file order, as runs [first, count]: one
	// run for a plain shard, several when a hive partition gathers samples of one label.
	Rows []Run `json:"rows"`
}

// Run is a range of dataset indices: [First, First+Count).
type Run [2]int64

// First is the run's first index, Count its length.
func (r Run) First() int64 { return r[0] }

// Count is the run's length.
func (r Run) Count() int64 { return r[1] }

// Meta is the dataset's metadata as every reader reports it.
func (m *Manifest) Meta() events.Meta {
	return events.Meta{Format: "shards", Kind: m.Kind, Geometry: m.Sensor, Source: m.Source,
		Transforms: m.Transforms, Classes: m.Classes, Boxes: m.Boxes, BoxClasses: m.BoxClasses}
}

// isManifest reports whether the first bytes of a file are a manifest's.
func isManifest(head []byte) bool {
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 || head[0] != '{' {
		return false
	}
	return bytes.HasPrefix(bytes.TrimLeft(head[1:], " \t\r\n"), []byte(versionKey))
}

// maxManifest bounds what a manifest may hold: beyond it, a file is no manifest of ours.
const maxManifest = 1 << 30

// ReadManifest reads and checks a manifest; name is used in errors.
func ReadManifest(r io.Reader, name string) (*Manifest, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > maxManifest {
		return nil, fmt.Errorf("%s: a manifest larger than %d bytes", name, maxManifest)
	}
	if !isManifest(b) {
		return nil, fmt.Errorf("%s: not a shard manifest (it does not start with {%s)", name, versionKey)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: at byte %d: %w", name, dec.InputOffset(), err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &m, nil
}

// Encode renders the manifest as indented JSON (the same manifest gives the same bytes).
func (m *Manifest) Encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// maxLabels bounds the label counts of a dataset without class names.
const maxLabels = 1 << 20

// check validates a manifest: counts that add up, runs that tile the dataset's indices exactly once,
// files that stay inside names a manifest may give.
// total sets the manifest's totals (samples, events, unlabelled, samples per label) from its shards.
func (m *Manifest) total() {
	m.Samples, m.Events, m.Unlabelled = 0, 0, 0
	m.Labels = make([]int64, len(m.Classes))
	for _, s := range m.Shards {
		for len(m.Labels) < len(s.Labels) {
			m.Labels = append(m.Labels, 0)
		}
		for l, c := range s.Labels {
			m.Labels[l] += c
		}
		m.Samples += s.Samples
		m.Events += s.Events
		m.Unlabelled += s.Unlabelled
	}
}

func (m *Manifest) check() error {
	if m.Version != Version {
		return fmt.Errorf("manifest version %d; this evtool reads version %d", m.Version, Version)
	}
	if m.Kind != events.KindDataset {
		return fmt.Errorf("kind %q: a sharded dataset holds samples (kind %q)", m.Kind, events.KindDataset)
	}
	if m.Format == "" {
		return fmt.Errorf("no shard format")
	}
	if m.Sensor.Width < 0 || m.Sensor.Height < 0 || m.Sensor.Width > 65536 || m.Sensor.Height > 65536 {
		return fmt.Errorf("sensor %s outside 0..65536", m.Sensor)
	}
	if len(m.BoxClasses) > 0 && !m.Boxes {
		return fmt.Errorf("box classes %q but no boxes", m.BoxClasses)
	}
	for _, k := range m.Partition {
		if k != "label" {
			return fmt.Errorf("partition key %q: the shards are partitioned by label only", k)
		}
	}
	if m.Part != nil && (m.Part.Count < 1 || m.Part.Index < 0 || m.Part.Index >= m.Part.Count) {
		return fmt.Errorf("part %d of %d", m.Part.Index, m.Part.Count)
	}
	if m.Samples < 0 || m.Events < 0 || m.Unlabelled < 0 {
		return fmt.Errorf("negative totals")
	}
	if err := checkLabels(m.Labels, m.Classes); err != nil {
		return err
	}
	var samples, events, unlabelled int64
	labels := make([]int64, len(m.Labels))
	var runs []Run
	files := map[string]bool{}
	for k := range m.Shards {
		s := &m.Shards[k]
		if err := checkFile(s.File); err != nil {
			return fmt.Errorf("shard %d: %w", k, err)
		}
		if files[s.File] {
			return fmt.Errorf("shard %s is listed twice", s.File)
		}
		files[s.File] = true
		if s.Samples < 0 || s.Events < 0 || s.Bytes < 0 || s.Unlabelled < 0 {
			return fmt.Errorf("shard %s: negative counts", s.File)
		}
		if len(s.SHA256) != 64 || strings.Trim(s.SHA256, "0123456789abcdef") != "" {
			return fmt.Errorf("shard %s: sha256 %q is not 64 lower-case hex digits", s.File, s.SHA256)
		}
		if err := checkLabels(s.Labels, m.Classes); err != nil {
			return fmt.Errorf("shard %s: %w", s.File, err)
		}
		if len(s.Labels) > len(labels) {
			return fmt.Errorf("shard %s counts %d labels, the dataset %d", s.File, len(s.Labels), len(labels))
		}
		var n int64
		for l, c := range s.Labels {
			n += c
			labels[l] += c
		}
		if n+s.Unlabelled != int64(s.Samples) {
			return fmt.Errorf("shard %s: its label counts add up to %d samples, not %d", s.File, n+s.Unlabelled, s.Samples)
		}
		var inRuns int64
		for _, r := range s.Rows {
			if r.First() < 0 || r.Count() < 1 || r.First() > 1<<50 || r.Count() > 1<<50 {
				return fmt.Errorf("shard %s: row run %v", s.File, r)
			}
			inRuns += r.Count()
		}
		if inRuns != int64(s.Samples) {
			return fmt.Errorf("shard %s: its rows list %d samples, not %d", s.File, inRuns, s.Samples)
		}
		runs = append(runs, s.Rows...)
		samples += int64(s.Samples)
		events += s.Events
		unlabelled += s.Unlabelled
	}
	if samples != int64(m.Samples) || events != m.Events || unlabelled != m.Unlabelled {
		return fmt.Errorf("the shards hold %d samples (%d unlabelled) and %d events; the totals say %d (%d) and %d",
			samples, unlabelled, events, m.Samples, m.Unlabelled, m.Events)
	}
	if !slices.Equal(labels, m.Labels) {
		return fmt.Errorf("the shards' label counts %v do not add up to the dataset's %v", labels, m.Labels)
	}
	slices.SortFunc(runs, func(a, b Run) int { return cmp.Compare(a.First(), b.First()) })
	var next int64
	for _, r := range runs {
		if r.First() != next {
			if r.First() < next {
				return fmt.Errorf("row %d belongs to two shards", r.First())
			}
			return fmt.Errorf("rows %d..%d belong to no shard", next, r.First()-1)
		}
		next += r.Count()
	}
	return nil
}

// checkLabels checks a label count list against the class names.
func checkLabels(counts []int64, classes []string) error {
	if len(classes) > 0 && len(counts) > len(classes) {
		return fmt.Errorf("%d label counts for %d classes", len(counts), len(classes))
	}
	if len(counts) > maxLabels {
		return fmt.Errorf("%d label counts: at most %d", len(counts), maxLabels)
	}
	for _, c := range counts {
		if c < 0 {
			return fmt.Errorf("a negative label count")
		}
	}
	return nil
}

// checkFile checks a shard's file name: relative, forward slashes, clean.
func checkFile(f string) error {
	switch {
	case f == "":
		return fmt.Errorf("no file name")
	case strings.ContainsAny(f, "\\\x00"), path.IsAbs(f), len(f) > 1 && f[1] == ':':
		return fmt.Errorf("file %q: want a relative path with forward slashes", f)
	case path.Clean(f) != f:
		return fmt.Errorf("file %q is not a clean path (want %q)", f, path.Clean(f))
	}
	return nil
}
