// Package aedat4 reads and writes AEDAT 4.0 files (iniVation DV; docs/formats-aedat4.md): an IOHeader
// FlatBuffer with an XML description of the streams, then packets of LZ4-, zstd- or un-compressed
// FlatBuffers (events, frames, IMU samples, triggers), then an index (FTAB) used for seeking by time.
// Reading streams one packet at a time; unknown streams and frame formats are skipped and counted,
// never an abort.
package aedat4

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// Magic starts every AEDAT 4.0 file.
const Magic = "#!AER-DAT4.0\r\n"

// Compression codes of the IOHeader.
const (
	CompressionNone    = 0
	CompressionLZ4     = 1
	CompressionLZ4High = 2
	CompressionZstd    = 3
	CompressionZstdHi  = 4
)

func compressionName(c int32) string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionLZ4, CompressionLZ4High:
		return "lz4"
	case CompressionZstd, CompressionZstdHi:
		return "zstd"
	}
	return "unknown(" + strconv.Itoa(int(c)) + ")"
}

// Stream describes one stream of the file, from the description XML.
type Stream struct {
	ID       int32  `json:"id"`
	Type     string `json:"type"` // EVTS, FRME, IMUS, TRIG, …
	Width    int    `json:"width,omitempty"`
	Height   int    `json:"height,omitempty"`
	Source   string `json:"source,omitempty"`
	Name     string `json:"name,omitempty"` // originalOutputName
	Packets  int64  `json:"packets"`        // packets read so far
	Elements int64  `json:"elements"`       // elements read so far
}

// Frame is one image of a FRME stream. Pixels are row-major, channel-interleaved (BGR order), with
// multi-byte samples little-endian, exactly as stored.
type Frame struct {
	T, BeginT, EndT, ExposureBeginT, ExposureEndT int64
	Format                                        int8 // OpenCV type code: depth = Format&7, channels = Format>>3 + 1
	Width, Height, OffsetX, OffsetY               int16
	Pixels                                        []byte
}

// Channels is the number of colour channels of the frame's format.
func (f *Frame) Channels() int { return int(f.Format>>3) + 1 }

// BytesPerSample is the size of one channel sample, or 0 for an unknown depth.
func (f *Frame) BytesPerSample() int {
	switch f.Format & 7 {
	case 0, 1:
		return 1
	case 2, 3, 7:
		return 2
	case 4, 5:
		return 4
	case 6:
		return 8
	}
	return 0
}

// IMU is one inertial sample: temperature in °C, acceleration in g, rotation in °/s, field in µT.
type IMU struct {
	T           int64
	Temperature float32
	Acc         [3]float32
	Gyro        [3]float32
	Mag         [3]float32
}

// triggerKinds maps the source codes of DV trigger records onto trigger kinds: 0 timestamp reset,
// 1/2/3 external rising/falling/pulse, 4/5 generator rising/falling, 6/7 frame begin/end, 8/9 exposure
// begin/end.
var triggerKinds = [...]events.TriggerKind{events.TriggerReset, events.TriggerRising, events.TriggerFalling,
	events.TriggerPulse, events.TriggerGeneratorRising, events.TriggerGeneratorFalling, events.TriggerFrameBegin,
	events.TriggerFrameEnd, events.TriggerExposureBegin, events.TriggerExposureEnd}

func triggerKind(source int8) events.TriggerKind {
	if source >= 0 && int(source) < len(triggerKinds) {
		return triggerKinds[source]
	}
	return events.TriggerExternal
}

// parseDescription reads the streams from the IOHeader's XML.
func parseDescription(desc string) (map[int32]*Stream, error) {
	type attr struct {
		Key   string `xml:"key,attr"`
		Value string `xml:",chardata"`
	}
	type node struct {
		Name  string `xml:"name,attr"`
		Attrs []attr `xml:"attr"`
		Nodes []node `xml:"node"`
	}
	var root node
	if err := xml.Unmarshal([]byte(desc), &root); err != nil {
		return nil, fmt.Errorf("description XML: %w", err)
	}
	streams := map[int32]*Stream{}
	for _, n := range root.Nodes {
		if n.Name != "outInfo" {
			continue
		}
		for _, s := range n.Nodes {
			id, err := strconv.ParseInt(s.Name, 10, 32)
			if err != nil {
				continue
			}
			st := &Stream{ID: int32(id)}
			for _, a := range s.Attrs {
				switch a.Key {
				case "typeIdentifier":
					st.Type = strings.TrimSpace(a.Value)
				case "originalOutputName":
					st.Name = strings.TrimSpace(a.Value)
				}
			}
			for _, info := range s.Nodes {
				if info.Name != "info" {
					continue
				}
				for _, a := range info.Attrs {
					v := strings.TrimSpace(a.Value)
					switch a.Key {
					case "sizeX":
						st.Width, _ = strconv.Atoi(v)
					case "sizeY":
						st.Height, _ = strconv.Atoi(v)
					case "source":
						st.Source = v
					}
				}
			}
			streams[st.ID] = st
		}
	}
	return streams, nil
}

// sortedStreams lists streams by id.
func sortedStreams(m map[int32]*Stream) []Stream {
	out := make([]Stream, 0, len(m))
	for _, s := range m {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func init() {
	formats.Register(&formats.Format{
		Name:        "aedat4",
		Description: "iniVation DV AEDAT 4.0 (events, frames, IMU, triggers; FTAB index)",
		Extensions:  []string{".aedat4"},
		Detect:      func(head []byte) bool { return formats.HasPrefix(head, Magic) },
		NewReader: func(r io.Reader, name string, o formats.Options) (formats.Source, error) {
			return formats.EventSource(NewReader(r, name, o))
		},
		Create: func(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
			return formats.EventSink(Create(path, meta, o))
		},
		// LZ4 first: what DV and faery write.
		Compressions: []string{"lz4", "zstd", "none"},
		Params: map[string]string{
			"stream": "read the events of this stream id (default: the first EVTS stream)",
		},
		Conformance: formats.Conformance{
			Geometry: events.Geometry{Width: 32767, Height: 32767},
			Extremes: []events.Event{{T: math.MinInt64 + 1, X: 32766, Y: 0, P: 1}, {T: -1, X: 0, Y: 32766},
				{T: 1_600_000_000_000_000, X: 32766, Y: 32766, P: 1}, {T: math.MaxInt64, X: 1, Y: 1}},
		},
	})
}
