// Package rosbag reads and writes the events of ROS bags (format 2.0, `.bag`): the dvs_msgs/EventArray and
// prophesee_event_msgs/EventArray messages of one topic, as DAVIS and Prophesee ROS drivers record them,
// and the sensor_msgs/Imu messages beside them. The index at the end of the bag picks the chunks that
// hold those topics and orders them in time; chunks (uncompressed, bz2 or lz4) are read and decompressed
// one at a time, so memory stays bounded by one chunk whatever the size of the bag. Message layouts are
// taken from the definitions the bag carries. Image and other topics are never decompressed unless they
// share a chunk with the events. The writer records events as rpg_dvs_ros does: dvs_msgs/EventArray
// messages of one topic in lz4 or plain chunks, with the index ROS tools need.
package rosbag

import (
	"bytes"
	"fmt"
	"io"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// Magic is the version line that starts every bag of format 2.0.
const Magic = "#ROSBAG V2.0\n"

func init() {
	formats.Register(&formats.Format{
		Name:        "rosbag",
		Description: "ROS bag 2.0: dvs_msgs or prophesee_event_msgs EventArray topics, IMU; chunks none/bz2/lz4 (writes dvs_msgs, lz4)",
		Extensions:  []string{".bag"},
		// Older bag versions are detected too, so that opening one says why it is refused.
		Detect: func(head []byte) bool {
			return formats.HasPrefix(head, "#ROSBAG V") || formats.HasPrefix(head, "#ROSRECORD V")
		},
		NewReader: func(r io.Reader, name string, o formats.Options) (formats.Source, error) {
			return formats.EventSource(NewReader(r, name, o))
		},
		RandomAccess: true,
		Create:       create,
		Compressions: []string{"lz4", "none"},
		Params: map[string]string{
			"topic": "read the events of this topic (default: the bag's only dvs_msgs/EventArray or prophesee_event_msgs/EventArray topic); " +
				"write them to this topic (default /dvs/events)",
			"message-us": "write: µs of events per dvs_msgs/EventArray message (default 1000)",
		},
		Conformance: formats.Conformance{
			Framed: true, // the bag header points at the index, which counts every chunk and connection
			// ROS time holds 0 … 2³² s; messages hold coordinates of a sensor up to 65536 pixels wide.
			Geometry: events.Geometry{Width: 65536, Height: 65536},
			Extremes: []events.Event{{T: 0, X: 65535, Y: 0, P: 1}, {T: 1, X: 0, Y: 65535},
				{T: 1_600_000_000_000_000, X: 65535, Y: 65535, P: 1}, {T: (1<<32)*1_000_000 - 1, X: 1, Y: 1}},
		},
	})
}

func create(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
	if meta.Kind == events.KindDataset {
		return formats.Sink{}, fmt.Errorf("a ROS bag holds one recording, not a dataset")
	}
	span, err := o.IntParam("message-us", defaultSpan)
	if err != nil {
		return formats.Sink{}, err
	}
	return formats.EventSink(Create(path, meta.Geometry, WriterOptions{Topic: o.Param("topic", ""), Compression: o.Compression, MessageSpan: int64(span)}))
}

// Decode reads a whole in-memory bag into dst (appending) and returns its IMU messages. The events before
// a fault are kept and the fault is returned as a *events.DecodeError. It is the fuzz entry point.
func Decode(data []byte, name string, o formats.Options, dst *events.Batch) ([]IMU, error) {
	r, err := NewReaderAt(bytes.NewReader(data), int64(len(data)), name, o)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var imus []IMU
	buf := events.NewBatch(1 << 12)
	for {
		err := r.Read(buf)
		dst.AppendBatch(buf)
		imus = append(imus, r.IMUs()...)
		if err == io.EOF {
			return imus, nil
		}
		if err != nil {
			return imus, err
		}
	}
}
