package aedat

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/internal/input"
)

// Header lines with a meaning for the readers.
const (
	endOfASCIIHeader = "#End Of ASCII Header" // jAER since 2016; capitals differ from the next one
	endOfPreferences = "#End of Preferences for this AEChip"
	endHeader3       = "#!END-HEADER"
	// timeOffsetKey is the comment evtool's AEDAT 1.0/2.0 writer records its start offset in; the
	// reader adds the offset back, so the file's timestamps mean what they meant before writing.
	timeOffsetKey = "evtool-time-offset-us:"
	// sensorKey is the comment evtool's AEDAT 3.1 writer adds when the device name cannot tell the size.
	sensorKey = "evtool-sensor:"
)

// header2 is what an AEDAT 1.0/2.0 header tells.
type header2 struct {
	size        int64 // bytes from the start of the file to the first data byte
	lines       int   // header lines, the version line included
	chipClass   string
	hardware    string
	created     string // "# Creation date:" as written
	createdMs   string // wall-clock ms of "# Creation time: System.currentTimeMillis() …"
	dataStartMs string // wall-clock ms of "# DataStartTime: …"
	timeOffset  int64
	endMarker   bool // "#End Of ASCII Header" was present
}

// parseHeader2 reads the `#` lines after the version line. Data starts right after
// "#End Of ASCII Header", else at the first line that does not begin with '#'. Once the preferences block
// has ended, a '#' starts a header line only if a short printable line follows; otherwise it is data.
// AEDAT 1.0 headers get that check for every line (a 1.0 address can start with 0x23 for rawY = 35).
func parseHeader2(in *input.Input, name string, v1 bool, versionLines int) (*header2, error) {
	h := &header2{lines: versionLines}
	strict := v1
	for {
		c, ok := in.PeekByte()
		if !ok || c != '#' || (strict && !plausibleTextLine(in, v1)) {
			break
		}
		start := in.Offset()
		budget := maxHeaderBytes - int(start)
		if budget <= 0 {
			return nil, &events.DecodeError{Path: name, Offset: start, Msg: "ASCII header is longer than 64 MiB"}
		}
		raw, err := in.Line(budget)
		if err != nil {
			return nil, err
		}
		h.lines++
		line := string(raw)
		if line == endOfASCIIHeader {
			h.endMarker = true
			break
		}
		if strings.HasPrefix(line, endOfPreferences) {
			strict = true
		}
		key, val, ok := strings.Cut(strings.TrimSpace(line[1:]), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "AEChip":
			h.chipClass = val
		case "HardwareInterface":
			h.hardware = val
		case "Creation date":
			h.created = val
		case "Creation time":
			h.createdMs = lastField(val)
		case "DataStartTime":
			h.dataStartMs = lastField(val)
		case strings.TrimSuffix(timeOffsetKey, ":"):
			off, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return nil, &events.DecodeError{Path: name, Offset: start, Msg: fmt.Sprintf("bad %s line %q", timeOffsetKey, line)}
			}
			h.timeOffset = off
		}
	}
	h.size = in.Offset()
	return h, nil
}

// lastField returns the last space-separated word ("System.currentTimeMillis() 1531242221262" → the ms).
func lastField(s string) string {
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		return s[i+1:]
	}
	return s
}

// source3 is one "#Source <id>: <device>" line of an AEDAT 3.x header.
type source3 struct {
	id     int
	device string
}

// header3 is what an AEDAT 3.x header tells.
type header3 struct {
	size      int64
	lines     int
	format    string
	sources   []source3 // current sources ("#-Source" lines of earlier recordings are not)
	startTime string
	sensor    events.Geometry // from an evtool-sensor comment
	endMarker bool
}

// parseHeader3 reads `#` lines up to "#!END-HEADER" (LF or CRLF). Without that line (AEDAT 3.0, or a
// damaged 3.1 header) data starts at the first line not beginning with '#'.
func parseHeader3(in *input.Input, name string, versionLines int) (*header3, error) {
	h := &header3{lines: versionLines}
	for {
		c, ok := in.PeekByte()
		if !ok || c != '#' {
			break
		}
		start := in.Offset()
		budget := maxHeaderBytes - int(start)
		if budget <= 0 {
			return nil, &events.DecodeError{Path: name, Offset: start, Msg: "ASCII header is longer than 64 MiB"}
		}
		raw, err := in.Line(budget)
		if err != nil {
			return nil, err
		}
		h.lines++
		line := strings.TrimRight(string(raw), " ")
		if line == endHeader3 {
			h.endMarker = true
			break
		}
		switch {
		case strings.HasPrefix(line, "#Format:"):
			h.format = strings.TrimSpace(line[len("#Format:"):])
		case strings.HasPrefix(line, "#Source "):
			idText, device, ok := strings.Cut(line[len("#Source "):], ":")
			id, err := strconv.Atoi(strings.TrimSpace(idText))
			if ok && err == nil && len(h.sources) < 1024 {
				h.sources = append(h.sources, source3{id: id, device: strings.TrimSpace(device)})
			}
		case strings.HasPrefix(line, "#Start-Time:"):
			h.startTime = strings.TrimSpace(line[len("#Start-Time:"):])
		case strings.HasPrefix(line, "#"+sensorKey):
			if g, err := parseGeometry(strings.TrimSpace(line[1+len(sensorKey):])); err == nil {
				h.sensor = g
			}
		}
	}
	h.size = in.Offset()
	return h, nil
}

// parseGeometry parses "WxH".
func parseGeometry(s string) (events.Geometry, error) {
	ws, hs, ok := strings.Cut(s, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 || w > 1<<15 || h > 1<<15 {
		return events.Geometry{}, fmt.Errorf("bad sensor size %q; want WxH", s)
	}
	return events.Geometry{Width: w, Height: h}, nil
}

// maxHeaderBytes caps an ASCII header (real DAVIS240C headers are ~300 KB; anything past 64 MiB is not a
// header).
const maxHeaderBytes = 64 << 20

// plausibleTextLine reports whether the bytes ahead form a short text line: an LF within 1 KiB and only
// printable ASCII (or tab) before it, a CR allowed right before the LF. With allowUTF8, bytes ≥ 0x80 also
// pass. It guards the header end against binary data that happens to start with '#' (0x23). Printable
// bytes up to the end of the input are a line cut short, not data.
func plausibleTextLine(in *input.Input, allowUTF8 bool) bool {
	const limit = 1024
	in.Fill(limit + 1)
	ahead := in.Bytes()
	if len(ahead) > limit+1 {
		ahead = ahead[:limit+1]
	}
	for i, c := range ahead {
		switch {
		case c == '\n':
			return true
		case c == '\r':
			if i+1 == len(ahead) && in.Ended() {
				return true // a line cut after its CR
			}
			if i+1 >= len(ahead) || ahead[i+1] != '\n' {
				return false
			}
		case c == '\t' || (c >= 0x20 && c < 0x7F):
		case c >= 0x80 && allowUTF8:
		default:
			return false
		}
	}
	return in.Ended() && len(ahead) <= limit
}
