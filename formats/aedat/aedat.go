// Package aedat reads the iniVation/jAER AEDAT 1.0, 2.0, 3.0 and 3.1 event files and writes AEDAT 1.0,
// 2.0 and 3.1 (docs/formats-aedat.md). AEDAT 4.0 belongs to package formats/aedat4.
//
// Both readers stream in constant memory: the file is read in large chunks, decoded by tight loops
// straight into the caller's batch, and never held whole. Orientation follows evtool's convention
// (origin top-left, y down, 1 = ON): jAER's raw DVS128/DAVIS addresses are flipped in x and y, AEDAT 3.0
// (origin lower-left) is flipped in y, AEDAT 3.1 is used as stored.
//
// Records that are not polarity events never enter the event stream: external-input, sync and special
// events become triggers (the Triggers method of Reader, an events.TriggerReader), APS/IMU words and other packet types are
// skipped and counted in Meta().Extra.
package aedat

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
)

// Registry names of the three versions this package handles.
const (
	FormatV1 = "aedat1"
	FormatV2 = "aedat2"
	FormatV3 = "aedat3"
)

// Magic starts every versioned AEDAT file: "#!AER-DAT" followed by major.minor.
const Magic = "#!AER-DAT"

// Option keys (-O key=value).
const (
	ParamChip            = "chip"
	ParamDavisBit10      = "davis-bit10"
	ParamSource          = "source"
	ParamEventsPerPacket = "events-per-packet"
)

func init() {
	params := map[string]string{
		ParamChip:       "AEDAT 1.0/2.0: sensor layout (dvs128, davis240, davis346, davis640); on read it overrides the header's AEChip, on write it picks the layout (default: from the sensor size)",
		ParamDavisBit10: "AEDAT 2.0 DAVIS: words with bit 10 set are external-input triggers (trigger, the default) or, as jAER's v2e noise labels, DVS events (event)",
		ParamSource:     "AEDAT 3.x: id of the event source to decode when the header declares several (default: the first #Source line; with one declared source every packet is decoded)",
	}
	newReader := func(r io.Reader, name string, o formats.Options) (formats.Source, error) {
		return formats.EventSource(NewReader(r, name, o))
	}
	// Timestamps are 32-bit on disk: a start offset in the header takes any first time, gaps stay below 2^31 µs.
	const t0 = -5_000_000_000
	extremes2 := []events.Event{{T: t0, X: 127, Y: 0, P: 1}, {T: t0 + 1<<31 - 1, X: 0, Y: 127},
		{T: t0 + 1<<32 - 2, X: 127, Y: 127, P: 1}, {T: t0 + 3<<31 - 3, X: 1, Y: 2}}
	formats.Register(&formats.Format{
		Name:        FormatV1,
		Description: "jAER AEDAT 1.0 (6-byte DVS128 records)",
		Extensions:  []string{".aedat"},
		Detect:      func(head []byte) bool { return formats.HasPrefix(head, Magic+"1.") },
		NewReader:   newReader,
		Create: func(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
			return formats.EventSink(Create1(path, meta, o))
		},
		Params:      map[string]string{ParamChip: params[ParamChip]},
		Conformance: formats.Conformance{Geometry: events.Geometry{Width: 128, Height: 128}, Extremes: extremes2},
	})
	formats.Register(&formats.Format{
		Name:        FormatV2,
		Description: "jAER AEDAT 2.0 (DVS128, DAVIS240/346/640 addresses; triggers, APS/IMU skipped)",
		Extensions:  []string{".aedat"},
		Detect:      func(head []byte) bool { return formats.HasPrefix(head, Magic+"2.") },
		NewReader:   newReader,
		Create: func(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
			return formats.EventSink(Create2(path, meta, o))
		},
		Params:      map[string]string{ParamChip: params[ParamChip], ParamDavisBit10: params[ParamDavisBit10]},
		Conformance: formats.Conformance{Geometry: events.Geometry{Width: 128, Height: 128}, Extremes: extremes2},
	})
	formats.Register(&formats.Format{
		Name:        FormatV3,
		Description: "cAER/libcaer AEDAT 3.0/3.1 (polarity packets; special events as triggers; DVSGesture)",
		Extensions:  []string{".aedat"},
		Detect:      func(head []byte) bool { return formats.HasPrefix(head, Magic+"3.") },
		NewReader:   newReader,
		Create: func(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
			return formats.EventSink(Create31(path, meta, o))
		},
		WriteDefault: true,
		Params: map[string]string{
			ParamSource:          params[ParamSource],
			ParamEventsPerPacket: "AEDAT 3.1 writer: polarity events per packet (default 4096)",
		},
		Conformance: formats.Conformance{
			Geometry: events.Geometry{Width: 32768, Height: 32768},
			Extremes: []events.Event{{T: 0, X: 32767, Y: 0, P: 1}, {T: 1<<31 - 1, X: 0, Y: 32767},
				{T: 1 << 31, X: 32767, Y: 32767, P: 1}, {T: 1 << 50, X: 1, Y: 1}},
		},
	})
}

