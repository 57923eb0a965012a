package shards

import (
	"io"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/bytesize"
)

func init() {
	formats.Register(&formats.Format{
		Name:        "shards",
		Description: "a dataset kept as a folder of Arrow or Parquet shards and a manifest.json (read as one dataset)",
		Detect:      isManifest,
		Index:       ManifestName,
		NewReader: func(r io.Reader, name string, o formats.Options) (formats.Source, error) {
			return formats.SampleSource(NewReader(r, name, o))
		},
		Create: func(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
			so, err := OptionsFrom(o)
			if err != nil {
				return formats.Sink{}, err
			}
			return formats.SampleSink(Create(path, meta, so))
		},
		DatasetCreate: true,
		// The shard files are written (and read) with the options too: the shard format's keys pass.
		Inner: func(o formats.Options) (*formats.Format, error) {
			f, err := formats.Lookup(o.Param("shard-format", "arrow"))
			if err != nil {
				return nil, o.BadParam("shard-format", "%v", err)
			}
			return f, nil
		},
		// The kit writes small shards, so that its datasets span several.
		Conformance: formats.Conformance{Options: formats.Options{Params: map[string]string{"shard-size": "3"}}},
		Params: map[string]string{
			"shard-format": "the shards' format: arrow (default) or parquet",
			"shard-size":   "samples per shard (default: no limit)",
			"shard-bytes":  "target size of a shard file, like 512MiB or 2GB (default: no limit)",
			"part":         "write part i/N of an array job into a shared folder (evtool datasets merge joins the parts)",
			"partition":    "hive-style folders: label (label=K/, one label per shard), after folders key=value that hold the dataset: split=train,label",
			"verify":       "reading: check every shard's size and sha256 against the manifest first",
		},
	})
}

// OptionsFrom reads a writer's Options from format options: the -O parameters shard-format, shard-size,
// shard-bytes, part and partition; the rest (compression, the shard format's own parameters) go to the
// shard files.
func OptionsFrom(o formats.Options) (Options, error) {
	so := Options{Format: o.Param("shard-format", "arrow"), Files: o}
	var err error
	if v := o.Param("shard-size", ""); v != "" {
		if so.Samples, err = strconv.Atoi(v); err != nil || so.Samples < 1 {
			return so, o.BadParam("shard-size", "want a positive number of samples")
		}
	}
	if v := o.Param("shard-bytes", ""); v != "" {
		if so.Bytes, err = bytesize.Parse(v); err != nil {
			return so, o.BadParam("shard-bytes", "%v", err)
		}
	}
	if v := o.Param("part", ""); v != "" {
		if so.Part, err = ParsePart(v); err != nil {
			return so, o.BadParam("part", "%v", err)
		}
	}
	if v := o.Param("partition", ""); v != "" {
		for _, key := range strings.Split(v, ",") {
			key = strings.TrimSpace(key)
			switch {
			case key == "label" && !so.ByLabel:
				so.ByLabel = true
			case strings.Contains(key, "=") && !so.ByLabel:
				so.Within = append(so.Within, key)
			default:
				return so, o.BadParam("partition", "want hive folders key=value (split=train) then label, like split=train,label")
			}
		}
	}
	return so, nil
}
