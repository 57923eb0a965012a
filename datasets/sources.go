package datasets

import (
	"context"
	"encoding/csv"
	"fmt"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/atomicfile"
	"github.com/evtool/evtool/internal/parallel"
	"github.com/evtool/evtool/transforms"
)

// Source serves a dataset whose samples are not one file each in class folders: samples that are
// elements of HDF5 arrays (SHD), datasets of one HDF5 group (N-TIDIGITS), recordings listed by split
// files (ThreeET, DSEC).
type Source interface {
	// Plan lists the samples of a split of the download under from.
	Plan(def *Definition, from, split string, o SourceOptions) (*Plan, error)
}

// SourceOptions steer how a Source cuts its samples.
type SourceOptions struct {
	// Window cuts unlabelled recordings (DSEC) into samples of this many µs; 0: the dataset's default.
	Window int64
}

// Plan is a split's samples, ready to decode.
type Plan struct {
	N       int
	Classes []string        // nil: the definition's
	Sensor  events.Geometry // zero: the definition's
	Source  string          // what was read, for evtool.source
	// Open returns a decoder for one goroutine; samples are decoded in any order.
	Open func() (Decoder, error)
	// Annotations describes the per-sample annotations decoders return (ThreeET's gaze, EBSSA's
	// objects): they are written beside the output as a CSV file; nil when there are none.
	Annotations *Annotations
}

// Annotations is a CSV file written beside a prepared dataset: OUT without its extension + Suffix, with
// the columns sample (row in the dataset) and id, then Columns.
type Annotations struct {
	Suffix  string
	Columns []string
	Doc     string
}

// Decoder reads samples of a plan.
type Decoder interface {
	// ReadSample decodes sample i into dst (and returns its annotation rows, when the plan has any).
	ReadSample(i int, dst *events.Sample) ([][]string, error)
	Close() error
}

// AnnotationsPath is where Prepare writes a dataset's annotations for output out.
func AnnotationsPath(out string, a *Annotations) string {
	return strings.TrimSuffix(out, filepath.Ext(out)) + a.Suffix
}