// Reader is what Open returns for every version: an event stream plus its triggers (the trigger records
// met during the most recent Read, in file order).
type Reader interface {
	events.TriggerReader
	// Version is the AEDAT version of the file: "1.0", "2.0", "3.0" or "3.1".
	Version() string
}

// Open opens an AEDAT 1.0, 2.0, 3.0 or 3.1 file; the version comes from its first line.
func Open(path string, o formats.Options) (Reader, error) {
	return input.Open(path, func(f *os.File) (Reader, error) { return NewReader(f, path, o) })
}

// NewReader reads an AEDAT stream from r (closed by Close when it is an io.Closer). name is used in
// errors and metadata. The header is parsed here; a header fault is returned as a *events.DecodeError.
func NewReader(r io.Reader, name string, o formats.Options) (Reader, error) {
	in := input.New(r, name)
	version, err := readVersion(in, name)
	if err != nil {
		return nil, err
	}
	switch version {
	case "1.0", "2.0":
		r2, err := newReader2(in, name, version, o)
		if err != nil {
			return nil, err
		}
		return r2, nil
	case "3.0", "3.1":
		r3, err := newReader3(in, name, version, o)
		if err != nil {
			return nil, err
		}
		return r3, nil
	case "4.0":
		return nil, &events.DecodeError{Path: name, Msg: "this is an AEDAT 4.0 file; it is read by format aedat4"}
	}
	return nil, &events.DecodeError{Path: name, Msg: fmt.Sprintf("unsupported AEDAT version %q (evtool reads 1.0, 2.0, 3.0, 3.1 and 4.0)", version)}
}

// readVersion consumes the "#!AER-DAT<major>.<minor>" line and returns the version, or "1.0" without
// consuming anything when the file does not start with the magic (the oldest jAER files have none).
func readVersion(in *input.Input, name string) (string, error) {
	in.Fill(maxVersionLine + 1)
	head := in.Bytes()
	if !bytes.HasPrefix(head, []byte(Magic)) {
		if in.Ended() && len(head) < len(Magic) && bytes.HasPrefix([]byte(Magic), head) && len(head) > 0 {
			return "", in.Truncated(int64(len(head)), "file ends inside the #!AER-DAT version line")
		}
		return "1.0", nil
	}
	if bytes.IndexByte(head[:min(len(head), maxVersionLine)], '\n') < 0 {
		if in.Ended() {
			return "", in.Truncated(int64(len(head)), "file ends inside the #!AER-DAT version line")
		}
		return "", in.Errorf(0, nil, "the #!AER-DAT version line does not end within 1 KiB")
	}
	line, err := in.Line(maxVersionLine)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(line[len(Magic):])), nil
}

const maxVersionLine = 1024
