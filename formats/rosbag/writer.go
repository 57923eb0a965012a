package rosbag

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/pierrec/lz4/v4"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/output"
)

// appendField appends one name=value field of a record header.
func appendField(dst []byte, name string, value []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(name)+1+len(value)))
	dst = append(dst, name...)
	dst = append(dst, '=')
	return append(dst, value...)
}

// appendRecord appends a record: header length, header, data length, data.
func appendRecord(dst, header, data []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(header)))
	dst = append(dst, header...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(data)))
	return append(dst, data...)
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// bagHeader is the first record, padded with spaces to 4096 bytes as rosbag writes it, so that the index
// position can be patched in place.
func bagHeader(indexPos uint64, conns, chunks uint32) []byte {
	var h []byte
	h = appendField(h, "op", []byte{opBagHeader})
	h = appendField(h, "index_pos", le64(indexPos))
	h = appendField(h, "conn_count", le32(conns))
	h = appendField(h, "chunk_count", le32(chunks))
	return appendRecord(nil, h, bytes.Repeat([]byte{' '}, 4096-len(h)))
}

// Writer limits: rosbag record closes a chunk at 768 KiB; a message ends after messageSpan µs or
// maxMessageEvents events, whichever comes first.
const (
	chunkThreshold   = 768 << 10
	defaultSpan      = 1000
	maxMessageEvents = 1 << 16
	eventBytes       = 13
)

// WriterOptions configures a Writer.
type WriterOptions struct {
	Topic       string // default /dvs/events
	Compression string // lz4 (default) or none
	MessageSpan int64  // µs of events per EventArray message (default 1000)
}

// Writer writes events as dvs_msgs/EventArray messages of one topic, the layout rpg_dvs_ros records:
// messages of at most MessageSpan µs, ~768 KiB chunks each followed by its index, then the connection
// and chunk-info records and the bag header's index position.
type Writer struct {
	out     *output.File
	name    string
	g       events.Geometry
	topic   string
	lz      *lz4.Writer
	span    int64
	msg     []byte // the EventArray being filled
	msgN    int
	msgT0   int64
	lastT   int64
	seq     uint32
	chunk   []byte // records of the open chunk
	index   []byte // its index entries: time, offset
	entries uint32
	start   rosTime
	end     rosTime
	infos   []byte // chunk-info records
	nChunks uint32
	conn    bool // the connection record is written (in the first chunk)
	comp    bytes.Buffer
}

// Create writes a bag at path (atomically: the file appears only when Close succeeds).
func Create(path string, g events.Geometry, o WriterOptions) (*Writer, error) {
	return output.Start(path, func(out *output.File) (*Writer, error) { return newWriter(out, g, o) })
}

// NewWriter writes to w, which must be an io.WriterAt too (the bag header is patched at Close); name is
// used in errors.
func NewWriter(w io.Writer, name string, g events.Geometry, o WriterOptions) (*Writer, error) {
	return newWriter(output.New(w, name), g, o)
}

func newWriter(out *output.File, g events.Geometry, o WriterOptions) (*Writer, error) {
	w := &Writer{out: out, name: out.Name(), g: g, topic: o.Topic, span: o.MessageSpan, lastT: math.MinInt64}
	if w.topic == "" {
		w.topic = "/dvs/events"
	}
	if w.span <= 0 {
		w.span = defaultSpan
	}
	if g.Width > math.MaxUint16+1 || g.Height > math.MaxUint16+1 {
		return nil, fmt.Errorf("%s: sensor %v is larger than ROS events can address", w.name, g)
	}
	switch strings.ToLower(o.Compression) {
	case "", "lz4":
		// What roslz4 writes: independent blocks with a content checksum.
		w.lz = lz4.NewWriter(nil)
		if err := w.lz.Apply(lz4.BlockSizeOption(lz4.Block1Mb), lz4.ChecksumOption(true), lz4.BlockChecksumOption(false)); err != nil {
			return nil, err
		}
	case "none":
	default:
		return nil, fmt.Errorf("%s: ROS bags are written with lz4 or none compression, not %q", w.name, o.Compression)
	}
	_, err := w.out.Write(append([]byte(Magic), bagHeader(0, 0, 0)...))
	return w, err
}

// toROS splits a µs time into ROS seconds and nanoseconds, which hold 0 … 2³²−1 s.
func toROS(t int64) (sec, nsec uint32, ok bool) {
	if t < 0 || t/1_000_000 > math.MaxUint32 {
		return 0, 0, false
	}
	return uint32(t / 1_000_000), uint32(t%1_000_000) * 1000, true
}

// Write adds events; they must lie in 0 … 2³² s (ROS time) and inside the sensor when it is known.
func (w *Writer) Write(b *events.Batch) error {
	for i := 0; i < b.Len(); i++ {
		t := b.T[i]
		sec, nsec, ok := toROS(t)
		if !ok {
			return fmt.Errorf("%s: event %d has t = %d µs, outside ROS time (0 … 2³² s): %w", w.name, i, t, formats.ErrTimeRange)
		}
		if w.g.Known() && (int(b.X[i]) >= w.g.Width || int(b.Y[i]) >= w.g.Height) {
			return fmt.Errorf("%s: event %d at (%d, %d) lies outside the %v sensor", w.name, i, b.X[i], b.Y[i], w.g)
		}
		if w.msgN > 0 && (t-w.msgT0 >= w.span || w.msgN == maxMessageEvents) {
			if err := w.endMessage(); err != nil {
				return err
			}
		}
		if w.msgN == 0 {
			w.msgT0 = t
		}
		w.msg = binary.LittleEndian.AppendUint16(w.msg, b.X[i])
		w.msg = binary.LittleEndian.AppendUint16(w.msg, b.Y[i])
		w.msg = binary.LittleEndian.AppendUint32(w.msg, sec)
		w.msg = binary.LittleEndian.AppendUint32(w.msg, nsec)
		w.msg = append(w.msg, b.P[i]&1)
		w.msgN++
		w.lastT = t
	}
	return nil
}

