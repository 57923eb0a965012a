package sources

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// ReadFile decodes a whole file of format f into dst (appending). An empty dst is read into directly, so
// a caller that reuses dst sample after sample (one per worker) allocates nothing per file once dst holds
// the largest file; what does not fit goes through a pooled batch.
func ReadFile(path string, f *formats.Format, o formats.Options, dst *events.Batch) error {
	_, err := readFile(path, f, o, dst, false)
	return err
}

// ReadFileMeta is ReadFile that also returns what the file says of itself once read (its header's
// sensor size, the format's details), so a caller needs no second opening for it.
func ReadFileMeta(path string, f *formats.Format, o formats.Options, dst *events.Batch) (events.Meta, error) {
	return readFile(path, f, o, dst, true)
}

// readFile is ReadFile, returning the file's Meta when wantMeta is set (a reader's Meta may allocate
// its details: not done for each of a dataset's thousands of files).
func readFile(path string, f *formats.Format, o formats.Options, dst *events.Batch, wantMeta bool) (events.Meta, error) {
	src, err := f.Open(path, o)
	if err != nil {
		return events.Meta{}, err
	}
	defer src.Close()
	r := src.Events
	if r == nil {
		return events.Meta{}, fmt.Errorf("%s is itself a dataset; convert it on its own", path)
	}
	meta := func() events.Meta {
		if wantMeta {
			return r.Meta()
		}
		return events.Meta{}
	}
	if dst.Len() == 0 {
		// Read resets its batch: only an empty dst can take the first events directly.
		if err := r.Read(dst); err != nil {
			if err == io.EOF {
				return meta(), nil
			}
			return events.Meta{}, err
		}
	}
	buf := scratch.Get().(*events.Batch)
	defer scratch.Put(buf)
	for {
		err := r.Read(buf)
		dst.AppendBatch(buf)
		if err == io.EOF {
			return meta(), nil
		}
		if err != nil {
			return events.Meta{}, err
		}
	}
}

// scratch holds the batches that ReadFile and Extent read through: reused, never sized per file.
var scratch = sync.Pool{New: func() any { return events.NewBatch(1 << 16) }}

// SensorOf returns the sensor size of a recording file: o.Sensor when set, else its header's, else (one
// pass over the events) the format's dataset knowledge applied to their extent.
func SensorOf(path string, f *formats.Format, o formats.Options) (events.Geometry, error) {
	if o.Sensor.Known() {
		return o.Sensor, nil
	}
	src, err := f.Open(path, o)
	if err != nil {
		return events.Geometry{}, err
	}
	g := src.Meta().Geometry
	src.Close()
	if g.Known() {
		return g, nil
	}
	ext, err := Extent(path, f, o)
	if err != nil {
		return events.Geometry{}, err
	}
	if !ext.Known() {
		return events.Geometry{}, events.SensorErrorf("%s: the file does not say its sensor size and holds no events to infer it from", path)
	}
	return Infer(f, ext), nil
}

// SamplesSensor returns the sensor size of a dataset file whose metadata does not say it: o.Sensor when
// set, else the format's dataset knowledge applied to the extent of all its samples (one canvas for
// every sample, never one per sample).
func SamplesSensor(path string, f *formats.Format, r events.SampleReader, o formats.Options) (events.Geometry, error) {
	if o.Sensor.Known() {
		return o.Sensor, nil
	}
	if g := r.Meta().Geometry; g.Known() {
		return g, nil
	}
	st := events.NewStats(events.Geometry{}, false)
	var s events.Sample
	for i := 0; i < r.NumSamples(); i++ {
		if err := r.ReadSample(i, &s); err != nil {
			return events.Geometry{}, err
		}
		st.Add(&s.Events)
	}
	ext := st.Extent()
	if !ext.Known() {
		return events.Geometry{}, events.SensorErrorf("%s: the dataset does not say its sensor size and holds no events to infer it from", path)
	}
	return Infer(f, ext), nil
}

// CommonSensor is the sensor size the files of a dataset state in their headers, when they state one: a
// dataset has one sensor, so files of different formats (OneFormat) or whose headers differ
// (SensorMismatch) are refused; the caller may instead give the sensor size (o.Sensor), which wins. It
// returns the zero Geometry when the files do not say (the caller then infers it from the events of all
// of them). It opens every file: a conversion, which opens them anyway, checks each header as it reads
// the file instead.
func CommonSensor(items []Item, o formats.Options) (events.Geometry, error) {
	if o.Sensor.Known() || len(items) == 0 {
		return o.Sensor, nil
	}
	if err := OneFormat(items); err != nil {
		return events.Geometry{}, err
	}
	var first events.Geometry
	for i, it := range items {
		src, err := it.Format.Open(it.Path, o)
		if err != nil {
			return events.Geometry{}, err
		}
		g := src.Meta().Geometry
		src.Close()
		switch {
		case i == 0 && !g.Known():
			return events.Geometry{}, nil // the format states no sensor: the events decide
		case i == 0:
			first = g
		case g != first:
			return events.Geometry{}, SensorMismatch(items[0], first, it, g)
		}
	}
	return first, nil
}

// OneFormat refuses the files of a dataset when they are of several formats, whose sensors may differ
// (34×34 N-MNIST .bin beside 78×42 N-CARS .dat).
func OneFormat(items []Item) error {
	if len(items) == 0 || !slices.ContainsFunc(items, func(it Item) bool { return it.Format != items[0].Format }) {
		return nil
	}
	counts := map[string]int{}
	var names []string
	for _, it := range items {
		if counts[it.Format.Name] == 0 {
			names = append(names, it.Format.Name)
		}
		counts[it.Format.Name]++
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s: %d files", n, counts[n])
	}
	return fmt.Errorf("%s and the other inputs mix formats (%s), whose sensors may differ: convert them apart, or give the sensor size",
		items[0].Path, strings.Join(parts, ", "))
}

// SensorMismatch is the error for a dataset file whose header states sensor g when the first file's
// states first.
func SensorMismatch(firstItem Item, first events.Geometry, it Item, g events.Geometry) error {
	return fmt.Errorf("%s states a %s sensor and %s a %s one: a dataset has one sensor size; convert them apart, or give the sensor size",
		firstItem.Path, first, it.Path, g)
}

// Extent reads a recording file once and returns the extent of its events (the largest x and y, plus one).
func Extent(path string, f *formats.Format, o formats.Options) (events.Geometry, error) {
	src, err := f.Open(path, o)
	if err != nil {
		return events.Geometry{}, err
	}
	defer src.Close()
	r := src.Events
	if r == nil {
		return events.Geometry{}, fmt.Errorf("%s is a dataset, not a recording", path)
	}
	st := events.NewStats(events.Geometry{}, false)
	buf := scratch.Get().(*events.Batch)
	defer scratch.Put(buf)
	for {
		err := r.Read(buf)
		st.Add(buf)
		if errors.Is(err, io.EOF) {
			return st.Extent(), nil
		}
		if err != nil {
			return events.Geometry{}, err
		}
	}
}

// Infer applies a format's dataset knowledge (formats.Format.InferGeometry: "fits 34x34: N-MNIST") to the
// extent of its events; without any, the extent is the sensor.
func Infer(f *formats.Format, extent events.Geometry) events.Geometry {
	if f != nil && f.InferGeometry != nil {
		return f.InferGeometry(extent)
	}
	return extent
}
