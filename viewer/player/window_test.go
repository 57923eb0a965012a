//go:build !noview

package player

import (
	"context"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/evtool/evtool/internal/fixtures"
	"github.com/evtool/evtool/viewer"
)

// The window test runs the real player in a child process (ebiten runs once per process, on the main
// goroutine) on an Xvfb display the test starts itself, drives it with scripted keys and mouse, and reads
// the screen back.

const childEnv = "EVTOOL_PLAYER_WINDOW_TEST" // set in the child: where to write its report

func TestMain(m *testing.M) {
	if out := os.Getenv(childEnv); out != "" {
		os.Exit(runWindowChild(out))
	}
	os.Exit(m.Run())
}

// script is an Input that presses keys and moves the mouse at given update ticks.
type script struct {
	tick  *int
	keys  map[int]ebiten.Key
	mouse map[int]mouseAt // held from its tick until the next entry
}

type mouseAt struct {
	x, y int
	down bool
}

func (s script) Pressed(k ebiten.Key) bool {
	key, ok := s.keys[*s.tick]
	return ok && key == k
}
func (s script) Held(ebiten.Key) bool { return false }
func (s script) Mouse() (int, int, bool) {
	var cur mouseAt
	best := -1
	for t, m := range s.mouse {
		if t <= *s.tick && t > best {
			best, cur = t, m
		}
	}
	return cur.x, cur.y, cur.down
}

// windowReport is what the child saw.
type windowReport struct {
	States      map[int]State // after the update of each scripted tick
	ScreenDiffs map[int]int   // pixels where the screen differs from the player's canvas, at checked ticks
	RefDiffs    int           // pixels where the screen's picture differs from a fresh renderer
	Lit         int           // picture pixels not in the background colour
	Screenshot  string
	Timeline    image.Rectangle
	Err         string
}

