package convert

import (
	"context"
	"fmt"
	"slices"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/parallel"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/tensors"
	"github.com/evtool/evtool/transforms"
)

// datasetSource yields the samples of a dataset in units that workers decode concurrently: a file of a
// plan, a group of a plan's Groups (several samples cut from one recording), or a sample of an open
// dataset reader, which is decoded one unit at a time. With Options.Part it yields that part's units only.
type datasetSource struct {
	plan     *sources.Plan
	opts     formats.Options
	reader   events.SampleReader
	first, n int  // the units converted: [first, first+n)
	whole    bool // all of the units
}

// newDatasetSource makes the source of a plan's files or groups (r nil), or of an open dataset.
func newDatasetSource(plan *sources.Plan, r events.SampleReader, o Options) datasetSource {
	d := datasetSource{plan: plan, opts: o.Format, reader: r, whole: o.Part.Whole()}
	var all int
	switch {
	case r != nil:
		all = r.NumSamples()
	case plan.Groups != nil:
		all = plan.Groups.Len()
	default:
		all = len(plan.Items)
	}
	lo, hi := o.Part.Range(all)
	d.first, d.n = lo, hi-lo
	return d
}

// unit is a worker's slot: one unit's samples and, for a chain ending in a representation, their tensors.
type unit struct {
	samples []events.Sample
	tensors []tensors.Sample
	// extent is the samples' extent, gathered when the canvas is a guess that the run checks.
	extent events.Geometry
	// buf holds the samples' events one after the other when the source decodes into one buffer
	// (sources.GroupsIn; inBuf is then set): a writer may take them from there without copying.
	buf   events.Batch
	inBuf bool
}

func (d datasetSource) groups() sources.Groups {
	if d.reader == nil {
		return d.plan.Groups
	}
	return nil
}

func (d datasetSource) units() int { return d.n }

// samples is the number of samples in all units (0 when unknown: a part of a plan's groups).
func (d datasetSource) samples() int {
	if g := d.groups(); g != nil {
		if !d.whole {
			return 0
		}
		return g.Samples()
	}
	return d.units()
}

// workers is how many units may be decoded at once: one open reader decodes sequentially (Arrow reads
// are cheap).
func (d datasetSource) workers(n int) int {
	if d.reader != nil {
		return 1
	}
	return n
}

// files are the plan's sample files, or nil when the samples come from elsewhere.
func (d datasetSource) files() []sources.Item {
	if d.reader != nil || d.plan.Groups != nil {
		return nil
	}
	return d.plan.Items[d.first : d.first+d.n]
}

// read decodes unit i into dst, reusing its samples, and returns the unit's samples. When sensor is not
// nil, the unit is a file, and sensor receives what its header states.
func (d datasetSource) read(i int, dst []events.Sample, sensor *events.Geometry) ([]events.Sample, error) {
	i += d.first
	if g := d.groups(); g != nil {
		return g.Read(i, dst)
	}
	if cap(dst) == 0 {
		dst = make([]events.Sample, 1)
	}
	dst = dst[:1]
	s := &dst[0]
	if d.reader != nil {
		return dst, d.reader.ReadSample(i, s)
	}
	it := d.plan.Items[i]
	s.Reset()
	s.ID, s.Label = it.ID, it.Label
	if sensor != nil {
		m, err := sources.ReadFileMeta(it.Path, it.Format, d.opts, &s.Events)
		*sensor = m.Geometry
		return dst, err
	}
	return dst, sources.ReadFile(it.Path, it.Format, d.opts, &s.Events)
}

// prepare reads unit i into u and readies its samples for the output: each must lie on the canvas, goes
// through the chain's filters and, when rep is set, becomes a tensor.
func (d datasetSource) prepare(i int, u *unit, c *canvas, o Options, rep transforms.Representation) error {
	// inBuf: decoded into u.buf, every sample checked against the canvas as it was decoded.
	u.extent, u.inBuf = events.Geometry{}, false
	if i == 0 && c.first != nil {
		u.samples, c.first.samples = c.first.samples, u.samples // read already, to find the canvas
		c.first = nil
	} else {
		var stated events.Geometry
		var sensor *events.Geometry
		if c.stated != nil {
			sensor = &stated
		}
		var err error
		// Only without a chain: a transform may swap a sample's events with its own scratch buffers,
		// which must not lie in a buffer the next unit is decoded into. Each sample is checked as soon
		// as it is decoded, while its events are in the cache.
		if gi, ok := d.groups().(sources.GroupsIn); ok && o.Chain == nil {
			u.samples, err = gi.ReadIn(d.first+i, u.samples, &u.buf, func(s *events.Sample) error { return c.place(s, &u.extent) })
			u.inBuf = true
		} else {
			u.samples, err = d.read(i, u.samples, sensor)
		}
		if err != nil {
			return err
		}
		if sensor != nil && stated != c.g {
			return sources.SensorMismatch(*c.stated, c.g, d.plan.Items[d.first+i], stated)
		}
	}
	if rep != nil {
		u.tensors = slices.Grow(u.tensors[:0], len(u.samples))[:len(u.samples)]
	}
	g := c.g
	for j := range u.samples {
		smp := &u.samples[j]
		if !u.inBuf {
			if err := c.place(smp, &u.extent); err != nil {
				return err
			}
		}
		if o.Chain == nil {
			continue
		}
		sh, err := o.Chain.ApplySample(smp, shapeOf(g), o.Seed)
		if err != nil {
			return err
		}
		if rep != nil {
			if err := computeTensor(rep, smp, sh, &u.tensors[j]); err != nil {
				return fmt.Errorf("sample %s: %w", smp.ID, err)
			}
		}
	}
	return nil
}

