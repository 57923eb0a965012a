package synth

import (
	"context"
	"fmt"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/imagesrc"
	"github.com/evtool/evtool/internal/parallel"
)

// Images is what Generate reads: random access to labelled images, safe for concurrent use
// (imagesrc.Source satisfies it).
type Images interface {
	Len() int
	Load(i int, dst *imagesrc.Image) error
}

// GenerateOptions steer Generate.
type GenerateOptions struct {
	Limit int // synthesise at most this many images (0: all)
	// Start and End, when End > 0, synthesise only images [Start, End) of those (one part of an array
	// job): sample i is still image i's, made with index i, so the parts make the whole run's samples.
	Start, End int
	Workers    int                     // goroutines (0: all cores)
	Progress   func(done, total int64) // called after each sample is emitted (may be nil)
}

// Generate synthesises every image of src (up to Limit) on all cores and hands the samples to emit in
// input order, so the output is byte-identical for any worker count. Sample i's label and id are the
// image's; its events come from Synth.Sample with index i. emit must not keep s after returning.
func Generate(ctx context.Context, src Images, p Params, o GenerateOptions, emit func(s *events.Sample) error) error {
	if err := p.Validate(); err != nil {
		return err
	}
	n := src.Len()
	if o.Limit > 0 {
		n = min(n, o.Limit)
	}
	first := 0
	if o.End > 0 {
		if o.Start < 0 || o.Start > o.End || o.End > n {
			return fmt.Errorf("images %d..%d: the source holds %d", o.Start, o.End, n)
		}
		first, n = o.Start, o.End-o.Start
	}
	type slot struct {
		syn    *Synth
		img    imagesrc.Image
		sample events.Sample
	}
	newSlot := func() *slot {
		s, _ := New(p) // p was validated above
		return &slot{syn: s}
	}
	work := func(i int, sl *slot) error {
		i += first
		if err := src.Load(i, &sl.img); err != nil {
			return err
		}
		sl.sample.Label, sl.sample.ID = sl.img.Label, sl.img.ID
		if err := sl.syn.Sample(sl.img.Gray, uint64(i), &sl.sample.Events); err != nil {
			return fmt.Errorf("image %d (%s): %w", i, sl.img.ID, err)
		}
		return nil
	}
	var done int64
	out := func(i int, sl *slot) error {
		if err := emit(&sl.sample); err != nil {
			return err
		}
		done++
		if o.Progress != nil {
			o.Progress(done, int64(n))
		}
		return nil
	}
	return parallel.Ordered(ctx, n, o.Workers, newSlot, work, out)
}
