package aedat4

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/klauspost/compress/zstd"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/flatbuf"
)

// maxPayload bounds one decompressed packet (DV packets are far smaller); a larger claim is corruption.
const maxPayload = 256 << 20

// maxZstdRatio bounds the expansion a zstd packet may declare (events compress far less than this).
const maxZstdRatio = 1024

// Reader streams an AEDAT 4.0 file: the events of one EVTS stream through events.Reader, and the
// frames, IMU samples and triggers met along the way through Frames, IMUs and Triggers.
type Reader struct {
	path        string
	f           io.ReadSeeker
	closer      io.Closer
	br          *bufio.Reader
	off         int64 // file offset of the next byte br returns
	size        int64 // file size (bounds every allocation)
	compression int32
	dataTable   int64 // FTAB position, -1 when absent
	dataStart   int64 // first packet
	streams     map[int32]*Stream
	evStream    int32
	geometry    events.Geometry
	opts        formats.Options

	packet  []byte // compressed payload buffer (reused)
	payload []byte // decompressed payload buffer (reused)
	zd      *zstd.Decoder

	pending    events.Batch // events of the current packet not yet handed out
	pos        int
	lastT      int64
	skipBefore int64 // set by SeekTime: events earlier than this are dropped
	done       bool
	err        error // fault to report after the good events

	// What the last Read met besides events (reset at each Read).
	frames   []Frame
	imus     []IMU
	triggers []Trigger

	counts struct {
		frames, imus, triggers        int64
		unknownStreams, badPackets    int64
		badFrames, outOfRange, clamps int64
	}
	ftab []TableEntry
}