func withParams(base, over map[string]string) map[string]string {
	if len(base) == 0 {
		return over
	}
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

func excluded(def *Definition, name string) bool {
	for _, pat := range def.Exclude {
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
	}
	return false
}

func planFor(def *Definition, from, split string, o SourceOptions) (*Plan, error) {
	if split == "" {
		split = "all"
	}
	p, err := def.Source.Plan(def, from, split, o)
	if err != nil {
		return nil, err
	}
	if p.Classes == nil {
		p.Classes = def.Classes
	}
	if !p.Sensor.Known() {
		p.Sensor = def.Sensor
	}
	return p, nil
}

// sourceSlot is one sample in flight.
type sourceSlot struct {
	sample events.Sample
	notes  [][]string
}

// decoderPool lends one decoder to each working goroutine (a decoder holds an open file and its caches).
type decoderPool struct {
	open func() (Decoder, error)
	free chan Decoder
	all  []Decoder
	mu   sync.Mutex
}

func (p *decoderPool) decode(i int, s *sourceSlot) error {
	var d Decoder
	select {
	case d = <-p.free:
	default:
		var err error
		if d, err = p.open(); err != nil {
			return err
		}
		p.mu.Lock()
		p.all = append(p.all, d)
		p.mu.Unlock()
	}
	defer func() { p.free <- d }()
	notes, err := d.ReadSample(i, &s.sample)
	s.notes = notes
	return err
}

func (p *decoderPool) close() {
	for _, d := range p.all {
		d.Close()
	}
}

// prepareSource writes a Source dataset's split, decoding on all cores in sample order.
func prepareSource(ctx context.Context, def *Definition, from, out string, o PrepareOptions) (*convert.Result, error) {
	plan, err := planFor(def, from, o.Split, SourceOptions{Window: o.Window})
	if err != nil {
		return nil, err
	}
	if plan.N == 0 {
		return nil, fmt.Errorf("%s: the %s split of %s holds no samples", from, o.Split, def.Name)
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pool := &decoderPool{open: plan.Open, free: make(chan Decoder, workers)}
	defer pool.close()
	newSlot := func() *sourceSlot { return &sourceSlot{} }
	decode := pool.decode
	g := plan.Sensor
	if !g.Known() {
		// No fixed sensor (EBSSA mixes two cameras): the canvas is the extent over the whole split.
		st := events.NewStats(events.Geometry{}, false)
		err := parallel.Ordered(ctx, plan.N, workers, newSlot, decode,
			func(i int, s *sourceSlot) error { st.Add(&s.sample.Events); return nil })
		if err != nil {
			return nil, err
		}
		g = st.Extent()
	}
	w, outFmt, outG, err := createDataset(out, g, plan.Classes, fmt.Sprintf("%s (%s split) from %s", def.Name, o.Split, plan.Source), o.Format, o)
	if err != nil {
		return nil, err
	}
	var notes *atomicfile.File
	var cw *csv.Writer
	if plan.Annotations != nil {
		if notes, err = atomicfile.Create(AnnotationsPath(out, plan.Annotations)); err != nil {
			w.Abort()
			return nil, err
		}
		cw = csv.NewWriter(notes)
		cw.Write(append([]string{"sample", "id"}, plan.Annotations.Columns...))
	}
	fail := func(err error) (*convert.Result, error) {
		w.Abort()
		if notes != nil {
			notes.Abort()
		}
		return nil, err
	}
	res := &convert.Result{Output: out, Format: outFmt, Kind: events.KindDataset, Geometry: outG}
	err = parallel.Ordered(ctx, plan.N, workers, newSlot,
		func(i int, s *sourceSlot) error {
			if err := decode(i, s); err != nil {
				return err
			}
			if err := s.sample.Events.Validate(g); err != nil {
				return fmt.Errorf("%s sample %s: %w", def.Name, s.sample.ID, err)
			}
			return convert.ApplyChain(o.Chain, &s.sample, g, o.Seed)
		},
		func(i int, s *sourceSlot) error {
			if err := w.WriteSample(&s.sample); err != nil {
				return err
			}
			if cw != nil {
				row := fmt.Sprint(res.Samples)
				for _, n := range s.notes {
					if err := cw.Write(append([]string{row, s.sample.ID}, n...)); err != nil {
						return err
					}
				}
			}
			res.Samples++
			res.Events += int64(s.sample.Events.Len())
			if o.Progress != nil {
				o.Progress(int64(res.Samples), int64(plan.N))
			}
			return nil
		})
	if err != nil {
		return fail(err)
	}
	if cw != nil {
		if cw.Flush(); cw.Error() != nil {
			return fail(cw.Error())
		}
	}
	if err := w.Close(); err != nil {
		if notes != nil {
			notes.Abort()
		}
		return nil, err
	}
	if notes != nil {
		if err := notes.Commit(); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// createDataset opens the dataset writer of a preparation: the output format from out's extension, the
// sensor as the transform chain leaves it. It returns the writer, the format's name and that sensor.
func createDataset(out string, g events.Geometry, classes []string, source string, fo formats.Options, o PrepareOptions) (events.SampleWriter, string, events.Geometry, error) {
	outFmt, err := formats.OutputFormat(out, "")
	if err != nil {
		return nil, "", g, err
	}
	meta := events.Meta{Format: outFmt.Name, Kind: events.KindDataset, Geometry: g, Classes: classes, Source: source}
	if o.Chain != nil {
		st, err := o.Chain.NewStream(transforms.Shape{Geometry: g, Polarities: 2}, o.Seed, "")
		if err != nil {
			return nil, "", g, err
		}
		meta.Geometry = st.Shape().Geometry
		meta.Transforms = o.Chain.String()
	}
	sink, err := outFmt.Create(out, meta, fo)
	if err != nil {
		return nil, "", g, err
	}
	w, ok := sink.(events.SampleWriter)
	if !ok {
		sink.Abort()
		return nil, "", g, fmt.Errorf("format %s cannot write a dataset", outFmt.Name)
	}
	return w, outFmt.Name, meta.Geometry, nil
}

// noSplit is the error for a split a dataset does not have.
func noSplit(def *Definition, split string) error {
	return fmt.Errorf("%s has no split %q (splits: %s)", def.Name, split, strings.Join(def.SplitNames(), ", "))
}

// sourceReader serves a Source dataset's split as an events.SampleReader.
type sourceReader struct {
	plan *Plan
	dec  Decoder
	meta events.Meta
}

func openSource(def *Definition, from, split string) (events.SampleReader, error) {
	plan, err := planFor(def, from, split, SourceOptions{})
	if err != nil {
		return nil, err
	}
	dec, err := plan.Open()
	if err != nil {
		return nil, err
	}
	return &sourceReader{plan: plan, dec: dec, meta: events.Meta{Format: def.Name, Kind: events.KindDataset,
		Geometry: plan.Sensor, Classes: plan.Classes, Source: plan.Source}}, nil
}

func (r *sourceReader) NumSamples() int   { return r.plan.N }
func (r *sourceReader) Meta() events.Meta { return r.meta }
func (r *sourceReader) Close() error      { return r.dec.Close() }
func (r *sourceReader) ReadSample(i int, dst *events.Sample) error {
	if i < 0 || i >= r.plan.N {
		return fmt.Errorf("sample %d does not exist (%d samples)", i, r.plan.N)
	}
	_, err := r.dec.ReadSample(i, dst)
	return err
}
