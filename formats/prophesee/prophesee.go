// Package prophesee reads Prophesee / Metavision event files — `.raw` in EVT 2.0 and EVT 3.0 and `.dat`
// (versions 1 and 2) — and writes EVT 2.0, EVT 3.0 and DAT v2. Readers stream in constant memory: the
// word decoders keep their state (time base, y, vector base) across buffer refills, drop and count
// out-of-sensor events, skip and count reserved words, and expose external triggers through
// RawReader.Triggers (events.TriggerReader).
package prophesee

import (
	"bytes"
	"io"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

var rawParams = map[string]string{
	ParamEVT: "encoding of a .raw file whose header does not say: 2 or 3",
	"endian": "word byte order: little (default) or big (sensor configured for big-endian output)",
}

func init() {
	// EVT 2.0 and 3.0 share the extension; the header tells them apart. A .raw output is EVT 2.0.
	for _, v := range []struct {
		version  string
		desc     string
		create   func(string, events.Meta, formats.Options) (formats.Sink, error)
		extremes []events.Event
	}{
		{"2", "Prophesee .raw EVT 2.0 (32-bit words; writes TIME_HIGH + CD words)",
			func(p string, m events.Meta, o formats.Options) (formats.Sink, error) {
				return formats.EventSink(CreateEVT2(p, m, o))
			},
			[]events.Event{{T: 0, X: 2047, Y: 0, P: 1}, {T: 63, X: 0, Y: 2047}, {T: 64, X: 2047, Y: 2047, P: 1},
				{T: 1 << 34, X: 5, Y: 6}, {T: 1<<34 + 1<<33, X: 7, Y: 8, P: 1}}},
		{"3", "Prophesee .raw EVT 3.0 (16-bit words, vectorised; writes TIME_HIGH, TIME_LOW, ADDR_Y, ADDR_X words)",
			func(p string, m events.Meta, o formats.Options) (formats.Sink, error) {
				return formats.EventSink(CreateEVT3(p, m, o))
			},
			[]events.Event{{T: 0, X: 2047, Y: 0, P: 1}, {T: 4095, X: 0, Y: 2047}, {T: 4096, X: 2047, Y: 2047, P: 1},
				{T: 1<<24 - 1, X: 1, Y: 1}, {T: 1 << 24, X: 2, Y: 2, P: 1}, {T: 5<<24 + 3, X: 3, Y: 3}}},
	} {
		version := v.version
		formats.Register(&formats.Format{
			Name:        "evt" + version,
			Description: v.desc,
			Extensions:  []string{".raw"},
			Detect:      func(head []byte) bool { return strconv.Itoa(detectRaw(head)) == version },
			NewReader: func(r io.Reader, name string, o formats.Options) (formats.Source, error) {
				return formats.EventSource(NewRawReader(r, name, o.WithDefault(ParamEVT, version)))
			},
			Create:       v.create,
			WriteDefault: version == "2",
			Params:       rawParams,
			Conformance:  formats.Conformance{Geometry: events.Geometry{Width: 2048, Height: 2048}, Extremes: v.extremes},
		})
	}
	formats.Register(&formats.Format{
		Name:        "dat",
		Description: "Prophesee .dat (Event2D/EventCD, versions 1 and 2; writes version 2)",
		Extensions:  []string{".dat"},
		Detect:      func(head []byte) bool { return formats.HasPrefix(head, "% Data file containing") },
		NewReader: func(r io.Reader, name string, o formats.Options) (formats.Source, error) {
			return formats.EventSource(NewDATReader(r, name, o))
		},
		Create: func(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
			return formats.EventSink(CreateDAT(path, meta, o))
		},
		Conformance: formats.Conformance{
			Geometry: events.Geometry{Width: 16384, Height: 16384},
			Extremes: []events.Event{{T: 0, X: 16383, Y: 0, P: 1}, {T: 1<<31 - 1, X: 0, Y: 16383},
				{T: 1<<32 - 2, X: 16383, Y: 16383, P: 1}, {T: 1<<32 + 5, X: 1, Y: 2}},
		},
	})
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
func DecodeRaw(data []byte, name string, o formats.Options, dst *events.Batch) ([]events.Trigger, error) {
	r, err := NewRawReader(bytes.NewReader(data), name, o)
	if err != nil {
		return nil, err
	}
	var trig []events.Trigger
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
	r, err := NewDATReader(bytes.NewReader(data), name, o)
	if err != nil {
		return err
	}
	b, err := events.ReadAll(r)
	dst.AppendBatch(b)
	return err
}
