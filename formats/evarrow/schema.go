// Package evarrow is evtool's container: Apache Arrow IPC files in two layouts (docs/FORMAT.md, contract).
//
//   - recording: columns t:int64, x:uint16, y:uint16, p:uint8, one row per event, record batches of
//     bounded size;
//   - dataset: one row per sample: label:int32 (null when unknown), id:utf8 and list columns
//     t:list<int64>, x:list<uint16>, y:list<uint16>, p:list<uint8>, record batches of a fixed number of
//     samples (evtool.batch_samples) so any sample is found without reading the file.
//
// Buffers are zstd-compressed by default (lz4 or none on request). Writers stream with bounded memory;
// the dataset reader gives random access to any sample by index.
package evarrow

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/evtool/evtool/events"
)

// Schema metadata keys (contract).
const (
	KeyKind         = "evtool.kind"
	KeyWidth        = "evtool.width"
	KeyHeight       = "evtool.height"
	KeyTimeUnit     = "evtool.time_unit"
	KeySource       = "evtool.source"
	KeyTransforms   = "evtool.transforms"
	KeyClasses      = "evtool.classes"
	KeyFormat       = "evtool.format_version"
	KeyBatchSamples = "evtool.batch_samples"
	KeyExtra        = "evtool.extra"

	// FormatVersion is written to evtool.format_version; readers accept files of this major version.
	FormatVersion = "1"
)

// MetaToMetadata renders evtool metadata as Arrow schema metadata. Keys are sorted, so the same meta
// always gives the same bytes.
func MetaToMetadata(meta events.Meta) arrow.Metadata {
	kv := map[string]string{
		KeyKind:       string(meta.Kind),
		KeyWidth:      strconv.Itoa(meta.Geometry.Width),
		KeyHeight:     strconv.Itoa(meta.Geometry.Height),
		KeyTimeUnit:   "us",
		KeySource:     meta.Source,
		KeyTransforms: meta.Transforms,
		KeyFormat:     FormatVersion,
	}
	if meta.Kind == "" {
		kv[KeyKind] = string(events.KindRecording)
	}
	if meta.Kind == events.KindDataset || meta.Kind == events.KindTensors {
		classes := meta.Classes
		if classes == nil {
			classes = []string{}
		}
		b, _ := json.Marshal(classes)
		kv[KeyClasses] = string(b)
	}
	if len(meta.Extra) > 0 {
		if b, err := json.Marshal(meta.Extra); err == nil {
			kv[KeyExtra] = string(b)
		}
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([]string, len(keys))
	for i, k := range keys {
		vals[i] = kv[k]
	}
	return arrow.NewMetadata(keys, vals)
}

// MetaFromMetadata parses evtool metadata. Files without evtool keys are accepted as recordings of
// unknown geometry when their columns fit (the caller checks the columns).
func MetaFromMetadata(md arrow.Metadata) (events.Meta, error) {
	m := events.Meta{Format: "arrow", Kind: events.KindRecording}
	get := func(k string) (string, bool) {
		i := md.FindKey(k)
		if i < 0 {
			return "", false
		}
		return md.Values()[i], true
	}
	if v, ok := get(KeyKind); ok {
		switch events.Kind(v) {
		case events.KindRecording, events.KindDataset:
			m.Kind = events.Kind(v)
		case events.KindTensors:
			m.Kind = events.KindTensors
		default:
			return m, fmt.Errorf("metadata %s=%q: want recording or dataset", KeyKind, v)
		}
	}
	if v, ok := get(KeyTimeUnit); ok && v != "us" {
		return m, fmt.Errorf("metadata %s=%q: only microseconds (us) are supported", KeyTimeUnit, v)
	}
	for _, kd := range []struct {
		key string
		dst *int
	}{{KeyWidth, &m.Geometry.Width}, {KeyHeight, &m.Geometry.Height}} {
		if v, ok := get(kd.key); ok && v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 65536 {
				return m, fmt.Errorf("metadata %s=%q: want a size in pixels", kd.key, v)
			}
			*kd.dst = n
		}
	}
	m.Source, _ = get(KeySource)
	m.Transforms, _ = get(KeyTransforms)
	if v, ok := get(KeyClasses); ok && v != "" {
		if err := json.Unmarshal([]byte(v), &m.Classes); err != nil {
			return m, fmt.Errorf("metadata %s: want a JSON list of class names: %w", KeyClasses, err)
		}
	}
	if v, ok := get(KeyBoxClasses); ok && v != "" {
		if err := json.Unmarshal([]byte(v), &m.BoxClasses); err != nil {
			return m, fmt.Errorf("metadata %s: want a JSON list of class names: %w", KeyBoxClasses, err)
		}
	}
	if v, ok := get(KeyExtra); ok && v != "" {
		var extra map[string]any
		if err := json.Unmarshal([]byte(v), &extra); err == nil {
			m.Extra = extra
		}
	}
	return m, nil
}

// Column names shared by both layouts.
const (
	ColT     = "t"
	ColX     = "x"
	ColY     = "y"
	ColP     = "p"
	ColLabel = "label"
	ColID    = "id"
)

// RecordingSchema is the schema of the recording layout, with meta as schema metadata.
func RecordingSchema(meta events.Meta) *arrow.Schema {
	meta.Kind = events.KindRecording
	fields, md := withBoxes([]arrow.Field{
		{Name: ColT, Type: arrow.PrimitiveTypes.Int64},
		{Name: ColX, Type: arrow.PrimitiveTypes.Uint16},
		{Name: ColY, Type: arrow.PrimitiveTypes.Uint16},
		{Name: ColP, Type: arrow.PrimitiveTypes.Uint8},
	}, MetaToMetadata(meta), meta)
	return arrow.NewSchema(fields, &md)
}

// DatasetSchema is the schema of the dataset layout, with meta as schema metadata.
func DatasetSchema(meta events.Meta) *arrow.Schema {
	meta.Kind = events.KindDataset
	fields, md := withBoxes([]arrow.Field{
		{Name: ColLabel, Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: ColID, Type: arrow.BinaryTypes.String},
		{Name: ColT, Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)},
		{Name: ColX, Type: arrow.ListOf(arrow.PrimitiveTypes.Uint16)},
		{Name: ColY, Type: arrow.ListOf(arrow.PrimitiveTypes.Uint16)},
		{Name: ColP, Type: arrow.ListOf(arrow.PrimitiveTypes.Uint8)},
	}, MetaToMetadata(meta), meta)
	return arrow.NewSchema(fields, &md)
}

// withBatchSamples adds the evtool.batch_samples key to a dataset schema.
func withBatchSamples(s *arrow.Schema, n int) *arrow.Schema {
	md := s.Metadata()
	keys := append(append([]string{}, md.Keys()...), KeyBatchSamples)
	vals := append(append([]string{}, md.Values()...), strconv.Itoa(n))
	nm := arrow.NewMetadata(keys, vals)
	return arrow.NewSchema(s.Fields(), &nm)
}
