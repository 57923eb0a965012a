package rosbag

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Message types evtool decodes.
const (
	typeDVS       = "dvs_msgs/EventArray"
	typeProphesee = "prophesee_event_msgs/EventArray"
	typeIMU       = "sensor_msgs/Imu"
)

func isEventType(t string) bool { return t == typeDVS || t == typeProphesee }

// Definitions used when a connection header carries no message_definition (some converters leave it
// empty): the published layouts, accepted only when the md5sum says the layout is this one.
var knownDefinitions = map[string]struct{ md5, def string }{
	typeDVS: {"5e8beee5a6c107e504c2e78903c224b8",
		"Header header\nuint32 height\nuint32 width\nEvent[] events\n" + headerSection + sep + "MSG: dvs_msgs/Event\nuint16 x\nuint16 y\ntime ts\nbool polarity\n"},
	typeProphesee: {"5e8beee5a6c107e504c2e78903c224b8",
		"std_msgs/Header header\nuint32 height\nuint32 width\nEvent[] events\n" + headerSection + sep + "MSG: prophesee_event_msgs/Event\nuint16 x\nuint16 y\ntime ts\nbool polarity\n"},
	typeIMU: {"6a62c6daae103f4ff57a132d6f95cec2",
		"Header header\ngeometry_msgs/Quaternion orientation\nfloat64[9] orientation_covariance\n" +
			"geometry_msgs/Vector3 angular_velocity\nfloat64[9] angular_velocity_covariance\n" +
			"geometry_msgs/Vector3 linear_acceleration\nfloat64[9] linear_acceleration_covariance\n" +
			headerSection + sep + "MSG: geometry_msgs/Quaternion\nfloat64 x\nfloat64 y\nfloat64 z\nfloat64 w\n" +
			sep + "MSG: geometry_msgs/Vector3\nfloat64 x\nfloat64 y\nfloat64 z\n"},
}

const (
	sep           = "================================================================================\n"
	headerSection = sep + "MSG: std_msgs/Header\nuint32 seq\ntime stamp\nstring frame_id\n"
)

// definition returns the message type of a connection: from its definition text, or from the published
// layout when the text is missing and the md5sum matches it.
func definition(c *Connection) (*msgType, error) {
	def := c.Definition
	if def == "" {
		k, ok := knownDefinitions[c.Type]
		if !ok || (c.MD5 != k.md5 && c.MD5 != "*") {
			return nil, fmt.Errorf("topic %s (%s, md5sum %s) has no message definition and is not the published layout",
				c.Topic, c.Type, c.MD5)
		}
		def = k.def
	}
	t, err := parseDefinition(c.Type, def)
	if err != nil {
		return nil, fmt.Errorf("topic %s: message definition of %s: %w", c.Topic, c.Type, err)
	}
	return t, nil
}

// eventLayout says where the parts of an EventArray lie, from its definition.
type eventLayout struct {
	top           *msgType
	elem          int // bytes per event
	x, y, ts, pol int // offsets inside an event
	xk, yk, pk    kind
	std           bool // uint16 x, uint16 y, time ts, bool polarity: 13 bytes (the published layout)
	hasW, hasH    bool
	wKind, hKind  kind
}

func compileEvents(t *msgType) (*eventLayout, error) {
	_, f := t.field("events")
	if f == nil || f.kind != kMsg || f.array != -1 {
		return nil, fmt.Errorf("%s has no variable-length array of events", t.name)
	}
	e := f.sub
	if e.fixed <= 0 {
		return nil, fmt.Errorf("the events of %s (%s) do not have a fixed size", t.name, e.name)
	}
	l := &eventLayout{top: t, elem: e.fixed}
	var fx, fy, ft, fp *field
	l.x, fx = e.staticOffset("x")
	l.y, fy = e.staticOffset("y")
	l.ts, ft = e.staticOffset("ts")
	l.pol, fp = e.staticOffset("polarity")
	switch {
	case fx == nil || fy == nil || ft == nil || fp == nil:
		return nil, fmt.Errorf("%s lacks one of the fields x, y, ts, polarity", e.name)
	case !fx.kind.integer() || !fy.kind.integer() || fx.array != 0 || fy.array != 0:
		return nil, fmt.Errorf("%s: x and y are not integers", e.name)
	case ft.kind != kTime || ft.array != 0:
		return nil, fmt.Errorf("%s: ts is not a time", e.name)
	case (fp.kind != kBool && !fp.kind.integer()) || fp.array != 0:
		return nil, fmt.Errorf("%s: polarity is not a bool", e.name)
	}
	l.xk, l.yk, l.pk = fx.kind, fy.kind, fp.kind
	l.std = l.elem == 13 && l.x == 0 && l.xk == kUint16 && l.y == 2 && l.yk == kUint16 && l.ts == 4 &&
		l.pol == 12 && (l.pk == kBool || l.pk == kUint8)
	if _, w := t.field("width"); w != nil && w.kind.integer() && w.array == 0 {
		l.hasW, l.wKind = true, w.kind
	}
	if _, h := t.field("height"); h != nil && h.kind.integer() && h.array == 0 {
		l.hasH, l.hKind = true, h.kind
	}
	return l, nil
}

