// Package player is `evtool view`: a window that plays event recordings and dataset samples. Every
// picture is composed in pure Go by Player (the viewer package's renderer, status and label overlays, a
// timeline with the recording's event density, a help card), which the tests drive directly; ebiten only
// shows the composed image and turns keys and mouse into Player actions (game.go). Built with the tag
// noview, the package has no window and no ebiten: ebiten links the C library at run time (purego), so
// that build is the way to a fully static binary.
package player

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/viewer"
)

// Config is how playback starts.
type Config struct {
	Scale  int     // zoom; 0 picks one that makes the picture about 720×540
	Scheme string  // colour scheme (viewer.Schemes); default okabe
	Decay  string  // viewer decay mode; default window
	Window int64   // µs shown per picture; default 10 ms
	Speed  float64 // playback speed relative to real time; default 1
	Sample int     // first playlist entry to show
	Paused bool    // start paused
	// AutoNext moves on to the next sample when one ends, and keeps playing.
	AutoNext bool
	// Boxes draws the boxes of samples and recordings that carry them (detection labels).
	Boxes bool
}

// Decays is the order the decay key cycles through.
var Decays = []string{viewer.DecayWindow, viewer.DecayLinear, viewer.DecayExponential, viewer.DecayCumulative}

const (
	minCanvasWidth = 560 // the status lines and the help card fit
	timelineHeight = 22
	messageTicks   = 150 // how long a message stays, in Tick calls
	maxRecent      = 1 << 24
	// A picture larger than this is shrunk (viewer.Options.Shrink) to fit a screen.
	maxPicWidth, maxPicHeight = 1440, 1080
)

// Player is the state of a playback: which sample, where in it, how it is drawn.
type Player struct {
	pl      Playlist
	rec     Recording
	label   string
	sample  int
	first   int64
	last    int64
	pos     int64 // the picture shows events with pos−window <= t < pos
	fed     int64 // the renderer has every needed event before fed
	window  int64
	decay   string
	scheme  string
	speed   float64
	carry   float64 // fraction of a µs not yet played
	playing bool
	help    bool
	auto    bool
	boxes   bool
	scale   int
	shrink  int // sensor pixels per picture pixel (viewer.Options.Shrink)

	rd     *viewer.Renderer
	recent []int64 // times of the events in [pos−window, pos), from head on
	head   int
	capped bool // recent overflowed: the rate readout is a lower bound

	canvas   *image.RGBA
	picRect  image.Rectangle
	timeline image.Rectangle
	dirty    bool
	message  string
	msgTicks int
	err      error
}

// New opens the playlist entry cfg.Sample and positions the player on its first window.
func New(pl Playlist, cfg Config) (*Player, error) {
	g := pl.Geometry()
	if !g.Known() {
		return nil, fmt.Errorf("%s: unknown sensor size", pl.Name())
	}
	p := &Player{pl: pl, window: cfg.Window, decay: cfg.Decay, scheme: cfg.Scheme, speed: cfg.Speed,
		playing: !cfg.Paused, scale: cfg.Scale, auto: cfg.AutoNext, boxes: cfg.Boxes}
	if p.window <= 0 {
		p.window = 10000
	}
	if p.decay == "" {
		p.decay = viewer.DecayWindow
	}
	if p.scheme == "" {
		p.scheme = "okabe"
	}
	if p.speed <= 0 {
		p.speed = 1
	}
	if p.scale <= 0 {
		p.scale = max(1, min(720/g.Width, 540/g.Height))
	}
	// A sensor larger than a screen (a header may claim 65535×65535) is shown shrunk to fit one.
	p.shrink = max(1, (g.Width+maxPicWidth-1)/maxPicWidth, (g.Height+maxPicHeight-1)/maxPicHeight)
	if err := p.newRenderer(); err != nil {
		return nil, err
	}
	pw, ph := p.rd.Size()
	cw := max(pw, minCanvasWidth)
	p.canvas = image.NewRGBA(image.Rect(0, 0, cw, ph+timelineHeight))
	p.picRect = image.Rect((cw-pw)/2, 0, (cw-pw)/2+pw, ph)
	p.timeline = image.Rect(0, ph, cw, ph+timelineHeight)
	if cfg.Sample < 0 || cfg.Sample >= pl.Len() {
		return nil, fmt.Errorf("sample %d: %s holds samples 0..%d", cfg.Sample, pl.Name(), pl.Len()-1)
	}
	if err := p.open(cfg.Sample); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Player) newRenderer() error {
	g := p.pl.Geometry()
	rd, err := viewer.New(viewer.Options{Width: g.Width, Height: g.Height, Scale: p.scale, Shrink: p.shrink,
		Scheme: p.scheme, Decay: p.decay, Window: p.window, Tau: p.window})
	if err != nil {
		return err
	}
	p.rd = rd
	p.fed = math.MinInt64 // forces a reload
	p.dirty = true
	return nil
}

