package rosbag

import (
	"bytes"
	"encoding/binary"
	"math"
	"os/exec"
	"sort"
	"testing"

	"github.com/pierrec/lz4/v4"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/internal/fixtures"
)

// A ROS bag 2.0 writer for tests, written from the published format description (record = header length,
// header of length-prefixed name=value fields, data length, data): a 4096-byte bag header record, chunks
// each followed by one index data record per connection, then the connection and chunk info records.
// It writes what rosbag record writes, and can be told to write what it should not.

type testConn struct {
	id                   uint32
	topic, typ, md5, def string
	skipDef, connInChunk bool // leave the definition out; write the connection record inside the chunk
	callerid             string
	written              bool
}

type indexEntry struct {
	sec, nsec uint32
	offset    uint32
}

type chunkInfo struct {
	pos        uint64
	start, end [2]uint32
	counts     map[uint32]uint32
}

type bagWriter struct {
	t           testing.TB
	out         bytes.Buffer
	conns       []*testConn
	compression string
	chunk       bytes.Buffer
	index       map[uint32][]indexEntry
	info        chunkInfo
	infos       []chunkInfo
	open        bool
	noIndex     bool // leave index_pos at 0, as an interrupted recording does
}

func newBagWriter(t testing.TB, compression string) *bagWriter {
	w := &bagWriter{t: t, compression: compression}
	w.out.WriteString(Magic)
	w.writeRecord(&w.out, fields("op", []byte{opBagHeader}, "index_pos", u64(0), "conn_count", u32(0), "chunk_count", u32(0)), nil, 4096)
	return w
}

func u32(v uint32) []byte { return le32(v) }
func u64(v uint64) []byte { return le64(v) }
func rtime(sec, nsec uint32) []byte {
	return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, sec), nsec)
}

// fields builds a record header from name, value pairs (in the given order).
func fields(kv ...any) []byte {
	var b []byte
	for i := 0; i < len(kv); i += 2 {
		name := kv[i].(string)
		var v []byte
		switch x := kv[i+1].(type) {
		case string:
			v = []byte(x)
		case []byte:
			v = x
		}
		b = appendField(b, name, v)
	}
	return b
}

// writeRecord writes header and data; padTo > 0 pads the data with spaces so header+data fill padTo bytes
// (the bag header record).
func (w *bagWriter) writeRecord(dst *bytes.Buffer, header, data []byte, padTo int) {
	if padTo > 0 && len(header) < padTo {
		data = bytes.Repeat([]byte{' '}, padTo-len(header))
	}
	dst.Write(appendRecord(nil, header, data))
}

func (w *bagWriter) addConn(c *testConn) *testConn {
	c.id = uint32(len(w.conns))
	w.conns = append(w.conns, c)
	return c
}

func (c *testConn) header() []byte {
	kv := []any{"topic", c.topic, "type", c.typ, "md5sum", c.md5}
	if !c.skipDef {
		kv = append(kv, "message_definition", c.def)
	}
	if c.callerid != "" {
		kv = append(kv, "callerid", c.callerid, "latching", "0")
	}
	return fields(kv...)
}

func (w *bagWriter) connRecord(dst *bytes.Buffer, c *testConn) {
	w.writeRecord(dst, fields("op", []byte{opConnection}, "conn", u32(c.id), "topic", c.topic), c.header(), 0)
}

// write adds one message at bag time (sec, nsec) to the open chunk.
func (w *bagWriter) write(c *testConn, sec, nsec uint32, msg []byte) {
	if !w.open {
		w.chunk.Reset()
		w.index = map[uint32][]indexEntry{}
		w.info = chunkInfo{pos: uint64(w.out.Len()), start: [2]uint32{sec, nsec}, end: [2]uint32{sec, nsec}, counts: map[uint32]uint32{}}
		w.open = true
	}
	if !c.written && c.connInChunk {
		w.connRecord(&w.chunk, c)
	}
	c.written = true
	off := uint32(w.chunk.Len())
	w.writeRecord(&w.chunk, fields("op", []byte{opMsgData}, "conn", u32(c.id), "time", rtime(sec, nsec)), msg, 0)
	w.index[c.id] = append(w.index[c.id], indexEntry{sec, nsec, off})
	w.info.counts[c.id]++
	if less(sec, nsec, w.info.start) {
		w.info.start = [2]uint32{sec, nsec}
	}
	if less(w.info.end[0], w.info.end[1], [2]uint32{sec, nsec}) {
		w.info.end = [2]uint32{sec, nsec}
	}
}

