package rosbag

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
)

// rosbagPython returns a Python interpreter with ROS's own rosbag package (Debian's python3-rosbag, with
// roslz4 and genpy).
func rosbagPython(t *testing.T) string {
	return fixtures.Python(t, "rosbag", "roslz4", "genpy.dynamic")
}

// Message definitions as ROS tools store them, for rosbag's dynamic message classes.
const pyDefs = `
SEP = "=" * 80 + "\n"
HDR = SEP + "MSG: std_msgs/Header\nuint32 seq\ntime stamp\nstring frame_id\n"
EVENT = "uint16 x\nuint16 y\ntime ts\nbool polarity\n"
DEFS = {
    "dvs_msgs/EventArray": "Header header\nuint32 height\nuint32 width\nEvent[] events\n" + HDR + SEP + "MSG: dvs_msgs/Event\n" + EVENT,
    "prophesee_event_msgs/EventArray": "std_msgs/Header header\nuint32 height\nuint32 width\nEvent[] events\n" + HDR + SEP + "MSG: prophesee_event_msgs/Event\n" + EVENT,
    "sensor_msgs/Imu": "Header header\ngeometry_msgs/Quaternion orientation\nfloat64[9] orientation_covariance\n"
        "geometry_msgs/Vector3 angular_velocity\nfloat64[9] angular_velocity_covariance\n"
        "geometry_msgs/Vector3 linear_acceleration\nfloat64[9] linear_acceleration_covariance\n" + HDR
        + SEP + "MSG: geometry_msgs/Quaternion\nfloat64 x\nfloat64 y\nfloat64 z\nfloat64 w\n"
        + SEP + "MSG: geometry_msgs/Vector3\nfloat64 x\nfloat64 y\nfloat64 z\n",
    "sensor_msgs/Image": "Header header\nuint32 height\nuint32 width\nstring encoding\nuint8 is_bigendian\nuint32 step\nuint8[] data\n" + HDR,
}
def cls(t):
    return genpy.dynamic.generate_dynamic(t, DEFS[t])[t]
`

// writeScript records bags with rosbag's own writer: events in messages of 250, an IMU message after
// each, an image every fourth; small chunk thresholds so that a bag has many chunks. It prints the events
// and IMU samples evtool must read (t = sec·10⁶ + nsec // 1000).
const writeScript = `
import sys, random, rosbag, genpy, genpy.dynamic
from genpy import Time
` + pyDefs + `
out, kind, comp = sys.argv[1], sys.argv[2], sys.argv[3]
Arr, Imu, Img = cls(kind), cls("sensor_msgs/Imu"), cls("sensor_msgs/Image")
assert Arr._md5sum == "5e8beee5a6c107e504c2e78903c224b8", Arr._md5sum
Ev = genpy.dynamic.generate_dynamic(kind, DEFS[kind])[kind.split("/")[0] + "/Event"]
rng = random.Random(42)
sec, nsec = 1500000000, 999990000
lines = []
with rosbag.Bag(out, "w", compression=comp, chunk_threshold=24 * 1024) as bag:
    for m in range(60):
        evs = []
        for i in range(250):
            nsec += rng.randrange(4000)
            if nsec >= 10**9:
                sec, nsec = sec + 1, nsec - 10**9
            e = Ev(x=rng.randrange(346), y=rng.randrange(260), ts=Time(sec, nsec), polarity=rng.random() < 0.5)
            evs.append(e)
            lines.append("e %d %d %d %d" % (sec * 10**6 + nsec // 1000, e.x, e.y, int(e.polarity)))
        msg = Arr(height=260, width=346, events=evs)
        msg.header.seq, msg.header.stamp, msg.header.frame_id = m, Time(sec, nsec), "cam0"
        bag.write("/cam0/events", msg, Time(sec, nsec))
        imu = Imu()
        imu.header.stamp = Time(sec, nsec + 1 if nsec < 999999999 else nsec)
        imu.orientation.x, imu.orientation.w = rng.random(), 1.0
        imu.angular_velocity.x, imu.angular_velocity.z = rng.gauss(0, 1), rng.gauss(0, 1)
        imu.linear_acceleration.z = 9.81 + rng.gauss(0, 0.1)
        bag.write("/cam0/imu", imu, Time(sec, nsec))
        s = imu.header.stamp
        lines.append("i %d %r %r %r %r %r %r %r %r %r %r" % (s.secs * 10**6 + s.nsecs // 1000,
            imu.orientation.x, imu.orientation.y, imu.orientation.z, imu.orientation.w,
            imu.angular_velocity.x, imu.angular_velocity.y, imu.angular_velocity.z,
            imu.linear_acceleration.x, imu.linear_acceleration.y, imu.linear_acceleration.z))
        if m % 4 == 0:
            bag.write("/cam0/image_raw", Img(height=26, width=34, encoding="mono8", step=34, data=bytes(range(256)) * 3 + bytes(116)), Time(sec, nsec))
print("\n".join(lines))
`