func (p *Player) open(i int) error {
	rec, label, err := p.pl.Open(i)
	if err != nil {
		return fmt.Errorf("sample %d: %w", i, err)
	}
	if p.rec != nil {
		p.rec.Close()
	}
	p.rec, p.label, p.sample = rec, label, i
	p.first, p.last, _ = rec.Span()
	p.pos = events.AddTime(p.first, p.window)
	p.fed = math.MinInt64
	p.dirty = true
	return p.sync()
}

// Close releases the recording and the playlist.
func (p *Player) Close() error {
	if p.rec != nil {
		p.rec.Close()
	}
	return p.pl.Close()
}

// State is what the player shows, for tests and the status line.
type State struct {
	Sample   int
	Label    string
	Pos      int64 // end of the shown window (exclusive), µs
	Window   int64
	Decay    string
	Speed    float64
	Playing  bool
	Help     bool
	AutoNext bool
	First    int64
	Last     int64
	InWindow int // events in the shown window
}

// State reports the current state.
func (p *Player) State() State {
	return State{Sample: p.sample, Label: p.label, Pos: p.pos, Window: p.window, Decay: p.decay, Speed: p.speed,
		Playing: p.playing, Help: p.help, AutoNext: p.auto, First: p.first, Last: p.last, InWindow: len(p.recent) - p.head}
}

// Err is the last fault met while reading (shown on screen as well).
func (p *Player) Err() error { return p.err }

// Picture is where the events are drawn on the canvas; Timeline is the seek bar.
func (p *Player) Picture() image.Rectangle  { return p.picRect }
func (p *Player) Timeline() image.Rectangle { return p.timeline }

// Size is the canvas size.
func (p *Player) Size() (w, h int) { return p.canvas.Rect.Dx(), p.canvas.Rect.Dy() }

// lookback is how far before pos an event can still colour the picture.
func (p *Player) lookback() int64 {
	switch p.decay {
	case viewer.DecayExponential:
		return 7 * p.window // exp(−7) × 255 rounds to 0
	case viewer.DecayCumulative:
		return math.MaxInt64
	}
	return p.window
}

// maxPos is the last position: the window ending just after the last event.
func (p *Player) maxPos() int64 {
	return max(events.AddTime(p.first, p.window), events.AddTime(p.last, 1))
}

func (p *Player) clamp(t int64) int64 {
	return min(max(t, events.AddTime(p.first, p.window)), p.maxPos())
}

// sync brings the renderer to pos: forward by the events since fed, or afresh from pos − lookback.
func (p *Player) sync() error {
	if p.pos == p.fed {
		return nil
	}
	from := p.fed
	if p.fed == math.MinInt64 || p.pos < p.fed || (p.lookback() != math.MaxInt64 && events.Span(p.fed, p.pos) > uint64(p.lookback())) {
		p.rd.Reset()
		p.recent, p.head, p.capped = p.recent[:0], 0, false
		from = p.first
		if lb := p.lookback(); lb != math.MaxInt64 {
			from = max(p.first, events.AddTime(p.pos, -lb))
		}
	}
	lo := events.AddTime(p.pos, -p.window)
	err := p.rec.Range(from, p.pos, func(b *events.Batch) {
		p.rd.Add(b)
		i := 0
		if b.T[0] < lo {
			i = b.SearchTime(lo)
		}
		p.recent = append(p.recent, b.T[i:]...)
	})
	// Keep only the times still inside the window.
	for p.head < len(p.recent) && p.recent[p.head] < lo {
		p.head++
	}
	if over := len(p.recent) - p.head - maxRecent; over > 0 {
		p.head += over
		p.capped = true
	}
	if p.head > len(p.recent)/2 {
		n := copy(p.recent, p.recent[p.head:])
		p.recent, p.head = p.recent[:n], 0
	}
	p.fed = p.pos
	p.dirty = true
	if err != nil {
		p.err = err
		p.say(fmt.Sprintf("read error: %v", err))
		p.playing = false
	}
	return err
}