func less(sec, nsec uint32, t [2]uint32) bool { return sec < t[0] || (sec == t[0] && nsec < t[1]) }

// flush closes the open chunk: the chunk record, then one index data record per connection.
func (w *bagWriter) flush() {
	if !w.open {
		return
	}
	w.open = false
	raw := w.chunk.Bytes()
	var stored []byte
	switch w.compression {
	case "none":
		stored = raw
	case "bz2":
		stored = bz2Compress(w.t, raw)
	case "lz4":
		// What roslz4 writes: an LZ4 frame of independent 1 MiB blocks with a content checksum.
		var b bytes.Buffer
		zw := lz4.NewWriter(&b)
		if err := zw.Apply(lz4.BlockSizeOption(lz4.Block1Mb), lz4.ChecksumOption(true), lz4.BlockChecksumOption(false)); err != nil {
			w.t.Fatal(err)
		}
		zw.Write(raw)
		if err := zw.Close(); err != nil {
			w.t.Fatal(err)
		}
		stored = b.Bytes()
	}
	w.writeRecord(&w.out, fields("op", []byte{opChunk}, "compression", w.compression, "size", u32(uint32(len(raw)))), stored, 0)
	ids := make([]uint32, 0, len(w.index))
	for id := range w.index {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		var data []byte
		for _, e := range w.index[id] {
			data = append(data, rtime(e.sec, e.nsec)...)
			data = append(data, u32(e.offset)...)
		}
		w.writeRecord(&w.out, fields("op", []byte{opIndexData}, "ver", u32(1), "conn", u32(id), "count", u32(uint32(len(w.index[id])))), data, 0)
	}
	w.infos = append(w.infos, w.info)
}

// bz2Compress compresses with Python's bz2 module (the libbz2 that ROS itself writes bz2 chunks with):
// Go's standard library only decompresses bzip2.
func bz2Compress(tb testing.TB, raw []byte) []byte {
	tb.Helper()
	cmd := exec.Command(fixtures.Python(tb, "bz2"), "-c", "import bz2, sys; sys.stdout.buffer.write(bz2.compress(sys.stdin.buffer.read(), 9))")
	cmd.Stdin = bytes.NewReader(raw)
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("python3 bz2: %v", err)
	}
	return out
}

// close writes the index and patches the bag header; it returns the file.
func (w *bagWriter) close() []byte {
	w.flush()
	indexPos := uint64(w.out.Len())
	for _, c := range w.conns {
		w.connRecord(&w.out, c)
	}
	for _, ci := range w.infos {
		ids := make([]uint32, 0, len(ci.counts))
		for id := range ci.counts {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		var data []byte
		for _, id := range ids {
			data = append(data, u32(id)...)
			data = append(data, u32(ci.counts[id])...)
		}
		w.writeRecord(&w.out, fields("op", []byte{opChunkInfo}, "ver", u32(1), "chunk_pos", u64(ci.pos),
			"start_time", rtime(ci.start[0], ci.start[1]), "end_time", rtime(ci.end[0], ci.end[1]), "count", u32(uint32(len(ids)))), data, 0)
	}
	b := w.out.Bytes()
	if w.noIndex {
		return b
	}
	var hdr bytes.Buffer
	w.writeRecord(&hdr, fields("op", []byte{opBagHeader}, "index_pos", u64(indexPos), "conn_count", u32(uint32(len(w.conns))),
		"chunk_count", u32(uint32(len(w.infos)))), nil, 4096)
	copy(b[len(Magic):], hdr.Bytes())
	return b
}

// Message definitions as a ROS1 recorder stores them (comments included, to exercise the parser).
const headerDef = sep + "MSG: std_msgs/Header\n# Standard metadata for higher-level stamped data types.\n" +
	"uint32 seq\n# seconds and nanoseconds\ntime stamp\n#Frame this data is associated with\nstring frame_id\n"

var (
	dvsDef = "# An array of DVS events\n# (0, 0) is the top-left pixel\n\nHeader header\n\nuint32 height         # rows\n" +
		"uint32 width          # columns\n\n# the events\nEvent[] events\n\n" + headerDef +
		sep + "MSG: dvs_msgs/Event\n# One event\nuint16 x\nuint16 y\ntime ts\nbool polarity\n"
	propheseeDef = "# Array of events\nstd_msgs/Header header\nuint32 height\nuint32 width\n\nEvent[] events\n" + headerDef +
		sep + "MSG: prophesee_event_msgs/Event\n# A single event message\nuint16 x\nuint16 y\ntime ts\nbool polarity\n"
	imuDef = "# inertial data\nHeader header\n\ngeometry_msgs/Quaternion orientation\nfloat64[9] orientation_covariance # row major\n\n" +
		"geometry_msgs/Vector3 angular_velocity\nfloat64[9] angular_velocity_covariance\n\n" +
		"geometry_msgs/Vector3 linear_acceleration\nfloat64[9] linear_acceleration_covariance\n" + headerDef +
		sep + "MSG: geometry_msgs/Quaternion\n# orientation in free space\n\nfloat64 x\nfloat64 y\nfloat64 z\nfloat64 w\n" +
		sep + "MSG: geometry_msgs/Vector3\n# a vector\nfloat64 x\nfloat64 y\nfloat64 z\n"
	imageDef = "Header header\nuint32 height\nuint32 width\nstring encoding\nuint8 is_bigendian\nuint32 step\nuint8[] data\n" + headerDef
)

func dvsConn(topic string) *testConn {
	return &testConn{topic: topic, typ: typeDVS, md5: "5e8beee5a6c107e504c2e78903c224b8", def: dvsDef, callerid: "/dvs_driver"}
}

func propheseeConn(topic string) *testConn {
	return &testConn{topic: topic, typ: typeProphesee, md5: "5e8beee5a6c107e504c2e78903c224b8", def: propheseeDef}
}

func imuConn(topic string) *testConn {
	return &testConn{topic: topic, typ: typeIMU, md5: "6a62c6daae103f4ff57a132d6f95cec2", def: imuDef}
}

func imageConn(topic string) *testConn {
	return &testConn{topic: topic, typ: "sensor_msgs/Image", md5: "060021388200f6f0f447d0fcd9c64743", def: imageDef}
}

// rosEvent is one event as a ROS message holds it.
type rosEvent struct {
	x, y      uint16
	sec, nsec uint32
	pol       bool
}

func appendHeader(b []byte, seq, sec, nsec uint32, frame string) []byte {
	b = binary.LittleEndian.AppendUint32(b, seq)
	b = append(b, rtime(sec, nsec)...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(frame)))
	return append(b, frame...)
}

