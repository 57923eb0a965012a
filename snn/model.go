package snn

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/atomicfile"
	"github.com/evtool/evtool/snn/safetensors"
)

// Metadata keys of a saved model (safetensors "__metadata__"; all values are strings).
const (
	MetaArch       = "evtool.architecture" // Arch as JSON
	MetaEncoding   = "evtool.encoding"     // Encoding as JSON
	MetaClasses    = "evtool.classes"      // class names as a JSON array
	MetaTransforms = "evtool.transforms"   // the input as a transform chain, e.g. "denoise(dt=5ms) | frames(bins=10)"
	MetaTrain      = "evtool.train_state"  // checkpoints only: optimiser step, epoch, history
)

// Model is a trained network together with the input encoding and class names it was trained with.
type Model struct {
	Arch     Arch
	Encoding Encoding
	Classes  []string
	net      *Net
}

// NewModel builds a model with weights initialised from seed.
func NewModel(a Arch, enc Encoding, classes []string, seed uint64) (*Model, error) {
	return newModel(a, enc, classes, seed, MaxParams)
}

// newModel is NewModel with a bound on the parameters (what a saved model's file holds).
func newModel(a Arch, enc Encoding, classes []string, seed uint64, maxParams int64) (*Model, error) {
	if err := enc.validate(); err != nil {
		return nil, err
	}
	if a.Input != enc.Shape() {
		return nil, fmt.Errorf("architecture input %dx%dx%d does not match the encoded data %dx%dx%d",
			a.Input.C, a.Input.H, a.Input.W, Polarities, enc.Height, enc.Width)
	}
	n, err := build(a, maxParams)
	if err != nil {
		return nil, err
	}
	var outputs int64
	for _, l := range n.layers {
		outputs += int64(l.outShape().Size())
	}
	if v := outputs * int64(enc.Bins); v > MaxActivations {
		return nil, errLimit(fmt.Sprintf("the activations of one sample (%d bins × %d layer outputs)", enc.Bins, outputs),
			v, MaxActivations, "use fewer bins or smaller layers")
	}
	if n.Classes() != len(classes) {
		return nil, fmt.Errorf("the network has %d outputs but the data has %d classes", n.Classes(), len(classes))
	}
	n.Init(seed)
	return &Model{Arch: n.Arch, Encoding: enc, Classes: classes, net: n}, nil
}

// NumParams is the number of trainable values.
func (m *Model) NumParams() int { return m.net.NumParams() }

// Summary describes the layers, e.g. "2312-flatten-256-lif-10-lif".
func (m *Model) Summary() string {
	s := fmt.Sprintf("%d", m.Arch.Input.Size())
	for i, l := range m.net.layers {
		s += fmt.Sprintf(" → %s %d", m.Arch.Layers[i].Type, l.outShape().Size())
	}
	return s
}

// tensors exports the parameters in PyTorch layout ("layers.<i>.weight" of nn.Linear is [out, in]).
func (m *Model) tensors(prefix string, data func(i int) []float32) []safetensors.Tensor {
	var ts []safetensors.Tensor
	for i, p := range m.net.params {
		src := data(i)
		out := make([]float32, len(src))
		switch {
		case p.inputMajor: // internal [in][out] → saved [out][in]
			rows, cols := p.Shape[1], p.Shape[0]
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					out[c*rows+r] = src[r*cols+c]
				}
			}
		case p.export != nil && prefix == "":
			for j, v := range src {
				out[j] = p.export(v)
			}
		default:
			copy(out, src)
		}
		ts = append(ts, safetensors.Tensor{Name: prefix + m.net.names[i], Shape: p.Shape, Data: out})
	}
	return ts
}

func (m *Model) metadata() (map[string]string, error) {
	arch, err := json.Marshal(m.Arch)
	if err != nil {
		return nil, err
	}
	enc, _ := json.Marshal(m.Encoding)
	cls, _ := json.Marshal(m.Classes)
	return map[string]string{
		"format":       "pt",
		MetaArch:       string(arch),
		MetaEncoding:   string(enc),
		MetaClasses:    string(cls),
		MetaTransforms: m.Encoding.Spec(),
	}, nil
}

// Save writes the model as safetensors (atomically).
func (m *Model) Save(path string) error {
	return m.save(path, nil, nil)
}