// Open opens an AEDAT 4.0 file.
func Open(path string, o formats.Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := NewReader(f, st.Size(), path, o)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads an AEDAT 4.0 file of the given size from src; name is used in errors.
func NewReader(src io.ReadSeeker, size int64, name string, o formats.Options) (*Reader, error) {
	r := &Reader{path: name, f: src, size: size, br: bufio.NewReaderSize(src, 256<<10), opts: o, evStream: -1,
		lastT: math.MinInt64, skipBefore: math.MinInt64}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	if want := o.Param("stream", ""); want != "" {
		id, err := strconv.Atoi(want)
		s, ok := r.streams[int32(id)]
		if err != nil || !ok || s.Type != "EVTS" {
			return nil, fmt.Errorf("%s: -O stream=%s: no EVTS stream with that id (streams: %v)", name, want, r.Streams())
		}
		r.evStream = int32(id)
	} else {
		for _, s := range sortedStreams(r.streams) {
			if s.Type == "EVTS" {
				r.evStream = s.ID
				break
			}
		}
	}
	if s, ok := r.streams[r.evStream]; ok {
		r.geometry = events.Geometry{Width: s.Width, Height: s.Height}
	}
	if o.Sensor.Known() {
		r.geometry = o.Sensor
	}
	return r, nil
}

func (r *Reader) fail(off int64, msg string, err error) error {
	return &events.DecodeError{Path: r.path, Offset: off, Msg: msg, Err: err}
}

// readFull reads exactly len(b) bytes, tracking the offset.
func (r *Reader) readFull(b []byte) error {
	n, err := io.ReadFull(r.br, b)
	r.off += int64(n)
	return err
}

func (r *Reader) readHeader() error {
	magic := make([]byte, len(Magic))
	if err := r.readFull(magic); err != nil || string(magic) != Magic {
		return r.fail(0, "not an AEDAT 4.0 file: want the line #!AER-DAT4.0", err)
	}
	var lenb [4]byte
	if err := r.readFull(lenb[:]); err != nil {
		return r.fail(r.off, "file ends before the IOHeader length", events.ErrTruncated)
	}
	n := int64(binary.LittleEndian.Uint32(lenb[:]))
	if n < 8 || n > r.size-r.off {
		return r.fail(r.off-4, fmt.Sprintf("IOHeader length %d does not fit the %d-byte file", n, r.size), events.ErrTruncated)
	}
	hb := make(flatbuf.Buf, n)
	hdrOff := r.off
	if err := r.readFull(hb); err != nil {
		return r.fail(hdrOff, "file ends inside the IOHeader", events.ErrTruncated)
	}
	root, ok := hb.Root()
	if !ok || hb.Identifier() != "IOHE" {
		return r.fail(hdrOff, "the IOHeader is not a FlatBuffer with identifier IOHE", nil)
	}
	r.compression = root.Int32(0, CompressionNone)
	r.dataTable = root.Int64(1, -1)
	desc, ok := root.String(2)
	if !ok {
		return r.fail(hdrOff, "the IOHeader's description string lies outside it", nil)
	}
	streams, err := parseDescription(desc)
	if err != nil {
		return r.fail(hdrOff, "bad stream description", err)
	}
	r.streams = streams
	switch compressionName(r.compression) {
	case "lz4", "zstd", "none":
	default:
		return r.fail(hdrOff, fmt.Sprintf("unknown compression code %d", r.compression), nil)
	}
	if r.dataTable >= 0 && r.dataTable < r.off {
		r.dataTable = -1 // points into the header: ignore it, read to EOF
	}
	r.dataStart = r.off
	return nil
}

// Streams lists the file's streams (with the packets and elements read so far).
func (r *Reader) Streams() []Stream { return sortedStreams(r.streams) }

// Frames returns the frames met during the last Read (valid until the next Read).
func (r *Reader) Frames() []Frame { return r.frames }

// IMUs returns the IMU samples met during the last Read.
func (r *Reader) IMUs() []IMU { return r.imus }

// Triggers returns the triggers met during the last Read.
func (r *Reader) Triggers() []Trigger { return r.triggers }

// Meta describes the recording.
func (r *Reader) Meta() events.Meta {
	m := events.Meta{Format: "aedat4", Kind: events.KindRecording, Geometry: r.geometry, Source: r.path}
	m.SetExtra("compression", compressionName(r.compression))
	m.SetExtra("streams", r.Streams())
	m.SetExtra("events_stream", r.evStream)
	m.SetExtra("frames", r.counts.frames)
	m.SetExtra("imu_samples", r.counts.imus)
	m.SetExtra("triggers", r.counts.triggers)
	for k, v := range map[string]int64{"unknown_stream_packets": r.counts.unknownStreams, "bad_packets": r.counts.badPackets,
		"skipped_frames": r.counts.badFrames, "out_of_range": r.counts.outOfRange, "time_clamped": r.counts.clamps} {
		if v > 0 {
			m.SetExtra(k, v)
		}
	}
	return m
}

// Close closes the file.
func (r *Reader) Close() error {
	if r.zd != nil {
		r.zd.Close()
	}
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Read fills dst with the next events of the selected stream.
func (r *Reader) Read(dst *events.Batch) error {
	dst.Reset()
	r.frames, r.imus, r.triggers = r.frames[:0], r.imus[:0], r.triggers[:0]
	want := cap(dst.T)
	if want == 0 {
		want = 1 << 16
	}
	for dst.Len() < want {
		if r.pos < r.pending.Len() {
			n := min(r.pending.Len()-r.pos, want-dst.Len())
			part := r.pending.Slice(r.pos, r.pos+n)
			dst.AppendBatch(&part)
			r.pos += n
			continue
		}
		if r.done || r.err != nil {
			break
		}
		r.pending.Reset()
		r.pos = 0
		if err := r.nextPacket(); err != nil {
			if err == io.EOF {
				r.done = true
			} else {
				r.err = err
			}
		}
	}
	if dst.Len() > 0 {
		return nil
	}
	if r.err != nil {
		err := r.err
		r.err, r.done = nil, true
		return err
	}
	return io.EOF
}

// nextPacket reads and decodes one packet. io.EOF ends the stream.
func (r *Reader) nextPacket() error {
	if r.dataTable >= 0 && r.off >= r.dataTable {
		return io.EOF
	}
	start := r.off
	var hdr [8]byte
	n, err := io.ReadFull(r.br, hdr[:])
	r.off += int64(n)
	if err == io.EOF {
		if r.dataTable >= 0 {
			return r.fail(start, fmt.Sprintf("file ends before the data table at byte %d", r.dataTable), events.ErrTruncated)
		}
		return io.EOF
	}
	if err != nil {
		return r.fail(start, "file ends inside a packet header", events.ErrTruncated)
	}
	id := int32(binary.LittleEndian.Uint32(hdr[:4]))
	size := int64(int32(binary.LittleEndian.Uint32(hdr[4:])))
	// The packet must end by the data table and by the end of the file; a data table position past
	// the end (a cut file, or a forged header) must not let a size field allocate gigabytes.
	limit := r.size
	if r.dataTable >= 0 && r.dataTable < limit {
		limit = r.dataTable
	}
	if size < 0 || size > limit-r.off {
		if size >= 0 && size > r.size-r.off {
			return r.fail(start, fmt.Sprintf("packet of %d bytes is cut off by the end of the file", size), events.ErrTruncated)
		}
		return r.fail(start, fmt.Sprintf("packet size %d crosses the data table or the end of the file", size), nil)
	}
	if cap(r.packet) < int(size) {
		r.packet = make([]byte, size)
	}
	r.packet = r.packet[:size]
	if err := r.readFull(r.packet); err != nil {
		return r.fail(start+8, "file ends inside a packet", events.ErrTruncated)
	}
	st, ok := r.streams[id]
	if !ok {
		r.counts.unknownStreams++
		return nil
	}
	payload, err := r.decompress(r.packet)
	if err != nil {
		r.counts.badPackets++
		return nil // one bad packet loses only itself
	}
	if len(payload) < 8 {
		r.counts.badPackets++
		return nil
	}
	fbLen := int(binary.LittleEndian.Uint32(payload))
	if fbLen > len(payload)-4 {
		r.counts.badPackets++
		return nil
	}
	buf := flatbuf.Buf(payload[4 : 4+fbLen])
	if buf.Identifier() != st.Type {
		r.counts.badPackets++
		return nil
	}
	root, ok := buf.Root()
	if !ok {
		r.counts.badPackets++
		return nil
	}
	st.Packets++
	switch st.Type {
	case "EVTS":
		n := r.decodeEvents(root, id == r.evStream)
		st.Elements += int64(n)
	case "FRME":
		st.Elements++
		r.decodeFrame(root)
	case "IMUS":
		st.Elements += int64(r.decodeIMU(root))
	case "TRIG":
		st.Elements += int64(r.decodeTriggers(root))
	}
	return nil
}

func (r *Reader) decompress(p []byte) ([]byte, error) {
	switch compressionName(r.compression) {
	case "none":
		return p, nil
	case "zstd":
		if r.zd == nil {
			d, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxPayload), zstd.WithDecoderConcurrency(1))
			if err != nil {
				return nil, err
			}
			r.zd = d
		}
		// DecodeAll sizes its output from the frame header's content size; refuse sizes no real
		// packet compresses from so a forged header cannot make a few bytes allocate 256 MiB.
		var h zstd.Header
		if h.Decode(p) == nil && h.HasFCS && h.FrameContentSize > uint64(maxZstdRatio*len(p)+1<<20) {
			return nil, fmt.Errorf("zstd frame claims %d bytes from %d", h.FrameContentSize, len(p))
		}
		out, err := r.zd.DecodeAll(p, r.payload[:0])
		if err != nil {
			return nil, err
		}
		r.payload = out
		return out, nil
	default: // lz4 frames, linked or independent blocks
		out, err := decodeLZ4Frame(p, r.payload, maxPayload)
		if err != nil {
			return nil, err
		}
		r.payload = out
		return out, nil
	}
}

