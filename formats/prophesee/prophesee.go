// Package prophesee reads Prophesee / Metavision event files — `.raw` in EVT 2.0 and EVT 3.0 and `.dat`
// (versions 1 and 2) — and writes EVT 2.0 and DAT v2 (FORMATS.md §4). Readers stream in constant memory:
// the word decoders keep their state (time base, y, vector base) across buffer refills, drop and count
// out-of-sensor events, skip and count reserved words, and expose external triggers through
// RawReader.Triggers.
package prophesee

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

var rawParams = map[string]string{
	"evt":    "encoding of a .raw file whose header does not say: 2 or 3",
	"endian": "word byte order: little (default) or big (sensor configured for big-endian output)",
}

func init() {
	for _, v := range []int{2, 3} {
		v := v
		f := &formats.Format{
			Name:        []string{2: "evt2", 3: "evt3"}[v],
			Description: []string{2: "Prophesee .raw EVT 2.0 (32-bit words; writes TIME_HIGH + CD words)", 3: "Prophesee .raw EVT 3.0 (16-bit words, vectorised; read only)"}[v],
			Extensions:  []string{".raw"},
			Detect:      func(head []byte) bool { return detectRaw(head) == v },
			Open:        func(path string, o formats.Options) (formats.Source, error) { return Open(path, o, v) },
			Params:      rawParams,
		}
		if v == 2 {
			f.Create = func(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
				if meta.Kind == events.KindDataset {
					return nil, errors.New("evt2 writes one recording per file, not a dataset")
				}
				return CreateEVT2(path, geometryFor(meta, o))
			}
		}
		formats.Register(f)
	}
	formats.Register(&formats.Format{
		Name:        "dat",
		Description: "Prophesee .dat (Event2D/EventCD, versions 1 and 2; writes version 2)",
		Extensions:  []string{".dat"},
		Detect:      func(head []byte) bool { return formats.HasPrefix(head, "% Data file containing") },
		Open:        func(path string, o formats.Options) (formats.Source, error) { return OpenDAT(path, o) },
		Create: func(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
			if meta.Kind == events.KindDataset {
				return nil, errors.New("dat writes one recording per file, not a dataset")
			}
			return CreateDAT(path, geometryFor(meta, o))
		},
	})
}

func geometryFor(meta events.Meta, o formats.Options) events.Geometry {
	if o.Sensor.Known() {
		return o.Sensor
	}
	return meta.Geometry
}

// detectRaw returns the EVT version a RAW header declares in its first bytes (`% evt 2.0`, `% evt 3.0`,
// `% format EVT2…`, `% format EVT3…`), or 0. The `% evt` line may be the last header line, so every `%`
// line in head is examined.
func detectRaw(head []byte) int {
	for len(head) > 0 && head[0] == '%' {
		line := head
		i := bytes.IndexByte(head, '\n')
		if i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		s := strings.TrimSpace(strings.TrimPrefix(string(line), "%"))
		switch {
		case strings.HasPrefix(s, "evt 2.0"), strings.HasPrefix(strings.ToUpper(s), "FORMAT EVT2;"), strings.ToUpper(s) == "FORMAT EVT2":
			return 2
		case strings.HasPrefix(s, "evt 3.0"), strings.HasPrefix(strings.ToUpper(s), "FORMAT EVT3;"), strings.ToUpper(s) == "FORMAT EVT3":
			return 3
		case s == "end":
			return 0
		}
	}
	return 0
}

// DecodeRaw decodes a whole in-memory RAW file into dst (appending) and returns its triggers. The events
// before a fault are kept and the fault is returned as a *events.DecodeError. It is the fuzz entry point.
func DecodeRaw(data []byte, name string, o formats.Options, defVersion int, dst *events.Batch) ([]Trigger, error) {
	r, err := NewRawReader(io.NopCloser(bytes.NewReader(data)), name, o, defVersion, memBuffer(data))
	if err != nil {
		return nil, err
	}
	var trig []Trigger
	buf := events.NewBatch(min(1<<12, len(data)+1))
	for {
		err := r.Read(buf)
		dst.AppendBatch(buf)
		trig = append(trig, r.Triggers()...)
		if err == io.EOF {
			return trig, nil
		}
		if err != nil {
			return trig, err
		}
	}
}

// DecodeDAT decodes a whole in-memory DAT file into dst (appending), like DecodeRaw.
func DecodeDAT(data []byte, name string, o formats.Options, dst *events.Batch) error {
	r, err := NewDATReader(io.NopCloser(bytes.NewReader(data)), name, o, memBuffer(data))
	if err != nil {
		return err
	}
	b, err := events.ReadAll(r)
	dst.AppendBatch(b)
	return err
}

// memBuffer sizes the read buffer for an in-memory file: no bigger than the data (fuzzing calls this
// millions of times), no bigger than the streaming default.
func memBuffer(data []byte) int { return min(max(len(data)+1, 64), defaultBuffer) }