// endMessage writes the EventArray of the pending events into the chunk, at the bag time of its last
// event (when a driver would publish it).
func (w *Writer) endMessage() error {
	sec, nsec, _ := toROS(w.lastT)
	var m []byte
	m = binary.LittleEndian.AppendUint32(m, w.seq)
	m = binary.LittleEndian.AppendUint32(m, sec)
	m = binary.LittleEndian.AppendUint32(m, nsec)
	m = binary.LittleEndian.AppendUint32(m, 0) // frame_id ""
	m = binary.LittleEndian.AppendUint32(m, uint32(w.g.Height))
	m = binary.LittleEndian.AppendUint32(m, uint32(w.g.Width))
	m = binary.LittleEndian.AppendUint32(m, uint32(w.msgN))
	w.seq++
	if !w.conn {
		w.chunk = appendRecord(w.chunk, w.connHeader(), w.connData())
		w.conn = true
	}
	t := rosTime(uint64(nsec)<<32 | uint64(sec))
	if w.entries == 0 || t.key() < w.start.key() {
		w.start = t
	}
	if w.entries == 0 || t.key() > w.end.key() {
		w.end = t
	}
	w.index = binary.LittleEndian.AppendUint64(w.index, uint64(t))
	w.index = binary.LittleEndian.AppendUint32(w.index, uint32(len(w.chunk)))
	w.entries++
	var h []byte
	h = appendField(h, "op", []byte{opMsgData})
	h = appendField(h, "conn", le32(0))
	h = appendField(h, "time", le64(uint64(t)))
	w.chunk = binary.LittleEndian.AppendUint32(w.chunk, uint32(len(h)))
	w.chunk = append(w.chunk, h...)
	w.chunk = binary.LittleEndian.AppendUint32(w.chunk, uint32(len(m)+len(w.msg)))
	w.chunk = append(append(w.chunk, m...), w.msg...)
	w.msg, w.msgN = w.msg[:0], 0
	if len(w.chunk) >= chunkThreshold {
		return w.endChunk()
	}
	return nil
}

func (w *Writer) connHeader() []byte {
	var h []byte
	h = appendField(h, "op", []byte{opConnection})
	h = appendField(h, "conn", le32(0))
	return appendField(h, "topic", []byte(w.topic))
}

// connData is the connection header rosbag stores: topic, type, md5sum and the full definition.
func (w *Writer) connData() []byte {
	k := knownDefinitions[typeDVS]
	var d []byte
	d = appendField(d, "topic", []byte(w.topic))
	d = appendField(d, "type", []byte(typeDVS))
	d = appendField(d, "md5sum", []byte(k.md5))
	d = appendField(d, "message_definition", []byte(k.def))
	d = appendField(d, "callerid", []byte("/evtool"))
	return appendField(d, "latching", []byte("0"))
}

// endChunk writes the open chunk, then its index data record, and notes its chunk info.
func (w *Writer) endChunk() error {
	if w.entries == 0 {
		return nil
	}
	pos := w.out.Offset()
	stored, compression := w.chunk, "none"
	if w.lz != nil {
		w.comp.Reset()
		w.lz.Reset(&w.comp)
		if _, err := w.lz.Write(w.chunk); err != nil {
			return err
		}
		if err := w.lz.Close(); err != nil {
			return err
		}
		stored, compression = w.comp.Bytes(), "lz4"
	}
	var h []byte
	h = appendField(h, "op", []byte{opChunk})
	h = appendField(h, "compression", []byte(compression))
	h = appendField(h, "size", le32(uint32(len(w.chunk))))
	var ih []byte
	ih = appendField(ih, "op", []byte{opIndexData})
	ih = appendField(ih, "ver", le32(1))
	ih = appendField(ih, "conn", le32(0))
	ih = appendField(ih, "count", le32(w.entries))
	if _, err := w.out.Write(appendRecord(appendRecord(nil, h, stored), ih, w.index)); err != nil {
		return err
	}
	var ch []byte
	ch = appendField(ch, "op", []byte{opChunkInfo})
	ch = appendField(ch, "ver", le32(1))
	ch = appendField(ch, "chunk_pos", le64(uint64(pos)))
	ch = appendField(ch, "start_time", le64(uint64(w.start)))
	ch = appendField(ch, "end_time", le64(uint64(w.end)))
	ch = appendField(ch, "count", le32(1))
	w.infos = appendRecord(w.infos, ch, append(le32(0), le32(w.entries)...))
	w.nChunks++
	w.chunk, w.index, w.entries = w.chunk[:0], w.index[:0], 0
	return nil
}

// Close writes the pending message and chunk, the index, and patches the bag header; then the file is
// moved into place.
func (w *Writer) Close() error {
	return w.out.Close(func() error {
		if w.msgN > 0 {
			if err := w.endMessage(); err != nil {
				return err
			}
		}
		if err := w.endChunk(); err != nil {
			return err
		}
		indexPos := w.out.Offset()
		if _, err := w.out.Write(append(appendRecord(nil, w.connHeader(), w.connData()), w.infos...)); err != nil {
			return err
		}
		return w.out.WriteAt(bagHeader(uint64(indexPos), 1, w.nChunks), int64(len(Magic)))
	})
}

// Abort discards the output.
func (w *Writer) Abort() { w.out.Abort() }
