package shards

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/atomicfile"
)

// piece is one input of Merge: a manifest (of a part or a whole dataset) and the folder its shard names
// are relative to.
type piece struct {
	m    *Manifest
	dir  string
	name string // for messages
}

// Merge joins datasets into one without copying a byte: it writes out/manifest.json listing the shards of
// every input, with paths relative to out. Inputs are the parts an array job wrote — folders holding part
// manifests (part-00001-of-00004.json), or those files — which must be complete (every part of the same N
// exactly once) and are taken in part order; or else whole datasets — shard folders, manifests, single
// Arrow or Parquet dataset files (counted and hashed here) — taken in the order given. With no inputs,
// out itself holds the parts. Classes, sensor, transforms, shard format, partitioning, boxes (present or
// not) and box classes must agree, and every shard must be present with its recorded size.
func Merge(out string, inputs []string) (*Manifest, error) {
	if len(inputs) == 0 {
		inputs = []string{out}
	}
	var parts, wholes []piece
	for _, in := range inputs {
		ps, err := readPieces(in)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if p.m.Part != nil {
				parts = append(parts, p)
			} else {
				wholes = append(wholes, p)
			}
		}
	}
	var pieces []piece
	switch {
	case len(parts) > 0 && len(wholes) > 0:
		return nil, fmt.Errorf("%s is a part of an array job but %s is a whole dataset: merge the parts first, then the datasets",
			parts[0].name, wholes[0].name)
	case len(parts) > 0:
		var err error
		if pieces, err = completeParts(parts); err != nil {
			return nil, err
		}
	case len(wholes) > 0:
		pieces = wholes
	default:
		return nil, fmt.Errorf("%s: no parts to merge (no %s files; has any job finished?)", strings.Join(inputs, ", "), "part-*-of-*.json")
	}
	m, err := join(out, pieces)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", out, err)
	}
	b, err := m.Encode()
	if err != nil {
		return nil, err
	}
	f, err := atomicfile.Create(filepath.Join(out, ManifestName))
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(b); err != nil {
		f.Abort()
		return nil, fmt.Errorf("write %s: %w", f.FinalPath(), err)
	}
	return m, f.Commit()
}

// readPieces reads one input of Merge.
func readPieces(in string) ([]piece, error) {
	st, err := os.Stat(in)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		names, err := filepath.Glob(filepath.Join(in, "part-*-of-*.json"))
		if err != nil {
			return nil, err
		}
		if len(names) == 0 {
			if formats.Resolve(in) != in { // a whole sharded dataset
				p, err := readManifestPiece(formats.Resolve(in))
				return []piece{p}, err
			}
			return nil, fmt.Errorf("%s holds no part manifests (part-*-of-*.json) and no %s: no job has finished there", in, ManifestName)
		}
		sort.Strings(names)
		var out []piece
		for _, n := range names {
			p, err := readManifestPiece(n)
			if err != nil {
				return nil, err
			}
			if p.m.Part == nil {
				return nil, fmt.Errorf("%s is named as a part but holds a whole dataset's manifest", n)
			}
			out = append(out, p)
		}
		return out, nil
	}
	f, err := formats.Detect(in)
	if err != nil {
		return nil, err
	}
	if f.Index != "" {
		p, err := readManifestPiece(in)
		return []piece{p}, err
	}
	p, err := filePiece(in, f)
	return []piece{p}, err
}

func readManifestPiece(name string) (piece, error) {
	f, err := os.Open(name)
	if err != nil {
		return piece{}, err
	}
	defer f.Close()
	m, err := ReadManifest(f, name)
	if err != nil {
		return piece{}, err
	}
	return piece{m: m, dir: filepath.Dir(name), name: name}, nil
}

// filePiece describes a single dataset file as a one-shard dataset: it reads every sample (for the
// counts) and hashes the file.
func filePiece(path string, f *formats.Format) (piece, error) {
	src, err := f.Open(path, formats.Options{})
	if err != nil {
		return piece{}, err
	}
	defer src.Close()
	r := src.Samples
	if r == nil {
		return piece{}, fmt.Errorf("%s is a recording; merge joins datasets", path)
	}
	meta := r.Meta()
	m := &Manifest{Version: Version, Kind: events.KindDataset, Format: f.Name, Classes: meta.Classes, Sensor: meta.Geometry,
		Transforms: meta.Transforms, Source: meta.Source, Extra: meta.Extra, Boxes: meta.Boxes}
	if meta.Boxes {
		m.BoxClasses = meta.BoxClasses
	}
	if m.Classes == nil {
		m.Classes = []string{}
	}
	s := Shard{File: filepath.Base(path), Samples: r.NumSamples(), Labels: make([]int64, len(m.Classes))}
	var smp events.Sample
	for i := 0; i < r.NumSamples(); i++ {
		if err := r.ReadSample(i, &smp); err != nil {
			return piece{}, err
		}
		s.Events += int64(smp.Events.Len())
		switch {
		case smp.Label < 0:
			s.Unlabelled++
		case len(m.Classes) > 0 && int(smp.Label) >= len(m.Classes), smp.Label >= maxLabels:
			return piece{}, fmt.Errorf("%s: sample %d has label %d, outside its %d classes", path, i, smp.Label, len(m.Classes))
		default:
			for int(smp.Label) >= len(s.Labels) {
				s.Labels = append(s.Labels, 0)
			}
			s.Labels[smp.Label]++
		}
	}
	if s.Samples > 0 {
		s.Rows = []Run{{0, int64(s.Samples)}}
	}
	if s.Bytes, s.SHA256, err = hashFile(path); err != nil {
		return piece{}, err
	}
	m.Shards = []Shard{s}
	m.Samples, m.Events, m.Unlabelled = s.Samples, s.Events, s.Unlabelled
	m.Labels = append([]int64(nil), s.Labels...)
	return piece{m: m, dir: filepath.Dir(path), name: path}, nil
}

