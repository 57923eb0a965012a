package aedat

import (
	"fmt"
	"strings"

	"github.com/evtool/evtool/events"
)

// Chip is a jAER sensor layout: how an AEDAT 1.0/2.0 address word encodes a pixel event (jAER address layouts).
type Chip struct {
	Name   string // option value: dvs128, davis240, davis346, davis640
	Class  string // the jAER AEChip class the writer records
	Width  int
	Height int
	DAVIS  bool // DAVIS address layout; false: DVS128
}

// Geometry is the chip's sensor size.
func (c Chip) Geometry() events.Geometry { return events.Geometry{Width: c.Width, Height: c.Height} }

// Chips lists the layouts AEDAT 1.0/2.0 files are decoded with.
var Chips = []Chip{
	{Name: "dvs128", Class: "ch.unizh.ini.jaer.chip.retina.DVS128", Width: 128, Height: 128},
	{Name: "davis240", Class: "eu.seebetter.ini.chips.davis.DAVIS240C", Width: 240, Height: 180, DAVIS: true},
	{Name: "davis346", Class: "eu.seebetter.ini.chips.davis.Davis346B", Width: 346, Height: 260, DAVIS: true},
	{Name: "davis640", Class: "eu.seebetter.ini.chips.davis.Davis640", Width: 640, Height: 480, DAVIS: true},
}

// ChipByName finds a layout by its option value (case-insensitive).
func ChipByName(name string) (Chip, error) {
	for _, c := range Chips {
		if strings.EqualFold(c.Name, name) {
			return c, nil
		}
	}
	return Chip{}, fmt.Errorf("unknown chip %q; want one of %s", name, chipNames())
}

// ChipForGeometry finds the layout of a sensor size, if one has it.
func ChipForGeometry(g events.Geometry) (Chip, bool) {
	for _, c := range Chips {
		if c.Width == g.Width && c.Height == g.Height {
			return c, true
		}
	}
	return Chip{}, false
}

// chipForClass maps a jAER AEChip class to its layout: DVS128 (also Tmpdiff128 and the _PAER variants)
// and the DAVIS classes whose name carries 240, 346 or 640.
func chipForClass(class string) (Chip, bool) {
	lc := strings.ToLower(class)
	last := lc[strings.LastIndexByte(lc, '.')+1:]
	switch {
	case strings.Contains(last, "dvs128") || strings.Contains(last, "tmpdiff128"):
		return Chips[0], true
	case !strings.Contains(lc, "davis"):
		return Chip{}, false
	case strings.Contains(last, "240"):
		return Chips[1], true
	case strings.Contains(last, "346"):
		return Chips[2], true
	case strings.Contains(last, "640"):
		return Chips[3], true
	}
	return Chip{}, false
}

func chipNames() string {
	names := make([]string, len(Chips))
	for i, c := range Chips {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// deviceGeometry maps an AEDAT 3.x "#Source" device name to its sensor size (libcaer device names).
func deviceGeometry(device string) (events.Geometry, bool) {
	d := strings.ToUpper(strings.ReplaceAll(device, " ", ""))
	table := []struct {
		key  string
		w, h int
	}{
		{"DVS128", 128, 128},
		{"DAVIS128", 128, 128},
		{"DAVIS208", 208, 192},
		{"DAVIS240", 240, 180},
		{"DAVIS346", 346, 260},
		{"DAVIS640", 640, 480},
		{"DVXPLORERLITE", 320, 240},
		{"DVXPLORER", 640, 480},
	}
	for _, e := range table {
		if strings.Contains(d, e.key) {
			return events.Geometry{Width: e.w, Height: e.h}, true
		}
	}
	return events.Geometry{}, false
}

// deviceName is the "#Source" device name the AEDAT 3.1 writer records for a sensor size.
func deviceName(g events.Geometry) (string, bool) {
	switch g {
	case events.Geometry{Width: 128, Height: 128}:
		return "DVS128", true
	case events.Geometry{Width: 240, Height: 180}:
		return "DAVIS240C", true
	case events.Geometry{Width: 346, Height: 260}:
		return "DAVIS346B", true
	case events.Geometry{Width: 640, Height: 480}:
		return "DAVIS640", true
	}
	return "evtool", false
}
