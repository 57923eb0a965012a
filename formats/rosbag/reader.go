package rosbag

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/pierrec/lz4/v4"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
)

// Connection is one connection record of the bag: a topic, its message type and definition.
type Connection struct {
	ID         uint32
	Topic      string
	Type       string
	MD5        string
	Definition string
	CallerID   string
	pos        int64 // file offset of its connection record, for errors
}

// TopicError says that the topic to read cannot be chosen: the bag has none, several, or not the one asked
// for. It lists the topics there are.
type TopicError struct {
	Path string
	Msg  string
}

func (e *TopicError) Error() string { return e.Path + ": " + e.Msg }

// Topic summarises one topic of the bag, from its index.
type Topic struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Messages int64  `json:"messages"`
}

// role is what the reader does with a connection's messages.
type role uint8

const (
	roleSkip role = iota
	roleEvents
	roleIMU
)

// chunkRef is a chunk that holds messages the reader wants, from the chunk-info index.
type chunkRef struct {
	pos        int64
	start, end uint64 // bag time keys
	messages   int64  // wanted messages, as the chunk info counts them
}

// minMessageRecord is the smallest message data record: lengths, and the op, conn and time fields.
const minMessageRecord = 4 + (4 + len("op=") + 1) + (4 + len("conn=") + 4) + (4 + len("time=") + 8) + 4

// entry is one wanted message of the loaded chunk.
type entry struct {
	key  uint64 // bag time
	off  int    // data offset in the chunk
	n    int    // data length
	conn uint32
	rec  int // record offset in the chunk, for errors
}

// Reader streams the events of one topic of a ROS bag, chunk by chunk.
type Reader struct {
	path   string
	src    io.ReaderAt
	closer io.Closer
	size   int64
	opts   formats.Options

	conns      map[uint32]*Connection
	connOrder  []uint32
	topics     []Topic
	topic      string
	roles      map[uint32]role
	evLayouts  map[uint32]*eventLayout
	imuLayouts map[uint32]*imuLayout
	imuSkipped []string
	chunks     []chunkRef
	nextChunk  int
	chunkComp  map[string]bool // compressions of the chunks read
	overlaps   int

	hdr    []byte // record header scratch
	stored []byte // a compressed chunk as stored
	chunk  []byte // decompressed chunk (reused)
	lz     *lz4.Reader

	// The loaded chunk and its wanted messages in bag time order.
	cur        []byte
	curRef     chunkRef
	curDataPos int64
	curComp    string
	entries    []entry
	ei         int

	// The event message being decoded.
	msg                []byte
	layout             *eventLayout
	evStart, evN, evI  int
	geometry           events.Geometry
	lastT              int64
	imus               []IMU
	end                input.Ending // the end of the messages, told after their events
	messages           int64
	imuCount, badIMU   int64
	clamps, outOfRange int64
}

// Open opens a ROS bag file.
func Open(path string, o formats.Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, path, o)
	if err != nil {
		f.Close()
	}
	return r, err
}

// NewReader reads a bag from r, which must be a file (an *os.File, *bytes.Reader…: the index is at the
// end of the bag); Close closes r when it is an io.Closer. name is used in errors.
func NewReader(r io.Reader, name string, o formats.Options) (*Reader, error) {
	ra, size, ok := input.RandomAccess(r)
	if !ok {
		return nil, fmt.Errorf("%s: a ROS bag keeps its index at the end: it must be read from a file, not a stream", name)
	}
	rd, err := NewReaderAt(ra, size, name, o)
	if err != nil {
		return nil, err
	}
	rd.closer, _ = r.(io.Closer)
	return rd, nil
}