func (m *Model) save(path string, opt *adam, state *trainState) error {
	meta, err := m.metadata()
	if err != nil {
		return fmt.Errorf("encode model metadata: %w", err)
	}
	ts := m.tensors("", func(i int) []float32 { return m.net.params[i].Data })
	if opt != nil {
		ts = append(ts, m.tensors("optim.m.", func(i int) []float32 { return opt.m[i] })...)
		ts = append(ts, m.tensors("optim.v.", func(i int) []float32 { return opt.v[i] })...)
		js, _ := json.Marshal(state)
		meta[MetaTrain] = string(js)
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	if err := safetensors.Write(f, ts, meta); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// LoadModel reads a model saved by Save (or a checkpoint).
func LoadModel(path string) (*Model, error) {
	m, _, _, err := loadModel(path)
	return m, err
}

func loadModel(path string) (*Model, *adam, *trainState, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	bad := func(what string, err error) error {
		return fmt.Errorf("%s is not an evtool model: %s: %w", path, what, err)
	}
	var a Arch
	var enc Encoding
	var classes []string
	if err := json.Unmarshal([]byte(f.Metadata[MetaArch]), &a); err != nil {
		return nil, nil, nil, bad("metadata "+MetaArch, err)
	}
	if err := json.Unmarshal([]byte(f.Metadata[MetaEncoding]), &enc); err != nil {
		return nil, nil, nil, bad("metadata "+MetaEncoding, err)
	}
	if err := json.Unmarshal([]byte(f.Metadata[MetaClasses]), &classes); err != nil {
		return nil, nil, nil, bad("metadata "+MetaClasses, err)
	}
	// The architecture in the metadata may ask for no more parameters than the file's tensors hold.
	var held int64
	for name, t := range f.Tensors {
		if !strings.HasPrefix(name, "optim.") {
			held += int64(len(t.Data))
		}
	}
	m, err := newModel(a, enc, classes, 0, min(held, MaxParams))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: the model its metadata (%s, %s) describes: %w", path, MetaArch, MetaEncoding, err)
	}
	get := func(prefix string, i int, dst []float32) error {
		p := m.net.params[i]
		name := prefix + m.net.names[i]
		t, ok := f.Tensors[name]
		if !ok {
			return fmt.Errorf("%s: tensor %s is missing", path, name)
		}
		if fmt.Sprint(t.Shape) != fmt.Sprint(p.Shape) {
			return fmt.Errorf("%s: tensor %s has shape %v, the architecture says %v", path, name, t.Shape, p.Shape)
		}
		switch {
		case p.inputMajor:
			rows, cols := p.Shape[1], p.Shape[0]
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					dst[r*cols+c] = t.Data[c*rows+r]
				}
			}
		case p.imprt != nil && prefix == "":
			for j, v := range t.Data {
				dst[j] = p.imprt(v)
			}
		default:
			copy(dst, t.Data)
		}
		return nil
	}
	for i, p := range m.net.params {
		if err := get("", i, p.Data); err != nil {
			return nil, nil, nil, err
		}
	}
	js, ok := f.Metadata[MetaTrain]
	if !ok {
		return m, nil, nil, nil
	}
	var st trainState
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		return nil, nil, nil, bad("metadata "+MetaTrain, err)
	}
	opt := newAdam(m.net.params)
	opt.step = st.Step
	for i := range m.net.params {
		if err := get("optim.m.", i, opt.m[i]); err != nil {
			return nil, nil, nil, err
		}
		if err := get("optim.v.", i, opt.v[i]); err != nil {
			return nil, nil, nil, err
		}
	}
	return m, opt, &st, nil
}

// Evaluation is the result of Evaluate.
type Evaluation struct {
	Samples  int           `json:"samples"`
	Correct  int           `json:"correct"`
	Accuracy float64       `json:"accuracy"`
	Loss     float64       `json:"loss"`
	PerClass []ClassResult `json:"per_class"`
	// Confusion[true][predicted] counts samples.
	Confusion  [][]int     `json:"confusion"`
	SpikeRates []LayerRate `json:"spike_rates"`
	Seconds    float64     `json:"seconds"` // wall time of the evaluation`
}

// ClassResult is one class's accuracy.
type ClassResult struct {
	Class    string  `json:"class"`
	Samples  int     `json:"samples"`
	Correct  int     `json:"correct"`
	Accuracy float64 `json:"accuracy"`
}

// LayerRate is a spiking layer's firing rate: spikes per (neuron, step).
type LayerRate struct {
	Layer int     `json:"layer"`
	Rate  float64 `json:"rate"`
}

