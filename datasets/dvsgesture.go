package datasets

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/sources"
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
		def, _ := Lookup("dvsgesture")
		return nil, noSplit(def, split)
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
	r := src.Events
	if r == nil {
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
	return false, fmt.Errorf("DVSGesture samples %q: want rows or per-class", mode)
}

// gestureInputs lists the clips of a DVSGesture split: each trial recording is read once and cut into
// its samples, trials in parallel.
func gestureInputs(def *Definition, from string, sel Selection) (*sources.Plan, error) {
	perClass, err := perClassMode(sel.DVSGestureSamples)
	if err != nil {
		return nil, err
	}
	trials, err := gestureTrials(from, sel.Split)
	if err != nil {
		return nil, err
	}
	g := &gestureGroups{trials: trials, groups: make([][][]Clip, len(trials)), opts: formats.Options{Sensor: def.Sensor}}
	for i, tr := range trials {
		clips, err := ReadLabelsCSV(tr.labels)
		if err != nil {
			return nil, err
		}
		if len(clips) == 0 {
			return nil, fmt.Errorf("%s: no labelled clips", tr.labels)
		}
		g.groups[i] = gestureSamples(clips, perClass)
		g.total += len(g.groups[i])
	}
	mode := map[bool]string{false: "rows", true: "per-class"}[perClass]
	return &sources.Plan{Dataset: true, Groups: g, Classes: def.Classes, Sensor: def.Sensor,
		Source: fmt.Sprintf("dvsgesture (%s split, %s samples) from %s", sel.Split, mode, from),
		// Clips hold 10^5–10^6 events: small record batches keep reading and writing memory bounded.
		Params: map[string]string{"batch-samples": "4"}}, nil
}

// gestureGroups serves DVSGesture's clips a trial at a time (sources.Groups).
type gestureGroups struct {
	trials []gestureTrial
	groups [][][]Clip // per trial: its samples, each the clips it unites
	total  int
	opts   formats.Options
}

func (g *gestureGroups) Len() int     { return len(g.trials) }
func (g *gestureGroups) Samples() int { return g.total }

func (g *gestureGroups) Read(i int, dst []events.Sample) ([]events.Sample, error) {
	n := len(g.groups[i])
	if cap(dst) < n {
		dst = append(dst[:cap(dst)], make([]events.Sample, n-cap(dst))...)
	}
	dst = dst[:n]
	return dst, cutTrial(g.trials[i], g.groups[i], g.opts, dst)
}
