// Package transforms is evtool's transform chain: streaming event filters (denoise, refractory, crop,
// flips, downsampling, time operations, decimation, seeded augmentations) and event→tensor
// representations (frames, voxel grids). The exact rule of each transform is in
// docs/transforms-semantics.md; its registered help text, which `evtool transforms` prints and
// docs/transforms.md lists, says it in short.
//
// The files follow the concepts: noise.go (denoise, fast decay, refractory, hot pixels, arbiter lines),
// spatial.go and mask.go (crop, flips, downsampling, pixel masks), temporal.go (time crop, align, offset,
// scale, reversal), polarity.go, drop.go (seeded and counting drops), augment.go (jitter, added noise;
// normal.go samples its Gaussians), and the representations in frames.go (and frames_compat.go),
// timebins.go (the one time binning, shared with package snn) and represent.go. Each type registers its
// Def beside itself; modes are decided when a stage is built, never per event.
//
// A Chain is a list of filters, optionally followed by one representation. It has one text form,
// `name(key=value, …)` per transform (several joined with `|`), which Parse reads and String writes back;
// that text is what output files record as evtool.transforms.
//
// Filters stream: they consume time-ordered batches, keep per-pixel state across batch boundaries, are
// cleared by Reset between samples, and hand back events they held (a whole-sample stage, say) at Flush.
// Applying a filter to a stream split at any batch boundaries gives exactly the result of applying it to
// the whole sample.
package transforms

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/evtool/evtool/events"
)

// Shape is what a stage knows of its input: the sensor size and the number of polarity channels
// (2, or 1 after polarity merging).
type Shape struct {
	Geometry   events.Geometry
	Polarities int
}

// Filter is a streaming event→event stage.
type Filter interface {
	// Reset starts a new sample or stream of the given input shape, with this sample's PRNG (seeded from
	// the global seed, the sample id and the stage index), and returns the output shape.
	Reset(in Shape, rng *rand.Rand) (Shape, error)
	// Process appends the events of in that pass (possibly changed) to out. in is time-ordered.
	Process(in *events.Batch, out *events.Batch) error
	// Flush appends whatever the filter still holds at the end of the stream.
	Flush(out *events.Batch) error
}

// Stats counts a stage's events (dv-processing's in/out/reduction), and for hot-pixel stages the hot
// pixels found (per sample, or per window in relative mode).
type Stats struct {
	In, Out int64
	Hot     int64
}

// hotCounter is implemented by the hot-pixel filters.
type hotCounter interface{ hotPixels() int }

// Reduction is 1 − out/in (0 for no input).
func (s Stats) Reduction() float64 {
	if s.In == 0 {
		return 0
	}
	return 1 - float64(s.Out)/float64(s.In)
}

// SampleRNG returns the PRNG of one stage for one sample: hash(seed, sample id, stage index), so results
// do not depend on worker counts or batch sizes.
func SampleRNG(seed uint64, sampleID string, stage int) *rand.Rand {
	return rand.New(sampleSource(seed, sampleID, stage))
}

// sampleSource is SampleRNG's source.
func sampleSource(seed uint64, sampleID string, stage int) *rand.PCG {
	h := fnv.New64a()
	h.Write([]byte(sampleID))
	return rand.NewPCG(seed^0x9e3779b97f4a7c15, h.Sum64()+uint64(stage)*0xbf58476d1ce4e5b9)
}

// sourced is a filter that draws from its generator's PCG source directly (a call through rand.Rand's
// Source interface per draw costs more than the work). The stream gives it the source of the generator
// it then passes to Reset, so the draws are the same.
type sourced interface {
	useSource(src *rand.PCG)
}

// stage is one filter of a running chain.
type stage struct {
	f      Filter
	name   string
	stats  Stats
	lastT  int64
	seen   bool
	buf    events.Batch
	outBuf events.Batch
}

