package transforms

import (
	"errors"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
)

// Mistakes users make get errors that say how to fix them.
func TestParseMessages(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		// A comma between transforms: chain them with '|'.
		{"denoise(dt=5ms), refractory(period=1ms)", "transforms are chained with '|', not ',': denoise(dt=5ms) | refractory(period=1ms)"},
		{"crop(x0=1,y0=1,w=3,h=3) x", `unexpected "x" after ')'`},
		{"denose(dt=5ms)", `unknown transform "denose"; did you mean denoise?`},
		{"refractory(perod=1ms)", `refractory has no parameter "perod"; did you mean period?`},
		{"denoise(mode=fast-decy)", "did you mean fast-decay?"},
		{"frames(bins=3, overlap=2ms)", "overlap=2000us is a duration, which only frames by window take"},
	} {
		ch, err := Parse(c.spec)
		if err == nil {
			_, err = ch.Representation() // a representation's errors come when it is built
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want %q", c.spec, err, c.want)
		}
	}
	// The comma's position is pointed at.
	_, err := Parse("denoise(dt=5ms), refractory(period=1ms)")
	var se *SyntaxError
	if !errors.As(err, &se) || se.Pos != len("denoise(dt=5ms)") {
		t.Fatalf("comma error %#v", err)
	}
}

// Choices accept any spelling of their words (fast-decay, fast_decay, fastdecay, FastDecay) and are
// written back in one.
func TestChoiceSpellings(t *testing.T) {
	for _, spelt := range []string{"fast-decay", "fast_decay", "fastdecay", "FastDecay"} {
		c, err := Parse("denoise(mode=" + spelt + ")")
		if err != nil {
			t.Fatal(err)
		}
		if got := c.String(); got != "denoise(mode=fast-decay)" {
			t.Errorf("%s: written back as %s", spelt, got)
		}
	}
}

// frames(window=…) takes its overlap in units too; a bare number stays µs.
func TestFramesOverlapUnits(t *testing.T) {
	for spec, want := range map[string]int64{
		"frames(window=10ms, overlap=2ms)":   2000,
		"frames(window=10ms, overlap=2000)":  2000,
		"frames(window=1s, overlap=0.25s)":   250000,
		"frames(window=10ms, overlap=500us)": 500,
	} {
		c, err := Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Representation()
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if f := r.(*Frames); f.Overlap != want {
			t.Errorf("%s: overlap %d µs, want %d", spec, f.Overlap, want)
		}
	}
	if c, err := Parse("frames(window=10ms, overlap=12ms)"); err == nil {
		if _, err := c.Representation(); err == nil {
			t.Error("an overlap longer than the window was accepted")
		}
	}
}

// A stage that does not fit its input is a StageError (the CLI reports it as bad usage); a stage that
// needs the sensor size matches events.ErrSensor.
func TestStageErrors(t *testing.T) {
	c, err := Parse("crop(x0=0, y0=0, w=40, h=40)")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.NewStream(Shape{Geometry: events.Geometry{Width: 34, Height: 34}, Polarities: 2}, 0, "")
	var se *StageError
	if !errors.As(err, &se) || se.Stage != "crop" || !strings.Contains(err.Error(), "does not fit the 34x34 sensor") {
		t.Fatalf("crop larger than the sensor: %v", err)
	}
	_, err = c.NewStream(Shape{Polarities: 2}, 0, "")
	if !errors.As(err, &se) || !errors.Is(err, events.ErrSensor) {
		t.Fatalf("crop without a sensor size: %v", err)
	}
}
