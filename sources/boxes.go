package sources

import (
	"fmt"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/prophesee/bbox"
)

// Open opens an input as formats.Open does; a recording with a box label file beside it (Prophesee's
// <name>_bbox.npy beside <name>_td.dat or <name>.raw, as the Gen1 and 1 Megapixel datasets ship them)
// carries its boxes: Source.Events is an events.BoxReader, its Meta says Boxes, with the class names of
// the dataset its sensor says. A recording that carries boxes already (an Arrow recording with a boxes
// column) is left as it is.
func Open(path, from string, o formats.Options) (formats.Source, *formats.Format, error) {
	src, f, err := formats.Open(path, from, o)
	if err != nil || src.Events == nil || src.Events.Meta().Boxes {
		return src, f, err
	}
	label := bbox.LabelFile(path)
	if label == "" {
		return src, f, nil
	}
	boxes, err := bbox.Read(label)
	if err != nil {
		src.Close()
		return formats.Source{}, f, fmt.Errorf("the box labels of %s: %w", path, err)
	}
	events.SortBoxes(boxes)
	r := events.WithBoxes(src.Events, boxes)
	if m := r.Meta(); m.BoxClasses == nil {
		g := m.Geometry
		if o.Sensor.Known() {
			g = o.Sensor
		}
		r = withBoxClasses{r, bbox.ClassesFor(g)}
	}
	return formats.Source{Events: r}, f, nil
}

// withBoxClasses names the box classes of a BoxReader.
type withBoxClasses struct {
	events.BoxReader
	classes []string
}

func (r withBoxClasses) Meta() events.Meta {
	m := r.BoxReader.Meta()
	m.BoxClasses = r.classes
	return m
}

// isLabelFile reports whether path is the box label file of a recording beside it (not a sample).
func isLabelFile(path string, siblings map[string]bool) bool {
	for _, rec := range bbox.RecordingsOf(path) {
		if siblings[rec] {
			return true
		}
	}
	return false
}
