package rosbag

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// recording describes a generated bag: an event topic with IMU and image topics beside it.
type recording struct {
	compression  string
	prophesee    bool
	width        uint32
	height       uint32
	messages     int // event messages
	perMessage   int // events per message
	perChunk     int // messages (all topics) per chunk
	imu, image   bool
	seed         uint64
	connInChunk  bool
	secondEvents bool // a second event topic
}

// generated is a bag and what reading it must give.
type generated struct {
	bag  []byte
	want *events.Batch
	imus []IMU
}

func (rc recording) generate(t testing.TB) generated {
	rng := rand.New(rand.NewPCG(rc.seed, 7))
	w := newBagWriter(t, rc.compression)
	var ev *testConn
	if rc.prophesee {
		ev = w.addConn(propheseeConn("/prophesee/camera/cd_events_buffer"))
	} else {
		ev = w.addConn(dvsConn("/dvs/events"))
	}
	ev.connInChunk = rc.connInChunk
	var imu, img, ev2 *testConn
	if rc.imu {
		imu = w.addConn(imuConn("/dvs/imu"))
	}
	if rc.image {
		img = w.addConn(imageConn("/dvs/image_raw"))
	}
	if rc.secondEvents {
		ev2 = w.addConn(dvsConn("/right/events"))
	}
	var all []rosEvent
	var imus []IMU
	sec, nsec := uint32(1_600_000_000), uint32(999_999_000)
	inChunk := 0
	put := func(c *testConn, s, ns uint32, msg []byte) {
		w.write(c, s, ns, msg)
		if inChunk++; rc.perChunk > 0 && inChunk >= rc.perChunk {
			w.flush()
			inChunk = 0
		}
	}
	for m := 0; m < rc.messages; m++ {
		evs := make([]rosEvent, rc.perMessage)
		for i := range evs {
			// Steps of 0…2999 ns: several events share a µs, and sub-µs parts cross µs boundaries.
			nsec += uint32(rng.IntN(3000))
			if nsec >= 1_000_000_000 {
				sec, nsec = sec+1, nsec-1_000_000_000
			}
			evs[i] = rosEvent{x: uint16(rng.IntN(int(rc.width))), y: uint16(rng.IntN(int(rc.height))), sec: sec, nsec: nsec, pol: rng.IntN(2) == 1}
		}
		all = append(all, evs...)
		put(ev, sec, nsec, eventArray(uint32(m), rc.width, rc.height, evs))
		if ev2 != nil {
			put(ev2, sec, nsec, eventArray(uint32(m), rc.width, rc.height, evs[:1]))
		}
		if imu != nil {
			s := IMU{T: micros(sec, nsec), Topic: imu.topic, Orientation: [4]float64{0, 0, rng.Float64(), 1},
				AngularVelocity:    [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()},
				LinearAcceleration: [3]float64{0, 0, 9.81 + rng.NormFloat64()}}
			imus = append(imus, s)
			put(imu, sec, nsec+1, imuMsg(uint32(m), s, sec, nsec))
		}
		if img != nil && m%4 == 0 {
			put(img, sec, nsec+2, imageMsg(uint32(m), sec, int(rc.width), int(rc.height)))
		}
	}
	return generated{bag: w.close(), want: toEvents(all), imus: imus}
}

func params(kv ...string) formats.Options {
	o := formats.Options{Params: map[string]string{}}
	for i := 0; i < len(kv); i += 2 {
		o.Params[kv[i]] = kv[i+1]
	}
	return o
}

func decodeAll(t *testing.T, bag []byte, o formats.Options) (*events.Batch, []IMU, error) {
	t.Helper()
	var got events.Batch
	imus, err := Decode(bag, "test.bag", o, &got)
	return &got, imus, err
}

func checkEqual(t *testing.T, got, want *events.Batch) {
	t.Helper()
	if i := got.FirstDifference(want); i >= 0 {
		var g, w events.Event
		if i < got.Len() {
			g = got.At(i)
		}
		if i < want.Len() {
			w = want.At(i)
		}
		t.Fatalf("%d events, want %d; first difference at %d: %+v, want %+v", got.Len(), want.Len(), i, g, w)
	}
}