// NewReaderAt reads the bag of the given size from src; name is used in errors.
func NewReaderAt(src io.ReaderAt, size int64, name string, o formats.Options) (*Reader, error) {
	r := &Reader{path: name, src: src, size: size, opts: o, conns: map[uint32]*Connection{}, roles: map[uint32]role{},
		evLayouts: map[uint32]*eventLayout{}, imuLayouts: map[uint32]*imuLayout{}, chunkComp: map[string]bool{},
		lastT: math.MinInt64}
	bh, err := r.readBagHeader()
	if err != nil {
		return nil, err
	}
	indexPos := int64(bh.indexPos)
	if err := r.readConnections(indexPos); err != nil {
		return nil, err
	}
	// A bag cut inside its index must not pass for a shorter recording.
	if bh.hasConnCount && len(r.connOrder) < int(bh.connCount) {
		return nil, r.fail(r.size, fmt.Sprintf("the index holds %d of the %d connections the bag header announces",
			len(r.connOrder), bh.connCount), events.ErrTruncated)
	}
	if err := r.selectTopics(); err != nil {
		return nil, err
	}
	infos, err := r.readChunkInfos(indexPos)
	if err != nil {
		return nil, err
	}
	if bh.hasChunkCnt && infos < int(bh.chunkCount) {
		return nil, r.fail(r.size, fmt.Sprintf("the index holds %d of the %d chunk infos the bag header announces",
			infos, bh.chunkCount), events.ErrTruncated)
	}
	if err := r.findGeometry(); err != nil {
		return nil, err
	}
	if o.Sensor.Known() {
		r.geometry = o.Sensor
	}
	return r, nil
}

func (r *Reader) fail(off int64, msg string, err error) error {
	return &events.DecodeError{Path: r.path, Offset: off, Msg: msg, Err: err}
}

// readAt reads len(b) bytes at off: events.ErrTruncated when the file is shorter, else the source's error.
func (r *Reader) readAt(b []byte, off int64) error {
	if off < 0 || int64(len(b)) > r.size-off {
		return events.ErrTruncated
	}
	_, err := r.src.ReadAt(b, off)
	if err == io.EOF {
		err = nil // ReadAt may report EOF along with the last bytes
	}
	return err
}

// readBagHeader checks the version line and reads the bag header record.
func (r *Reader) readBagHeader() (fieldSet, error) {
	line := make([]byte, min(int64(len(Magic)), r.size))
	if err := r.readAt(line, 0); err != nil || string(line) != Magic {
		switch {
		case err == nil && len(line) < len(Magic) && strings.HasPrefix(Magic, string(line)):
			err = events.ErrTruncated // the version line is cut
		case strings.HasPrefix(string(line), "#ROSBAG V") || strings.HasPrefix(string(line), "#ROSRECORD V"):
			head := make([]byte, min(32, r.size))
			r.readAt(head, 0)
			v, _, _ := strings.Cut(string(head), "\n")
			return fieldSet{}, r.fail(0, fmt.Sprintf("bag format %q is not supported (only #ROSBAG V2.0; `rosbag fix` upgrades older bags)", v), nil)
		}
		return fieldSet{}, r.fail(0, "not a ROS bag: want the line #ROSBAG V2.0", err)
	}
	rec, err := r.recordAt(int64(len(Magic)), &r.hdr)
	if err != nil {
		return fieldSet{}, err
	}
	fs, err := parseFields(rec.header)
	if err != nil {
		return fieldSet{}, r.fail(rec.pos, "bad bag header record", err)
	}
	if fs.op != opBagHeader || !fs.hasIndexPos {
		return fieldSet{}, r.fail(rec.pos, "the first record is not a bag header (op 3 with index_pos)", nil)
	}
	if fs.encryptor != "" {
		return fieldSet{}, r.fail(rec.pos, fmt.Sprintf("the bag is encrypted (%s); decrypt it first", fs.encryptor), nil)
	}
	end := rec.dataPos + rec.dataLen
	if fs.indexPos == 0 {
		return fieldSet{}, r.fail(rec.pos, "the bag has no index (its recording did not finish); run `rosbag reindex` on it first", nil)
	}
	if fs.indexPos < uint64(end) || fs.indexPos >= uint64(r.size) {
		return fieldSet{}, r.fail(rec.pos, fmt.Sprintf("index position %d lies outside the %d-byte file's records", fs.indexPos, r.size), events.ErrTruncated)
	}
	return fs, nil
}

