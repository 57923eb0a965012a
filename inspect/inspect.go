// Package inspect computes what `evtool info` reports about a file: format, layout, geometry, event
// counts, time range and polarity balance, plus each format's own details; for a tensors file, the tensor
// shape, element type, samples and classes. It streams, so a file of any size is described in constant
// memory.
package inspect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"syscall"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/parallel"
	"github.com/evtool/evtool/tensors"
)

// Report is one file's summary. JSON field names are a contract: scripts read them from `evtool info --json` (docs/cli.md#evtool-info).
type Report struct {
	Path     string      `json:"path"`
	Format   string      `json:"format"`
	Kind     events.Kind `json:"kind"`
	Events   int64       `json:"events"`
	Width    int         `json:"width"`
	Height   int         `json:"height"`
	TFirst   *int64      `json:"t_first"` // null for an empty file
	TLast    *int64      `json:"t_last"`
	On       int64       `json:"on"`
	Off      int64       `json:"off"`
	Samples  *int        `json:"samples,omitempty"`
	Classes  []string    `json:"classes,omitempty"`
	Labels   []int       `json:"label_counts,omitempty"` // samples per class; unlabelled samples are not counted
	XMin     *uint16     `json:"x_min,omitempty"`
	XMax     *uint16     `json:"x_max,omitempty"`
	YMin     *uint16     `json:"y_min,omitempty"`
	YMax     *uint16     `json:"y_max,omitempty"`
	Inferred bool        `json:"geometry_inferred,omitempty"` // the file does not state its sensor size
	// NonMonotonic counts events earlier than their predecessor (0 for a well-formed recording).
	NonMonotonic int64          `json:"non_monotonic"`
	Source       string         `json:"source,omitempty"`
	Transforms   string         `json:"transforms,omitempty"`
	Details      map[string]any `json:"details,omitempty"` // per-format extras
}

// File describes the file at path; from forces the format ("" = detect).
func File(path, from string, o formats.Options) (*Report, error) {
	var in inspector
	return in.file(path, from, o)
}

// Files describes every path on all cores, opening each file once, and calls emit(i, report, err) in
// path order on the calling goroutine: a file that cannot be read gets its error, and the others are
// still described. An error from emit (or ctx) stops it.
func Files(ctx context.Context, paths []string, from string, o formats.Options, emit func(i int, rep *Report, err error) error) error {
	// Workers take runs of consecutive paths, not one path at a time: a small file is described in tens
	// of microseconds, about what handing it to a worker and its report back costs (two goroutine
	// wake-ups). Runs stay short enough that every core gets several, so a few large files still spread.
	run := min(max(len(paths)/(8*runtime.GOMAXPROCS(0)), 1), maxRun)
	type slot struct {
		in   inspector
		reps []*Report
		errs []error
	}
	return parallel.Ordered(ctx, (len(paths)+run-1)/run, 0, func() *slot { return &slot{} },
		func(i int, s *slot) error {
			s.reps, s.errs = s.reps[:0], s.errs[:0]
			for _, p := range paths[i*run : min((i+1)*run, len(paths))] {
				rep, err := s.in.file(p, from, o)
				s.reps, s.errs = append(s.reps, rep), append(s.errs, err)
			}
			return nil
		},
		func(i int, s *slot) error {
			for j := range s.reps {
				if err := emit(i*run+j, s.reps[j], s.errs[j]); err != nil {
					return err
				}
			}
			return nil
		})
}

// maxRun is the most paths a worker describes per hand-off.
const maxRun = 16

// inspector describes files one after the other, reusing its buffers: a worker describing thousands of
// small files allocates per file only its report.
type inspector struct {
	buf    *events.Batch
	sample events.Sample
}