// readScript reads a bag with rosbag's reader (index, chunks, and message classes generated from the
// definitions the bag carries) and prints its topics and every event the way writeScript does.
const readScript = `
import sys, rosbag
info = rosbag.Bag(sys.argv[1]).get_type_and_topic_info()
for topic in sorted(info.topics):
    print("topic %s %s %d" % (topic, info.topics[topic].msg_type, info.topics[topic].message_count))
for topic, msg, t in rosbag.Bag(sys.argv[1]).read_messages(topics=[sys.argv[2]]):
    for e in msg.events:
        print("e %d %d %d %d" % (e.ts.secs * 10**6 + e.ts.nsecs // 1000, e.x, e.y, int(e.polarity)))
`

// parseDump reads the lines the scripts print: events, IMU samples, topics.
func parseDump(t *testing.T, out []byte) (*events.Batch, []IMU, []string) {
	t.Helper()
	b := events.NewBatch(0)
	var imus []IMU
	var topics []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		num := func(i int) int64 {
			v, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				t.Fatalf("python printed %q", sc.Text())
			}
			return v
		}
		switch f[0] {
		case "e":
			b.Append(num(1), uint16(num(2)), uint16(num(3)), uint8(num(4)))
		case "i":
			var v [10]float64
			for k := range v {
				var err error
				if v[k], err = strconv.ParseFloat(f[2+k], 64); err != nil {
					t.Fatalf("python printed %q", sc.Text())
				}
			}
			imus = append(imus, IMU{T: num(1), Topic: "/cam0/imu", Orientation: [4]float64{v[0], v[1], v[2], v[3]},
				AngularVelocity: [3]float64{v[4], v[5], v[6]}, LinearAcceleration: [3]float64{v[7], v[8], v[9]}})
		case "topic":
			topics = append(topics, strings.Join(f[1:], " "))
		}
	}
	return b, imus, topics
}

