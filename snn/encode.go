package snn

import (
	"fmt"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/transforms"
)

// Encoding turns a sample's events into the network input: Bins time bins of per-(polarity, pixel) event
// counts, binned by transforms.TimeBins exactly as frames(bins=B) bins them: with t0 = the first event's t,
// t1 = the last event's t + 1 and D = t1 − t0, bin k covers [t0 + ⌊k·D/B⌋, t0 + ⌊(k+1)·D/B⌋), so the bins
// tile the recording and every event is in exactly one bin.
// Input index = p·H·W + y·W + x (channel 0 = OFF, 1 = ON, the frames layout (P, H, W)).
type Encoding struct {
	Bins   int  `json:"bins"`
	Binary bool `json:"binary"` // clip counts to 1
	Width  int  `json:"width"`
	Height int  `json:"height"`
	// Transforms is an event filter chain (package transforms' text form) applied to every sample before
	// binning, with seed 0 per sample id; evaluation applies it too, as part of the model's input. Width
	// and Height are then the chain's output size, and SensorWidth/SensorHeight the data's.
	Transforms   string `json:"transforms,omitempty"`
	SensorWidth  int    `json:"sensor_width,omitempty"`
	SensorHeight int    `json:"sensor_height,omitempty"`
}

// chain parses the encoding's filter chain (nil without one) and returns the input shape it expects.
func (e Encoding) chain() (*transforms.Chain, transforms.Shape, error) {
	if e.Transforms == "" {
		return nil, transforms.Shape{}, nil
	}
	c, err := transforms.Parse(e.Transforms)
	if err != nil {
		return nil, transforms.Shape{}, fmt.Errorf("input transforms: %w", err)
	}
	if c.HasRepresentation() {
		return nil, transforms.Shape{}, fmt.Errorf("input transforms %q: only event filters go before the time bins", e.Transforms)
	}
	return c, transforms.Shape{Geometry: events.Geometry{Width: e.SensorWidth, Height: e.SensorHeight}, Polarities: 2}, nil
}

// Polarities is the number of input channels (OFF, ON).
const Polarities = 2

// Inputs is the number of input units per step.
func (e Encoding) Inputs() int { return Polarities * e.Width * e.Height }

// Shape is the per-step input shape.
func (e Encoding) Shape() Shape { return Shape{C: Polarities, H: e.Height, W: e.Width} }

// Spec is the encoding as a transform spec, for metadata and messages.
func (e Encoding) Spec() string {
	s := fmt.Sprintf("frames(bins=%d)", e.Bins)
	if e.Binary {
		s = fmt.Sprintf("frames(bins=%d, binary=true)", e.Bins)
	}
	if e.Transforms != "" {
		s = e.Transforms + " | " + s
	}
	return s
}

func (e Encoding) validate() error {
	if e.Bins < 1 || e.Bins > 1<<16 {
		return fmt.Errorf("bins must be between 1 and 65536, got %d", e.Bins)
	}
	if e.Width <= 0 || e.Height <= 0 {
		return fmt.Errorf("the sensor size is unknown (%dx%d)", e.Width, e.Height)
	}
	in := int64(Polarities) * int64(e.Width) * int64(e.Height)
	if in > MaxInputs {
		return errLimit(fmt.Sprintf("the network's input per time step (%d polarities × %dx%d)", Polarities, e.Width, e.Height),
			in, MaxInputs, "shrink the sensor with the encoding's transforms (downsample, crop)")
	}
	if n := in * int64(e.Bins); n > MaxActivations {
		return errLimit(fmt.Sprintf("the input of one sample (%d bins × %d inputs)", e.Bins, in), n, MaxActivations,
			"use fewer bins or a smaller input")
	}
	return nil
}

// Encoded is one sample in sparse input form: for bin t the active inputs are Idx[Off[t]:Off[t+1]] in
// increasing order with event counts Cnt (nil when binary: every active input is 1).
type Encoded struct {
	Label int32
	Off   []int32
	Idx   []int32
	Cnt   []uint16
}

// Encoder makes Encoded samples; it keeps a scratch count grid so encoding allocates only the output.
type Encoder struct {
	e      Encoding
	counts []uint16 // Bins × Inputs, all zero between calls
}

// NewEncoder returns an encoder for e.
func NewEncoder(e Encoding) (*Encoder, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	return &Encoder{e: e, counts: make([]uint16, e.Bins*e.Inputs())}, nil
}

// Encode bins b into dst (its slices are reused). Events outside the sensor or with a polarity other
// than 0/1 are ignored; counts saturate at 65535.
func (en *Encoder) Encode(b *events.Batch, dst *Encoded) {
	B, N, W, H := en.e.Bins, en.e.Inputs(), en.e.Width, en.e.Height
	dst.Off = growI(dst.Off, B+1)
	dst.Idx = dst.Idx[:0]
	dst.Cnt = dst.Cnt[:0]
	if n := b.Len(); n > 0 {
		c := transforms.BinCounter{TimeBins: transforms.TimeBins{Start: b.T[0], End: b.T[n-1] + 1, Bins: B},
			Width: W, Height: H, Polarities: Polarities}
		c.Count(b, en.counts)
	}
	for k := 0; k < B; k++ {
		dst.Off[k] = int32(len(dst.Idx))
		row := en.counts[k*N : (k+1)*N]
		for j, c := range row {
			if c != 0 {
				dst.Idx = append(dst.Idx, int32(j))
				dst.Cnt = append(dst.Cnt, c)
				row[j] = 0
			}
		}
	}
	dst.Off[B] = int32(len(dst.Idx))
	if en.e.Binary {
		dst.Cnt = nil
	}
}