// readConnections reads the connection records of the index section.
func (r *Reader) readConnections(indexPos int64) error {
	var data []byte
	for pos := indexPos; pos < r.size; {
		rec, err := r.recordAt(pos, &r.hdr)
		if err != nil {
			return err
		}
		fs, err := parseFields(rec.header)
		if err != nil {
			return r.fail(pos, "bad record header in the index", err)
		}
		if fs.op == opConnection {
			if !fs.hasConn {
				return r.fail(pos, "connection record without conn field", nil)
			}
			if rec.dataLen > maxConnData {
				return r.fail(pos, fmt.Sprintf("connection header of %d bytes is larger than %d", rec.dataLen, maxConnData), nil)
			}
			if int64(cap(data)) < rec.dataLen {
				data = make([]byte, rec.dataLen)
			}
			data = data[:rec.dataLen]
			if err := r.readAt(data, rec.dataPos); err != nil {
				return r.fail(rec.dataPos, "cannot read a connection header", err)
			}
			c := &Connection{ID: fs.conn, Topic: fs.topic, pos: pos}
			err := scanFields(data, func(name string, v []byte) {
				switch name {
				case "type":
					c.Type = string(v)
				case "md5sum":
					c.MD5 = string(v)
				case "message_definition":
					c.Definition = string(v)
				case "callerid":
					c.CallerID = string(v)
				case "topic":
					if c.Topic == "" {
						c.Topic = string(v)
					}
				}
			})
			if err != nil {
				return r.fail(rec.dataPos, "bad connection header", err)
			}
			if _, dup := r.conns[c.ID]; !dup {
				r.connOrder = append(r.connOrder, c.ID)
			}
			r.conns[c.ID] = c
		}
		pos = rec.dataPos + rec.dataLen
	}
	return nil
}