// completeParts checks that the parts are every part of one split exactly once and orders them.
func completeParts(parts []piece) ([]piece, error) {
	n := parts[0].m.Part.Count
	byIndex := make([]*piece, n)
	for i := range parts {
		p := &parts[i]
		if p.m.Part.Count != n {
			return nil, fmt.Errorf("%s is part %s but %s is part %s: the parts come from splits into different numbers of parts (remove the stale ones)",
				p.name, p.m.Part, parts[0].name, parts[0].m.Part)
		}
		if q := byIndex[p.m.Part.Index]; q != nil {
			return nil, fmt.Errorf("part %s is there twice: %s and %s", p.m.Part, q.name, p.name)
		}
		byIndex[p.m.Part.Index] = p
	}
	var missing []int
	out := make([]piece, 0, n)
	for i, p := range byIndex {
		if p == nil {
			missing = append(missing, i)
			continue
		}
		out = append(out, *p)
	}
	if len(missing) > 0 {
		list := make([]string, 0, 12)
		for _, i := range missing[:min(len(missing), 12)] {
			list = append(list, fmt.Sprint(i))
		}
		what := "parts " + strings.Join(list, ", ")
		switch {
		case len(missing) == 1:
			what = "part " + list[0]
		case len(missing) > len(list):
			what = fmt.Sprintf("%d parts (%s, …)", len(missing), strings.Join(list, ", "))
		}
		return nil, fmt.Errorf("%s of %d missing (no %s…): their jobs have not finished, or failed",
			what, n, PartManifestName(Part{Index: missing[0], Count: n}))
	}
	return out, nil
}

// join makes the manifest of the pieces in order, with shard paths relative to out.
func join(out string, pieces []piece) (*Manifest, error) {
	absOut, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	first := pieces[0]
	m := &Manifest{Version: Version, Kind: events.KindDataset, Format: first.m.Format, Classes: first.m.Classes,
		Sensor: first.m.Sensor, Transforms: first.m.Transforms, Extra: first.m.Extra, Partition: first.m.Partition,
		Boxes: first.m.Boxes, BoxClasses: first.m.BoxClasses, Shards: []Shard{}}
	var sources []string
	var offset int64
	for _, p := range pieces {
		pm := p.m
		disagree := func(what string, a, b any) error {
			return fmt.Errorf("%s has %s %v but %s has %v: merged parts must agree", p.name, what, a, first.name, b)
		}
		switch {
		case pm.Format != m.Format:
			return nil, disagree("shard format", pm.Format, m.Format)
		case !slices.Equal(pm.Classes, m.Classes):
			return nil, disagree("classes", pm.Classes, m.Classes)
		case pm.Sensor != m.Sensor:
			return nil, fmt.Errorf("%s has sensor %s but %s has %s: merged parts must agree (give every job the same --sensor)",
				p.name, pm.Sensor, first.name, m.Sensor)
		case pm.Transforms != m.Transforms:
			return nil, disagree("transforms", fmt.Sprintf("%q", pm.Transforms), fmt.Sprintf("%q", m.Transforms))
		case !slices.Equal(pm.Partition, m.Partition):
			return nil, disagree("partitioning", pm.Partition, m.Partition)
		case pm.Boxes != m.Boxes:
			return nil, fmt.Errorf("%s %s but %s %s: merged parts must agree (write every part from inputs with boxes, or every one without)",
				p.name, hasBoxes(pm.Boxes), first.name, hasBoxes(m.Boxes))
		case !slices.Equal(pm.BoxClasses, m.BoxClasses):
			return nil, disagree("box classes", fmt.Sprintf("%q", pm.BoxClasses), fmt.Sprintf("%q", m.BoxClasses))
		}
		if pm.Source != "" && !slices.Contains(sources, pm.Source) {
			sources = append(sources, pm.Source)
		}
		for _, s := range pm.Shards {
			abs, err := filepath.Abs(filepath.Join(p.dir, filepath.FromSlash(s.File)))
			if err != nil {
				return nil, err
			}
			st, err := os.Stat(abs)
			switch {
			case err != nil:
				return nil, fmt.Errorf("%s lists shard %s: %w", p.name, s.File, err)
			case st.Size() != s.Bytes:
				return nil, fmt.Errorf("%s lists shard %s of %d bytes, but the file holds %d (it changed, or its job is rewriting it)",
					p.name, s.File, s.Bytes, st.Size())
			}
			rel, err := filepath.Rel(absOut, abs)
			if err != nil {
				return nil, fmt.Errorf("shard %s cannot be named relative to %s: %w", abs, out, err)
			}
			s.File = filepath.ToSlash(rel)
			rows := make([]Run, len(s.Rows))
			for j, r := range s.Rows {
				rows[j] = Run{r.First() + offset, r.Count()}
			}
			s.Rows = rows
			s.Labels = append([]int64(nil), s.Labels...)
			m.Shards = append(m.Shards, s)
		}
		offset += int64(pm.Samples)
	}
	m.Source = strings.Join(sources, "; ")
	m.total() // each part's manifest was checked against its shards, so Samples is offset
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("merged manifest: %w", err)
	}
	return m, nil
}
