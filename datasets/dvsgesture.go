package datasets

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/parallel"
)

// Clip is one labelled segment of a DVSGesture trial: events with Start ≤ t < End.
type Clip struct {
	Class int   // 1-based class from the CSV
	Start int64 // µs, inclusive
	End   int64 // µs, exclusive
	Index int   // row index in the CSV (0-based)
}

// ReadLabelsCSV parses a userNN_<lighting>_labels.csv file (header class,startTime_usec,endTime_usec).
func ReadLabelsCSV(path string) ([]Clip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var clips []Clip
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if line == 1 {
			if !strings.HasPrefix(strings.ToLower(text), "class") {
				return nil, fmt.Errorf("%s: line 1: want the header class,startTime_usec,endTime_usec, got %q", path, text)
			}
			continue
		}
		parts := strings.Split(text, ",")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s: line %d: want 3 comma-separated fields, got %q", path, line, text)
		}
		var v [3]int64
		for i, p := range parts {
			n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: field %d %q is not an integer", path, line, i+1, p)
			}
			v[i] = n
		}
		if v[0] < 1 || v[0] > 11 {
			return nil, fmt.Errorf("%s: line %d: class %d is outside 1..11", path, line, v[0])
		}
		if v[2] <= v[1] {
			return nil, fmt.Errorf("%s: line %d: end %d is not after start %d", path, line, v[2], v[1])
		}
		clips = append(clips, Clip{Class: int(v[0]), Start: v[1], End: v[2], Index: len(clips)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return clips, nil
}

// gestureTrial is one recording with its clips.
type gestureTrial struct {
	aedat, labels  string
	name           string // userNN_<lighting>
	user, lighting string
}

var trialName = regexp.MustCompile(`^user(\d+)_(.+)$`)

// gestureTrials lists the trials of a split: from trials_to_train.txt / trials_to_test.txt when present
// (the official split), else by user number (01–23 train, 24–29 test).
func gestureTrials(from, split string) ([]gestureTrial, error) {
	root := from
	if _, err := os.Stat(filepath.Join(from, "DvsGesture")); err == nil {
		root = filepath.Join(from, "DvsGesture")
	}
	listed := func(which string) ([]string, error) {
		data, err := os.ReadFile(filepath.Join(root, "trials_to_"+which+".txt"))
		if err != nil {
			return nil, err
		}
		var names []string
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				names = append(names, l)
			}
		}
		return names, nil
	}
	var names []string
	splits := []string{split}
	if split == "all" {
		splits = []string{"train", "test"}
	} else if split != "train" && split != "test" {
		return nil, fmt.Errorf("dvsgesture has no split %q (splits: all, test, train)", split)
	}
	for _, s := range splits {
		got, err := listed(s)
		if err != nil {
			all, _ := filepath.Glob(filepath.Join(root, "user*_*.aedat"))
			if len(all) == 0 {
				return nil, fmt.Errorf("%s: no userNN_<lighting>.aedat recordings found (extract DvsGesture.tar.gz there)", from)
			}
			got = nil
			for _, a := range all {
				m := trialName.FindStringSubmatch(strings.TrimSuffix(filepath.Base(a), ".aedat"))
				if m == nil {
					continue
				}
				user, _ := strconv.Atoi(m[1])
				if (s == "train") == (user <= 23) {
					got = append(got, filepath.Base(a))
				}
			}
		}
		sort.Strings(got)
		names = append(names, got...)
	}
	var trials []gestureTrial
	for _, n := range names {
		base := strings.TrimSuffix(n, ".aedat")
		m := trialName.FindStringSubmatch(base)
		if m == nil {
			return nil, fmt.Errorf("%s: trial %q is not named userNN_<lighting>.aedat", root, n)
		}
		trials = append(trials, gestureTrial{aedat: filepath.Join(root, base+".aedat"),
			labels: filepath.Join(root, base+"_labels.csv"), name: base, user: m[1], lighting: m[2]})
	}
	if len(trials) == 0 {
		return nil, fmt.Errorf("%s: the %s split lists no trials", root, split)
	}
	return trials, nil
}

// gestureSamples groups a trial's clips into samples: one per row, or (perClass) one per class holding
// the union of that class's rows.
func gestureSamples(clips []Clip, perClass bool) [][]Clip {
	if !perClass {
		out := make([][]Clip, len(clips))
		for i, c := range clips {
			out[i] = []Clip{c}
		}
		return out
	}
	var order []int
	by := map[int][]Clip{}
	for _, c := range clips {
		if _, ok := by[c.Class]; !ok {
			order = append(order, c.Class)
		}
		by[c.Class] = append(by[c.Class], c)
	}
	out := make([][]Clip, 0, len(order))
	for _, cl := range order {
		out = append(out, by[cl])
	}
	return out
}

