package player

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/viewer"
)

// Recording is one stream of events the player can show, read by time range. Ranges may be asked in any
// order; a recording that streams from disk makes forward requests cheap and backward ones a seek.
type Recording interface {
	// Span returns the first and last event times; complete is false while a background scan of a
	// streamed file has not yet reached its end (last grows until then).
	Span() (first, last int64, complete bool)
	// Range calls fn with the events of from <= t < to, in time order, in one or more batches that are
	// only valid during the call.
	Range(from, to int64, fn func(b *events.Batch)) error
	// Density returns event counts per equal slice of the span (for the timeline), and the slice width.
	Density() (counts []int64, width int64)
	Close() error
}

// boxed is implemented by recordings that carry boxes (detection labels): all of them, in time order, as
// far as they are known (a streamed recording learns them during its background scan), and the names of
// their classes.
type boxed interface {
	Boxes() []events.Box
	BoxClasses() []string
}

// Playlist is what the player steps through with next/previous: the samples of a dataset file or a
// folder, or a single recording.
type Playlist interface {
	Len() int
	// Open returns sample i and the label text to show (empty for plain recordings).
	Open(i int) (Recording, string, error)
	Geometry() events.Geometry
	Name() string
	Close() error
}

// DefaultMemoryBudget is how many events a single recording may hold in memory (13 bytes each, about
// 100 MB) before the player streams it from disk instead.
const DefaultMemoryBudget = 8 << 20

// Open makes the playlist of a path: a dataset file (one entry per sample), a folder of sample files
// (as `evtool convert` reads them), or a recording file (one entry, held in memory when it has at most
// budget events, else streamed from disk).
func Open(path, from string, fo formats.Options, budget int) (Playlist, error) {
	if budget <= 0 {
		budget = DefaultMemoryBudget
	}
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	if sources.IsSampleFolder(path) { // a sharded dataset's folder opens as a dataset file
		return openFolder(path, from, fo)
	}
	src, f, err := sources.Open(path, from, fo)
	if err != nil {
		return nil, err
	}
	meta := src.Meta()
	g := meta.Geometry
	if fo.Sensor.Known() {
		g = fo.Sensor
	}
	if s := src.Samples; s != nil {
		if !g.Known() {
			if g, err = sources.SamplesSensor(path, f, s, fo); err != nil {
				s.Close()
				return nil, err
			}
		}
		if s.NumSamples() == 0 {
			s.Close()
			return nil, fmt.Errorf("%s: the dataset holds no samples", path)
		}
		return &datasetPlaylist{path: path, r: s, g: g, classes: meta.Classes, boxClasses: meta.BoxClasses}, nil
	}
	src.Close()
	if !g.Known() {
		if g, err = sources.SensorOf(path, f, fo); err != nil {
			return nil, err
		}
	}
	rec, err := openRecording(opener(path, f, fo), budget)
	if err != nil {
		return nil, err
	}
	return &singlePlaylist{path: path, rec: rec, g: g}, nil
}

// opener opens the recording file path of format f, with the box labels beside it (sources.Open).
func opener(path string, f *formats.Format, fo formats.Options) func() (events.Reader, error) {
	return func() (events.Reader, error) {
		src, _, err := sources.Open(path, f.Name, fo)
		if err != nil {
			return nil, err
		}
		if src.Events == nil {
			src.Close()
			return nil, fmt.Errorf("%s is itself a dataset; view it on its own", path)
		}
		return src.Events, nil
	}
}

// NewMemoryPlaylist plays samples held in memory (labels index classes; events.NoLabel shows none).
func NewMemoryPlaylist(name string, g events.Geometry, samples []events.Sample, classes []string) Playlist {
	return &memoryPlaylist{name: name, g: g, samples: samples, classes: classes}
}

type memoryPlaylist struct {
	name    string
	g       events.Geometry
	samples []events.Sample
	classes []string
}