// TestRosbagWritten reads bags written by ROS's own rosbag package — bz2, lz4 (roslz4) and uncompressed
// chunks, both message types, IMU and image topics beside the events — and gets exactly the events and
// IMU samples that were recorded.
func TestRosbagWritten(t *testing.T) {
	py := rosbagPython(t)
	dir := t.TempDir()
	for _, c := range [][2]string{{typeDVS, "bz2"}, {typeProphesee, "lz4"}, {typeDVS, "none"}} {
		t.Run(c[0]+"/"+c[1], func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c[0], "/", "_")+"-"+c[1]+".bag")
			out, err := exec.Command(py, "-c", writeScript, path, c[0], c[1]).Output()
			if err != nil {
				t.Fatalf("python: %v\n%s", err, out)
			}
			want, wantIMU, _ := parseDump(t, out)
			r, err := Open(path, formats.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got events.Batch
			var imus []IMU
			buf := events.NewBatch(1000)
			for {
				err := r.Read(buf)
				got.AppendBatch(buf)
				imus = append(imus, r.IMUs()...)
				if err != nil {
					if err.Error() != "EOF" {
						t.Fatal(err)
					}
					break
				}
			}
			checkEqual(t, &got, want)
			if !reflect.DeepEqual(imus, wantIMU) {
				t.Fatalf("%d IMU samples, want %d; first %+v, want %+v", len(imus), len(wantIMU), imus[0], wantIMU[0])
			}
			m := r.Meta()
			if m.Geometry != (events.Geometry{Width: 346, Height: 260}) || m.Extra["compression"] != c[1] || m.Extra["chunks"].(int) < 8 {
				t.Fatalf("meta %+v", m)
			}
			wantTopics := []Topic{{"/cam0/events", c[0], 60}, {"/cam0/imu", typeIMU, 60}, {"/cam0/image_raw", "sensor_msgs/Image", 15}}
			if !reflect.DeepEqual(r.Topics(), wantTopics) {
				t.Fatalf("topics %+v, want %+v", r.Topics(), wantTopics)
			}
		})
	}
}

// TestRosbagReadsWriter: ROS's rosbag reads the bags evtool writes, with every event.
func TestRosbagReadsWriter(t *testing.T) {
	py := rosbagPython(t)
	g := events.Geometry{Width: 640, Height: 480}
	want := randomEvents(5, 120_000, g, 1_500_000_000_000_000)
	for _, comp := range []string{"lz4", "none"} {
		path := filepath.Join(t.TempDir(), "evtool.bag")
		writeBag(t, path, g, WriterOptions{Compression: comp, MessageSpan: 3000}, want)
		out, err := exec.Command(py, "-c", readScript, path, "/dvs/events").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: rosbag cannot read it: %v\n%s", comp, err, out)
		}
		got, _, topics := parseDump(t, out)
		checkEqual(t, got, want)
		if len(topics) != 1 || !strings.HasPrefix(topics[0], "/dvs/events dvs_msgs/EventArray ") {
			t.Fatalf("rosbag lists topics %q", topics)
		}
	}
}

// TestRosbagReads checks the test generator against ROS: rosbag reads the bags it writes (every
// compression, both message types, connection records inside chunks) through their index and finds
// every topic, every message and exactly the events evtool reads.
func TestRosbagReads(t *testing.T) {
	py := rosbagPython(t)
	dir := t.TempDir()
	for i, rc := range []recording{
		{compression: "bz2", width: 64, height: 48, messages: 20, perMessage: 100, perChunk: 6, imu: true, image: true, seed: 21},
		{compression: "lz4", prophesee: true, width: 640, height: 480, messages: 20, perMessage: 100, perChunk: 5, imu: true, seed: 22},
		{compression: "none", width: 32, height: 32, messages: 10, perMessage: 50, perChunk: 3, connInChunk: true, seed: 23},
	} {
		g := rc.generate(t)
		path := filepath.Join(dir, fmt.Sprintf("gen%d.bag", i))
		if err := os.WriteFile(path, g.bag, 0o644); err != nil {
			t.Fatal(err)
		}
		topic := "/dvs/events"
		if rc.prophesee {
			topic = "/prophesee/camera/cd_events_buffer"
		}
		out, err := exec.Command(py, "-c", readScript, path, topic).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: rosbag cannot read it: %v\n%s", rc.compression, err, out)
		}
		got, _, topics := parseDump(t, out)
		checkEqual(t, got, g.want)
		if want := fmt.Sprintf("%s %s %d", topic, map[bool]string{false: typeDVS, true: typeProphesee}[rc.prophesee], rc.messages); !strings.Contains(strings.Join(topics, "\n"), want) {
			t.Fatalf("rosbag lists topics %q; want %q among them", topics, want)
		}
	}
}
