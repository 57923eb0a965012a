// Package aedat reads the iniVation/jAER AEDAT 1.0, 2.0, 3.0 and 3.1 event files and writes AEDAT 2.0
// and 3.1 (FORMATS.md §2.1–2.4). AEDAT 4.0 belongs to package formats/aedat4.
//
// Both readers stream in constant memory: the file is read in large chunks, decoded by tight loops
// straight into the caller's batch, and never held whole. Orientation follows evtool's convention
// (origin top-left, y down, 1 = ON): jAER's raw DVS128/DAVIS addresses are flipped in x and y, AEDAT 3.0
// (origin lower-left) is flipped in y, AEDAT 3.1 is used as stored.
//
// Records that are not polarity events never enter the event stream: external-input, sync and special
// events become triggers (the Triggers method of Reader), APS/IMU words and other packet types are
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
	formats.Register(&formats.Format{
		Name:        FormatV1,
		Description: "jAER AEDAT 1.0 (6-byte DVS128 records; read only)",
		Extensions:  []string{".aedat"},
		Detect:      func(head []byte) bool { return formats.HasPrefix(head, Magic+"1.") },
		Open:        open,
		Params:      map[string]string{ParamChip: params[ParamChip]},
	})
	formats.Register(&formats.Format{
		Name:        FormatV2,
		Description: "jAER AEDAT 2.0 (DVS128, DAVIS240/346/640 addresses; triggers, APS/IMU skipped)",
		Extensions:  []string{".aedat"},
		Detect:      func(head []byte) bool { return formats.HasPrefix(head, Magic+"2.") },
		Open:        open,
		Create:      create2,
		Params:      map[string]string{ParamChip: params[ParamChip], ParamDavisBit10: params[ParamDavisBit10]},
	})
	formats.Register(&formats.Format{
		Name:        FormatV3,
		Description: "cAER/libcaer AEDAT 3.0/3.1 (polarity packets; special events as triggers; DVSGesture)",
		Extensions:  []string{".aedat"},
		Detect:      func(head []byte) bool { return formats.HasPrefix(head, Magic+"3.") },
		Open:        open,
		Create:      create3,
		Params: map[string]string{
			ParamSource:          params[ParamSource],
			ParamEventsPerPacket: "AEDAT 3.1 writer: polarity events per packet (default 4096)",
		},
	})
}

// Reader is what Open returns for every version: an event stream plus its triggers.
type Reader interface {
	events.Reader
	// Triggers returns the trigger records met during the most recent Read call, in file order. The
	// slice is reused by the next Read.
	Triggers() []Trigger
	// Version is the AEDAT version of the file: "1.0", "2.0", "3.0" or "3.1".
	Version() string
}

// TriggerKind tells what a trigger record stands for.
type TriggerKind uint8

const (
	TriggerSync     TriggerKind = iota // DVS128 sync/external input (address bit 15)
	TriggerSpecial                     // jAER special event (address bit 31, DVS128 layout)
	TriggerRising                      // external input, rising edge
	TriggerFalling                     // external input, falling edge
	TriggerPulse                       // external input, pulse
	TriggerExternal                    // DAVIS external input whose edge code is not one of the above
	TriggerReset                       // AEDAT 3.x: the device clock restarted (a new time segment begins)
)

var triggerNames = [...]string{"sync", "special", "rising", "falling", "pulse", "external", "reset"}

func (k TriggerKind) String() string {
	if int(k) < len(triggerNames) {
		return triggerNames[k]
	}
	return fmt.Sprintf("trigger(%d)", uint8(k))
}

// Trigger is one non-polarity timing record: a sync pulse, an external-input edge or a clock reset.
type Trigger struct {
	T    int64 // µs, on the same clock as the events
	Kind TriggerKind
	Raw  uint32 // AEDAT 1.0/2.0: the raw address word; AEDAT 3.x: the special event's data word
}

// Open opens an AEDAT 1.0, 2.0, 3.0 or 3.1 file; the version comes from its first line.
func Open(path string, o formats.Options) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, path, o)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func open(path string, o formats.Options) (formats.Source, error) { return Open(path, o) }

// NewReader reads an AEDAT stream from src (closed by Close when it is an io.Closer). name is used in
// errors and metadata. The header is parsed here; a header fault is returned as a *events.DecodeError.
func NewReader(src io.Reader, name string, o formats.Options) (Reader, error) {
	return newReaderSize(src, name, o, defaultBufSize)
}

// newReaderSize is NewReader with a chosen initial buffer size (tests use tiny ones to exercise refills).
func newReaderSize(src io.Reader, name string, o formats.Options, bufSize int) (Reader, error) {
	in := newInput(src, bufSize)
	version, err := readVersion(in, name)
	if err != nil {
		return nil, err
	}
	switch version {
	case "1.0", "2.0":
		return newReader2(in, src, name, version, o)
	case "3.0", "3.1":
		return newReader3(in, src, name, version, o)
	case "4.0":
		return nil, &events.DecodeError{Path: name, Msg: "this is an AEDAT 4.0 file; it is read by format aedat4"}
	}
	return nil, &events.DecodeError{Path: name, Msg: fmt.Sprintf("unsupported AEDAT version %q (evtool reads 1.0, 2.0, 3.0, 3.1 and 4.0)", version)}
}

// readVersion consumes the "#!AER-DAT<major>.<minor>" line and returns the version, or "1.0" without
// consuming anything when the file does not start with the magic (§2.1).
func readVersion(in *input, name string) (string, error) {
	in.fill(len(Magic))
	if !bytes.HasPrefix(in.buf[in.r:in.w], []byte(Magic)) {
		return "1.0", nil
	}
	line, ok := in.headerLine(maxVersionLine)
	if !ok {
		return "", &events.DecodeError{Path: name, Msg: "the #!AER-DAT version line does not end within 1 KiB", Err: events.ErrTruncated}
	}
	return strings.TrimSpace(string(line[len(Magic):])), nil
}

const maxVersionLine = 1024

// closeSrc closes src when it can be closed.
func closeSrc(src io.Reader) error {
	if c, ok := src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