func (p *memoryPlaylist) Len() int                  { return len(p.samples) }
func (p *memoryPlaylist) Geometry() events.Geometry { return p.g }
func (p *memoryPlaylist) Name() string              { return p.name }
func (p *memoryPlaylist) Close() error              { return nil }
func (p *memoryPlaylist) Open(i int) (Recording, string, error) {
	s := &p.samples[i]
	m := newMemoryRecording(&s.Events)
	m.boxes = s.Boxes
	return m, viewer.SampleLabel(i, s.Label, p.classes), nil
}

type datasetPlaylist struct {
	path       string
	r          events.SampleReader
	g          events.Geometry
	classes    []string
	boxClasses []string
}

func (p *datasetPlaylist) Len() int                  { return p.r.NumSamples() }
func (p *datasetPlaylist) Geometry() events.Geometry { return p.g }
func (p *datasetPlaylist) Name() string              { return p.path }
func (p *datasetPlaylist) Close() error              { return p.r.Close() }
func (p *datasetPlaylist) Open(i int) (Recording, string, error) {
	var s events.Sample
	if err := p.r.ReadSample(i, &s); err != nil {
		return nil, "", err
	}
	m := newMemoryRecording(&s.Events)
	m.boxes, m.boxClasses = s.Boxes, p.boxClasses
	return m, viewer.SampleLabel(i, s.Label, p.classes), nil
}

type folderPlaylist struct {
	path string
	plan *sources.Plan
	fo   formats.Options
	g    events.Geometry
}

func openFolder(path, from string, fo formats.Options) (Playlist, error) {
	plan, err := sources.Discover([]string{path}, from)
	if err != nil {
		return nil, err
	}
	if len(plan.Items) == 0 {
		return nil, fmt.Errorf("%s: no event files found", path)
	}
	g := fo.Sensor
	if !g.Known() {
		it := plan.Items[0]
		if g, err = sources.SensorOf(it.Path, it.Format, fo); err != nil {
			return nil, err
		}
	}
	return &folderPlaylist{path: path, plan: plan, fo: fo, g: g}, nil
}

func (p *folderPlaylist) Len() int                  { return len(p.plan.Items) }
func (p *folderPlaylist) Geometry() events.Geometry { return p.g }
func (p *folderPlaylist) Name() string              { return p.path }
func (p *folderPlaylist) Close() error              { return nil }
func (p *folderPlaylist) Open(i int) (Recording, string, error) {
	it := p.plan.Items[i]
	// A sample file is held whole, with the box labels of a detection recording beside it.
	rec, err := openRecording(opener(it.Path, it.Format, p.fo), math.MaxInt)
	if err != nil {
		return nil, "", err
	}
	return rec, viewer.SampleLabel(i, it.Label, p.plan.Classes) + " " + it.ID, nil
}

type singlePlaylist struct {
	path string
	rec  Recording
	g    events.Geometry
}

func (p *singlePlaylist) Len() int                            { return 1 }
func (p *singlePlaylist) Geometry() events.Geometry           { return p.g }
func (p *singlePlaylist) Name() string                        { return p.path }
func (p *singlePlaylist) Close() error                        { return p.rec.Close() }
func (p *singlePlaylist) Open(int) (Recording, string, error) { return nopClose{p.rec}, "", nil }

// nopClose keeps the player from closing the one recording of a single-file playlist when it "moves"
// to the same entry again.
type nopClose struct{ Recording }

func (nopClose) Close() error { return nil }