func (p *Player) say(msg string) {
	p.message, p.msgTicks, p.dirty = msg, messageTicks, true
}

// Tick advances playback by dt µs of wall time (scaled by the speed; fractions of a microsecond carry
// over to the next tick) and counts down the message.
func (p *Player) Tick(dt float64) {
	if p.msgTicks > 0 {
		p.msgTicks--
		if p.msgTicks == 0 {
			p.message, p.dirty = "", true
		}
	}
	if _, last, complete := p.rec.Span(); last != p.last {
		p.last, p.dirty = last, true // a streamed file's scan moved on
	} else if !complete {
		p.dirty = true
	}
	if !p.playing {
		return
	}
	adv := dt*p.speed + p.carry
	step := int64(adv)
	p.carry = adv - float64(step)
	next := events.AddTime(p.pos, step)
	if next >= p.maxPos() {
		if p.auto && p.sample+1 < p.pl.Len() {
			p.GoSample(1)
			return
		}
		next = p.maxPos()
		p.playing = false
		p.say("end of recording: space plays it again")
	}
	p.pos = next
	p.sync()
}

// TogglePlay plays or pauses; at the end, play starts over.
func (p *Player) TogglePlay() {
	p.playing = !p.playing
	if p.playing && p.pos >= p.maxPos() {
		p.SeekTo(events.AddTime(p.first, p.window))
	}
	p.dirty = true
}

// Step pauses and moves by n windows.
func (p *Player) Step(n int) {
	p.playing = false
	p.SeekTo(events.AddTime(p.pos, int64(n)*p.window))
}

// SeekBy moves by d µs.
func (p *Player) SeekBy(d int64) { p.SeekTo(events.AddTime(p.pos, d)) }

// SeekTo moves the window's end to t (clamped to the recording).
func (p *Player) SeekTo(t int64) {
	p.pos = p.clamp(t)
	p.dirty = true
	p.sync()
}

// SeekFraction moves to a fraction (0..1) of the recording, as the timeline does.
func (p *Player) SeekFraction(f float64) {
	f = min(max(f, 0), 1)
	p.SeekTo(at(p.first, p.last, f))
}

// SeekTimeline seeks to the timeline position under canvas x.
func (p *Player) SeekTimeline(x int) {
	p.SeekFraction(float64(x-p.timeline.Min.X) / float64(max(1, p.timeline.Dx()-1)))
}

// ScaleWindow multiplies the window length by f (kept within 1 µs .. 1 h), keeping its end in place.
func (p *Player) ScaleWindow(f float64) {
	w := int64(math.Round(float64(p.window) * f))
	p.window = min(max(w, 1), 3600e6)
	if err := p.newRenderer(); err != nil {
		p.say(err.Error())
		return
	}
	p.SeekTo(p.pos)
	p.say("window " + Duration(p.window))
}

// CycleDecay switches to the next decay mode.
func (p *Player) CycleDecay() {
	for i, d := range Decays {
		if d == p.decay {
			p.decay = Decays[(i+1)%len(Decays)]
			break
		}
	}
	p.restyle("decay " + p.decay)
}

// CycleScheme switches to the next colour scheme.
func (p *Player) CycleScheme() {
	names := viewer.SchemeNames()
	for i, n := range names {
		if n == p.scheme {
			p.scheme = names[(i+1)%len(names)]
			break
		}
	}
	p.restyle("colours " + p.scheme)
}

// restyle redraws with the new settings and says what changed.
func (p *Player) restyle(msg string) {
	if err := p.newRenderer(); err != nil {
		p.say(err.Error())
		return
	}
	p.sync()
	p.say(msg)
}

// ScaleSpeed multiplies the playback speed (kept within 1/1024 .. 1024); f = 0 resets to real time.
func (p *Player) ScaleSpeed(f float64) {
	if f == 0 {
		p.speed = 1
	} else {
		p.speed = min(max(p.speed*f, 1.0/1024), 1024)
	}
	p.say("speed " + speedText(p.speed))
}

