package viewer

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/atomicfile"
)

// Clip says which part of a stream to draw and how.
type Clip struct {
	Render    Options
	Start     int64 // µs; events before are skipped (default: the first event)
	HasStart  bool
	Duration  int64 // µs; 0 = to the end
	Window    int64 // µs per frame (default Render.Window)
	MaxFrames int   // 0 = 500
	Label     string
	// Boxes draws the boxes of a stream that carries them (an events.BoxReader whose Meta says Boxes),
	// named by BoxClasses, each label time's for BoxHold µs (default max(window, DefaultBoxHold)).
	Boxes      bool
	BoxClasses []string
	BoxHold    int64
}

// frameLoop reads r and calls emit with the picture of every window [t0+kW, t0+(k+1)W), drawn at the
// window's last microsecond, and the window's end relative to t0, until the stream (or the clip) ends.
func frameLoop(r events.Reader, c Clip, emit func(k int, img *image.RGBA, tEnd int64) error) error {
	rd, err := New(c.Render)
	if err != nil {
		return err
	}
	W := c.Window
	if W <= 0 {
		W = rd.o.Window
	}
	maxFrames := c.MaxFrames
	if maxFrames <= 0 {
		maxFrames = 500
	}
	hold := c.BoxHold
	if hold <= 0 {
		hold = max(W, DefaultBoxHold)
	}
	boxes := newBoxTrack(r, c.Boxes, hold)
	buf := events.NewBatch(1 << 16)
	var t0, end int64
	started := c.HasStart
	if started {
		t0 = c.Start
	}
	k := 0
	flushUntil := func(t int64) error {
		// Emit every window that closes at or before t.
		for started && t >= events.AddTime(t0, int64(k+1)*W) {
			if k >= maxFrames || (c.Duration > 0 && int64(k)*W >= c.Duration) {
				return errStop
			}
			tEnd := events.AddTime(t0, int64(k+1)*W)
			img := rd.Render(tEnd - 1)
			if shown := boxes.at(tEnd - 1); len(shown) > 0 {
				DrawBoxes(img, img.Rect, image.Point{}, rd.Zoom(), shown, c.BoxClasses)
			}
			// The overlays show the time since the clip's start: epoch microseconds are unreadable.
			if err := emit(k, img, int64(events.Span(t0, tEnd))); err != nil {
				return err
			}
			k++
		}
		return nil
	}
	for {
		rerr := r.Read(buf)
		if rerr == nil || rerr == io.EOF {
			boxes.add()
		}
		for i := 0; i < buf.Len(); {
			t := buf.T[i]
			if !started {
				t0, started = t, true
			}
			if t < t0 {
				i++
				continue
			}
			if err := flushUntil(t); err != nil {
				if err == errStop {
					return nil
				}
				return err
			}
			// add every event of the current window at once
			end = events.AddTime(t0, int64(k+1)*W)
			j := i
			for j < buf.Len() && buf.T[j] < end {
				j++
			}
			part := buf.Slice(i, j)
			rd.Add(&part)
			i = j
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if !started {
		return fmt.Errorf("nothing to draw: the input holds no events")
	}
	// the last, partial window
	if err := flushUntil(end); err != nil && err != errStop {
		return err
	}
	return nil
}

var errStop = errors.New("stop")

func overlays(img *image.RGBA, c Clip, tEnd int64) {
	Overlay(img, Timecode(tEnd), BottomLeft)
	Overlay(img, c.Label, TopLeft)
}

// Animation collects frames of one or more clips into an animated GIF.
type Animation struct {
	gif gif.GIF
	pal color.Palette
}

// AddClip appends one frame per window of r, played at speed × real time, and returns the frame count.
func (a *Animation) AddClip(r events.Reader, c Clip, speed float64) (int, error) {
	if speed <= 0 {
		speed = 1
	}
	W := c.Window
	if W <= 0 {
		W = c.Render.Window
	}
	if W <= 0 {
		W = 10000
	}
	delay := int(math.Max(2, math.Round(float64(W)/speed/1e4))) // GIF delays are in 1/100 s (≥ 2 plays reliably)
	n := 0
	err := frameLoop(r, c, func(k int, img *image.RGBA, tEnd int64) error {
		if err := a.room(img.Bounds()); err != nil {
			return err
		}
		overlays(img, c, tEnd)
		if a.pal == nil {
			a.pal = palette(c.Render.Scheme)
		}
		p := image.NewPaletted(img.Bounds(), a.pal)
		draw.Draw(p, p.Rect, img, image.Point{}, draw.Src)
		a.gif.Image = append(a.gif.Image, p)
		a.gif.Delay = append(a.gif.Delay, delay)
		n++
		return nil
	})
	return n, err
}

// MaxGIFPixels bounds the pixels of all a GIF's frames together: they are held in memory until the GIF is
// written (one byte each).
const MaxGIFPixels = 1 << 28

// MaxPixels bounds one picture made of several (a grid of windows, a tensor's frames side by side).
const MaxPixels = 1 << 26

// room checks that one more frame of size b keeps the GIF within MaxGIFPixels.
func (a *Animation) room(b image.Rectangle) error {
	px := int64(b.Dx()) * int64(b.Dy())
	var have int64
	for _, f := range a.gif.Image {
		have += int64(f.Rect.Dx()) * int64(f.Rect.Dy())
	}
	if have+px > MaxGIFPixels {
		return fmt.Errorf("%w: a GIF of %d frames of %dx%d px would exceed %d pixels in all (they are held in memory): "+
			"draw fewer frames, a shorter clip or a smaller scale, or write a PNG sequence", ErrTooLarge, len(a.gif.Image)+1, b.Dx(), b.Dy(), MaxGIFPixels)
	}
	return nil
}

// ErrTooLarge is the error of a picture or GIF beyond the pixel limits (MaxPicture, MaxPixels, MaxGIFPixels).
var ErrTooLarge = errors.New("too large")

// Frames is the number of frames so far.
func (a *Animation) Frames() int { return len(a.gif.Image) }

// Save writes the GIF (atomically).
func (a *Animation) Save(path string) error {
	if len(a.gif.Image) == 0 {
		return fmt.Errorf("%s: no frames to write", path)
	}
	return writeAtomic(path, func(w io.Writer) error { return gif.EncodeAll(w, &a.gif) })
}

// WriteGIF draws r as an animated GIF, one frame per window, played at speed × real time.
func WriteGIF(path string, r events.Reader, c Clip, speed float64) (frames int, err error) {
	var a Animation
	if _, err := a.AddClip(r, c, speed); err != nil {
		if errors.Is(err, ErrTooLarge) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return 0, err
	}
	return a.Frames(), a.Save(path)
}

// palette holds the scheme's background, 62 steps towards ON and OFF each, grays for the overlays and the
// box colours.
func palette(scheme string) color.Palette {
	s, ok := Schemes[scheme]
	if !ok {
		s = Schemes["okabe"]
	}
	p := color.Palette{s.Background}
	for i := 1; i <= 62; i++ {
		f := float64(i) / 62
		p = append(p, mix(s.Background, s.On, f), mix(s.Background, s.Off, f))
	}
	for i := 0; i < 16; i++ {
		v := uint8(i * 17)
		p = append(p, color.RGBA{v, v, v, 255})
	}
	for _, c := range BoxColors {
		p = append(p, c)
	}
	return p
}

// WriteGrid draws n windows that tile the clip (or the first n windows when Duration is 0 and the
// stream is long) into one PNG, like tonic's plot_event_grid.
func WriteGrid(path string, r events.Reader, c Clip, n int) error {
	if n <= 0 {
		n = 9
	}
	c.MaxFrames = n
	rd, err := New(c.Render)
	if err != nil {
		return err
	}
	if w, h := rd.Size(); int64(w)*int64(h)*int64(n) > MaxPixels {
		return fmt.Errorf("%s: %w: a grid of %d pictures of %dx%d px would exceed %d pixels: ask for fewer windows or a smaller scale", path, ErrTooLarge, n, w, h, MaxPixels)
	}
	var tiles []*image.RGBA
	var times []int64
	err = frameLoop(r, c, func(k int, img *image.RGBA, tEnd int64) error {
		t := image.NewRGBA(img.Bounds())
		draw.Draw(t, t.Rect, img, image.Point{}, draw.Src)
		overlays(t, Clip{Label: ""}, tEnd)
		tiles = append(tiles, t)
		times = append(times, tEnd)
		return nil
	})
	if err != nil {
		return err
	}
	grid := Tile(tiles)
	Overlay(grid, c.Label, TopRight)
	return SavePNG(path, grid)
}

// Tile lays pictures of one size out in a near-square grid, 2 px apart on gray.
func Tile(tiles []*image.RGBA) *image.RGBA {
	cols := int(math.Ceil(math.Sqrt(float64(len(tiles)))))
	rows := (len(tiles) + cols - 1) / cols
	tw, th := tiles[0].Rect.Dx(), tiles[0].Rect.Dy()
	const gap = 2
	grid := image.NewRGBA(image.Rect(0, 0, cols*tw+(cols-1)*gap, rows*th+(rows-1)*gap))
	draw.Draw(grid, grid.Rect, image.NewUniform(color.RGBA{64, 64, 64, 255}), image.Point{}, draw.Src)
	for i, t := range tiles {
		x, y := (i%cols)*(tw+gap), (i/cols)*(th+gap)
		draw.Draw(grid, image.Rect(x, y, x+tw, y+th), t, image.Point{}, draw.Src)
	}
	return grid
}

// WritePictures saves pictures (a tensor's frames, say) by the output's name: a .png grid, an animated
// .gif with delay hundredths of a second per picture, or a numbered PNG sequence (a name with a printf
// verb). The label goes on the grid, or on every GIF and sequence picture.
func WritePictures(path string, pics []*image.RGBA, label, scheme string, delay int) error {
	if len(pics) == 0 {
		return fmt.Errorf("%s: nothing to draw", path)
	}
	switch {
	case strings.Contains(path, "%"):
		var seq sequence
		for k, p := range pics {
			Overlay(p, label, TopRight)
			if err := seq.add(fmt.Sprintf(path, k), p); err != nil {
				seq.abort()
				return err
			}
		}
		return seq.commit()
	case strings.HasSuffix(strings.ToLower(path), ".gif"):
		a := Animation{pal: palette(scheme)}
		for _, img := range pics {
			if err := a.room(img.Bounds()); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			Overlay(img, label, TopRight)
			p := image.NewPaletted(img.Bounds(), a.pal)
			draw.Draw(p, p.Rect, img, image.Point{}, draw.Src)
			a.gif.Image = append(a.gif.Image, p)
			a.gif.Delay = append(a.gif.Delay, max(delay, 2))
		}
		return a.Save(path)
	}
	var px int64
	for _, p := range pics {
		px += int64(p.Rect.Dx()) * int64(p.Rect.Dy())
	}
	if px > MaxPixels {
		return fmt.Errorf("%s: %w: %d pictures of %dx%d px side by side would exceed %d pixels: draw them as a GIF or a PNG sequence",
			path, ErrTooLarge, len(pics), pics[0].Rect.Dx(), pics[0].Rect.Dy(), MaxPixels)
	}
	grid := Tile(pics)
	Overlay(grid, label, TopRight)
	return SavePNG(path, grid)
}

// WriteSequence writes one PNG per window, named by pattern (a printf verb for the frame number, e.g.
// frame_%04d.png). The frames are written under temporary names and moved into place together at the
// end: on failure or a signal none is, and files of an earlier sequence stay as they were.
func WriteSequence(pattern string, r events.Reader, c Clip) (frames int, err error) {
	if !strings.Contains(pattern, "%") {
		return 0, fmt.Errorf("%s: a PNG sequence needs a frame-number verb in its name, like frame_%%04d.png", pattern)
	}
	var seq sequence
	err = frameLoop(r, c, func(k int, img *image.RGBA, tEnd int64) error {
		overlays(img, c, tEnd)
		name := fmt.Sprintf(pattern, k)
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		return seq.add(name, img)
	})
	if err != nil {
		seq.abort()
		return 0, err
	}
	return len(seq.files), seq.commit()
}

// sequence is a set of PNG files written under temporary names and moved into place together.
type sequence struct{ files []*atomicfile.File }

func (s *sequence) add(path string, img image.Image) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	s.files = append(s.files, f)
	if err := png.Encode(f, img); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Finish()
}

func (s *sequence) abort() {
	for _, f := range s.files {
		f.Abort()
	}
}

func (s *sequence) commit() error {
	if len(s.files) == 0 {
		return nil
	}
	return atomicfile.CommitAll(s.files)
}

// SavePNG writes img as a PNG file, atomically.
func SavePNG(path string, img image.Image) error {
	return writeAtomic(path, func(w io.Writer) error { return png.Encode(w, img) })
}

func writeAtomic(path string, write func(io.Writer) error) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}