func workersOrDefault(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// UnknownClassError is returned when data name a class the model was not trained on.
type UnknownClassError struct {
	Class string   // the data's class name
	Known []string // the model's classes
}

func (e *UnknownClassError) Error() string {
	return fmt.Sprintf("the model has no class %q (its classes: %s)", e.Class, strings.Join(e.Known, ", "))
}

// ClassIndex maps class names (a dataset's Classes) to the model's class indices, by name: data whose
// class list lacks some of the model's classes, or orders them differently, are scored correctly.
// aliases (may be nil) renames data classes first, e.g. {"ten": "0"}. A name the model does not know is
// an *UnknownClassError.
func (m *Model) ClassIndex(names []string, aliases map[string]string) ([]int, error) {
	byName := make(map[string]int, len(m.Classes))
	for i := len(m.Classes) - 1; i >= 0; i-- {
		byName[m.Classes[i]] = i
	}
	for from, to := range aliases {
		if _, ok := byName[to]; !ok {
			return nil, fmt.Errorf("class alias %s=%s: %w", from, to, &UnknownClassError{Class: to, Known: m.Classes})
		}
	}
	out := make([]int, len(names))
	for i, name := range names {
		if a, ok := aliases[name]; ok {
			name = a
		}
		k, ok := byName[name]
		if !ok {
			return nil, &UnknownClassError{Class: name, Known: m.Classes}
		}
		out[i] = k
	}
	return out, nil
}

// EvalOptions tune EvaluateWith.
type EvalOptions struct {
	Workers int               // goroutines; 0 = all cores
	Aliases map[string]string // data class name → model class name, for names the model does not know
	// Progress, when set, is called now and then with the samples done and the total (one call at a
	// time, from the evaluating goroutines).
	Progress func(done, total int)
}

// Evaluate runs the model on every sample of d (forward only, on workers goroutines; 0 = all cores).
// Labels are matched to the model's classes by name (see ClassIndex).
func (m *Model) Evaluate(ctx context.Context, d *Dataset, workers int) (*Evaluation, error) {
	return m.EvaluateWith(ctx, d, EvalOptions{Workers: workers})
}

// EvaluateWith is Evaluate with options. The result does not depend on the number of workers. A
// streamed dataset is read from disk in order, a chunk at a time (at most 1,024 samples and its memory
// bound).
func (m *Model) EvaluateWith(ctx context.Context, d *Dataset, o EvalOptions) (*Evaluation, error) {
	start := time.Now()
	if d.Encoding != m.Encoding {
		return nil, fmt.Errorf("the data is encoded as %+v but the model expects %+v", d.Encoding, m.Encoding)
	}
	lab, err := m.ClassIndex(d.Classes, o.Aliases)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Source, err)
	}
	n := d.Len()
	W := min(workersOrDefault(o.Workers), max(n, 1))
	ws := make([]*worker, W)
	for i := range ws {
		ws[i] = newWorker(m.net, false, 0, false)
	}
	C := len(m.Classes)
	ev := &Evaluation{Samples: n, Confusion: make([][]int, C)}
	for c := range ev.Confusion {
		ev.Confusion[c] = make([]int, C)
	}
	var done atomic.Int64
	var mu sync.Mutex
	report := func(k int) {
		if o.Progress == nil {
			return
		}
		v := done.Add(int64(k))
		mu.Lock()
		o.Progress(int(v), n)
		mu.Unlock()
	}
	if o.Progress != nil {
		o.Progress(0, n)
	}
	var loss float64
	// score runs the model on a chunk of samples on all workers, then counts the results in order.
	var preds []int
	var losses []float64
	score := func(chunk []*Encoded, first int) error {
		for i, s := range chunk {
			if err := checkLabel(d, first+i, s.Label, len(lab)); err != nil {
				return err
			}
		}
		preds, losses = growInts(preds, len(chunk)), growF64(losses, len(chunk))
		var wg sync.WaitGroup
		for wi, w := range ws {
			lo, hi := wi*len(chunk)/W, (wi+1)*len(chunk)/W
			wg.Add(1)
			go func() {
				defer wg.Done()
				z, tie, p := make([]float64, C), make([]float64, C), make([]float64, C)
				var g []float32
				for i := lo; i < hi; i++ {
					if (i-lo)%64 == 0 {
						if ctx.Err() != nil {
							return
						}
						if i > lo {
							report(64)
						}
					}
					s := chunk[i]
					w.load(s, m.Encoding.Bins, m.Encoding.Inputs())
					w.forward()
					out := w.output()
					g = growF(g, out.T*out.N)
					losses[i], preds[i] = lossGrad(m.Arch.Loss, out, lab[s.Label], g, 1, z, tie, p)
					w.samples++
				}
				if k := (hi - lo) % 64; hi > lo {
					if k == 0 {
						k = 64
					}
					report(k)
				}
			}()
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
		for i, p := range preds[:len(chunk)] {
			y := lab[chunk[i].Label]
			ev.Confusion[y][p]++
			if y == p {
				ev.Correct++
			}
			loss += losses[i]
		}
		return nil
	}
	if d.stream == nil {
		chunk := make([]*Encoded, n)
		for i := range d.Samples {
			chunk[i] = &d.Samples[i]
		}
		if err := score(chunk, 0); err != nil {
			return nil, err
		}
	} else {
		// Chunks of at most chunkSize samples and at most the dataset's memory bound: what evaluation
		// holds at once, whatever the size of its samples.
		fd := d.stream.pass(ctx, false, 0, 0)
		const chunkSize = 1024
		chunk := make([]*Encoded, 0, chunkSize)
		var chunkBytes int64
		first := 0
		for it := range fd.C {
			chunk = append(chunk, &it.s)
			chunkBytes += it.size()
			if len(chunk) == chunkSize || chunkBytes >= d.stream.buffer {
				if err := score(chunk, first); err != nil {
					fd.Stop()
					return nil, err
				}
				first += len(chunk)
				chunk, chunkBytes = chunk[:0], 0
			}
		}
		if err := fd.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", d.Source, err)
		}
		if err := score(chunk, first); err != nil {
			return nil, err
		}
		if first+len(chunk) != n {
			return nil, fmt.Errorf("%s: the stream ended after %d of %d samples", d.Source, first+len(chunk), n)
		}
	}
	for c := 0; c < C; c++ {
		cr := ClassResult{Class: m.Classes[c]}
		for _, v := range ev.Confusion[c] {
			cr.Samples += v
		}
		cr.Correct = ev.Confusion[c][c]
		if cr.Samples > 0 {
			cr.Accuracy = float64(cr.Correct) / float64(cr.Samples)
		}
		ev.PerClass = append(ev.PerClass, cr)
	}
	if ev.Samples > 0 {
		ev.Accuracy = float64(ev.Correct) / float64(ev.Samples)
	}
	ev.Loss = loss / float64(max(ev.Samples, 1))
	ev.SpikeRates = spikeRates(m.net, ws, m.Encoding.Bins)
	ev.Seconds = time.Since(start).Seconds()
	return ev, nil
}