// GoSample moves to the playlist entry d steps away (kept within the playlist).
func (p *Player) GoSample(d int) {
	i := p.sample + d
	switch {
	case p.pl.Len() == 1:
		p.say("a single recording: no other samples")
		return
	case i < 0:
		p.say("this is the first sample")
		return
	case i >= p.pl.Len():
		p.say("this is the last sample")
		return
	}
	if err := p.open(i); err != nil {
		p.err = err
		p.say(err.Error())
	}
}

// Home and End go to the first and the last window.
func (p *Player) Home() { p.SeekTo(events.AddTime(p.first, p.window)) }
func (p *Player) End()  { p.playing = false; p.SeekTo(p.maxPos()) }

// ToggleAutoNext switches moving on to the next sample at the end of one.
func (p *Player) ToggleAutoNext() {
	p.auto = !p.auto
	if p.auto {
		p.say("at the end of a sample: play the next one")
	} else {
		p.say("at the end of a sample: stop")
	}
}

// ToggleBoxes shows or hides the boxes of samples that carry them.
func (p *Player) ToggleBoxes() {
	p.boxes = !p.boxes
	p.dirty = true
	if p.boxes {
		p.say("boxes: shown")
	} else {
		p.say("boxes: hidden")
	}
}

// shownBoxes are the boxes of the picture at the current position (viewer.BoxesAt), with their class
// names.
func (p *Player) shownBoxes() ([]events.Box, []string) {
	b, ok := p.rec.(boxed)
	if !p.boxes || !ok {
		return nil, nil
	}
	return viewer.BoxesAt(b.Boxes(), p.pos-1, max(p.window, viewer.DefaultBoxHold)), b.BoxClasses()
}

// ToggleHelp shows or hides the key card.
func (p *Player) ToggleHelp() { p.help = !p.help; p.dirty = true }

// Dirty reports whether the canvas changed since the last Frame.
func (p *Player) Dirty() bool { return p.dirty }

// Help is the key card.
var Help = []string{
	"space          play / pause",
	"left / right   step one window back / forward",
	"up / down      seek 1 s forward / back (shift: 10 s)",
	"home / end     first / last window",
	"[ / ]          halve / double the window",
	"d              decay: window, linear, exponential, cumulative",
	"c              colours",
	"- / = / 0      slower / faster / real time",
	"p / n          previous / next sample (also page up / down)",
	"a              at a sample's end: go on to the next, or stop",
	"b              boxes (detection labels): show / hide",
	"mouse          click or drag the timeline to seek",
	"s              save this picture as a PNG",
	"h              this card          q / esc  quit",
}

var (
	margin         = color.RGBA{40, 40, 40, 255} // canvas outside the sensor's picture
	timelineBG     = color.RGBA{32, 32, 32, 255}
	timelineBars   = color.RGBA{80, 80, 80, 255}
	timelinePlayed = color.RGBA{70, 110, 150, 255}
	timelineCursor = color.RGBA{255, 255, 255, 255}
)

