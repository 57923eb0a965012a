package sources

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// ReadFile decodes a whole file of format f into dst (appending). An empty dst is read into directly, so
// a caller that reuses dst sample after sample (one per worker) allocates nothing per file once dst holds
// the largest file; what does not fit goes through a pooled batch.
func ReadFile(path string, f *formats.Format, o formats.Options, dst *events.Batch) error {
	_, err := ReadFileMeta(path, f, o, dst)
	return err
}

// ReadFileMeta is ReadFile that also returns what the file says of itself once read (its header's
// sensor size, the format's details), so a caller needs no second opening for it.
func ReadFileMeta(path string, f *formats.Format, o formats.Options, dst *events.Batch) (events.Meta, error) {
	src, err := f.Open(path, o)
	if err != nil {
		return events.Meta{}, err
	}
	defer src.Close()
	r := src.Events
	if r == nil {
		return events.Meta{}, fmt.Errorf("%s is itself a dataset; convert it on its own", path)
	}
	if dst.Len() == 0 {
		// Read resets its batch: only an empty dst can take the first events directly.
		if err := r.Read(dst); err != nil {
			if err == io.EOF {
				return r.Meta(), nil
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
			return r.Meta(), nil
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
	return Infer(f, ext), nil
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
