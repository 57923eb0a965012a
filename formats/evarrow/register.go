package evarrow

import (
	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// Magic starts (and ends) every Arrow IPC file.
const Magic = "ARROW1"

func init() {
	formats.Register(&formats.Format{
		Name:          "arrow",
		Description:   "evtool Arrow IPC file (recording or dataset layout)",
		Extensions:    []string{".arrow", ".feather", ".ipc"},
		Detect:        func(head []byte) bool { return formats.HasPrefix(head, Magic) },
		Open:          open,
		Create:        create,
		DatasetCreate: true,
		Compressions:  []string{"zstd", "lz4", "none"},
		Params: map[string]string{
			"batch-events":  "events per record batch of a recording (default 1048576)",
			"batch-samples": "samples per record batch of a dataset (default 64; lower it for long samples)",
		},
	})
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