func convertDataset(ctx context.Context, src datasetSource, meta events.Meta, input, output string,
	outFmt *formats.Format, o Options) (*Result, error) {
	if !outFmt.DatasetCreate {
		return nil, fmt.Errorf("format %s holds one recording, not a dataset; write the dataset to .arrow or .parquet (or as nmnist, a folder of .bin files)", outFmt.Name)
	}
	return onCanvas(ctx, src, meta, o, func(c *canvas) (*Result, error) {
		return datasetOnCanvas(ctx, src, meta, input, output, outFmt, o, c)
	})
}

func datasetOnCanvas(ctx context.Context, src datasetSource, meta events.Meta, input, output string,
	outFmt *formats.Format, o Options, c *canvas) (*Result, error) {
	n := src.samples()
	outG := c.g
	if o.Chain != nil {
		st, err := o.Chain.NewStream(shapeOf(c.g), o.Seed, "")
		if err != nil {
			return nil, err
		}
		outG = st.Shape().Geometry
	}
	out := events.Meta{Format: outFmt.Name, Kind: events.KindDataset, Geometry: outG, Classes: meta.Classes,
		Source: datasetSourceText(src, meta, input, o), Transforms: joinTransforms(meta.Transforms, chainText(o.Chain))}
	if err := outFmt.CarryBoxes(&out, meta, o.Format); err != nil {
		return nil, err
	}
	sink, err := outFmt.Create(output, out, o.Format)
	if err != nil {
		return nil, err
	}
	w := sink.Samples
	if w == nil {
		sink.Abort()
		return nil, fmt.Errorf("format %s cannot write a dataset", outFmt.Name)
	}
	res := &Result{Output: output, Format: outFmt.Name, Kind: events.KindDataset, Geometry: outG}
	// A writer that can keep a unit's samples where they were decoded writes them without copying: the
	// unit's slot is reused only once the writer lets go of them.
	inWriter, _ := w.(interface {
		WriteSampleIn(*events.Sample, *events.Batch, *events.Hold) error
	})
	err = parallel.OrderedKeep(ctx, src.units(), src.workers(o.Workers), func() *unit { return &unit{} },
		func(i int, u *unit) error { return src.prepare(i, u, c, o, nil) },
		func(i int, u *unit, release func()) error {
			c.seen(u)
			var hold *events.Hold
			if inWriter != nil && u.inBuf {
				hold = events.NewHold(release)
				defer hold.Drop()
			} else {
				defer release()
			}
			for j := range u.samples {
				smp := &u.samples[j]
				var err error
				if hold != nil {
					err = inWriter.WriteSampleIn(smp, &u.buf, hold)
				} else {
					err = w.WriteSample(smp)
				}
				if err != nil {
					return err
				}
				res.Samples++
				res.Events += int64(smp.Events.Len())
				if o.Progress != nil {
					o.Progress(int64(res.Samples), int64(n))
				}
			}
			return nil
		})
	if err == nil {
		err = c.check()
	}
	return finish(w, err, res)
}

// output is a writer of any kind: events, samples or tensors.
type output interface {
	Close() error
	Abort()
}

// finish closes the output after a run that succeeded, or removes it after one that failed (w is nil when
// the run failed before creating it).
func finish(w output, err error, res *Result) (*Result, error) {
	if err != nil {
		if w != nil {
			w.Abort()
		}
		return nil, err
	}
	if w == nil {
		return nil, fmt.Errorf("no samples to convert")
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return res, nil
}

// datasetSourceText is what a dataset output records as evtool.source: --source, else the folder the
// sample files came from, else the input's own record, else the input.
func datasetSourceText(src datasetSource, meta events.Meta, input string, o Options) string {
	switch {
	case o.Source != "":
		return o.Source
	case len(src.files()) > 0:
		return sourceRoot(src.plan)
	case src.reader == nil || meta.Source == "":
		return input
	}
	return meta.Source
}

// datasetGeometry finds the canvas of a dataset: the sensor its files' headers share when the format has
// headers (sources.CommonSensor refuses mixed formats and sizes), else the extent over all samples passed
// through the format's dataset knowledge (InferGeometry).
func datasetGeometry(ctx context.Context, src datasetSource, workers int) (events.Geometry, error) {
	files := src.files()
	if g, err := sources.CommonSensor(files, src.opts); err != nil || g.Known() {
		return g, err
	}
	total := events.NewStats(events.Geometry{}, false)
	err := parallel.Ordered(ctx, src.units(), src.workers(workers), func() *unit { return &unit{} },
		func(i int, u *unit) (err error) { u.samples, err = src.read(i, u.samples, nil); return err },
		func(i int, u *unit) error {
			for j := range u.samples {
				total.Add(&u.samples[j].Events)
			}
			return nil
		})
	if err != nil {
		return events.Geometry{}, err
	}
	ext := total.Extent()
	if len(files) > 0 {
		return sources.Infer(files[0].Format, ext), nil
	}
	return ext, nil
}
