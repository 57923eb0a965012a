package transforms

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/tensors"
)

// Representation turns a whole sample into a tensor (frames, voxel grid…).
type Representation interface {
	Compute(b *events.Batch, in Shape) (*tensors.Tensor, error)
}

// FixedShaper is implemented by representations that know whether every sample gets the same shape
// (frames by bins, voxel grids); without it, outputs assume the first dimension varies per sample.
type FixedShaper interface {
	FixedShape() bool
}

// Chain is a parsed transform chain: filters, then at most one representation, last.
type Chain struct {
	Stages []Stage
	// Tally, when set, sums every filter's in/out counts over the samples ApplySample runs and the
	// streams given to Tally.AddStream (safe for concurrent samples).
	Tally *Tally
}

// Tally sums each filter stage's counts over many samples.
type Tally struct {
	mu    sync.Mutex
	names []string
	stats []Stats
}

// NewTally makes a tally for the chain's filters and sets it as the chain's Tally.
func (c *Chain) NewTally() *Tally {
	t := &Tally{}
	for _, st := range c.Stages {
		if st.Def.Filter != nil {
			t.names = append(t.names, st.String())
		}
	}
	t.stats = make([]Stats, len(t.names))
	c.Tally = t
	return t
}

// AddStream adds a finished stream's counts.
func (t *Tally) AddStream(s *Stream) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, st := range s.Stats() {
		if i < len(t.stats) {
			t.stats[i].In += st.In
			t.stats[i].Out += st.Out
			t.stats[i].Hot += st.Hot
		}
	}
}

// Lines reports each stage: "denoise(dt=5ms): 76,013 → 58,686 events (22.8 % removed)".
func (t *Tally) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for i, s := range t.stats {
		line := fmt.Sprintf("%s: %s → %s events (%.1f %% removed", t.names[i], groupDigits(s.In),
			groupDigits(s.Out), 100*s.Reduction())
		if s.Hot > 0 {
			line += fmt.Sprintf("; %s hot pixels", groupDigits(s.Hot))
		}
		out = append(out, line+")")
	}
	return out
}

// Stats returns the summed counts, stage by stage.
func (t *Tally) Stats() []Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Stats(nil), t.stats...)
}

func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Parse reads one or more specs (each may hold several transforms joined by `|`).
func Parse(specs ...string) (*Chain, error) {
	c := &Chain{}
	for _, s := range specs {
		st, err := ParseStages(s)
		if err != nil {
			return nil, err
		}
		c.Stages = append(c.Stages, st...)
	}
	for i, st := range c.Stages {
		if st.Def.Rep != nil && i != len(c.Stages)-1 {
			return nil, fmt.Errorf("transform %s turns events into a tensor, so it must come last (it is followed by %s)",
				st.Def.Name, c.Stages[i+1].Def.Name)
		}
	}
	// Build every stage once so bad parameter combinations fail at parse time, not mid-dataset.
	if _, err := c.filters(); err != nil {
		return nil, err
	}
	if _, err := c.Representation(); err != nil {
		return nil, err
	}
	return c, nil
}

// String is the chain's canonical text (recorded as evtool.transforms).
func (c *Chain) String() string {
	parts := make([]string, len(c.Stages))
	for i, s := range c.Stages {
		parts[i] = s.String()
	}
	return strings.Join(parts, " | ")
}

// StageError is a stage that cannot be built from its parameters or cannot take its input (a crop
// larger than the sensor, a factor that does not divide it, a sensor size it needs and nothing states):
// the chain asks for something this input does not allow.
type StageError struct {
	Stage string
	Err   error
}

func (e *StageError) Error() string { return e.Stage + ": " + e.Err.Error() }
func (e *StageError) Unwrap() error { return e.Err }

// HasRepresentation reports whether the chain ends in a representation.
func (c *Chain) HasRepresentation() bool {
	return len(c.Stages) > 0 && c.Stages[len(c.Stages)-1].Def.Rep != nil
}

// Representation builds the final representation, or nil when the chain has none.
func (c *Chain) Representation() (Representation, error) {
	if !c.HasRepresentation() {
		return nil, nil
	}
	st := c.Stages[len(c.Stages)-1]
	r, err := st.Def.Rep(st.Values)
	if err != nil {
		return nil, &StageError{Stage: st.Def.Name, Err: err}
	}
	return r, nil
}

func (c *Chain) filters() ([]*stage, error) {
	var out []*stage
	for _, st := range c.Stages {
		if st.Def.Filter == nil {
			continue
		}
		f, err := st.Def.Filter(st.Values)
		if err != nil {
			return nil, &StageError{Stage: st.Def.Name, Err: err}
		}
		out = append(out, &stage{f: f, name: st.Def.Name})
	}
	return out, nil
}

// NewStream makes fresh filter state for one sample or recording of the given shape. seed and sampleID
// seed the random stages (see SampleRNG).
func (c *Chain) NewStream(in Shape, seed uint64, sampleID string) (*Stream, error) {
	stages, err := c.filters()
	if err != nil {
		return nil, err
	}
	s := &Stream{stages: stages}
	shape := in
	for i, st := range stages {
		src := sampleSource(seed, sampleID, i)
		if s, ok := st.f.(sourced); ok {
			s.useSource(src)
		}
		shape, err = st.f.Reset(shape, rand.New(src))
		if err != nil {
			return nil, &StageError{Stage: st.name, Err: err}
		}
	}
	s.out = shape
	return s, nil
}

// ApplySample runs the chain's filters over a whole sample, in place — its events and its boxes (see
// Stream.MapBoxes) — and returns the output shape. A representation at the end is not applied here (see
// Representation).
func (c *Chain) ApplySample(smp *events.Sample, in Shape, seed uint64) (Shape, error) {
	st, err := c.NewStream(in, seed, smp.ID)
	if err != nil {
		return Shape{}, err
	}
	var out events.Batch
	if err := st.Process(&smp.Events, &out); err != nil {
		return Shape{}, fmt.Errorf("sample %s: %w", smp.ID, err)
	}
	if err := st.Flush(&out); err != nil {
		return Shape{}, fmt.Errorf("sample %s: %w", smp.ID, err)
	}
	smp.Events.Reset()
	smp.Events.AppendBatch(&out)
	if len(smp.Boxes) > 0 {
		smp.Boxes = st.MapBoxes(smp.Boxes)
	}
	c.Tally.AddStream(st)
	return st.Shape(), nil
}
