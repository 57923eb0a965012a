package evarrow

import (
	"fmt"
	"io"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/tensors"
)

// Magic starts (and ends) every Arrow IPC file.
const Magic = "ARROW1"

func init() {
	formats.Register(&formats.Format{
		Name:          "arrow",
		Description:   "evtool Arrow IPC file (recording, dataset or tensors layout; zstd, lz4 or none)",
		Extensions:    []string{".arrow", ".feather", ".ipc"},
		Detect:        func(head []byte) bool { return formats.HasPrefix(head, Magic) },
		Open:          open,
		Create:        create,
		DatasetCreate: true,
		Params: map[string]string{
			"batch-events":  "events per record batch of a recording (default 1048576)",
			"batch-samples": "samples per record batch of a dataset or tensors file (default 64; lower it for long samples)",
			"tensor-type":   "tensors: canonical (default: Arrow's fixed/variable shape tensor extension types) or plain (the same storage, no extension declaration)",
		},
		Tensors: &formats.TensorIO{
			NewReader: func(r io.Reader, name string, _ formats.Options) (tensors.Reader, error) {
				tr, err := NewTensorReader(r, name)
				if err != nil {
					return nil, err
				}
				return tr, nil
			},
			Create: createTensors,
		},
	})
}

func createTensors(path string, meta events.Meta, spec tensors.Spec, o formats.Options) (tensors.Writer, error) {
	bs, err := o.IntParam("batch-samples", 0)
	if err != nil {
		return nil, err
	}
	opts := Options{Compression: o.Compression, BatchSamples: bs}
	switch tt := o.Param("tensor-type", ""); tt {
	case "", "canonical":
	case "plain":
		opts.PlainTensors = true
	default:
		return nil, fmt.Errorf("option tensor-type=%s: want canonical (Arrow's tensor extension types) or plain", tt)
	}
	return CreateTensors(path, meta, spec, opts)
}

func open(path string, _ formats.Options) (formats.Source, error) {
	_, src, err := Open(path)
	if err != nil {
		return nil, err
	}
	return src.(formats.Source), nil
}

func create(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
	be, err := o.IntParam("batch-events", 0)
	if err != nil {
		return nil, err
	}
	bs, err := o.IntParam("batch-samples", 0)
	if err != nil {
		return nil, err
	}
	opts := Options{Compression: o.Compression, BatchEvents: be, BatchSamples: bs}
	if meta.Kind == events.KindDataset {
		return CreateDataset(path, meta, opts)
	}
	return CreateRecording(path, meta, opts)
}
