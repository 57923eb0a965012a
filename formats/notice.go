package formats

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/evtool/evtool/events"
)

// The error policy: what a reader does with data it cannot take as it is.
//
//   - Lost: data dropped — a damaged packet skipped (with the events it held), events outside the sensor,
//     null entries of a list. Counted in Meta().Extra, told to Options.Warn; under Options.Strict the
//     reader stops instead, with an error wrapping ErrLoss, after the good events before it.
//   - Altered: data kept but changed — a timestamp that went back in time, clamped to the previous one.
//     Told to Warn; Strict does not stop on it (no event is lost).
//   - Distrusted: metadata the data contradicts — a header's sensor size no 16-bit coordinate can reach, a
//     batch size that disagrees with the batches. The data rules; told to Warn.
//   - Omitted: events the command's own settings leave out — the last window of a recording cut into
//     windows, when it is cut short. Told to Warn, never an error.
//
// Not notices: records the format's own framing says to skip (unknown packet types, APS frames and IMU
// samples a decoder does not turn into events, invalid-flagged events): they are counted in Extra only.

// ErrLoss marks the error a reader returns under Options.Strict where it would otherwise drop data.
var ErrLoss = errors.New("data would be lost")

// NoticeKind says what happened to the data a Notice is about.
type NoticeKind int

const (
	Lost       NoticeKind = iota // dropped
	Altered                      // kept, changed
	Distrusted                   // metadata overruled by the data
	Omitted                      // left out by the settings
)

// Notice is one report of data a reader could not take as it is.
type Notice struct {
	Path   string
	Offset int64 // byte offset of the first record concerned; −1 when unknown
	Kind   NoticeKind
	// What names the records, as a plural phrase the count follows: "damaged packets skipped",
	// "events outside the 640x480 sensor dropped".
	What  string
	Count int64
	// Events is how many events were lost with the records (a damaged packet's), −1 when unknown, 0 when
	// the records are the events.
	Events int64
}

// Notify reports n: under o.Strict a Lost notice becomes the returned error (a *events.DecodeError
// wrapping ErrLoss); otherwise n goes to o.Warn and Notify returns nil.
func (o Options) Notify(n Notice) error {
	if n.Count <= 0 {
		return nil
	}
	if o.Strict && n.Kind == Lost {
		return &events.DecodeError{Path: n.Path, Offset: max(n.Offset, 0), Msg: fmt.Sprintf("%s: %d", n.What, n.Count), Err: ErrLoss}
	}
	if o.Warn != nil {
		o.Warn(n)
	}
	return nil
}

// Watch reports the growth of a counter a decoder keeps in its hot loop, once per Read: decoders count
// in plain integers and call Check between batches.
type Watch struct {
	Notice       // the report's Path, Kind and What
	seen   int64 // count already reported
}

// NewWatch watches a count of kind for the file at path.
func NewWatch(path string, kind NoticeKind, what string) Watch {
	return Watch{Notice: Notice{Path: path, Kind: kind, What: what}}
}

// Check reports count minus what was reported before, if positive, as found from byte offset on.
func (w *Watch) Check(o Options, count, offset int64) error {
	if count <= w.seen {
		return nil
	}
	n := w.Notice
	n.Count, n.Offset = count-w.seen, offset
	w.seen = count
	return o.Notify(n)
}

// Tally collects notices and sums them per file and kind of record, for one summary at the end of a
// command (a file with thousands of damaged packets gets one line). It is safe for concurrent use: its
// Add is what commands give as Options.Warn.
type Tally struct {
	mu      sync.Mutex
	entries map[tallyKey]*tallyEntry
	order   []tallyKey
}

type tallyKey struct{ path, what string }

type tallyEntry struct {
	Notice
	offsets []int64 // the first few
	adds    int64   // notices summed
	unknown bool    // some notice did not know its events
}

const tallyOffsets = 5