// head finds the events of one message: where the first starts and how many there are, and the sensor
// size it states (0 when it does not).
func (l *eventLayout) head(b []byte) (start, n, w, h int, err error) {
	off, _, err := l.top.locate(b, 0, "events")
	if err != nil {
		return 0, 0, 0, 0, err
	}
	if len(b)-off < 4 {
		return 0, 0, 0, 0, fmt.Errorf("the message ends before its event count")
	}
	count := int64(binary.LittleEndian.Uint32(b[off:]))
	start = off + 4
	if count > int64(len(b)-start)/int64(l.elem) {
		return 0, 0, 0, 0, fmt.Errorf("%d events of %d bytes do not fit the %d bytes left in the message", count, l.elem, len(b)-start)
	}
	if l.hasW && l.hasH {
		if w, err = l.dim(b, "width", l.wKind); err == nil {
			h, err = l.dim(b, "height", l.hKind)
		}
		if err != nil {
			return 0, 0, 0, 0, err
		}
	}
	return start, int(count), w, h, nil
}

func (l *eventLayout) dim(b []byte, name string, k kind) (int, error) {
	off, _, err := l.top.locate(b, 0, name)
	if err != nil {
		return 0, err
	}
	if k.size() > len(b)-off {
		return 0, fmt.Errorf("the message ends inside its %s", name)
	}
	v := readUint(b[off:], k)
	if v > math.MaxUint16+1 {
		return 0, nil // not a sensor size evtool can hold: leave it unknown
	}
	return int(v), nil
}

// IMU is one sensor_msgs/Imu message, in the message's own units.
type IMU struct {
	T                  int64      // header stamp, µs (as event times)
	Topic              string     // the topic it was published on
	Orientation        [4]float64 // quaternion x, y, z, w
	AngularVelocity    [3]float64 // rad/s
	LinearAcceleration [3]float64 // m/s²
}

// imuLayout checks that a type has the fields of sensor_msgs/Imu that IMU holds.
type imuLayout struct{ top *msgType }

var imuPaths = [][]string{
	{"orientation", "x"}, {"orientation", "y"}, {"orientation", "z"}, {"orientation", "w"},
	{"angular_velocity", "x"}, {"angular_velocity", "y"}, {"angular_velocity", "z"},
	{"linear_acceleration", "x"}, {"linear_acceleration", "y"}, {"linear_acceleration", "z"},
}

func compileIMU(t *msgType) (*imuLayout, error) {
	check := func(path []string, want kind) error {
		cur := t
		for i, name := range path {
			_, f := cur.field(name)
			if f == nil || f.array != 0 {
				return fmt.Errorf("%s has no field %s", t.name, name)
			}
			if i == len(path)-1 {
				if f.kind != want {
					return fmt.Errorf("%s: field %s has an unexpected type", t.name, name)
				}
				return nil
			}
			if f.kind != kMsg {
				return fmt.Errorf("%s: field %s is not a message", t.name, name)
			}
			cur = f.sub
		}
		return nil
	}
	if err := check([]string{"header", "stamp"}, kTime); err != nil {
		return nil, err
	}
	for _, p := range imuPaths {
		if err := check(p, kFloat64); err != nil {
			return nil, err
		}
	}
	return &imuLayout{top: t}, nil
}

func (l *imuLayout) decode(b []byte, topic string) (IMU, error) {
	s := IMU{Topic: topic}
	off, _, err := l.top.locate(b, 0, "header", "stamp")
	if err != nil {
		return s, err
	}
	if len(b)-off < 8 {
		return s, fmt.Errorf("the message ends inside its header stamp")
	}
	s.T = micros(binary.LittleEndian.Uint32(b[off:]), binary.LittleEndian.Uint32(b[off+4:]))
	var vals [10]float64
	for i, p := range imuPaths {
		off, _, err := l.top.locate(b, 0, p...)
		if err != nil {
			return s, err
		}
		if len(b)-off < 8 {
			return s, fmt.Errorf("the message ends inside %s.%s", p[0], p[1])
		}
		vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[off:]))
	}
	copy(s.Orientation[:], vals[0:4])
	copy(s.AngularVelocity[:], vals[4:7])
	copy(s.LinearAcceleration[:], vals[7:10])
	return s, nil
}
