package prophesee

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/internal/input"
)

// maxHeader caps the ASCII header: a header is streamed, never trusted to be small.
const maxHeader = 64 << 20

// header holds the `%` lines of a RAW or DAT file: key (first word) → rest of the line.
type header struct {
	keys  map[string]string
	lines []string
	bytes int64
}

func (h header) get(key string) (string, bool) {
	v, ok := h.keys[strings.ToLower(key)]
	return v, ok
}

// readHeader consumes the `%` lines at the start of in: the header ends after a `% end` line, or before
// the first line that does not start with `%`.
func readHeader(in *input.Input) (header, error) {
	h := header{keys: map[string]string{}}
	for {
		if c, ok := in.PeekByte(); !ok || c != '%' {
			break
		}
		raw, err := in.Line(maxHeader - int(in.Offset()))
		if err != nil {
			return h, err
		}
		h.bytes = in.Offset()
		body := strings.TrimSpace(strings.TrimPrefix(string(raw), "%"))
		if body == "end" {
			break
		}
		h.lines = append(h.lines, body)
		key, val, _ := strings.Cut(body, " ")
		key = strings.ToLower(key)
		if _, dup := h.keys[key]; !dup {
			h.keys[key] = strings.TrimSpace(val)
		}
	}
	return h, nil
}

// encoding returns the RAW encoding the header declares: 2 or 3, 0 when it does not say, or an error for
// an encoding evtool does not read (EVT 2.1, EVT 4).
func (h header) encoding() (int, error) {
	name := ""
	if v, ok := h.get("format"); ok {
		name, _, _ = strings.Cut(v, ";")
		name = strings.ToUpper(strings.TrimSpace(name))
	} else if v, ok := h.get("evt"); ok {
		name = "EVT" + strings.ReplaceAll(strings.TrimSpace(v), ".0", "")
	}
	switch name {
	case "":
		return 0, nil
	case "EVT2":
		return 2, nil
	case "EVT3":
		return 3, nil
	}
	return 0, fmt.Errorf("the header declares encoding %s; evtool reads EVT 2.0 and EVT 3.0 only", name)
}

// plugins maps camera plugin names to sensor sizes (the plugin table of docs/formats-prophesee-es.md#geometry-raw-and-dat); the first match wins, so
// longer, more specific names come first.
var plugins = []struct {
	substr string
	g      events.Geometry
}{
	{"genx320", events.Geometry{Width: 320, Height: 320}},
	{"imx636", events.Geometry{Width: 1280, Height: 720}},
	{"gen41", events.Geometry{Width: 1280, Height: 720}},
	{"gen4", events.Geometry{Width: 1280, Height: 720}},
	{"gen3", events.Geometry{Width: 640, Height: 480}},
}

// geometry applies the priority order of docs/formats-prophesee-es.md#geometry-raw-and-dat: `% format` keys, `% geometry`, `% Width/Height`,
// the plugin table, then the user's --sensor. It also names where the size came from.
func (h header) geometry(sensor events.Geometry) (events.Geometry, string) {
	if v, ok := h.get("format"); ok {
		var g events.Geometry
		for _, kv := range strings.Split(v, ";")[1:] {
			k, val, _ := strings.Cut(kv, "=")
			n, _ := strconv.Atoi(strings.TrimSpace(val))
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "width":
				g.Width = n
			case "height":
				g.Height = n
			}
		}
		if g.Known() {
			return g, "format"
		}
	}
	if v, ok := h.get("geometry"); ok {
		ws, hs, _ := strings.Cut(strings.ToLower(v), "x")
		w, _ := strconv.Atoi(strings.TrimSpace(ws))
		hh, _ := strconv.Atoi(strings.TrimSpace(hs))
		if g := (events.Geometry{Width: w, Height: hh}); g.Known() {
			return g, "geometry"
		}
	}
	ws, _ := h.get("width")
	hs, _ := h.get("height")
	w, _ := strconv.Atoi(ws)
	hh, _ := strconv.Atoi(hs)
	if g := (events.Geometry{Width: w, Height: hh}); g.Known() {
		return g, "width/height"
	}
	if p, ok := h.get("plugin_name"); ok {
		p = strings.ToLower(p)
		for _, e := range plugins {
			if strings.Contains(p, e.substr) {
				return e.g, "plugin_name"
			}
		}
	}
	if sensor.Known() {
		return sensor, "--sensor"
	}
	return events.Geometry{}, ""
}

// limit returns the exclusive coordinate bounds used to drop out-of-range events; 1<<16 when unknown.
func limit(g events.Geometry) (uint32, uint32) {
	if !g.Known() {
		return 1 << 16, 1 << 16
	}
	return uint32(g.Width), uint32(g.Height)
}