// Add records a notice.
func (t *Tally) Add(n Notice) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.entries == nil {
		t.entries = map[tallyKey]*tallyEntry{}
	}
	k := tallyKey{n.Path, n.What}
	e, ok := t.entries[k]
	if !ok {
		e = &tallyEntry{Notice: n}
		e.Count, e.Events = 0, 0
		t.entries[k] = e
		t.order = append(t.order, k)
	}
	e.Count += n.Count
	e.adds++
	if n.Events < 0 {
		e.unknown = true
	} else {
		e.Events += n.Events
	}
	if n.Offset >= 0 && len(e.offsets) < tallyOffsets {
		e.offsets = append(e.offsets, n.Offset)
	}
}

// HasLoss reports whether some notice was of data lost.
func (t *Tally) HasLoss() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.entries {
		if e.Kind == Lost {
			return true
		}
	}
	return false
}

// Len is the number of lines Lines gives.
func (t *Tally) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.order)
}

// Lines summarises the notices, one line per file and kind of record, in the order first met:
// "rec.aedat4: damaged packets skipped: 3, at bytes 120, 4000 and 9000 (the events in them are lost)".
func (t *Tally) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := append([]tallyKey(nil), t.order...)
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].path < keys[j].path })
	var out []string
	for _, k := range keys {
		e := t.entries[k]
		var b strings.Builder
		if e.Kind == Distrusted {
			out = append(out, fmt.Sprintf("%s: %s", e.Path, e.What)) // the same metadata, however often read
			continue
		}
		fmt.Fprintf(&b, "%s: %s: %d", e.Path, e.What, e.Count)
		if len(e.offsets) > 0 {
			words := make([]string, len(e.offsets))
			for i, o := range e.offsets {
				words[i] = fmt.Sprint(o)
			}
			where, at := "at", "byte"
			switch {
			case e.Count > e.adds:
				where = "in the data from" // a notice counts the records found from its offset on
			case int64(len(e.offsets)) < e.adds:
				where = "the first at"
			}
			if len(words) > 1 {
				at = "bytes"
			}
			list := words[len(words)-1]
			if len(words) > 1 {
				list = strings.Join(words[:len(words)-1], ", ") + " and " + list
			}
			fmt.Fprintf(&b, ", %s %s %s", where, at, list)
		}
		switch {
		case e.Kind != Lost:
		case e.unknown && e.Events > 0:
			fmt.Fprintf(&b, " (at least %d events lost with them)", e.Events)
		case e.unknown:
			b.WriteString(" (the events in them are lost)")
		case e.Events > 0:
			fmt.Fprintf(&b, " (%d events lost with them)", e.Events)
		}
		out = append(out, b.String())
	}
	return out
}

// DecodeWatch watches the two counts most decoders keep: events outside the sensor (dropped: Lost) and
// timestamps that went back in time (clamped: Altered).
type DecodeWatch struct{ outOfRange, clamped Watch }

// NewDecodeWatch watches the counts of the file at path.
func NewDecodeWatch(path string) DecodeWatch {
	return DecodeWatch{
		outOfRange: NewWatch(path, Lost, "events outside the sensor dropped"),
		clamped:    NewWatch(path, Altered, "timestamps that went back in time, clamped to the previous one"),
	}
}

// Check reports the counts' growth since the last Check, found from byte offset on.
func (w *DecodeWatch) Check(o Options, outOfRange, clamped, offset int64) error {
	if err := w.outOfRange.Check(o, outOfRange, offset); err != nil {
		return err
	}
	return w.clamped.Check(o, clamped, offset)
}

// MaxSensorSide is the largest sensor side evtool takes: 16-bit coordinates reach 65536 pixels.
const MaxSensorSide = 1 << 16

// HeaderSensor vets the sensor size a file's header states (field names it: "% Width/Height"). A size
// no 16-bit coordinate can reach is Distrusted: o.Warn is told, and the zero Geometry is returned, so
// the sensor is inferred from the events as for a file that does not say.
func (o Options) HeaderSensor(path, field string, g events.Geometry) events.Geometry {
	if g.Width <= MaxSensorSide && g.Height <= MaxSensorSide {
		return g
	}
	o.Notify(Notice{Path: path, Offset: -1, Kind: Distrusted, Count: 1,
		What: fmt.Sprintf("header sensor sizes beyond %dx%d ignored (%s says %s; the events decide)", MaxSensorSide, MaxSensorSide, field, g)})
	return events.Geometry{}
}
