package prophesee

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
)

const (
	defaultBuffer = 1 << 20
	// maxHeader caps the ASCII header (FORMATS.md §0.5): a header is streamed, never trusted to be small.
	maxHeader = 64 << 20
)

// input is a refillable window over a file that remembers the file offset of every byte, so decoders can
// name the exact byte of a fault while reading in constant memory.
type input struct {
	name string
	f    io.Reader
	buf  []byte
	r, w int   // unread bytes are buf[r:w]
	base int64 // file offset of buf[0]
	eof  bool
	err  error // read failure, reported after the good events
}

func (in *input) offset() int64 { return in.base + int64(in.r) }

// fill moves the unread tail to the front and reads until the buffer is full or the file ends.
func (in *input) fill() {
	n := copy(in.buf, in.buf[in.r:in.w])
	in.base += int64(in.r)
	in.r, in.w = 0, n
	for in.w < len(in.buf) && !in.eof {
		m, err := in.f.Read(in.buf[in.w:])
		in.w += m
		if err == io.EOF {
			in.eof = true
		} else if err != nil {
			in.eof = true
			in.err = &events.DecodeError{Path: in.name, Offset: in.base + int64(in.w), Msg: "read failed", Err: err}
		}
	}
}

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

// readHeader consumes the `%` lines at the start of in (FORMATS.md §4.1): the header ends after a
// `% end` line, or before the first line that does not start with `%`. The buffer grows for a long line.
func readHeader(in *input) (header, error) {
	h := header{keys: map[string]string{}}
	for {
		if in.r == in.w {
			if in.eof {
				break
			}
			in.fill()
			continue
		}
		if in.buf[in.r] != '%' {
			break
		}
		i := bytes.IndexByte(in.buf[in.r:in.w], '\n')
		if i < 0 && !in.eof {
			if in.r == 0 && in.w == len(in.buf) {
				if len(in.buf) >= maxHeader {
					return h, &events.DecodeError{Path: in.name, Offset: in.offset(), Msg: "header line is longer than 64 MiB"}
				}
				nb := make([]byte, 2*len(in.buf))
				copy(nb, in.buf[:in.w])
				in.buf = nb
			}
			in.fill()
			continue
		}
		end := in.w
		if i >= 0 {
			end = in.r + i
		}
		line := strings.TrimSuffix(string(in.buf[in.r:end]), "\r")
		in.r = min(end+1, in.w)
		h.bytes = in.offset()
		if h.bytes > maxHeader {
			return h, &events.DecodeError{Path: in.name, Offset: in.offset(), Msg: "header is longer than 64 MiB"}
		}
		body := strings.TrimSpace(strings.TrimPrefix(line, "%"))
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

// plugins maps camera plugin names to sensor sizes (FORMATS.md §4.1, step 4); the first match wins, so
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

// geometry applies the priority order of FORMATS.md §4.1: `% format` keys, `% geometry`, `% Width/Height`,
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

// Trigger is one external trigger edge (EVT2/EVT3 EXT_TRIGGER word).
type Trigger struct {
	T     int64 // µs, same clock as the CD events
	ID    uint8 // trigger channel
	Value uint8 // 1 rising edge, 0 falling edge
}
