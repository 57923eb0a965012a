package evarrow

import (
	"fmt"
	"io"
	"math"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/tensors"
)

// Magic starts (and ends) every Arrow IPC file.
const Magic = "ARROW1"

func init() {
	formats.Register(&formats.Format{
		Name:          "arrow",
		Description:   "evtool Arrow IPC file (recording, dataset or tensors layout)",
		Extensions:    []string{".arrow", ".feather", ".ipc"},
		Detect:        func(head []byte) bool { return formats.HasPrefix(head, Magic) },
		NewReader:     NewReader,
		RandomAccess:  true,
		Create:        Create,
		DatasetCreate: true,
		Boxes:         true,
		Compressions:  []string{"zstd", "lz4", "none"},
		Params: map[string]string{
			"batch-events":  "events per record batch of a recording (default 1048576)",
			"batch-samples": "samples per record batch of a dataset (default 64; lower it for long samples)",
		},
		Tensors: &formats.TensorIO{
			NewReader: func(r io.Reader, name string, o formats.Options) (tensors.Reader, error) {
				tr, err := newTensorReaderOpts(r, name, o)
				if err != nil {
					return nil, err
				}
				return tr, nil
			},
			Create: createTensors,
			Params: map[string]string{
				"batch-samples":    "samples per record batch (default 64; lower it for large tensors)",
				"tensor-type":      "canonical (default: Arrow's fixed/variable shape tensor extension types) or plain (the same storage, no extension declaration)",
				formats.ParamDType: "element type stored: int16 (default for counts: torch takes it on every version), uint16 or float32 (default for values)",
			},
			Boxes: true,
		},
		Conformance: formats.Conformance{
			Framed:   true, // the footer indexes every record batch
			Geometry: events.Geometry{Width: 65536, Height: 65536},
			Extremes: []events.Event{{T: math.MinInt64, X: 65535, Y: 0, P: 1}, {T: 0, X: 0, Y: 65535},
				{T: math.MaxInt64, X: 65535, Y: 65535, P: 1}},
		},
	})
}

func createTensors(path string, meta events.Meta, spec tensors.Spec, o formats.Options) (tensors.Writer, error) {
	bs, err := o.IntParam("batch-samples", 0)
	if err != nil {
		return nil, err
	}
	stored, err := formats.StoredDType(o, spec.DType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	opts := Options{Compression: o.Compression, BatchSamples: bs, TensorDType: stored}
	switch tt := o.Param("tensor-type", ""); tt {
	case "", "canonical":
	case "plain":
		opts.PlainTensors = true
	default:
		return nil, fmt.Errorf("%s: %w", path, o.BadParam("tensor-type", "want canonical (Arrow's tensor extension types) or plain"))
	}
	return CreateTensors(path, meta, spec, opts)
}

// Create writes a recording or, for meta.Kind == dataset, a dataset at path, with the -O options
// (record batch sizes) and o.Compression: the shape every format package has; CreateRecording and
// CreateDataset take this package's Options.
func Create(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
	be, err := o.IntParam("batch-events", 0)
	if err != nil {
		return formats.Sink{}, err
	}
	bs, err := o.IntParam("batch-samples", 0)
	if err != nil {
		return formats.Sink{}, err
	}
	opts := Options{Compression: o.Compression, BatchEvents: be, BatchSamples: bs}
	if meta.Kind == events.KindDataset {
		return formats.SampleSink(CreateDataset(path, meta, opts))
	}
	return formats.EventSink(CreateRecording(path, meta, opts))
}
