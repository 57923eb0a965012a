package datasets

import (
	"encoding/csv"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/atomicfile"
	"github.com/evtool/evtool/internal/suggest"
	"github.com/evtool/evtool/sources"
)

// Source serves a dataset whose samples are not one file each in class folders (Layout Container):
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
	// Group is how many consecutive samples one decoder reads at a time (default 1): one open file
	// serves them, and the groups are decoded in parallel.
	Group int
	// Open returns a decoder for one group of samples; it is closed after the group.
	Open func() (Decoder, error)
	// groupEvents is the most events a group has held: what ReadIn's buffers are made for.
	groupEvents atomic.Int64
	// Notes, when set, describes the labels that are no classes (ThreeET's gaze, EBSSA's objects),
	// written beside the output by the command: NoteRows gives a sample's rows.
	Notes    *Notes
	NoteRows func(i int) (id string, rows [][]string, err error)
}

// Decoder reads samples of a plan.
type Decoder interface {
	ReadSample(i int, dst *events.Sample) error
	Close() error
}

// Notes are per-sample labels kept beside a prepared dataset as a CSV file: OUT without its extension
// + Suffix, with the columns sample (the row in the dataset) and id, then Columns.
type Notes struct {
	Suffix  string
	Columns []string
	Doc     string
	rows    [][]string
}

// Path is where the notes of output out go.
func (n *Notes) Path(out string) string { return strings.TrimSuffix(out, filepath.Ext(out)) + n.Suffix }

// Rows is the number of rows.
func (n *Notes) Rows() int { return len(n.rows) }

// Write writes the notes to path, atomically.
func (n *Notes) Write(path string) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(append([]string{"sample", "id"}, n.Columns...))
	w.WriteAll(n.rows)
	if err := w.Error(); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// Annotations reads the labels of a split that are no classes (ThreeET's gaze, EBSSA's object
// positions), in the order Inputs lists the samples; nil when the dataset has none. `evtool datasets
// prepare` writes them beside the dataset file (Notes.Path).
func Annotations(def *Definition, from string, sel Selection) (*Notes, error) {
	if def.Source == nil {
		return nil, nil
	}
	p, err := planFor(def, from, sel)
	if err != nil || p.Notes == nil {
		return nil, err
	}
	notes := *p.Notes
	for i := 0; i < p.N; i++ {
		id, rows, err := p.NoteRows(i)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			notes.rows = append(notes.rows, append([]string{fmt.Sprint(i), id}, r...))
		}
	}
	return &notes, nil
}

func excluded(def *Definition, name string) bool {
	for _, pat := range def.Exclude {
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
	}
	return false
}

// ErrUnknownSplit is wrapped by the error for a split a dataset does not have.
var ErrUnknownSplit = errors.New("unknown split")

// noSplit is the error for a split a dataset does not have.
func noSplit(def *Definition, split string) error {
	names := append(def.SplitNames(), "all")
	return &splitError{fmt.Sprintf("%s has no split %q (splits: %s)%s", def.Name, split, strings.Join(names, ", "),
		suggest.DidYouMean(split, names))}
}

type splitError struct{ msg string }

func (e *splitError) Error() string        { return e.msg }
func (e *splitError) Is(target error) bool { return target == ErrUnknownSplit }

func planFor(def *Definition, from string, sel Selection) (*Plan, error) {
	if sel.Split == "" {
		sel.Split = "all"
	}
	p, err := def.Source.Plan(def, from, sel.Split, SourceOptions{Window: sel.Window})
	if err != nil {
		return nil, err
	}
	if p.Classes == nil {
		p.Classes = def.Classes
	}
	if !p.Sensor.Known() {
		p.Sensor = def.Sensor
	}
	if p.Group <= 0 {
		p.Group = 1
	}
	return p, nil
}

// containerInputs lists a Container dataset's split as groups of samples that convert decodes in
// parallel.
func containerInputs(def *Definition, from string, sel Selection) (*sources.Plan, error) {
	p, err := planFor(def, from, sel)
	if err != nil {
		return nil, err
	}
	if p.N == 0 {
		return nil, fmt.Errorf("%s: the %s split of %s holds no samples", from, sel.Split, def.Name)
	}
	split := sel.Split
	if split == "" {
		split = "all"
	}
	return &sources.Plan{Dataset: true, Groups: containerGroups{p}, Classes: p.Classes, Sensor: p.Sensor,
		Source: fmt.Sprintf("%s (%s split) from %s", def.Name, split, p.Source), Params: def.ReadParams}, nil
}

// containerGroups serves a Plan's samples a group at a time (sources.Groups); each group opens its own
// decoder, so distinct groups decode concurrently.
type containerGroups struct{ p *Plan }

func (g containerGroups) Len() int     { return (g.p.N + g.p.Group - 1) / g.p.Group }
func (g containerGroups) Samples() int { return g.p.N }

func (g containerGroups) Read(i int, dst []events.Sample) ([]events.Sample, error) {
	return g.read(i, dst, nil, nil)
}

// ReadIn is Read with the group's samples decoded one after the other into buf (sources.GroupsIn): each
// sample's events are a clipped run of buf where its decoder left them there, else its own buffer (a
// sample that did not fit); buf is made for the most events a group has held, so that they fit.
func (g containerGroups) ReadIn(i int, dst []events.Sample, buf *events.Batch, each func(*events.Sample) error) ([]events.Sample, error) {
	if want := int(g.p.groupEvents.Load()); cap(buf.T) < want {
		*buf = *events.NewBatch(want + want/8)
	}
	buf.Reset()
	return g.read(i, dst, buf, each)
}

func (g containerGroups) read(i int, dst []events.Sample, buf *events.Batch, each func(*events.Sample) error) ([]events.Sample, error) {
	first := i * g.p.Group
	n := min(g.p.Group, g.p.N-first)
	if cap(dst) < n {
		dst = append(dst[:cap(dst)], make([]events.Sample, n-cap(dst))...)
	}
	dst = dst[:n]
	d, err := g.p.Open()
	if err != nil {
		return dst, err
	}
	defer d.Close()
	var total int64
	for k := range dst {
		s := &dst[k]
		s.Reset()
		if buf != nil {
			s.Events = buf.Rest()
		}
		if err := d.ReadSample(first+k, s); err != nil {
			return dst, err
		}
		if buf != nil {
			total += int64(s.Events.Len())
			keepIn(buf, &s.Events)
		}
		if each != nil {
			if err := each(s); err != nil {
				return dst, err
			}
		}
	}
	for buf != nil {
		// The most any group held, for the next buffers made.
		if old := g.p.groupEvents.Load(); total <= old || g.p.groupEvents.CompareAndSwap(old, total) {
			break
		}
	}
	return dst, nil
}

// keepIn makes buf include e's events when the decoder left them right after buf's (where buf.Rest
// pointed), and clips e either way, so that nothing appended to it later can overwrite the next sample's
// events.
func keepIn(buf, e *events.Batch) {
	if at, ok := buf.Offset(e); ok && at == buf.Len() {
		end := at + e.Len()
		buf.T, buf.X, buf.Y, buf.P = buf.T[:end], buf.X[:end], buf.Y[:end], buf.P[:end]
	}
	e.Clip()
}