// eventArray serialises an EventArray (dvs_msgs and prophesee_event_msgs lay it out alike).
func eventArray(seq uint32, w, h uint32, evs []rosEvent) []byte {
	sec, nsec := uint32(0), uint32(0)
	if len(evs) > 0 {
		sec, nsec = evs[len(evs)-1].sec, evs[len(evs)-1].nsec
	}
	b := appendHeader(nil, seq, sec, nsec, "camera")
	b = binary.LittleEndian.AppendUint32(b, h)
	b = binary.LittleEndian.AppendUint32(b, w)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(evs)))
	for _, e := range evs {
		b = binary.LittleEndian.AppendUint16(b, e.x)
		b = binary.LittleEndian.AppendUint16(b, e.y)
		b = append(b, rtime(e.sec, e.nsec)...)
		if e.pol {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	return b
}

func imuMsg(seq uint32, s IMU, sec, nsec uint32) []byte {
	b := appendHeader(nil, seq, sec, nsec, "imu")
	f := func(v float64) { b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v)) }
	cov := func() {
		for i := 0; i < 9; i++ {
			f(float64(i) / 100)
		}
	}
	for _, v := range s.Orientation {
		f(v)
	}
	cov()
	for _, v := range s.AngularVelocity {
		f(v)
	}
	cov()
	for _, v := range s.LinearAcceleration {
		f(v)
	}
	cov()
	return b
}

func imageMsg(seq, sec uint32, w, h int) []byte {
	b := appendHeader(nil, seq, sec, 0, "camera")
	b = binary.LittleEndian.AppendUint32(b, uint32(h))
	b = binary.LittleEndian.AppendUint32(b, uint32(w))
	b = binary.LittleEndian.AppendUint32(b, 5)
	b = append(b, "mono8"...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(w))
	b = binary.LittleEndian.AppendUint32(b, uint32(w*h))
	for i := 0; i < w*h; i++ {
		b = append(b, byte(i*7+int(seq)))
	}
	return b
}

// toEvents is what evtool must read from ROS events: t = sec·10⁶ + ⌊nsec/1000⌋ µs.
func toEvents(evs []rosEvent) *events.Batch {
	b := events.NewBatch(len(evs))
	for _, e := range evs {
		var p uint8
		if e.pol {
			p = 1
		}
		b.Append(int64(e.sec)*1_000_000+int64(e.nsec/1000), e.x, e.y, p)
	}
	return b
}
