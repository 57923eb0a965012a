package events

import "fmt"

// Trigger is one timing record that is not a polarity event: an external-input edge, a sync pulse, a
// clock reset, a frame or exposure marker. Every format that records such things reports them as Triggers
// through the TriggerReader interface, so a tool can align events with other instruments whatever the file.
type Trigger struct {
	T       int64       // µs, on the same clock as the events
	Kind    TriggerKind // what the record stands for
	Channel uint8       // input channel where the format numbers them (Prophesee trigger id), else 0
	Raw     uint32      // the record's code as stored (address word, special-event data, trigger source)
}

// TriggerKind tells what a trigger record stands for.
type TriggerKind uint8

const (
	TriggerRising           TriggerKind = iota // external input, rising edge
	TriggerFalling                             // external input, falling edge
	TriggerPulse                               // external input, pulse
	TriggerExternal                            // external input whose edge the format does not say
	TriggerSync                                // DVS128 sync input (AEDAT address bit 15)
	TriggerSpecial                             // jAER special event (AEDAT address bit 31)
	TriggerReset                               // the device clock restarted
	TriggerGeneratorRising                     // the camera's own signal generator, rising edge
	TriggerGeneratorFalling                    // the camera's own signal generator, falling edge
	TriggerFrameBegin                          // an APS frame begins
	TriggerFrameEnd                            // an APS frame ends
	TriggerExposureBegin                       // an APS exposure begins
	TriggerExposureEnd                         // an APS exposure ends
)

var triggerNames = [...]string{"rising", "falling", "pulse", "external", "sync", "special", "reset",
	"generator-rising", "generator-falling", "frame-begin", "frame-end", "exposure-begin", "exposure-end"}

func (k TriggerKind) String() string {
	if int(k) < len(triggerNames) {
		return triggerNames[k]
	}
	return fmt.Sprintf("trigger(%d)", uint8(k))
}

// TriggerReader is implemented by readers of formats that record triggers. Triggers returns the trigger
// records met during the most recent Read, in file order; the slice is reused by the next Read.
type TriggerReader interface {
	Reader
	Triggers() []Trigger
}