// selectTopics picks the events topic (the topic parameter, or the only event topic) and the IMU topics.
func (r *Reader) selectTopics() error {
	var evTopics, all []string
	seen := map[string]bool{}
	for _, id := range r.connOrder {
		c := r.conns[id]
		if seen[c.Topic] {
			continue
		}
		seen[c.Topic] = true
		all = append(all, c.Topic+" ("+c.Type+")")
		if isEventType(c.Type) {
			evTopics = append(evTopics, c.Topic)
		}
	}
	want := r.opts.Param("topic", "")
	switch {
	case want != "":
		ok := false
		for _, t := range evTopics {
			ok = ok || t == want
		}
		if !ok {
			return &TopicError{r.path, fmt.Sprintf("topic %q is not an event topic of this bag; event topics: %s (all topics: %s)",
				want, listOrNone(evTopics), listOrNone(all))}
		}
	case len(evTopics) == 1:
		want = evTopics[0]
	case len(evTopics) == 0:
		return &TopicError{r.path, fmt.Sprintf("the bag has no %s or %s topic (topics: %s)", typeDVS, typeProphesee, listOrNone(all))}
	default:
		return &TopicError{r.path, fmt.Sprintf("the bag has %d event topics (%s): choose one with the topic parameter (-O topic=NAME)",
			len(evTopics), strings.Join(evTopics, ", "))}
	}
	r.topic = want
	for _, id := range r.connOrder {
		c := r.conns[id]
		switch {
		case c.Topic == want:
			if !isEventType(c.Type) {
				return r.fail(c.pos, fmt.Sprintf("topic %s has connections of type %s as well as events", want, c.Type), nil)
			}
			t, err := definition(c)
			if err == nil {
				r.evLayouts[id], err = compileEvents(t)
			}
			if err != nil {
				return r.fail(c.pos, fmt.Sprintf("topic %s: cannot decode its %s messages", want, c.Type), err)
			}
			r.roles[id] = roleEvents
		case c.Type == typeIMU:
			t, err := definition(c)
			var l *imuLayout
			if err == nil {
				l, err = compileIMU(t)
			}
			if err != nil {
				r.imuSkipped = append(r.imuSkipped, c.Topic+": "+err.Error())
				continue
			}
			r.imuLayouts[id], r.roles[id] = l, roleIMU
		}
	}
	return nil
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// readChunkInfos reads the chunk-info records of the index: the chunks holding wanted messages, in time
// order, and the message count of every topic.
func (r *Reader) readChunkInfos(indexPos int64) (infos int, err error) {
	counts := map[uint32]int64{}
	var data []byte
	for pos := indexPos; pos < r.size; {
		rec, err := r.recordAt(pos, &r.hdr)
		if err != nil {
			return 0, err
		}
		fs, err := parseFields(rec.header)
		if err != nil {
			return 0, r.fail(pos, "bad record header in the index", err)
		}
		pos = rec.dataPos + rec.dataLen
		if fs.op != opChunkInfo {
			continue
		}
		infos++
		if !fs.hasVer || fs.ver != 1 || !fs.hasChunkPos || !fs.hasCount {
			return 0, r.fail(rec.pos, fmt.Sprintf("chunk info record of version %d (want 1, with chunk_pos and count)", fs.ver), nil)
		}
		if rec.dataLen != 8*int64(fs.count) {
			return 0, r.fail(rec.pos, fmt.Sprintf("chunk info lists %d connections in %d bytes (want %d)", fs.count, rec.dataLen, 8*int64(fs.count)), nil)
		}
		if fs.chunkPos >= uint64(indexPos) || fs.chunkPos < uint64(len(Magic)) {
			return 0, r.fail(rec.pos, fmt.Sprintf("chunk info points at byte %d, outside the chunk section", fs.chunkPos), nil)
		}
		if int64(cap(data)) < rec.dataLen {
			data = make([]byte, rec.dataLen)
		}
		data = data[:rec.dataLen]
		if err := r.readAt(data, rec.dataPos); err != nil {
			return 0, r.fail(rec.dataPos, "cannot read a chunk info record", err)
		}
		var wanted int64
		for i := 0; i < len(data); i += 8 {
			id, n := binary.LittleEndian.Uint32(data[i:]), binary.LittleEndian.Uint32(data[i+4:])
			counts[id] += int64(n)
			if r.roles[id] != roleSkip {
				wanted += int64(n)
			}
		}
		if wanted > 0 {
			r.chunks = append(r.chunks, chunkRef{pos: int64(fs.chunkPos), start: rosTime(fs.start).key(), end: rosTime(fs.end).key(), messages: wanted})
		}
	}
	// Chunks in bag time order (file order among equal start times), as rosbag plays them.
	sort.SliceStable(r.chunks, func(i, j int) bool { return r.chunks[i].start < r.chunks[j].start })
	seen := map[int64]bool{}
	for _, c := range r.chunks {
		if seen[c.pos] {
			return 0, r.fail(c.pos, "two chunk info records name the chunk at this byte", nil)
		}
		seen[c.pos] = true
	}
	var end uint64
	for i, c := range r.chunks {
		if i > 0 && c.start < end {
			r.overlaps++
		}
		end = max(end, c.end)
	}
	byTopic := map[string]int{}
	for _, id := range r.connOrder {
		c := r.conns[id]
		i, ok := byTopic[c.Topic]
		if !ok {
			i = len(r.topics)
			byTopic[c.Topic] = i
			r.topics = append(r.topics, Topic{Name: c.Topic, Type: c.Type})
		}
		r.topics[i].Messages += counts[id]
	}
	return infos, nil
}

// findGeometry reads the first event message for the sensor size, then rewinds (keeping the first chunk
// loaded when the message is in it, so that small bags are not decompressed twice).
func (r *Reader) findGeometry() error {
	for r.nextChunk < len(r.chunks) {
		if err := r.loadChunk(r.chunks[r.nextChunk]); err != nil {
			return err
		}
		r.nextChunk++
		for _, e := range r.entries {
			if r.roles[e.conn] != roleEvents {
				continue
			}
			_, _, w, h, err := r.evLayouts[e.conn].head(r.cur[e.off : e.off+e.n])
			if err != nil {
				return r.inChunk(e.rec, "bad "+r.conns[e.conn].Type+" message", err)
			}
			r.geometry = events.Geometry{Width: w, Height: h}
			if r.nextChunk > 1 {
				r.nextChunk, r.entries, r.cur = 0, r.entries[:0], nil
			}
			r.ei = 0
			return nil
		}
	}
	r.nextChunk, r.entries, r.ei, r.cur = 0, r.entries[:0], 0, nil
	return nil
}

// inChunk makes the error for a fault at offset off of the loaded chunk's records: the exact file offset
// for an uncompressed chunk, the chunk's offset and the offset inside it for a compressed one.
func (r *Reader) inChunk(off int, msg string, err error) error {
	if r.curComp == "none" || r.curComp == "" {
		return r.fail(r.curDataPos+int64(off), msg, err)
	}
	return r.fail(r.curRef.pos, fmt.Sprintf("in the %s chunk, at byte %d of its %d uncompressed bytes: %s", r.curComp, off, len(r.cur), msg), err)
}

// loadChunk reads and decompresses one chunk and lists its wanted messages in bag time order.
func (r *Reader) loadChunk(ref chunkRef) error {
	r.curRef, r.entries, r.ei = ref, r.entries[:0], 0
	rec, err := r.recordAt(ref.pos, &r.hdr)
	if err != nil {
		return err
	}
	fs, err := parseFields(rec.header)
	if err != nil {
		return r.fail(rec.pos, "bad chunk record header", err)
	}
	if fs.op != opChunk || !fs.hasSize {
		return r.fail(rec.pos, fmt.Sprintf("the index points at byte %d, which holds no chunk record", rec.pos), nil)
	}
	if rec.dataLen > maxChunk {
		return r.fail(rec.pos, fmt.Sprintf("chunk of %d bytes is larger than %d", rec.dataLen, maxChunk), nil)
	}
	r.curDataPos, r.curComp = rec.dataPos, fs.compression
	r.chunkComp[fs.compression] = true
	buf := &r.stored
	if fs.compression == "none" || fs.compression == "" {
		buf = &r.chunk
	}
	if int64(cap(*buf)) < rec.dataLen {
		*buf = make([]byte, rec.dataLen)
	}
	*buf = (*buf)[:rec.dataLen]
	if err := r.readAt(*buf, rec.dataPos); err != nil {
		return r.fail(rec.dataPos, "cannot read a chunk", err)
	}
	r.cur, err = r.decompress(fs.compression, *buf, int64(fs.size))
	if err != nil {
		return r.fail(rec.pos, fmt.Sprintf("cannot decompress the %s chunk", fs.compression), err)
	}
	// Room for the chunk's wanted messages at once, as far as its bytes can hold them (a message record
	// takes at least minMessageRecord bytes): one allocation per larger chunk, not one per doubling.
	if n := min(ref.messages, int64(len(r.cur)/minMessageRecord)); int64(cap(r.entries)) < n {
		r.entries = make([]entry, 0, n)
	}
	for off := 0; off < len(r.cur); {
		hdr, data, next, err := innerRecord(r.cur, off)
		if err != nil {
			return r.inChunk(off, "bad record", err)
		}
		fs, err := parseFields(hdr)
		if err != nil {
			return r.inChunk(off, "bad record header", err)
		}
		if fs.op == opMsgData {
			if !fs.hasConn || !fs.hasTime {
				return r.inChunk(off, "message record without conn and time", nil)
			}
			if r.roles[fs.conn] != roleSkip {
				r.entries = append(r.entries, entry{key: rosTime(fs.time).key(), off: next - len(data), n: len(data), conn: fs.conn, rec: off})
			}
		}
		off = next
	}
	if !slices.IsSortedFunc(r.entries, cmpEntry) {
		slices.SortStableFunc(r.entries, cmpEntry)
	}
	return nil
}

func cmpEntry(a, b entry) int {
	switch {
	case a.key < b.key:
		return -1
	case a.key > b.key:
		return 1
	}
	return 0
}

// nextMessage moves to the next event message, decoding the IMU messages on the way. io.EOF ends.
func (r *Reader) nextMessage() error {
	for {
		for r.ei < len(r.entries) {
			e := r.entries[r.ei]
			r.ei++
			b := r.cur[e.off : e.off+e.n]
			if r.roles[e.conn] == roleIMU {
				s, err := r.imuLayouts[e.conn].decode(b, r.conns[e.conn].Topic)
				if err != nil {
					r.badIMU++
					continue
				}
				r.imus = append(r.imus, s)
				r.imuCount++
				continue
			}
			l := r.evLayouts[e.conn]
			start, n, _, _, err := l.head(b)
			if err != nil {
				return r.inChunk(e.rec, "bad "+r.conns[e.conn].Type+" message", err)
			}
			r.msg, r.layout, r.evStart, r.evN, r.evI = b, l, start, n, 0
			r.messages++
			return nil
		}
		if r.nextChunk >= len(r.chunks) {
			return io.EOF
		}
		ref := r.chunks[r.nextChunk]
		r.nextChunk++
		if err := r.loadChunk(ref); err != nil {
			return err
		}
	}
}

// Read fills dst with the next events of the topic.
func (r *Reader) Read(dst *events.Batch) error {
	dst.Reset()
	r.imus = r.imus[:0]
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	for dst.Len() < want {
		if r.evI < r.evN {
			r.decode(dst, min(r.evN-r.evI, want-dst.Len()))
			continue
		}
		if r.end.Over() {
			break
		}
		r.end.Set(r.nextMessage())
	}
	return r.end.Result(dst.Len())
}

// decode appends the next k events of the current message to dst: sensor time in µs, clamped so the
// stream never goes back; events outside a known sensor are dropped and counted.
func (r *Reader) decode(dst *events.Batch, k int) {
	l := r.layout
	base := dst.Len()
	T, X, Y, P := dst.Extend(k)
	b := r.msg[r.evStart+r.evI*l.elem : r.evStart+(r.evI+k)*l.elem]
	r.evI += k
	w, h := uint64(math.MaxUint16), uint64(math.MaxUint16)
	if r.geometry.Known() {
		w, h = uint64(r.geometry.Width-1), uint64(r.geometry.Height-1)
	}
	last := r.lastT
	kept := 0
	if l.std {
		for i := 0; i < k; i++ {
			e := b[i*13 : i*13+13 : i*13+13]
			x, y := uint64(binary.LittleEndian.Uint16(e)), uint64(binary.LittleEndian.Uint16(e[2:]))
			if x > w || y > h {
				r.outOfRange++
				continue
			}
			t := micros(binary.LittleEndian.Uint32(e[4:]), binary.LittleEndian.Uint32(e[8:]))
			if t < last {
				t = last
				r.clamps++
			}
			last = t
			T[kept], X[kept], Y[kept] = t, uint16(x), uint16(y)
			P[kept] = 0
			if e[12] != 0 {
				P[kept] = 1
			}
			kept++
		}
	} else {
		for i := 0; i < k; i++ {
			e := b[i*l.elem : (i+1)*l.elem]
			x, y := readUint(e[l.x:], l.xk), readUint(e[l.y:], l.yk)
			if x > w || y > h {
				r.outOfRange++
				continue
			}
			t := micros(binary.LittleEndian.Uint32(e[l.ts:]), binary.LittleEndian.Uint32(e[l.ts+4:]))
			if t < last {
				t = last
				r.clamps++
			}
			last = t
			T[kept], X[kept], Y[kept] = t, uint16(x), uint16(y)
			P[kept] = 0
			if readUint(e[l.pol:], l.pk) != 0 {
				P[kept] = 1
			}
			kept++
		}
	}
	r.lastT = last
	dst.Truncate(base + kept)
}

// IMUs returns the IMU messages met during the last Read (valid until the next Read).
func (r *Reader) IMUs() []IMU { return r.imus }

// Topics lists every topic of the bag with its type and message count.
func (r *Reader) Topics() []Topic { return r.topics }

// Connections lists the bag's connection records in file order.
func (r *Reader) Connections() []Connection {
	out := make([]Connection, 0, len(r.connOrder))
	for _, id := range r.connOrder {
		out = append(out, *r.conns[id])
	}
	return out
}

// EventTopic is the topic whose events Read returns.
func (r *Reader) EventTopic() string { return r.topic }

// Meta describes the recording.
func (r *Reader) Meta() events.Meta {
	m := events.Meta{Format: "rosbag", Kind: events.KindRecording, Geometry: r.geometry, Source: r.path}
	m.SetExtra("topics", r.topics)
	m.SetExtra("events_topic", r.topic)
	m.SetExtra("chunks", len(r.chunks))
	var comp []string
	for c := range r.chunkComp {
		comp = append(comp, c)
	}
	sort.Strings(comp)
	m.SetExtra("compression", strings.Join(comp, ", "))
	m.SetExtra("event_messages", r.messages)
	m.SetExtra("imu_samples", r.imuCount)
	if len(r.imuSkipped) > 0 {
		m.SetExtra("imu_topics_skipped", r.imuSkipped)
	}
	for k, v := range map[string]int64{"time_clamped": r.clamps, "out_of_range": r.outOfRange,
		"bad_imu_messages": r.badIMU, "overlapping_chunks": int64(r.overlaps)} {
		if v > 0 {
			m.SetExtra(k, v)
		}
	}
	return m
}

// Close closes the file.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}