func growInts(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

func growF64(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// spikeRates sums the workers' spike counts into per-layer rates.
func spikeRates(n *Net, ws []*worker, bins int) []LayerRate {
	var samples int
	for _, w := range ws {
		samples += w.samples
	}
	var out []LayerRate
	for _, l := range n.lifs {
		var s float64
		for _, w := range ws {
			s += w.spikes[l]
		}
		rate := 0.0
		if samples > 0 {
			rate = s / float64(samples*bins*n.layers[l].outShape().Size())
		}
		out = append(out, LayerRate{Layer: l, Rate: rate})
	}
	return out
}

// Predict classifies one sample and returns the model's class index (a position in m.Classes, not in
// the data's class list: compare names, m.Classes[k], or map the data's labels with ClassIndex) and the
// per-class scores (spike counts, or mean readout membrane for ce_membrane models).
func (m *Model) Predict(s *events.Sample) (int, []float64, error) {
	en, err := NewEncoder(m.Encoding)
	if err != nil {
		return 0, nil, err
	}
	var e Encoded
	chain, in, err := m.Encoding.chain()
	if err != nil {
		return 0, nil, err
	}
	if chain != nil {
		// Filter a copy: the caller's sample stays as it was.
		c := events.Sample{ID: s.ID, Label: s.Label}
		c.Events.AppendBatch(&s.Events)
		if _, err := chain.ApplySample(&c, in, 0); err != nil {
			return 0, nil, err
		}
		s = &c
	}
	en.Encode(&s.Events, &e)
	w := newWorker(m.net, false, 0, false)
	w.load(&e, m.Encoding.Bins, m.Encoding.Inputs())
	w.forward()
	C := len(m.Classes)
	z, tie := make([]float64, C), make([]float64, C)
	membrane := m.Arch.Loss == LossCEMembrane
	logits(w.output(), membrane, z, tie)
	if membrane {
		return argmax(z, nil), z, nil
	}
	return argmax(z, tie), z, nil
}