// openRecording reads the stream into memory when it fits the budget, else returns a streaming
// recording over fresh readers from open.
func openRecording(open func() (events.Reader, error), budget int) (Recording, error) {
	r, err := open()
	if err != nil {
		return nil, err
	}
	all := events.NewBatch(0)
	buf := events.NewBatch(1 << 16)
	br, _ := r.(events.BoxReader)
	var boxes []events.Box
	for {
		err := r.Read(buf)
		if br != nil && (err == nil || err == io.EOF) {
			boxes = append(boxes, br.Boxes()...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			r.Close()
			return nil, err
		}
		all.AppendBatch(buf)
		if all.Len() > budget {
			r.Close()
			return newStreamRecording(open)
		}
	}
	r.Close()
	if i := all.CheckMonotonic(); i >= 0 {
		return nil, fmt.Errorf("event %d goes back in time (%d µs after %d µs): the player needs time-ordered events",
			i, all.T[i], all.T[i-1])
	}
	m := newMemoryRecording(all)
	m.boxes, m.boxClasses = boxes, r.Meta().BoxClasses
	return m, nil
}

// densityBins is how many slices Density reports at most.
const densityBins = 1024

type memoryRecording struct {
	b          *events.Batch
	boxes      []events.Box
	boxClasses []string
	counts     []int64 // Density, computed once
	width      int64
}

func (m *memoryRecording) Boxes() []events.Box  { return m.boxes }
func (m *memoryRecording) BoxClasses() []string { return m.boxClasses }

func newMemoryRecording(b *events.Batch) *memoryRecording { return &memoryRecording{b: b} }

func (m *memoryRecording) Span() (int64, int64, bool) {
	if m.b.Len() == 0 {
		return 0, 0, true
	}
	return m.b.T[0], m.b.T[m.b.Len()-1], true
}

func (m *memoryRecording) Range(from, to int64, fn func(b *events.Batch)) error {
	s := m.b.TimeSlice(from, to)
	if s.Len() > 0 {
		fn(&s)
	}
	return nil
}

func (m *memoryRecording) Density() ([]int64, int64) {
	if m.counts == nil {
		first, last, _ := m.Span()
		width := events.Span(first, last)/densityBins + 1
		m.width = int64(width)
		m.counts = make([]int64, events.Span(first, last)/width+1)
		for _, t := range m.b.T {
			m.counts[events.Span(first, t)/width]++
		}
	}
	return m.counts, m.width
}

func (m *memoryRecording) Close() error { return nil }

// timeSeeker is implemented by readers that can jump to a time (AEDAT 4 through its packet table).
type timeSeeker interface {
	SeekTime(t int64) error
}

// streamRecording reads a file too large for memory: a cursor reader serves forward ranges, a backward
// range seeks (by the reader's own index when it has one, else by reopening the file and skipping), and
// a second reader scans the file once in the background for the span and the timeline's density.
type streamRecording struct {
	open   func() (events.Reader, error)
	r      events.Reader
	buf    *events.Batch
	pos    int
	passed int64 // every event before this time has been consumed by the cursor
	eof    bool
	first  int64

	mu         sync.Mutex
	last       int64
	boxes      []events.Box // found by the scan so far
	boxClasses []string
	complete   bool
	scanErr    error
	counts     []int64
	width      int64
	stop       chan struct{}
	done       chan struct{}
}

func newStreamRecording(open func() (events.Reader, error)) (*streamRecording, error) {
	r, err := open()
	if err != nil {
		return nil, err
	}
	s := &streamRecording{open: open, r: r, buf: events.NewBatch(1 << 16), passed: math.MinInt64,
		width: 1000, stop: make(chan struct{}), done: make(chan struct{}), boxClasses: r.Meta().BoxClasses}
	if err := s.fill(); err != nil && err != io.EOF {
		r.Close()
		return nil, err
	}
	if s.buf.Len() > 0 {
		s.first, s.last = s.buf.T[0], s.buf.T[0]
	}
	go s.scan()
	return s, nil
}

// fill reads the next non-empty batch into the cursor buffer.
func (s *streamRecording) fill() error {
	s.pos = 0
	for {
		err := s.r.Read(s.buf)
		if err == io.EOF {
			s.eof = true
		}
		if err != nil || s.buf.Len() > 0 {
			return err
		}
	}
}

// scan reads the whole file once, recording its last time and event counts per time slice; slices
// double in width whenever there would be more than 2×densityBins of them.
func (s *streamRecording) scan() {
	defer close(s.done)
	r, err := s.open()
	if err != nil {
		s.mu.Lock()
		s.scanErr = err
		s.mu.Unlock()
		return
	}
	defer r.Close()
	br, _ := r.(events.BoxReader)
	b := events.NewBatch(1 << 16)
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		err := r.Read(b)
		if br != nil && (err == nil || err == io.EOF) && len(br.Boxes()) > 0 {
			s.mu.Lock()
			s.boxes = append(s.boxes, br.Boxes()...)
			s.mu.Unlock()
		}
		if err != nil {
			s.mu.Lock()
			s.complete = true
			if err != io.EOF {
				s.scanErr = err
			}
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		for _, t := range b.T {
			k := int64(events.Span(s.first, t) / uint64(s.width)) // 0 for a t before first
			for k >= 2*densityBins {
				s.counts, s.width = halve(s.counts), s.width*2
				k = int64(events.Span(s.first, t) / uint64(s.width))
			}
			for int64(len(s.counts)) <= k {
				s.counts = append(s.counts, 0)
			}
			s.counts[k]++
		}
		if n := b.Len(); n > 0 && b.T[n-1] > s.last {
			s.last = b.T[n-1]
		}
		s.mu.Unlock()
	}
}

func halve(c []int64) []int64 {
	out := c[:(len(c)+1)/2]
	for i := range out {
		v := c[2*i]
		if 2*i+1 < len(c) {
			v += c[2*i+1]
		}
		out[i] = v
	}
	return out
}

func (s *streamRecording) Span() (int64, int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first, s.last, s.complete
}

// BoxClasses names the classes of the recording's boxes.
func (s *streamRecording) BoxClasses() []string { return s.boxClasses }

// Boxes returns the boxes the scan has found so far.
func (s *streamRecording) Boxes() []events.Box {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.boxes[:len(s.boxes):len(s.boxes)]
}

func (s *streamRecording) Density() ([]int64, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.counts...), s.width
}