// cutTrial streams a trial's recording once and fills one sample per group of clips.
func cutTrial(tr gestureTrial, groups [][]Clip, opts formats.Options, dst []events.Sample) error {
	src, _, err := formats.Open(tr.aedat, "", opts)
	if err != nil {
		return err
	}
	defer src.Close()
	r, ok := src.(events.Reader)
	if !ok {
		return fmt.Errorf("%s is not a recording", tr.aedat)
	}
	lo, hi := groups[0][0].Start, groups[0][0].End
	for gi, g := range groups {
		s := &dst[gi]
		s.Reset()
		s.Label = int32(g[0].Class - 1)
		idx := make([]string, len(g))
		for i, c := range g {
			idx[i] = strconv.Itoa(c.Index)
			lo, hi = min(lo, c.Start), max(hi, c.End)
		}
		s.ID = fmt.Sprintf("%s.aedat?user=%s&lighting=%s&clip=%s&class=%d", tr.name, tr.user, tr.lighting,
			strings.Join(idx, "+"), g[0].Class)
	}
	buf := events.NewBatch(1 << 16)
	for {
		err := r.Read(buf)
		for i, t := range buf.T {
			if t < lo || t >= hi {
				continue
			}
			for gi, g := range groups {
				for _, c := range g {
					if t >= c.Start && t < c.End {
						dst[gi].Events.Append(t, buf.X[i], buf.Y[i], buf.P[i])
						break
					}
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func perClassMode(mode string) (bool, error) {
	switch mode {
	case "", "rows":
		return false, nil
	case "per-class":
		return true, nil
	}
	return false, fmt.Errorf("--dvsgesture-samples %q: want rows or per-class", mode)
}

func prepareDVSGesture(ctx context.Context, def *Definition, from, out string, o PrepareOptions) (*convert.Result, error) {
	perClass, err := perClassMode(o.DVSGestureSamples)
	if err != nil {
		return nil, err
	}
	trials, err := gestureTrials(from, o.Split)
	if err != nil {
		return nil, err
	}
	groups := make([][][]Clip, len(trials))
	total := 0
	for i, tr := range trials {
		clips, err := ReadLabelsCSV(tr.labels)
		if err != nil {
			return nil, err
		}
		if len(clips) == 0 {
			return nil, fmt.Errorf("%s: no labelled clips", tr.labels)
		}
		groups[i] = gestureSamples(clips, perClass)
		total += len(groups[i])
	}
	fo := o.Format
	if fo.Params == nil || fo.Params["batch-samples"] == "" {
		// Clips hold 10^5–10^6 events: small record batches keep reading and writing memory bounded.
		fo.Params = withParams(map[string]string{"batch-samples": "4"}, fo.Params)
	}
	w, outFmt, outG, err := createDataset(out, def.Sensor, def.Classes,
		fmt.Sprintf("dvsgesture (%s split, %s samples) from %s", o.Split, map[bool]string{false: "rows", true: "per-class"}[perClass], from), fo, o)
	if err != nil {
		return nil, err
	}
	type slot struct {
		samples []events.Sample
	}
	res := &convert.Result{Output: out, Format: outFmt, Kind: events.KindDataset, Geometry: outG}
	readOpts := formats.Options{Sensor: def.Sensor}
	err = parallel.Ordered(ctx, len(trials), o.Workers,
		func() *slot { return &slot{} },
		func(i int, s *slot) error {
			g := groups[i]
			if cap(s.samples) < len(g) {
				s.samples = make([]events.Sample, len(g))
			}
			s.samples = s.samples[:len(g)]
			if err := cutTrial(trials[i], g, readOpts, s.samples); err != nil {
				return err
			}
			for j := range s.samples {
				if err := s.samples[j].Events.Validate(def.Sensor); err != nil {
					return fmt.Errorf("%s: %w", trials[i].aedat, err)
				}
				if err := convert.ApplyChain(o.Chain, &s.samples[j], def.Sensor, o.Seed); err != nil {
					return err
				}
			}
			return nil
		},
		func(i int, s *slot) error {
			for j := range s.samples {
				if err := w.WriteSample(&s.samples[j]); err != nil {
					return err
				}
				res.Samples++
				res.Events += int64(s.samples[j].Events.Len())
				if o.Progress != nil {
					o.Progress(int64(res.Samples), int64(total))
				}
			}
			return nil
		})
	if err != nil {
		w.Abort()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return res, nil
}

// gestureReader serves DVSGesture clips as samples, cutting one trial at a time (cached).
type gestureReader struct {
	trials  []gestureTrial
	groups  [][][]Clip
	index   [][2]int // sample → (trial, group)
	meta    events.Meta
	cached  int
	samples []events.Sample
}

func openDVSGesture(def *Definition, from, split, mode string) (events.SampleReader, error) {
	perClass, err := perClassMode(mode)
	if err != nil {
		return nil, err
	}
	trials, err := gestureTrials(from, split)
	if err != nil {
		return nil, err
	}
	r := &gestureReader{trials: trials, cached: -1, meta: events.Meta{Format: def.Name, Kind: events.KindDataset,
		Geometry: def.Sensor, Classes: def.Classes, Source: from}}
	for i, tr := range trials {
		clips, err := ReadLabelsCSV(tr.labels)
		if err != nil {
			return nil, err
		}
		g := gestureSamples(clips, perClass)
		r.groups = append(r.groups, g)
		for j := range g {
			r.index = append(r.index, [2]int{i, j})
		}
	}
	return r, nil
}

func (r *gestureReader) NumSamples() int   { return len(r.index) }
func (r *gestureReader) Meta() events.Meta { return r.meta }
func (r *gestureReader) Close() error      { return nil }
func (r *gestureReader) ReadSample(i int, dst *events.Sample) error {
	if i < 0 || i >= len(r.index) {
		return fmt.Errorf("sample %d does not exist (%d samples)", i, len(r.index))
	}
	ti, gi := r.index[i][0], r.index[i][1]
	if r.cached != ti {
		r.samples = make([]events.Sample, len(r.groups[ti]))
		if err := cutTrial(r.trials[ti], r.groups[ti], formats.Options{Sensor: r.meta.Geometry}, r.samples); err != nil {
			return err
		}
		r.cached = ti
	}
	s := &r.samples[gi]
	dst.Reset()
	dst.Label, dst.ID = s.Label, s.ID
	dst.Events.AppendBatch(&s.Events)
	return nil
}
