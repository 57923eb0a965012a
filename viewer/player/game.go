//go:build !noview

package player

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"github.com/evtool/evtool/viewer"
)

// Input is what the player reads of the keyboard and mouse each tick. The window uses the real devices;
// tests script it.
type Input interface {
	// Pressed reports a key press in this tick, including the auto-repeat of a held key.
	Pressed(k ebiten.Key) bool
	// Held reports whether a key is down.
	Held(k ebiten.Key) bool
	// Mouse returns the cursor in canvas coordinates and whether the left button is down.
	Mouse() (x, y int, down bool)
}

// Devices is the Input of the real keyboard and mouse.
type Devices struct{}

func (Devices) Pressed(k ebiten.Key) bool {
	// Held keys repeat after 300 ms, every 50 ms (at 60 ticks per second).
	d := inpututil.KeyPressDuration(k)
	return d == 1 || (d >= 18 && (d-18)%3 == 0)
}
func (Devices) Held(k ebiten.Key) bool { return ebiten.IsKeyPressed(k) }
func (Devices) Mouse() (int, int, bool) {
	x, y := ebiten.CursorPosition()
	return x, y, ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft)
}

// TPS is the number of updates per second; each advances playback by 1/TPS s × speed.
const TPS = 60

// RunOptions configure Run.
type RunOptions struct {
	Title string
	Input Input // default Devices
	// AfterDraw, when set, is called after each drawn frame with the number of updates so far; an error
	// ends the run with that error (tests read the screen here).
	AfterDraw func(ticks int, screen *ebiten.Image) error
	// Done, when set, ends the run (without error) once it returns true; called before each update.
	Done func(ticks int) bool
	// Frames, when positive, ends the run (without error) once that many frames were drawn: scripted
	// checks that a file plays.
	Frames int
}

// ErrNoDisplay is returned by Run where no window can be opened.
var ErrNoDisplay = errors.New("no display: evtool view needs a graphical session (DISPLAY or WAYLAND_DISPLAY); " +
	"use `evtool render` to write a GIF or PNG instead, or run under xvfb-run")

type game struct {
	p       *Player
	in      Input
	opts    RunOptions
	img     *ebiten.Image
	ticks   int
	drawn   int
	quit    bool
	dragged bool
	err     error
}

// Run opens a window and plays until the user quits. It must be called from the main goroutine, once
// per process (ebiten's rule).
func Run(p *Player, opts RunOptions) (err error) {
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return ErrNoDisplay
	}
	if opts.Input == nil {
		opts.Input = Devices{}
	}
	w, h := p.Size()
	ebiten.SetWindowSize(w, h)
	ebiten.SetWindowTitle(opts.Title)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	ebiten.SetTPS(TPS)
	g := &game{p: p, in: opts.Input, opts: opts, img: ebiten.NewImage(w, h)}
	defer func() {
		// ebiten panics on some driver faults (no GL library, say); report them as errors.
		if r := recover(); r != nil {
			err = fmt.Errorf("the window could not be run: %v", r)
		}
	}()
	if err := ebiten.RunGame(g); err != nil {
		if strings.Contains(err.Error(), "no window system") {
			return fmt.Errorf("%w (%v)", ErrNoDisplay, err)
		}
		return err
	}
	return g.err
}

func (g *game) Update() error {
	if g.err != nil {
		return g.err
	}
	if (g.opts.Done != nil && g.opts.Done(g.ticks)) || (g.opts.Frames > 0 && g.drawn >= g.opts.Frames) {
		return ebiten.Termination
	}
	g.ticks++
	g.handle()
	if g.quit {
		return ebiten.Termination
	}
	g.p.Tick(1e6 / float64(TPS))
	return nil
}

// handle turns this tick's input into player actions.
func (g *game) handle() {
	in, p := g.in, g.p
	shift := in.Held(ebiten.KeyShift)
	seek := int64(1e6)
	if shift {
		seek = 10e6
	}
	switch {
	case in.Pressed(ebiten.KeyQ), in.Pressed(ebiten.KeyEscape):
		g.quit = true
	case in.Pressed(ebiten.KeySpace):
		p.TogglePlay()
	case in.Pressed(ebiten.KeyArrowRight):
		p.Step(1)
	case in.Pressed(ebiten.KeyArrowLeft):
		p.Step(-1)
	case in.Pressed(ebiten.KeyArrowUp):
		p.SeekBy(seek)
	case in.Pressed(ebiten.KeyArrowDown):
		p.SeekBy(-seek)
	case in.Pressed(ebiten.KeyHome):
		p.Home()
	case in.Pressed(ebiten.KeyEnd):
		p.End()
	case in.Pressed(ebiten.KeyBracketLeft):
		p.ScaleWindow(0.5)
	case in.Pressed(ebiten.KeyBracketRight):
		p.ScaleWindow(2)
	case in.Pressed(ebiten.KeyD):
		p.CycleDecay()
	case in.Pressed(ebiten.KeyC):
		p.CycleScheme()
	case in.Pressed(ebiten.KeyMinus), in.Pressed(ebiten.KeyNumpadSubtract):
		p.ScaleSpeed(0.5)
	case in.Pressed(ebiten.KeyEqual), in.Pressed(ebiten.KeyNumpadAdd):
		p.ScaleSpeed(2)
	case in.Pressed(ebiten.Key0), in.Pressed(ebiten.KeyNumpad0):
		p.ScaleSpeed(0)
	case in.Pressed(ebiten.KeyN), in.Pressed(ebiten.KeyPageDown):
		p.GoSample(1)
	case in.Pressed(ebiten.KeyP), in.Pressed(ebiten.KeyPageUp):
		p.GoSample(-1)
	case in.Pressed(ebiten.KeyA):
		p.ToggleAutoNext()
	case in.Pressed(ebiten.KeyB):
		p.ToggleBoxes()
	case in.Pressed(ebiten.KeyH), in.Pressed(ebiten.KeyF1):
		p.ToggleHelp()
	case in.Pressed(ebiten.KeyS):
		g.savePicture()
	}
	// A press on the timeline seeks; holding the button drags the cursor along.
	x, y, down := in.Mouse()
	switch {
	case down && (g.dragged || image.Pt(x, y).In(p.Timeline())):
		g.dragged = true
		p.SeekTimeline(x)
	case !down:
		g.dragged = false
	}
}

// savePicture writes the current canvas as a PNG in the working directory.
func (g *game) savePicture() {
	s := g.p.State()
	base := strings.TrimSuffix(filepath.Base(g.p.pl.Name()), filepath.Ext(g.p.pl.Name()))
	name := fmt.Sprintf("%s-%d-%dus.png", base, s.Sample, s.Pos-s.First)
	if err := viewer.SavePNG(name, g.p.Frame()); err != nil {
		g.p.say(err.Error())
		return
	}
	g.p.say("saved " + name)
}

func (g *game) Draw(screen *ebiten.Image) {
	if g.p.Dirty() || g.drawn == 0 {
		g.img.WritePixels(g.p.Frame().Pix)
	}
	g.drawn++
	screen.DrawImage(g.img, nil)
	if g.opts.AfterDraw != nil && g.err == nil {
		g.err = g.opts.AfterDraw(g.ticks, screen)
	}
}

func (g *game) Layout(int, int) (int, int) { return g.p.Size() }
