package datasets

import (
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	h5events "github.com/evtool/evtool/formats/hdf5"
)

// DSEC's recordings by split (the official lists of the benchmark).
var dsecRecordings = map[string][]string{
	"train": {"interlaken_00_c", "interlaken_00_d", "interlaken_00_e", "interlaken_00_f", "interlaken_00_g",
		"thun_00_a", "zurich_city_00_a", "zurich_city_00_b", "zurich_city_01_a", "zurich_city_01_b",
		"zurich_city_01_c", "zurich_city_01_d", "zurich_city_01_e", "zurich_city_01_f", "zurich_city_02_a",
		"zurich_city_02_b", "zurich_city_02_c", "zurich_city_02_d", "zurich_city_02_e", "zurich_city_03_a",
		"zurich_city_04_a", "zurich_city_04_b", "zurich_city_04_c", "zurich_city_04_d", "zurich_city_04_e",
		"zurich_city_04_f", "zurich_city_05_a", "zurich_city_05_b", "zurich_city_06_a", "zurich_city_07_a",
		"zurich_city_08_a", "zurich_city_09_a", "zurich_city_09_b", "zurich_city_09_c", "zurich_city_09_d",
		"zurich_city_09_e", "zurich_city_10_a", "zurich_city_10_b", "zurich_city_11_a", "zurich_city_11_b",
		"zurich_city_11_c"},
	"test": {"interlaken_00_a", "interlaken_00_b", "interlaken_01_a", "thun_01_a", "thun_01_b",
		"zurich_city_12_a", "zurich_city_13_a", "zurich_city_13_b", "zurich_city_14_a", "zurich_city_14_b",
		"zurich_city_14_c", "zurich_city_15_a"},
}

// dsecWindow is the default sample length: DSEC's disparity and optical flow ground truth come at 10 Hz.
const dsecWindow = 100_000

// dsec cuts each recording's left event camera into fixed windows: a recording holds 10⁸–10⁹ events,
// too many for one sample, and windows keep memory bounded and decoding parallel.
type dsec struct{}

// dsecFiles maps recording names onto their left-camera events.h5 under from, in either the layout of
// DSEC's per-recording zips (<rec>/events_left/events.h5) or of its split archives
// (<split>/<rec>/events/left/events.h5).
func dsecFiles(from string) map[string]string {
	out := map[string]string{}
	filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() && strings.Count(rel, string(filepath.Separator)) >= 5 {
			return fs.SkipDir
		}
		if d.IsDir() || d.Name() != "events.h5" {
			return nil
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		left := strings.Contains(filepath.ToSlash(rel), "events_left/") || strings.Contains(filepath.ToSlash(rel), "events/left/")
		for _, part := range parts {
			if left && out[part] == "" {
				out[part] = p
			}
		}
		return nil
	})
	return out
}

type dsecRecording struct {
	name, path  string
	first, last int64 // µs
	windows     int
}

func (dsec) Plan(def *Definition, from, split string, o SourceOptions) (*Plan, error) {
	var names []string
	switch split {
	case "train", "test":
		names = dsecRecordings[split]
	case "all":
		names = append(append(names, dsecRecordings["train"]...), dsecRecordings["test"]...)
	default:
		return nil, noSplit(def, split)
	}
	w := o.Window
	if w <= 0 {
		w = dsecWindow
	}
	files := dsecFiles(from)
	var missing []string
	var recs []dsecRecording
	starts := []int{0}
	for _, n := range names {
		path := files[n]
		if path == "" {
			missing = append(missing, n)
			continue
		}
		r, err := openDSEC(path)
		if err != nil {
			return nil, err
		}
		rec := dsecRecording{name: n, path: path}
		if r.Len() > 0 {
			if rec.first, err = r.TimeAt(0); err == nil {
				rec.last, err = r.TimeAt(r.Len() - 1)
			}
			if err != nil {
				r.Close()
				return nil, err
			}
			if rec.last < rec.first {
				r.Close()
				return nil, fmt.Errorf("%s: times run backwards (first %d µs, last %d µs)", path, rec.first, rec.last)
			}
			rec.windows = int((rec.last-rec.first)/w) + 1
		}
		r.Close()
		recs = append(recs, rec)
		starts = append(starts, starts[len(starts)-1]+rec.windows)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: %d of the %d %s recordings have no events_left/events.h5 (missing: %s); download <recording>_events_left.zip for each and extract it into <recording>/events_left/",
			from, len(missing), len(names), split, strings.Join(missing[:min(len(missing), 5)], ", "))
	}
	var paths []string
	for _, r := range recs {
		paths = append(paths, r.path)
	}
	p := &Plan{N: starts[len(starts)-1], Source: from + " (" + strings.Join(paths[:min(3, len(paths))], ", ") + "…)", Classes: []string{},
		Group: 16}
	p.Open = func() (Decoder, error) {
		return &dsecDecoder{recs: recs, starts: starts, window: w, readers: map[int]*h5events.Reader{}}, nil
	}
	return p, nil
}

func openDSEC(path string) (*h5events.Reader, error) {
	src, err := h5events.Open(path, formats.Options{})
	if err != nil {
		return nil, err
	}
	r, ok := src.Events.(*h5events.Reader)
	if !ok {
		src.Close()
		return nil, fmt.Errorf("%s is not one recording", path)
	}
	return r, nil
}

type dsecDecoder struct {
	recs    []dsecRecording
	starts  []int
	window  int64
	readers map[int]*h5events.Reader
	buf     *events.Batch
}

func (d *dsecDecoder) ReadSample(i int, dst *events.Sample) error {
	k := sort.SearchInts(d.starts, i+1) - 1
	rec := d.recs[k]
	r := d.readers[k]
	if r == nil {
		var err error
		if r, err = openDSEC(rec.path); err != nil {
			return err
		}
		d.readers[k] = r
	}
	t0 := rec.first + int64(i-d.starts[k])*d.window
	t1 := t0 + d.window
	dst.Reset()
	dst.ID = fmt.Sprintf("%s@%d", rec.name, t0)
	lo, err := r.SearchTime(t0)
	if err != nil {
		return err
	}
	hi, err := r.SearchTime(t1)
	if err != nil {
		return err
	}
	if err := r.Seek(lo); err != nil {
		return err
	}
	if d.buf == nil {
		d.buf = events.NewBatch(1 << 16)
	}
	for left := hi - lo; left > 0; {
		// Read fills up to cap(T): a view of the buffer capped at what the window still needs.
		n := min(uint64(cap(d.buf.T)), left)
		b := &events.Batch{T: d.buf.T[:0:n], X: d.buf.X[:0:n], Y: d.buf.Y[:0:n], P: d.buf.P[:0:n]}
		err := r.Read(b)
		if b.Len() == 0 && err == nil {
			err = io.ErrUnexpectedEOF
		}
		dst.Events.AppendBatch(b)
		left -= uint64(b.Len())
		if err != nil && !(err == io.EOF && left == 0) {
			return err
		}
	}
	return nil
}

func (d *dsecDecoder) Close() error {
	for _, r := range d.readers {
		r.Close()
	}
	return nil
}