func runWindowChild(out string) int {
	rep := windowReport{States: map[int]State{}, ScreenDiffs: map[int]int{}}
	defer func() {
		b, _ := json.Marshal(rep)
		os.WriteFile(out, b, 0o644)
	}()
	pl := testPlaylist()
	samples := pl.(*memoryPlaylist).samples
	p, err := New(pl, Config{Scale: 6, Window: 20_000})
	if err != nil {
		rep.Err = err.Error()
		return 1
	}
	rep.Timeline = p.Timeline()
	tick := 0
	tl := p.Timeline()
	midY := (tl.Min.Y + tl.Max.Y) / 2
	in := script{tick: &tick,
		keys: map[int]ebiten.Key{10: ebiten.KeySpace, 16: ebiten.KeySpace, 20: ebiten.KeySpace,
			22: ebiten.KeyN, 24: ebiten.KeyArrowRight, 26: ebiten.KeyD, 28: ebiten.KeyH, 60: ebiten.KeyH},
		mouse: map[int]mouseAt{
			12: {tl.Min.X + (tl.Dx()-1)*3/4, midY, true}, // press on the timeline at 3/4 …
			13: {tl.Min.X + (tl.Dx()-1)/2, 5, true},      // … drag to 1/2 (off the bar: the drag holds)
			14: {tl.Min.X + (tl.Dx()-1)/2, 5, false},
		},
	}
	// Screens are read at the first frame drawn with the help card up (ticks 29..59) and after tick 70:
	// wide spans, as a loaded machine may run several updates per drawn frame.
	helpChecked, finalChecked := false, false
	screen := make([]byte, 0)
	opts := RunOptions{Title: "evtool player test", Input: in,
		Done: func(ticks int) bool {
			tick = ticks + 1 // the tick the coming update handles
			if _, ok := in.keys[ticks]; ok || in.mouse[ticks] != (mouseAt{}) || ticks == 11 {
				rep.States[ticks] = p.State()
			}
			if ticks > 600 {
				rep.Err = "no frame was drawn after tick 70"
				return true
			}
			return finalChecked
		},
		AfterDraw: func(ticks int, s *ebiten.Image) error {
			switch {
			case ticks >= 29 && ticks < 60 && !helpChecked:
				helpChecked, ticks = true, 29
			case ticks >= 70 && !finalChecked:
				finalChecked, ticks = true, 70
			default:
				return nil
			}
			w, h := p.Size()
			if cap(screen) < 4*w*h {
				screen = make([]byte, 4*w*h)
			}
			s.ReadPixels(screen)
			shot := &image.RGBA{Pix: screen, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
			canvas := p.Frame()
			diff := 0
			for i := 0; i < len(screen); i += 4 {
				if string(screen[i:i+4]) != string(canvas.Pix[i:i+4]) {
					diff++
				}
			}
			rep.ScreenDiffs[ticks] = diff
			if ticks != 70 {
				return nil
			}
			st := p.State()
			want := referenceImage(&samples[st.Sample].Events, st, p.scheme, 6)
			_, top := viewer.TextSize([]string{"", ""})
			_, hint := viewer.TextSize([]string{""})
			bg := viewer.Schemes[p.scheme].Background
			pic := p.Picture()
			for y := top; y < want.Rect.Dy()-hint; y++ {
				for x := 0; x < want.Rect.Dx(); x++ {
					got := shot.RGBAAt(pic.Min.X+x, pic.Min.Y+y)
					if got != want.RGBAAt(x, y) {
						rep.RefDiffs++
					}
					if got != bg {
						rep.Lit++
					}
				}
			}
			rep.Screenshot = filepath.Join(filepath.Dir(out), "screen.png")
			f, err := os.Create(rep.Screenshot)
			if err == nil {
				png.Encode(f, shot)
				f.Close()
			}
			return nil
		},
	}
	if err := Run(p, opts); err != nil {
		rep.Err = err.Error()
		return 1
	}
	return 0
}

func TestPlayerWindow(t *testing.T) {
	display := fixtures.Xvfb(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "report.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "DISPLAY="+display, "WAYLAND_DISPLAY=", childEnv+"="+out)
	output, err := child.CombinedOutput()
	var rep windowReport
	if b, rerr := os.ReadFile(out); rerr == nil {
		json.Unmarshal(b, &rep)
	}
	if err != nil || rep.Err != "" {
		t.Fatalf("player window: %v %s\n%s", err, rep.Err, output)
	}
	pl := testPlaylist()
	s0 := &pl.(*memoryPlaylist).samples[0].Events
	s1 := &pl.(*memoryPlaylist).samples[1].Events
	const W = 20_000
	first0, first1 := s0.T[0], s1.T[0]
	last0 := s0.T[s0.Len()-1]
	tickUs := 1e6 / float64(TPS)
	near := func(got, want int64) bool { return got >= want-1 && got <= want+1 }

	// Ticks 1..9 play (space at 10 pauses before the tick's advance).
	if st := rep.States[11]; st.Playing || !near(st.Pos, first0+W+int64(9*tickUs)) {
		t.Errorf("after playing 9 ticks and pausing: %+v, want paused at %d", st, first0+W+int64(9*tickUs))
	}
	// Press on the timeline at 3/4, drag to 1/2.
	tl := rep.Timeline
	f := float64((tl.Dx()-1)/2) / float64(tl.Dx()-1)
	half := first0 + int64(math.Round(f*float64(last0+1-first0)))
	if st := rep.States[12]; st.Pos <= half {
		t.Errorf("pressing the timeline at 3/4 left the position at %d", st.Pos)
	}
	if st := rep.States[14]; st.Pos != half || st.Playing {
		t.Errorf("after dragging to the timeline's middle: position %d, want %d (paused)", st.Pos, half)
	}
	// Play ticks 16..19, pause at 20.
	if st := rep.States[20]; st.Playing || !near(st.Pos, half+int64(4*tickUs)) {
		t.Errorf("after playing 4 ticks: position %d, want %d", st.Pos, half+int64(4*tickUs))
	}
	if st := rep.States[22]; st.Sample != 1 || st.Label != "#1 one" || st.Pos != first1+W {
		t.Errorf("after next sample: %+v", st)
	}
	if st := rep.States[24]; st.Pos != first1+2*W || st.Playing {
		t.Errorf("after a step: position %d, want %d", st.Pos, first1+2*W)
	}
	if st := rep.States[26]; st.Decay != viewer.DecayLinear {
		t.Errorf("after d: decay %q", st.Decay)
	}
	if !rep.States[28].Help || rep.States[60].Help {
		t.Errorf("h did not toggle the help card: %v, %v", rep.States[28].Help, rep.States[60].Help)
	}
	for _, tick := range []int{29, 70} {
		d, ok := rep.ScreenDiffs[tick]
		if !ok || d != 0 {
			t.Errorf("tick %d: the screen differs from the player's canvas in %d pixels (checked: %v)", tick, d, ok)
		}
	}
	if rep.RefDiffs != 0 || rep.Lit < 100 {
		t.Errorf("screen vs renderer: %d pixels differ; %d pixels lit by events", rep.RefDiffs, rep.Lit)
	}
	if keep := os.Getenv("EVTOOL_KEEP_SCREENSHOT"); keep != "" && rep.Screenshot != "" {
		b, _ := os.ReadFile(rep.Screenshot)
		os.WriteFile(keep, b, 0o644)
	}
	t.Logf("player window on %s: %d states checked, screenshot %s", display, len(rep.States), rep.Screenshot)
}