// Round trip: for both message types and every chunk compression, several chunks and topics, the events
// read are exactly the events written, the IMU messages come out with their values, and image messages
// are skipped.
func TestRoundTrip(t *testing.T) {
	for _, comp := range []string{"none", "bz2", "lz4"} {
		for _, proph := range []bool{false, true} {
			rc := recording{compression: comp, prophesee: proph, width: 346, height: 260, messages: 40, perMessage: 500,
				perChunk: 7, imu: true, image: true, seed: 1}
			name := comp + "/dvs"
			if proph {
				name, rc.width, rc.height = comp+"/prophesee", 1280, 720
			}
			t.Run(name, func(t *testing.T) {
				g := rc.generate(t)
				got, imus, err := decodeAll(t, g.bag, formats.Options{})
				if err != nil {
					t.Fatal(err)
				}
				checkEqual(t, got, g.want)
				if !reflect.DeepEqual(imus, g.imus) {
					t.Fatalf("%d IMU messages, want %d; first %+v, want %+v", len(imus), len(g.imus), imus[0], g.imus[0])
				}
				r, err := NewReaderAt(bytesReader(g.bag), int64(len(g.bag)), "test.bag", formats.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if m := r.Meta(); m.Geometry != (events.Geometry{Width: int(rc.width), Height: int(rc.height)}) {
					t.Fatalf("geometry %v", m.Geometry)
				}
				wantTopics := []Topic{{r.EventTopic(), typeDVS, 40}, {"/dvs/imu", typeIMU, 40}, {"/dvs/image_raw", "sensor_msgs/Image", 10}}
				if proph {
					wantTopics[0].Type = typeProphesee
				}
				if !reflect.DeepEqual(r.Topics(), wantTopics) {
					t.Fatalf("topics %+v, want %+v", r.Topics(), wantTopics)
				}
			})
		}
	}
}

func bytesReader(b []byte) io.ReaderAt { return bytes.NewReader(b) }

// Reads of any size give the same events; IMU messages arrive with the Read that passes them.
func TestSmallReads(t *testing.T) {
	g := recording{compression: "lz4", width: 64, height: 48, messages: 9, perMessage: 37, perChunk: 4, imu: true, seed: 2}.generate(t)
	r, err := NewReaderAt(bytesReader(g.bag), int64(len(g.bag)), "test.bag", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var all events.Batch
	var imus []IMU
	buf := events.NewBatch(5)
	for {
		err := r.Read(buf)
		if buf.Len() > 5 {
			t.Fatalf("Read gave %d events into a batch of capacity 5", buf.Len())
		}
		all.AppendBatch(buf)
		imus = append(imus, r.IMUs()...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	checkEqual(t, &all, g.want)
	if !reflect.DeepEqual(imus, g.imus) {
		t.Fatalf("%d IMU messages, want %d", len(imus), len(g.imus))
	}
	if m := r.Meta(); m.Extra["event_messages"] != int64(9) || m.Extra["imu_samples"] != int64(9) || m.Extra["compression"] != "lz4" {
		t.Fatalf("meta %v", m.Extra)
	}
}

// Sub-µs parts are truncated: 999 ns is 0 µs, 1999 ns is 1 µs; unnormalised nsec (≥ 10⁹) carries into
// the seconds.
func TestTimeConversion(t *testing.T) {
	w := newBagWriter(t, "none")
	c := w.addConn(dvsConn("/dvs/events"))
	evs := []rosEvent{{1, 1, 10, 0, true}, {1, 1, 10, 999, false}, {1, 1, 10, 1000, true}, {1, 1, 10, 1999, true},
		{1, 1, 10, 999_999_999, false}, {1, 1, 11, 0, true}, {1, 1, 11, 1_500_000_000, true}, {1, 1, math.MaxUint32, 999_999_999, false}}
	w.write(c, 10, 0, eventArray(0, 4, 4, evs))
	got, _, err := decodeAll(t, w.close(), formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{10_000_000, 10_000_000, 10_000_001, 10_000_001, 10_999_999, 11_000_000, 12_500_000, math.MaxUint32*1_000_000 + 999_999}
	if !reflect.DeepEqual(got.T, want) {
		t.Fatalf("times %v, want %v", got.T, want)
	}
}

// Messages come out in bag time order, whatever their order in the file: inside a chunk (sorted by record
// time, stably) and across chunks (by the chunk infos' start times).
func TestBagTimeOrder(t *testing.T) {
	w := newBagWriter(t, "lz4")
	c := w.addConn(dvsConn("/dvs/events"))
	msg := func(sec uint32) []byte { return eventArray(0, 8, 8, []rosEvent{{uint16(sec % 8), 0, sec, 0, true}}) }
	// Chunk A holds times 30, 10, 20, 20' (file order); chunk B, written first, holds 1 and 2.
	w.write(c, 1, 0, msg(1))
	w.write(c, 2, 0, msg(2))
	w.flush()
	w.write(c, 30, 0, msg(30))
	w.write(c, 10, 0, msg(10))
	w.write(c, 20, 0, eventArray(0, 8, 8, []rosEvent{{5, 5, 20, 0, true}}))
	w.write(c, 20, 0, eventArray(0, 8, 8, []rosEvent{{6, 6, 20, 0, true}}))
	w.flush()
	w.write(c, 0, 5, msg(0)) // a chunk that starts before every other: it comes first
	bag := w.close()
	got, _, err := decodeAll(t, bag, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantT := []int64{0, 1e6, 2e6, 10e6, 20e6, 20e6, 30e6}
	wantX := []uint16{0, 1, 2, 2, 5, 6, 6}
	if !reflect.DeepEqual(got.T, wantT) || !reflect.DeepEqual(got.X, wantX) {
		t.Fatalf("T %v X %v, want %v %v", got.T, got.X, wantT, wantX)
	}
}

// An event earlier than the one before it keeps the previous time and is counted (event streams never go
// back in evtool); events outside the sensor the messages state are dropped and counted.
func TestClampAndRange(t *testing.T) {
	w := newBagWriter(t, "none")
	c := w.addConn(dvsConn("/dvs/events"))
	w.write(c, 1, 0, eventArray(0, 10, 5, []rosEvent{{1, 1, 5, 0, true}, {2, 2, 4, 0, true}, {10, 1, 6, 0, true}, {3, 5, 6, 0, true}, {9, 4, 7, 0, false}}))
	w.write(c, 2, 0, eventArray(1, 10, 5, []rosEvent{{0, 0, 3, 0, true}}))
	r, err := NewReaderAt(bytesReader(w.close()), int64(w.out.Len()), "test.bag", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want := events.FromEvents(events.Event{T: 5e6, X: 1, Y: 1, P: 1}, events.Event{T: 5e6, X: 2, Y: 2, P: 1},
		events.Event{T: 7e6, X: 9, Y: 4, P: 0}, events.Event{T: 7e6, X: 0, Y: 0, P: 1})
	checkEqual(t, got, want)
	m := r.Meta()
	if m.Extra["time_clamped"] != int64(2) || m.Extra["out_of_range"] != int64(2) {
		t.Fatalf("meta %v", m.Extra)
	}
	if m.Geometry != (events.Geometry{Width: 10, Height: 5}) {
		t.Fatalf("geometry %v", m.Geometry)
	}
}

// Topic choice: the only event topic by default; with two, an error naming both until one is chosen.
func TestTopicSelection(t *testing.T) {
	g := recording{compression: "bz2", width: 32, height: 32, messages: 5, perMessage: 10, perChunk: 3, imu: true, secondEvents: true, seed: 3}.generate(t)
	_, _, err := decodeAll(t, g.bag, formats.Options{})
	if err == nil || !strings.Contains(err.Error(), "/dvs/events, /right/events") || !strings.Contains(err.Error(), "-O topic=") {
		t.Fatalf("two event topics, no choice: %v", err)
	}
	got, _, err := decodeAll(t, g.bag, params("topic", "/dvs/events"))
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, got, g.want)
	right, _, err := decodeAll(t, g.bag, params("topic", "/right/events"))
	if err != nil || right.Len() != 5 {
		t.Fatalf("right: %d events, %v", right.Len(), err)
	}
	for _, bad := range []string{"/dvs/imu", "/nope"} {
		_, _, err = decodeAll(t, g.bag, params("topic", bad))
		if err == nil || !strings.Contains(err.Error(), "is not an event topic") || !strings.Contains(err.Error(), "/dvs/imu (sensor_msgs/Imu)") {
			t.Fatalf("topic %s: %v", bad, err)
		}
	}
	w := newBagWriter(t, "none")
	w.write(w.addConn(imuConn("/imu")), 1, 0, imuMsg(0, IMU{}, 1, 0))
	if _, _, err := decodeAll(t, w.close(), formats.Options{}); err == nil || !strings.Contains(err.Error(), "no dvs_msgs/EventArray or prophesee_event_msgs/EventArray topic (topics: /imu (sensor_msgs/Imu))") {
		t.Fatalf("no event topic: %v", err)
	}
}

// Layouts come from the definition in the bag: a variant with the events first, int16 coordinates, a
// uint8 polarity and a 16-bit width decodes; a connection without a definition decodes when its md5sum is
// the published layout's, and is refused otherwise.
func TestDefinitions(t *testing.T) {
	w := newBagWriter(t, "lz4")
	c := w.addConn(&testConn{topic: "/ev", typ: typeDVS, md5: "0123", def: "Header header\nMyEvent[] events\nuint16 width\nuint32 height\n" +
		"uint8 CONST=3 # a constant, not serialised\n" + headerDef + sep + "MSG: custom/MyEvent\nint16 y\nuint8 polarity\nint16 x\nuint8 pad\ntime ts\n"})
	var b []byte
	b = appendHeader(b, 0, 1, 0, "frame")
	b = append(b, u32(2)...)
	b = append(b, 7, 0, 0, 9, 0, 0xAA)    // y=7 pol=0 x=9 pad
	b = append(b, rtime(1, 5000)...)      // ts
	b = append(b, 0xFF, 0xFF, 1, 9, 0, 0) // y=-1: outside the sensor
	b = append(b, rtime(1, 6000)...)
	b = append(b, 20, 0)      // width 20
	b = append(b, u32(10)...) // height 10
	w.write(c, 1, 0, b)
	r, err := NewReaderAt(bytesReader(w.close()), int64(w.out.Len()), "v.bag", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, got, events.FromEvents(events.Event{T: 1_000_005, X: 9, Y: 7, P: 0}))
	if r.Meta().Geometry != (events.Geometry{Width: 20, Height: 10}) || r.Meta().Extra["out_of_range"] != int64(1) {
		t.Fatalf("meta %+v", r.Meta())
	}

	for _, md5 := range []string{"5e8beee5a6c107e504c2e78903c224b8", "ffff"} {
		w := newBagWriter(t, "none")
		c := w.addConn(dvsConn("/dvs/events"))
		c.skipDef, c.md5 = true, md5
		w.write(c, 1, 0, eventArray(0, 4, 4, []rosEvent{{1, 2, 3, 4000, true}}))
		got, _, err := decodeAll(t, w.close(), formats.Options{})
		if md5 == "ffff" {
			if err == nil || !strings.Contains(err.Error(), "has no message definition") {
				t.Fatalf("unknown layout without definition: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		checkEqual(t, got, events.FromEvents(events.Event{T: 3_000_004, X: 1, Y: 2, P: 1}))
	}
}

// Connection records may also stand inside chunks (rosbag writes them there too); they change nothing.
func TestConnectionsInChunks(t *testing.T) {
	g := recording{compression: "bz2", width: 20, height: 20, messages: 6, perMessage: 30, perChunk: 2, connInChunk: true, imu: true, seed: 4}.generate(t)
	got, _, err := decodeAll(t, g.bag, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, got, g.want)
}

// Refusals say what is wrong: other bag versions, bags without an index, encrypted bags.
func TestRefusals(t *testing.T) {
	g := recording{compression: "none", width: 8, height: 8, messages: 2, perMessage: 3, seed: 5}.generate(t)
	old := append([]byte("#ROSBAG V1.2\n"), g.bag[len(Magic):]...)
	if _, _, err := decodeAll(t, old, formats.Options{}); err == nil || !strings.Contains(err.Error(), `"#ROSBAG V1.2" is not supported`) {
		t.Fatalf("v1.2: %v", err)
	}
	w := newBagWriter(t, "none")
	w.noIndex = true
	w.write(w.addConn(dvsConn("/dvs/events")), 1, 0, eventArray(0, 4, 4, nil))
	if _, _, err := decodeAll(t, w.close(), formats.Options{}); err == nil || !strings.Contains(err.Error(), "has no index") {
		t.Fatalf("unindexed: %v", err)
	}
	enc := newBagWriter(t, "none")
	enc.out.Reset()
	enc.out.WriteString(Magic)
	enc.writeRecord(&enc.out, fields("op", []byte{opBagHeader}, "index_pos", u64(5000), "encryptor", "rosbag/AesCbcEncryptor"), nil, 4096)
	if _, _, err := decodeAll(t, enc.out.Bytes(), formats.Options{}); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("encrypted: %v", err)
	}
	if _, _, err := decodeAll(t, []byte("#!AER-DAT4.0\r\n"), formats.Options{}); err == nil || !strings.Contains(err.Error(), "not a ROS bag") {
		t.Fatalf("not a bag: %v", err)
	}
	if _, _, err := decodeAll(t, []byte("#ROSRECORD V1.2\n    "), formats.Options{}); err == nil || !strings.Contains(err.Error(), `"#ROSRECORD V1.2" is not supported`) {
		t.Fatalf("1.2 record: %v", err)
	}
	if _, _, err := decodeAll(t, []byte("#ROSBAG V"), formats.Options{}); !errors.Is(err, events.ErrTruncated) {
		t.Fatalf("a cut version line: %v", err)
	}
}

// A bag cut anywhere, even between two records of its index, is reported as truncated (a DecodeError
// wrapping events.ErrTruncated, inside the file), never read as a shorter recording.
func TestTruncated(t *testing.T) {
	g := recording{compression: "none", width: 16, height: 16, messages: 12, perMessage: 20, perChunk: 3, imu: true, seed: 6}.generate(t)
	var cuts []int
	for c := 0; c < len(g.bag); c += 37 {
		cuts = append(cuts, c)
	}
	for c := len(g.bag) - 400; c < len(g.bag); c++ {
		cuts = append(cuts, c)
	}
	for _, cut := range cuts {
		got, _, err := decodeAll(t, g.bag[:cut], formats.Options{})
		var de *events.DecodeError
		if !errors.As(err, &de) || !errors.Is(err, events.ErrTruncated) || de.Offset < 0 || de.Offset > int64(cut) {
			t.Fatalf("cut at %d of %d: %v", cut, len(g.bag), err)
		}
		if got.Len() > 0 {
			t.Fatalf("cut at %d: %d events from a bag without its index", cut, got.Len())
		}
	}
}

// Hostile size fields are refused before anything of their size is allocated: a chunk claiming 1 GiB
// from a few bytes, a record header length of 4 GiB, an event count of 4 billion.
func TestHostileSizes(t *testing.T) {
	for _, comp := range []string{"bz2", "lz4"} {
		w := newBagWriter(t, comp)
		w.write(w.addConn(dvsConn("/dvs/events")), 1, 0, eventArray(0, 4, 4, []rosEvent{{1, 1, 1, 0, true}}))
		bag := w.close()
		i := strings.Index(string(bag), "size=")
		copy(bag[i+5:], u32(1<<30-1))
		allocs := allocated(func() {
			if _, _, err := decodeAll(t, bag, formats.Options{}); err == nil || !strings.Contains(err.Error(), "decompress") {
				t.Fatalf("%s chunk claiming 1 GiB: %v", comp, err)
			}
		})
		if allocs > 64<<20 {
			t.Fatalf("%s: a forged chunk size allocated %d bytes", comp, allocs)
		}
	}
	g := recording{compression: "none", width: 8, height: 8, messages: 1, perMessage: 3, seed: 7}.generate(t)
	bad := append([]byte{}, g.bag...)
	copy(bad[len(Magic):], u32(0xFFFFFFF0))
	if _, _, err := decodeAll(t, bad, formats.Options{}); err == nil || !strings.Contains(err.Error(), "record header length") {
		t.Fatalf("huge header length: %v", err)
	}
	count := strings.Index(string(g.bag), "camera") + len("camera") + 8
	bad = append([]byte{}, g.bag...)
	copy(bad[count:], u32(0xFFFFFFFF))
	if _, _, err := decodeAll(t, bad, formats.Options{}); err == nil || !strings.Contains(err.Error(), "do not fit") {
		t.Fatalf("huge event count: %v", err)
	}
}

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Chunks are read one at a time: a bag of many chunks is streamed with the heap bounded by a few chunks,
// not by the bag.
func TestConstantMemory(t *testing.T) {
	g := recording{compression: "lz4", width: 640, height: 480, messages: 400, perMessage: 2000, perChunk: 10, imu: true, seed: 8}.generate(t)
	r, err := NewReaderAt(bytesReader(g.bag), int64(len(g.bag)), "big.bag", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	buf := events.NewBatch(1 << 16)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, uint64(0)
	var n int
	for i := 0; ; i++ {
		err := r.Read(buf)
		n += buf.Len()
		if i%8 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != g.want.Len() {
		t.Fatalf("%d events, want %d", n, g.want.Len())
	}
	// Chunks hold about 0.3 MB here; the lz4 decoder keeps 1 MiB blocks.
	if grown := peak - min(peak, base); grown > 4<<20 {
		t.Fatalf("the heap grew by %d KB reading a %d MB bag", grown>>10, len(g.bag)>>20)
	}
	t.Logf("heap grew by %d KB reading a %d MB bag of %d chunks", (peak-min(peak, base))>>10, len(g.bag)>>20, len(r.chunks))
}

// The format is registered: detected by its version line, opened through the registry.
func TestRegistered(t *testing.T) {
	g := recording{compression: "lz4", width: 32, height: 24, messages: 3, perMessage: 5, imu: true, seed: 9}.generate(t)
	path := filepath.Join(t.TempDir(), "rec.dat") // the extension says nothing: the version line does
	if err := os.WriteFile(path, g.bag, 0o644); err != nil {
		t.Fatal(err)
	}
	src, f, err := formats.Open(path, "", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if f.Name != "rosbag" || formats.ByExtension("x.bag") != f {
		t.Fatalf("format %s", f.Name)
	}
	got, err := events.ReadAll(src.Events)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, got, g.want)
	if m := src.Meta(); m.Geometry != (events.Geometry{Width: 32, Height: 24}) || m.Extra["events_topic"] != "/dvs/events" {
		t.Fatalf("meta %+v", m)
	}
}

// A bag whose first chunks hold only IMU messages: the sensor size comes from the first event message, and
// no IMU message is lost to that look-ahead.
func TestIMUBeforeEvents(t *testing.T) {
	w := newBagWriter(t, "lz4")
	imu, ev := w.addConn(imuConn("/imu")), w.addConn(dvsConn("/dvs/events"))
	var want []IMU
	for i := uint32(0); i < 6; i++ {
		s := IMU{T: micros(1, i*1000), Topic: "/imu", AngularVelocity: [3]float64{float64(i), 0, 0}}
		want = append(want, s)
		w.write(imu, 1, i*1000, imuMsg(i, s, 1, i*1000))
		if i%2 == 1 {
			w.flush()
		}
	}
	w.write(ev, 2, 0, eventArray(0, 20, 10, []rosEvent{{3, 4, 2, 0, true}}))
	r, err := NewReaderAt(bytesReader(w.close()), int64(w.out.Len()), "imu.bag", formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Meta().Geometry != (events.Geometry{Width: 20, Height: 10}) {
		t.Fatalf("geometry %v", r.Meta().Geometry)
	}
	var imus []IMU
	buf := events.NewBatch(16)
	n := 0
	for {
		err := r.Read(buf)
		n += buf.Len()
		imus = append(imus, r.IMUs()...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != 1 || !reflect.DeepEqual(imus, want) {
		t.Fatalf("%d events, IMU %+v; want 1 event, %+v", n, imus, want)
	}
}