// decodeEvents reads an EventPacket: a vector of 16-byte structs (t int64, x int16, y int16, on bool).
func (r *Reader) decodeEvents(root flatbuf.Table, keep bool) int {
	n, start, ok := root.Vector(0, 16)
	if !ok {
		r.counts.badPackets++
		return 0
	}
	if !keep {
		return n
	}
	b := root.B[start : start+16*n]
	w, h := r.geometry.Width, r.geometry.Height
	r.pending.Grow(n)
	for i := 0; i < n; i++ {
		e := b[16*i : 16*i+16 : 16*i+16]
		t := int64(binary.LittleEndian.Uint64(e[0:8]))
		x := int(int16(binary.LittleEndian.Uint16(e[8:10])))
		y := int(int16(binary.LittleEndian.Uint16(e[10:12])))
		if x < 0 || y < 0 || (w > 0 && x >= w) || (h > 0 && y >= h) {
			r.counts.outOfRange++
			continue
		}
		if t < r.skipBefore {
			continue
		}
		if t < r.lastT {
			t = r.lastT // a glitch, not a wrap: DV timestamps are absolute int64 (§0.3)
			r.counts.clamps++
		}
		r.lastT = t
		var p uint8
		if e[12] != 0 {
			p = 1
		}
		r.pending.Append(t, uint16(x), uint16(y), p)
	}
	return n
}

func (r *Reader) decodeFrame(t flatbuf.Table) {
	f := Frame{T: t.Int64(0, 0), BeginT: t.Int64(1, 0), EndT: t.Int64(2, 0), ExposureBeginT: t.Int64(3, 0),
		ExposureEndT: t.Int64(4, 0), Format: t.Int8(5, 0), Width: t.Int16(6, 0), Height: t.Int16(7, 0),
		OffsetX: t.Int16(8, 0), OffsetY: t.Int16(9, 0)}
	n, start, ok := t.Vector(10, 1)
	bps := f.BytesPerSample()
	if !ok || bps == 0 || f.Width < 0 || f.Height < 0 || n != int(f.Width)*int(f.Height)*f.Channels()*bps {
		r.counts.badFrames++ // unknown format or size mismatch: skip with a count, keep reading
		return
	}
	f.Pixels = t.B[start : start+n]
	r.counts.frames++
	r.frames = append(r.frames, f)
}

func (r *Reader) decodeIMU(root flatbuf.Table) int {
	n, start, ok := root.Vector(0, 4)
	if !ok {
		r.counts.badPackets++
		return 0
	}
	for i := 0; i < n; i++ {
		t, ok := root.B.TableIn(start, i)
		if !ok {
			r.counts.badPackets++
			continue
		}
		s := IMU{T: t.Int64(0, 0), Temperature: t.Float32(1, 0)}
		for k := 0; k < 3; k++ {
			s.Acc[k] = t.Float32(2+k, 0)
			s.Gyro[k] = t.Float32(5+k, 0)
			s.Mag[k] = t.Float32(8+k, 0)
		}
		r.imus = append(r.imus, s)
		r.counts.imus++
	}
	return n
}

func (r *Reader) decodeTriggers(root flatbuf.Table) int {
	n, start, ok := root.Vector(0, 4)
	if !ok {
		r.counts.badPackets++
		return 0
	}
	for i := 0; i < n; i++ {
		t, ok := root.B.TableIn(start, i)
		if !ok {
			r.counts.badPackets++
			continue
		}
		r.triggers = append(r.triggers, Trigger{T: t.Int64(0, 0), Source: t.Int8(1, 0)})
		r.counts.triggers++
	}
	return n
}
