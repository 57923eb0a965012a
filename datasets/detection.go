package datasets

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/prophesee/bbox"
	"github.com/evtool/evtool/slicer"
	"github.com/evtool/evtool/sources"
)

// Detection datasets (Layout Detection: Prophesee Gen1, 1 Megapixel): each recording (<name>_td.dat or
// <name>.raw) has a box label file beside it (<name>_bbox.npy); a sample is cut at every label time t of
// a recording: its events of the history window (t − H, t] and its boxes, the label rows of time t. The
// recording is streamed through the slicer a group of label times at a time, so memory holds the windows
// of one group, not the recording.

// defaultHistory is the events before a label time a sample holds: 50 ms, as RVT and RED feed their
// detectors.
const defaultHistory = 50_000

// detectionGroup is how many label times of one recording one group holds: a group decodes its recording
// up to its last window, so fewer, larger groups decode less but hold more windows at once. (A variable:
// the tests cut recordings into several groups.)
var detectionGroup = 256

// detectionRecording is one recording of a split, with its label times and their boxes.
type detectionRecording struct {
	path, id string
	times    []int64        // distinct label times, ascending
	boxes    [][]events.Box // boxes[k]: the label rows of times[k], in file order
}

// detectionRecordings lists the recordings of a split folder that have labels, sorted by path.
func detectionRecordings(def *Definition, dir, root string) ([]detectionRecording, error) {
	var recs []detectionRecording
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") || !strings.HasSuffix(d.Name(), "_bbox.npy") {
			return nil
		}
		rec := ""
		for _, cand := range bbox.RecordingsOf(p) {
			if st, err := os.Stat(cand); err == nil && st.Mode().IsRegular() && hasExt(cand, def.Extensions) {
				rec = cand
				break
			}
		}
		if rec == "" {
			return fmt.Errorf("%s: no recording beside it (want %s)", p, strings.Join(bbox.RecordingsOf(d.Name()), " or "))
		}
		boxes, err := bbox.Read(p)
		if err != nil {
			return err
		}
		events.SortBoxes(boxes)
		rel, _ := filepath.Rel(root, rec)
		r := detectionRecording{path: rec, id: filepath.ToSlash(rel)}
		for i := 0; i < len(boxes); {
			j := i
			for j < len(boxes) && boxes[j].T == boxes[i].T {
				j++
			}
			r.times = append(r.times, boxes[i].T)
			r.boxes = append(r.boxes, boxes[i:j:j])
			i = j
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].id < recs[j].id })
	return recs, nil
}

// detectionInputs lists a split's samples: one per label time of every recording, cut by groups.
func detectionInputs(def *Definition, from string, sel Selection) (*sources.Plan, error) {
	history := sel.History
	if history <= 0 {
		history = defaultHistory
	}
	var splits []string
	switch {
	case sel.Split == "all":
		splits = def.SplitNames()
	case def.Splits[sel.Split] != "":
		splits = []string{sel.Split}
	default:
		return nil, noSplit(def, sel.Split)
	}
	g := &detectionGroups{history: history, opts: formats.Options{Sensor: def.Sensor}}
	for _, s := range splits {
		dir, err := findFolder(from, def.Splits[s])
		if err != nil && sel.Split == "all" {
			continue // all: the splits that were downloaded
		}
		if err != nil {
			return nil, err
		}
		recs, err := detectionRecordings(def, dir, filepath.Dir(dir))
		if err != nil {
			return nil, err
		}
		for k := range recs {
			r := &recs[k]
			g.recs = append(g.recs, r)
			for first := 0; first < len(r.times); first += detectionGroup {
				g.groups = append(g.groups, detectionCut{rec: r, first: first, n: min(detectionGroup, len(r.times)-first)})
			}
			g.total += len(r.times)
		}
	}
	if g.total == 0 {
		return nil, fmt.Errorf("%s: the %s split of %s holds no labelled recording (<name>_td.dat or <name>.raw with <name>_bbox.npy beside it)", from, sel.Split, def.Name)
	}
	return &sources.Plan{Dataset: true, Groups: g, Classes: []string{}, Boxes: true, BoxClasses: def.BoxClasses,
		Sensor: def.Sensor, Params: def.ReadParams,
		Source: fmt.Sprintf("%s (%s split, history %d µs) from %s", def.Name, sel.Split, history, from)}, nil
}

// detectionCut is one group: label times [first, first+n) of a recording.
type detectionCut struct {
	rec      *detectionRecording
	first, n int
}

// detectionGroups serves the samples of a detection split (sources.Groups).
type detectionGroups struct {
	recs    []*detectionRecording
	groups  []detectionCut
	total   int
	history int64
	opts    formats.Options
}

func (g *detectionGroups) Len() int     { return len(g.groups) }
func (g *detectionGroups) Samples() int { return g.total }

// Read streams the group's recording up to its last window and cuts a sample at each of its label times.
func (g *detectionGroups) Read(i int, dst []events.Sample) ([]events.Sample, error) {
	c := g.groups[i]
	times := c.rec.times[c.first : c.first+c.n]
	if cap(dst) < c.n {
		dst = append(dst[:cap(dst)], make([]events.Sample, c.n-cap(dst))...)
	}
	dst = dst[:c.n]
	spec := slicer.Spec{Intervals: make([]slicer.Interval, c.n)}
	for k, t := range times {
		// (t − H, t]: the window ends at the label time, inclusive, so that the slice holds the label.
		spec.Intervals[k] = slicer.Interval{Start: t + 1 - g.history, End: t + 1, Label: events.NoLabel}
		s := &dst[k]
		s.Reset()
		s.ID = fmt.Sprintf("%s@%d", c.rec.id, t)
		s.Boxes = append(s.Boxes, c.rec.boxes[c.first+k]...)
	}
	sl, err := slicer.New(spec)
	if err != nil {
		return dst, err
	}
	src, _, err := formats.Open(c.rec.path, "", g.opts)
	if err != nil {
		return dst, err
	}
	defer src.Close()
	if src.Events == nil {
		return dst, fmt.Errorf("%s is not a recording", c.rec.path)
	}
	done := 0
	emit := func(s slicer.Slice, ev *events.Batch) error {
		dst[s.Index].Events.AppendBatch(ev)
		done++
		return nil
	}
	buf := events.NewBatch(1 << 16)
	for done < c.n {
		rerr := src.Events.Read(buf)
		if err := sl.Add(buf, emit); err != nil {
			return dst, fmt.Errorf("%s: %w", c.rec.path, err)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return dst, rerr
		}
	}
	if done < c.n {
		if err := sl.Finish(emit); err != nil {
			return dst, fmt.Errorf("%s: %w", c.rec.path, err)
		}
	}
	return dst, nil
}