// Stream runs a chain's filters over one sample or recording.
type Stream struct {
	stages []*stage
	out    Shape
}

// Shape is the output shape of the filters.
func (s *Stream) Shape() Shape { return s.out }

// Stats reports each stage's counts, in order.
func (s *Stream) Stats() []Stats {
	out := make([]Stats, len(s.stages))
	for i, st := range s.stages {
		out[i] = st.stats
		if h, ok := st.f.(hotCounter); ok {
			out[i].Hot = int64(h.hotPixels())
		}
	}
	return out
}

// Process runs a batch through every filter and appends the result to out.
func (s *Stream) Process(in *events.Batch, out *events.Batch) error {
	cur := in
	for k, st := range s.stages {
		// Only the chain's input is checked: every filter emits time-ordered events (those that move
		// events in time re-sort), so later stages would only repeat the pass.
		if n := cur.Len(); n > 0 && k == 0 {
			if st.seen && cur.T[0] < st.lastT {
				return fmt.Errorf("%s: batch starts at %d µs, before the last event processed (%d µs); events must be in time order (start a new sample to go back)",
					st.name, cur.T[0], st.lastT)
			}
			if i := cur.CheckMonotonic(); i >= 0 {
				return fmt.Errorf("%s: event %d goes back in time (%d after %d µs)", st.name, i, cur.T[i], cur.T[i-1])
			}
			st.seen, st.lastT = true, cur.T[n-1]
		}
		st.stats.In += int64(cur.Len())
		st.outBuf.Reset()
		if err := st.f.Process(cur, &st.outBuf); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		st.stats.Out += int64(st.outBuf.Len())
		cur = &st.outBuf
	}
	out.AppendBatch(cur)
	return nil
}

// Flush ends the stream: each stage's held events pass through the stages after it.
func (s *Stream) Flush(out *events.Batch) error {
	for i, st := range s.stages {
		st.buf.Reset()
		if err := st.f.Flush(&st.buf); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		st.stats.Out += int64(st.buf.Len())
		cur := &st.buf
		for _, next := range s.stages[i+1:] {
			next.stats.In += int64(cur.Len())
			next.outBuf.Reset()
			if err := next.f.Process(cur, &next.outBuf); err != nil {
				return fmt.Errorf("%s: %w", next.name, err)
			}
			next.stats.Out += int64(next.outBuf.Len())
			cur = &next.outBuf
		}
		out.AppendBatch(cur)
	}
	return nil
}

// never marks a pixel that has not fired: it gives no support and no refractory dead time.
const never = math.MinInt64

func needGeometry(in Shape) error {
	if !in.Geometry.Known() {
		return events.SensorErrorf("needs the sensor size, which the input does not state")
	}
	return nil
}

func fill(s []int64, v int64) {
	for i := range s {
		s[i] = v
	}
}

func growInt64(s []int64, n int) []int64 {
	if cap(s) < n {
		return make([]int64, n)
	}
	return s[:n]
}

// probParam reads a parameter that must be a probability (or ratio) in [0, 1].
func probParam(v Values, name string) (float64, error) {
	q := v.Float(name)
	if q < 0 || q > 1 {
		return 0, fmt.Errorf("%s must be in [0, 1]", name)
	}
	return q, nil
}

// wholeSample is a stage that needs the whole sample (reversal, drops measured on the sample's span):
// it holds the events and transforms them at Flush.
type wholeSample struct {
	held  events.Batch
	apply func(b *events.Batch, out *events.Batch, rng *rand.Rand) error
	rng   *rand.Rand
}

func (w *wholeSample) Reset(in Shape, rng *rand.Rand) (Shape, error) {
	w.held.Reset()
	w.rng = rng
	return in, nil
}

func (w *wholeSample) Process(in, _ *events.Batch) error { w.held.AppendBatch(in); return nil }

func (w *wholeSample) Flush(out *events.Batch) error { return w.apply(&w.held, out, w.rng) }