// ScanErr reports a decoding fault the background scan met (the player shows it).
func (s *streamRecording) ScanErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scanErr
}

// rewind positions the cursor before from.
func (s *streamRecording) rewind(from int64) error {
	if ts, ok := s.r.(timeSeeker); ok {
		if err := ts.SeekTime(from); err != nil {
			return err
		}
	} else {
		r, err := s.open()
		if err != nil {
			return err
		}
		s.r.Close()
		s.r = r
	}
	s.eof, s.passed = false, math.MinInt64
	s.buf.Reset()
	s.pos = 0
	return nil
}

func (s *streamRecording) Range(from, to int64, fn func(b *events.Batch)) error {
	if from <= s.passed {
		if err := s.rewind(from); err != nil {
			return err
		}
	}
	for {
		if s.pos >= s.buf.Len() {
			if s.eof {
				return nil
			}
			if err := s.fill(); err != nil && err != io.EOF {
				return err
			}
			continue
		}
		// Skip what lies before from, deliver up to to, and stop at the first later event.
		i := s.pos
		for i < s.buf.Len() && s.buf.T[i] < from {
			i++
		}
		j := i
		for j < s.buf.Len() && s.buf.T[j] < to {
			j++
		}
		if j > i {
			v := s.buf.Slice(i, j)
			fn(&v)
		}
		if j > s.pos {
			s.passed = s.buf.T[j-1]
		}
		s.pos = j
		if j < s.buf.Len() {
			return nil
		}
	}
}

func (s *streamRecording) Close() error {
	close(s.stop)
	<-s.done
	return s.r.Close()
}

// Boxes and BoxClasses pass on the boxes of the recording.
func (n nopClose) Boxes() []events.Box {
	if b, ok := n.Recording.(boxed); ok {
		return b.Boxes()
	}
	return nil
}

func (n nopClose) BoxClasses() []string {
	if b, ok := n.Recording.(boxed); ok {
		return b.BoxClasses()
	}
	return nil
}