// Frame composes the canvas: picture, status, label, message, help card and timeline.
func (p *Player) Frame() *image.RGBA {
	if !p.dirty {
		return p.canvas
	}
	p.dirty = false
	c := p.canvas
	draw.Draw(c, c.Rect, image.NewUniform(margin), image.Point{}, draw.Src)
	draw.Draw(c, p.picRect, p.rd.Render(p.pos-1), image.Point{}, draw.Src)
	if boxes, classes := p.shownBoxes(); len(boxes) > 0 {
		viewer.DrawBoxes(c, p.picRect, p.picRect.Min, p.rd.Zoom(), boxes, classes)
	}

	state := "PLAY"
	if !p.playing {
		state = "PAUSE"
	}
	n := len(p.recent) - p.head
	count := fmt.Sprintf("%s ev", thousands(n))
	if p.capped {
		count = ">= " + count
	}
	_, _, complete := p.rec.Span()
	end := spanCode(p.first, p.last)
	if !complete {
		end += " (scanning)"
	}
	status := []string{
		fmt.Sprintf("%s %s  %s / %s", state, speedText(p.speed), spanCode(p.first, p.pos), end),
		fmt.Sprintf("window %s  %s  %s  %s", Duration(p.window), p.decay, count,
			rate(float64(n)/float64(p.window)*1e6)),
	}
	viewer.TextBox(c, status, c.Rect.Min.X, 0)
	if p.label != "" || p.pl.Len() > 1 {
		text := p.label
		if p.pl.Len() > 1 {
			text = fmt.Sprintf("%s  (%d/%d)", p.label, p.sample+1, p.pl.Len())
		}
		w, _ := viewer.TextSize([]string{text})
		viewer.TextBox(c, []string{text}, c.Rect.Max.X-w, 0)
	}
	if p.message != "" {
		_, h := viewer.TextSize([]string{p.message})
		viewer.TextBox(c, []string{p.message}, 0, p.timeline.Min.Y-h)
	}
	if p.help {
		lines := append([]string{"evtool view: keys"}, Help...)
		w, h := viewer.TextSize(lines)
		viewer.TextBox(c, lines, (c.Rect.Dx()-w)/2, max(0, (p.timeline.Min.Y-h)/2))
	} else if p.msgTicks == 0 {
		const hint = "h: help"
		w, h := viewer.TextSize([]string{hint})
		viewer.TextBox(c, []string{hint}, c.Rect.Max.X-w, p.timeline.Min.Y-h)
	}
	p.drawTimeline()
	return c
}

// drawTimeline draws the seek bar: event density per column, the played part, the cursor.
func (p *Player) drawTimeline() {
	c, r := p.canvas, p.timeline
	draw.Draw(c, r, image.NewUniform(timelineBG), image.Point{}, draw.Src)
	span := float64(events.Span(p.first, p.last)) + 1
	counts, width := p.rec.Density()
	cols := make([]float64, r.Dx())
	var peak float64
	for k, n := range counts {
		// The slice's centre decides its column.
		t := float64(int64(k)*width) + float64(width)/2
		col := int(t / span * float64(len(cols)))
		if col >= 0 && col < len(cols) {
			cols[col] += float64(n)
			peak = max(peak, cols[col])
		}
	}
	cursor := r.Min.X + int(math.Round(float64(events.Span(p.first, p.pos))/span*float64(r.Dx()-1)))
	for i, v := range cols {
		x := r.Min.X + i
		bg := timelineBG
		if x <= cursor {
			bg = timelinePlayed
		}
		h := 0
		if peak > 0 {
			h = int(math.Round(math.Sqrt(v/peak) * float64(r.Dy()-4)))
		}
		for y := r.Max.Y - 1; y >= r.Min.Y; y-- {
			col := bg
			if r.Max.Y-2-y < h && y < r.Max.Y-1 {
				col = timelineBars
				if x <= cursor {
					col = color.RGBA{110, 150, 190, 255}
				}
			}
			c.SetRGBA(x, y, col)
		}
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		c.SetRGBA(min(cursor, r.Max.X-1), y, timelineCursor)
	}
}

// at is the time a fraction f (0..1) of the way from first to one past last, rounded, without overflow:
// a recording may span the whole int64 range.
func at(first, last int64, f float64) int64 {
	span := events.Span(first, last)
	d := math.Round(f * (float64(span) + 1))
	switch {
	case d > float64(span):
		return events.AddTime(last, 1)
	case d == float64(span):
		return last
	}
	return int64(uint64(first) + uint64(d))
}

// spanCode formats the time from a to b as seconds (a span wider than int64 shows as its maximum).
func spanCode(a, b int64) string {
	return viewer.Timecode(int64(min(events.Span(a, b), math.MaxInt64)))
}

// Duration formats µs for people: 500 µs, 10 ms, 1.5 s.
func Duration(us int64) string {
	switch {
	case us < 1000:
		return fmt.Sprintf("%d us", us)
	case us < 1000000:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", float64(us)/1e3), "0"), ".") + " ms"
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", float64(us)/1e6), "0"), ".") + " s"
}

func speedText(s float64) string {
	if s >= 1 {
		return fmt.Sprintf("%gx", s)
	}
	return fmt.Sprintf("1/%gx", 1/s)
}

func rate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2f M ev/s", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1f k ev/s", r/1e3)
	}
	return fmt.Sprintf("%.0f ev/s", r)
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
