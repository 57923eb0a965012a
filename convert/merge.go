package convert

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/sources"
)

// mergedDatasets reads several dataset files as one: sample indices run through the files in the order
// given, ids become "<file name>/<id>" so they stay unique, and labels are remapped onto the union of
// the class names (first-seen order). The files must share a sensor size.
type mergedDatasets struct {
	readers []events.SampleReader
	names   []string
	starts  []int     // first merged index of each reader
	remap   [][]int32 // per reader: its label → the merged label
	total   int
	meta    events.Meta
}

// openMerged opens the plan's items as datasets; ok is false when the first item is not a dataset file
// (then the items are samples, as usual).
func openMerged(plan *sources.Plan, o formats.Options) (m *mergedDatasets, ok bool, err error) {
	m = &mergedDatasets{}
	for i, it := range plan.Items {
		src, err := it.Format.Open(it.Path, o)
		if err != nil {
			m.Close()
			return nil, true, err
		}
		r := src.Samples
		if r == nil {
			src.Close()
			if i == 0 {
				return nil, false, nil
			}
			m.Close()
			return nil, true, fmt.Errorf("%s is a recording but %s is a dataset: merge datasets only, or list recordings only", it.Path, plan.Items[0].Path)
		}
		meta := r.Meta()
		if i == 0 {
			m.meta = events.Meta{Kind: events.KindDataset, Geometry: meta.Geometry, Transforms: meta.Transforms,
				Source: "merged:"}
		} else if meta.Geometry != m.meta.Geometry {
			m.Close()
			return nil, true, fmt.Errorf("%s (sensor %s) does not match %s (sensor %s): merged datasets must agree",
				it.Path, meta.Geometry, plan.Items[0].Path, m.meta.Geometry)
		} else if meta.Transforms != m.meta.Transforms {
			m.meta.Transforms = "" // the parts went through different chains: record none rather than a wrong one
		}
		if meta.Boxes {
			if m.meta.Boxes && !slices.Equal(meta.BoxClasses, m.meta.BoxClasses) {
				m.Close()
				return nil, true, fmt.Errorf("%s names its box classes %q, another part %q: merged datasets must agree", it.Path, meta.BoxClasses, m.meta.BoxClasses)
			}
			m.meta.Boxes, m.meta.BoxClasses = true, meta.BoxClasses
		}
		if (len(meta.Classes) == 0) != (len(m.meta.Classes) == 0) && i > 0 {
			m.Close()
			return nil, true, fmt.Errorf("%s and %s: one names its classes and the other does not", it.Path, plan.Items[0].Path)
		}
		remap := make([]int32, len(meta.Classes))
		for c, name := range meta.Classes {
			k := slices.Index(m.meta.Classes, name)
			if k < 0 {
				k = len(m.meta.Classes)
				m.meta.Classes = append(m.meta.Classes, name)
			}
			remap[c] = int32(k)
		}
		m.remap = append(m.remap, remap)
		m.readers = append(m.readers, r)
		m.names = append(m.names, filepath.Base(it.Path))
		m.meta.Source += " " + it.Path
		m.starts = append(m.starts, m.total)
		m.total += r.NumSamples()
	}
	return m, true, nil
}

func (m *mergedDatasets) NumSamples() int   { return m.total }
func (m *mergedDatasets) Meta() events.Meta { return m.meta }

func (m *mergedDatasets) ReadSample(i int, dst *events.Sample) error {
	if i < 0 || i >= m.total {
		return fmt.Errorf("sample %d of %d", i, m.total)
	}
	k := sort.Search(len(m.starts), func(j int) bool { return m.starts[j] > i }) - 1
	if err := m.readers[k].ReadSample(i-m.starts[k], dst); err != nil {
		return err
	}
	dst.ID = m.names[k] + "/" + dst.ID
	if r := m.remap[k]; dst.Label >= 0 && len(r) > 0 {
		if int(dst.Label) >= len(r) {
			return fmt.Errorf("%s sample %s: label %d outside its %d classes", m.names[k], dst.ID, dst.Label, len(r))
		}
		dst.Label = r[dst.Label]
	}
	return nil
}

func (m *mergedDatasets) Close() error {
	var first error
	for _, r := range m.readers {
		if err := r.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
