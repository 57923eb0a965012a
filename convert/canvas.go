package convert

import (
	"context"
	"errors"
	"fmt"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/sources"
)

// A dataset's canvas — the one sensor size all its samples lie on — must be known before its first
// sample is written: the output's header records it, and transforms work on it. It comes from --sensor,
// from the input's own record, or from the sensor the sample files' headers share (the first file's,
// each other file's checked as the run reads it). Files without a header (N-MNIST's
// .bin) used to be read twice, once for the extent of all events and once to convert them. Now the
// canvas is inferred from the first file alone, with the format's dataset knowledge ("fits 34×34:
// N-MNIST"), and the conversion checks the guess as it goes: every sample must lie on it, and the
// extent of all samples must lead to the same canvas. Only when it does not (N-Caltech101's samples
// differ in size) is the conversion run again on the canvas found by a pass over every sample, as
// before — same output either way, one read of each file when the knowledge holds.

// errWrongGuess stops a conversion whose guessed canvas the samples do not confirm.
var errWrongGuess = errors.New("the sensor size inferred from the first sample does not hold every sample")

// canvas is what a dataset conversion knows of its sensor when it starts.
type canvas struct {
	g events.Geometry
	// guess: g was inferred from the first sample's extent, and the run checks it (seen, check).
	guess  bool
	format *formats.Format // whose dataset knowledge made the guess
	extent events.Geometry // of the samples seen so far, when guessing
	// first is unit 0, read to find the canvas and handed to the run (nil once taken, or when unread).
	first *unit
	// stated is the file whose header stated g: every other file's header must state the same sensor.
	stated *sources.Item
}

// canvas finds the sensor the samples lie on: --sensor, the source's own, the one the sample files'
// headers share, or a guess from the first file.
func (d datasetSource) canvas(ctx context.Context, meta events.Meta, o Options) (canvas, error) {
	switch {
	case o.Format.Sensor.Known():
		return canvas{g: o.Format.Sensor}, nil
	case meta.Geometry.Known():
		return canvas{g: meta.Geometry}, nil
	}
	files := d.files()
	if len(files) == 0 {
		g, err := datasetGeometry(ctx, d, o.Workers)
		return canvas{g: g}, err
	}
	// Files whose headers state a sensor must all state the same one, in one format: the first file's
	// header gives the canvas, and the run checks every other file's as it reads it (no second opening).
	if err := sources.OneFormat(files); err != nil {
		return canvas{}, err
	}
	first := &unit{samples: make([]events.Sample, 1)}
	s := &first.samples[0]
	s.ID, s.Label = files[0].ID, files[0].Label
	m, err := sources.ReadFileMeta(files[0].Path, files[0].Format, d.opts, &s.Events)
	if err != nil {
		return canvas{}, err
	}
	if m.Geometry.Known() {
		return canvas{g: m.Geometry, first: first, stated: &files[0]}, nil
	}
	st := events.NewStats(events.Geometry{}, false)
	st.Add(&s.Events)
	return canvas{g: sources.Infer(files[0].Format, st.Extent()), guess: true, format: files[0].Format, first: first}, nil
}

// seen adds the extent of a unit's samples (prepare gathered it) to the run's.
func (c *canvas) seen(u *unit) {
	if c.guess {
		e := u.extent
		c.extent = events.Geometry{Width: max(c.extent.Width, e.Width), Height: max(c.extent.Height, e.Height)}
	}
}

// place checks that a sample lies on the canvas (on a guessed one: errWrongGuess where it lies beyond
// it, so that the run starts again on the true one) and adds its extent to ext.
func (c *canvas) place(s *events.Sample, ext *events.Geometry) error {
	e, err := s.Events.ValidateExtent(c.g)
	if err != nil {
		if c.guess && s.Events.Validate(events.Geometry{}) == nil {
			return errWrongGuess // an event beyond the guessed canvas: the true one is larger
		}
		return fmt.Errorf("sample %s: %w", s.ID, err)
	}
	*ext = events.Geometry{Width: max(ext.Width, e.Width), Height: max(ext.Height, e.Height)}
	return nil
}

// check confirms a guessed canvas once every sample is seen: the extent of all of them must lead to it.
func (c *canvas) check() error {
	if c.guess && sources.Infer(c.format, c.extent) != c.g {
		return errWrongGuess
	}
	return nil
}

// onCanvas runs a dataset conversion on its canvas; when the canvas was a guess the samples did not
// confirm, it finds the true one with a pass over every sample and runs again (from scratch: the first
// run's output was removed, and the chain's counts start over).
func onCanvas(ctx context.Context, src datasetSource, meta events.Meta, o Options, run func(c *canvas) (*Result, error)) (*Result, error) {
	c, err := src.canvas(ctx, meta, o)
	if err != nil {
		return nil, err
	}
	res, err := run(&c)
	if !errors.Is(err, errWrongGuess) {
		return res, err
	}
	if o.Chain != nil && o.Chain.Tally != nil {
		o.Chain.NewTally()
	}
	g, err := datasetGeometry(ctx, src, o.Workers)
	if err != nil {
		return nil, err
	}
	return run(&canvas{g: g})
}