func (in *inspector) file(path, from string, o formats.Options) (*Report, error) {
	// A folder that is one dataset is read through its index file (the report keeps path). Finding that
	// out costs a stat: done only when the path turns out to be a folder (detection cannot read it), or
	// when a forced format reads nothing to detect.
	name := path
	if from != "" {
		name = formats.Resolve(path)
	}
	fh, f, err := formats.OpenFile(name, from)
	if err != nil && from == "" && errors.Is(err, syscall.EISDIR) {
		if name = formats.Resolve(path); name != path {
			fh, f, err = formats.OpenFile(name, from)
		}
	}
	if err != nil {
		return nil, err
	}
	if t := f.Tensors; t != nil && t.NewReader != nil {
		tr, err := t.NewReader(fh, name, o)
		if err == nil {
			defer tr.Close()
			return tensorFile(path, f, tr)
		}
		if !errors.Is(err, tensors.ErrNotTensors) {
			fh.Close()
			return nil, err
		}
		// A file of the format that holds events (an Arrow recording or dataset, a .npy of events):
		// read it again from its start, on the same open file.
		if _, err := fh.Seek(0, io.SeekStart); err != nil {
			fh.Close()
			return nil, err
		}
	}
	if f.NewReader == nil {
		fh.Close()
		return nil, fmt.Errorf("%s: format %s cannot be read", path, f.Name)
	}
	src, err := f.NewReader(fh, name, o)
	if err != nil {
		fh.Close()
		return nil, err
	}
	defer src.Close()
	rep := &Report{Path: path, Format: f.Name}
	st := events.NewStats(events.Geometry{}, false)
	switch {
	case src.Samples != nil:
		s := src.Samples
		rep.Kind = events.KindDataset
		n := s.NumSamples()
		rep.Samples = &n
		meta := s.Meta()
		rep.Classes = meta.Classes
		if len(meta.Classes) > 0 {
			rep.Labels = make([]int, len(meta.Classes))
		}
		sample := &in.sample
		one := events.NewStats(events.Geometry{}, false)
		for i := 0; i < n; i++ {
			if err := s.ReadSample(i, sample); err != nil {
				return nil, err
			}
			if l := sample.Label; l >= 0 && int(l) < len(rep.Labels) {
				rep.Labels[l]++
			}
			one.Reset()
			one.Add(&sample.Events)
			addSample(st, one)
		}
		fill(rep, meta, st, f)
	default:
		s := src.Events
		rep.Kind = events.KindRecording
		if in.buf == nil {
			in.buf = events.NewBatch(1 << 16)
		}
		for {
			err := s.Read(in.buf)
			st.Add(in.buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
		}
		fill(rep, s.Meta(), st, f)
	}
	return rep, nil
}

// addSample folds one sample's stats into a dataset's: samples are independent streams, so a later
// sample starting earlier is not a monotonicity fault, and the time range spans all samples.
func addSample(all, one *events.Stats) {
	if one.Count == 0 {
		return
	}
	if all.Count == 0 {
		all.TFirst, all.TLast = one.TMin, one.TMax
	}
	all.TFirst, all.TLast = min(all.TFirst, one.TMin), max(all.TLast, one.TMax)
	all.Count += one.Count
	all.On += one.On
	all.Off += one.Off
	all.NonMonotonic += one.NonMonotonic
	all.TMin, all.TMax = min(all.TMin, one.TMin), max(all.TMax, one.TMax)
	all.XMin, all.XMax = min(all.XMin, one.XMin), max(all.XMax, one.XMax)
	all.YMin, all.YMax = min(all.YMin, one.YMin), max(all.YMax, one.YMax)
}

func fill(rep *Report, meta events.Meta, st *events.Stats, f *formats.Format) {
	rep.Events, rep.On, rep.Off, rep.NonMonotonic = st.Count, st.On, st.Off, st.NonMonotonic
	rep.Source, rep.Transforms, rep.Details = meta.Source, meta.Transforms, meta.Extra
	if rep.Source == rep.Path {
		rep.Source = ""
	}
	if st.Count > 0 {
		tf, tl := st.TFirst, st.TLast
		rep.TFirst, rep.TLast = &tf, &tl
		xmin, xmax, ymin, ymax := st.XMin, st.XMax, st.YMin, st.YMax
		rep.XMin, rep.XMax, rep.YMin, rep.YMax = &xmin, &xmax, &ymin, &ymax
	}
	g := meta.Geometry
	if !g.Known() {
		g = st.Extent()
		if f.InferGeometry != nil {
			g = f.InferGeometry(g)
		}
		rep.Inferred = true
	}
	rep.Width, rep.Height = g.Width, g.Height
}

// tensorFile describes a tensors file (a transform chain's output): samples, labels, tensor shape and
// element type. It reads every tensor, so a damaged file is reported rather than described.
func tensorFile(path string, f *formats.Format, r tensors.Reader) (*Report, error) {
	meta := r.Meta()
	spec := r.Spec()
	n := r.NumSamples()
	rep := &Report{Path: path, Format: f.Name, Kind: events.KindTensors, Samples: &n, Classes: meta.Classes,
		Width: meta.Geometry.Width, Height: meta.Geometry.Height, Source: meta.Source, Transforms: meta.Transforms,
		Details: map[string]any{"tensor_shape": spec.Shape, "tensor_dtype": cmp.Or(spec.Stored, spec.DType)}}
	for k, v := range meta.Extra {
		rep.Details[k] = v
	}
	if len(meta.Classes) > 0 {
		rep.Labels = make([]int, len(meta.Classes))
	}
	var s tensors.Sample
	for i := 0; i < n; i++ {
		if err := r.ReadSample(i, &s); err != nil {
			return nil, err
		}
		if s.Label >= 0 && int(s.Label) < len(rep.Labels) {
			rep.Labels[s.Label]++
		}
	}
	return rep, nil
}
