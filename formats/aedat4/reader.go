package aedat4

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/klauspost/compress/zstd"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/input"
	"github.com/evtool/evtool/internal/flatbuf"
)

// maxPayload bounds one decompressed packet (DV packets are far smaller); a larger claim is corruption.
const maxPayload = 256 << 20

// maxZstdRatio bounds the expansion a zstd packet may declare (events compress far less than this).
const maxZstdRatio = 1024

// maxHeader bounds the IOHeader of a stream whose length is unknown (real ones hold a few KB of XML).
const maxHeader = 64 << 20

// Reader streams an AEDAT 4.0 file: the events of one EVTS stream through events.Reader, and the
// frames, IMU samples and triggers met along the way through Frames, IMUs and Triggers.
type Reader struct {
	in          *input.Input
	path        string
	size        int64 // file size (bounds every allocation); -1 for a stream of unknown length
	compression int32
	dataTable   int64 // FTAB position, -1 when absent
	dataStart   int64 // first packet
	streams     map[int32]*Stream
	evStream    int32
	geometry    events.Geometry
	opts        formats.Options

	comp    string        // compressionName(compression)
	payload []byte        // decompressed data table (reused)
	zd      *zstd.Decoder // the zstd decoder of the packets decoded here, not ahead

	ahead ahead // packets read ahead and decoded on other goroutines (ahead.go)

	pending    events.Batch // events of the current packet not yet handed out
	pos        int
	lastT      int64
	skipBefore int64        // set by SeekTime: events earlier than this are dropped
	end        input.Ending // the end of the packets (or a fault), told after the good events

	// What the last Read met besides events (reset at each Read).
	frames   []Frame
	imus     []IMU
	triggers []events.Trigger

	counts struct {
		frames, imus, triggers        int64
		unknownStreams, badPackets    int64
		badFrames, outOfRange, clamps int64
	}
	ftab []TableEntry

	watch formats.DecodeWatch // reports the counts' growth (formats.Notice)
}

// Open opens an AEDAT 4.0 file.
func Open(path string, o formats.Options) (*Reader, error) {
	return input.Open(path, func(f *os.File) (*Reader, error) { return NewReader(f, path, o) })
}

// NewReader reads an AEDAT 4.0 file from r (closed by Close when it is an io.Closer); name is used in
// errors. A stream reads sequentially; Table and SeekTime need a file (an io.ReaderAt and io.Seeker).
func NewReader(r io.Reader, name string, o formats.Options) (*Reader, error) {
	rd := &Reader{in: input.New(r, name), path: name, size: input.Length(r), opts: o, evStream: -1,
		lastT: math.MinInt64, skipBefore: math.MinInt64,
		watch: formats.NewDecodeWatch(name)}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	if want := o.Param("stream", ""); want != "" {
		id, err := strconv.Atoi(want)
		s, ok := rd.streams[int32(id)]
		if err != nil || !ok || s.Type != "EVTS" {
			return nil, fmt.Errorf("%s: %w", name, o.BadParam("stream", "no EVTS stream with that id (streams: %v)", rd.Streams()))
		}
		rd.evStream = int32(id)
	} else {
		for _, s := range sortedStreams(rd.streams) {
			if s.Type == "EVTS" {
				rd.evStream = s.ID
				break
			}
		}
	}
	if s, ok := rd.streams[rd.evStream]; ok {
		rd.geometry = o.HeaderSensor(name, "the stream's sizeX/sizeY", events.Geometry{Width: s.Width, Height: s.Height})
	}
	if o.Sensor.Known() {
		rd.geometry = o.Sensor
	}
	return rd, nil
}

func (r *Reader) fail(off int64, msg string, err error) error {
	return r.in.Errorf(off, err, "%s", msg)
}

// ended is the error for input that ends at off before what is described: the read failure, when there
// was one, else a truncation.
func (r *Reader) ended(off int64, msg string) error {
	if err := r.in.Err(); err != nil {
		return err
	}
	return r.in.Truncated(off, "%s", msg)
}

// remaining is the number of bytes left after the current offset, or -1 when the length is unknown.
func (r *Reader) remaining() int64 {
	if r.size < 0 {
		return -1
	}
	return r.size - r.in.Offset()
}

func (r *Reader) readHeader() error {
	in := r.in
	in.Fill(len(Magic))
	if head := in.Bytes(); !bytes.HasPrefix(head, []byte(Magic)) {
		if len(head) < len(Magic) && bytes.HasPrefix([]byte(Magic), head) {
			return r.ended(int64(len(head)), "file ends inside the #!AER-DAT4.0 line")
		}
		return r.fail(0, "not an AEDAT 4.0 file: want the line #!AER-DAT4.0", nil)
	}
	in.Advance(len(Magic))
	lenb, ok := in.Next(4)
	if !ok {
		return r.ended(in.Offset(), "file ends before the IOHeader length")
	}
	n := int64(binary.LittleEndian.Uint32(lenb))
	if rest := r.remaining(); n < 8 || n > maxHeader || (rest >= 0 && n > rest) {
		return r.fail(in.Offset()-4, fmt.Sprintf("IOHeader length %d does not fit the file (%d bytes left)", n, rest), events.ErrTruncated)
	}
	hdrOff := in.Offset()
	b, ok := in.Next(int(n))
	if !ok {
		return r.ended(hdrOff, "file ends inside the IOHeader")
	}
	hb := flatbuf.Buf(b)
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
	r.comp = compressionName(r.compression)
	switch r.comp {
	case "lz4", "zstd", "none":
	default:
		return r.fail(hdrOff, fmt.Sprintf("unknown compression code %d", r.compression), nil)
	}
	if r.dataTable >= 0 && r.dataTable < in.Offset() {
		r.dataTable = -1 // points into the header: ignore it, read to EOF
	}
	r.dataStart = in.Offset()
	return nil
}

// Streams lists the file's streams (with the packets and elements read so far).
func (r *Reader) Streams() []Stream { return sortedStreams(r.streams) }

// Frames returns the frames met during the last Read (valid until the next Read).
func (r *Reader) Frames() []Frame { return r.frames }

// IMUs returns the IMU samples met during the last Read.
func (r *Reader) IMUs() []IMU { return r.imus }

// Triggers returns the triggers met during the last Read.
func (r *Reader) Triggers() []events.Trigger { return r.triggers }

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
	r.ahead.closed = true
	r.stopAhead()
	if r.zd != nil {
		r.zd.Close()
	}
	return r.in.Close()
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
		if r.end.Over() {
			break
		}
		r.pending.Reset()
		r.pos = 0
		r.end.Set(r.nextPacket())
		if r.end.Over() {
			r.stopAhead() // the decoding goroutines end with the stream
		}
	}
	return r.end.Result(dst.Len())
}

// readPacket reads the next packet's header and bytes (valid until the next read from the input). io.EOF
// ends the stream; any other error is a fault of the file at that point.
func (r *Reader) readPacket() (id int32, packet []byte, start int64, err error) {
	in := r.in
	if r.dataTable >= 0 && in.Offset() >= r.dataTable {
		return 0, nil, in.Offset(), io.EOF
	}
	start = in.Offset()
	hdr, ok := in.Next(8)
	if !ok {
		switch {
		case in.Buffered() > 0 || in.Failed():
			return 0, nil, start, r.ended(start, "file ends inside a packet header")
		case r.dataTable >= 0:
			return 0, nil, start, r.ended(start, fmt.Sprintf("file ends before the data table at byte %d", r.dataTable))
		}
		return 0, nil, start, io.EOF
	}
	id = int32(binary.LittleEndian.Uint32(hdr[:4]))
	size := int64(int32(binary.LittleEndian.Uint32(hdr[4:])))
	// The packet must end by the data table and by the end of the file; a data table position past
	// the end (a cut file, or a forged header) must not let a size field allocate gigabytes.
	rest := r.remaining()
	limit := int64(maxPayload)
	if rest >= 0 {
		limit = rest
	}
	if r.dataTable >= 0 {
		limit = min(limit, r.dataTable-in.Offset())
	}
	if size < 0 || size > limit {
		if size >= 0 && rest >= 0 && size > rest {
			return 0, nil, start, r.fail(start, fmt.Sprintf("packet of %d bytes is cut off by the end of the file", size), events.ErrTruncated)
		}
		return 0, nil, start, r.fail(start, fmt.Sprintf("packet size %d crosses the data table or the end of the file", size), nil)
	}
	packet, ok = in.Next(int(size))
	if !ok {
		return 0, nil, start, r.ended(start+8, "file ends inside a packet")
	}
	return id, packet, start, nil
}

// decompress decompresses a packet (or the data table) into dst[:0]; zd is the zstd decoder of the
// goroutine that calls it, made on first use (closed by its owner).
func (r *Reader) decompress(p, dst []byte, zd **zstd.Decoder) ([]byte, error) {
	switch r.comp {
	case "none":
		return p, nil
	case "zstd":
		if *zd == nil {
			d, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxPayload), zstd.WithDecoderConcurrency(1))
			if err != nil {
				return nil, err
			}
			*zd = d
		}
		// DecodeAll sizes its output from the frame header's content size; refuse sizes no real
		// packet compresses from so a forged header cannot make a few bytes allocate 256 MiB.
		var h zstd.Header
		if h.Decode(p) == nil && h.HasFCS && h.FrameContentSize > uint64(maxZstdRatio*len(p)+1<<20) {
			return nil, fmt.Errorf("zstd frame claims %d bytes from %d", h.FrameContentSize, len(p))
		}
		return (*zd).DecodeAll(p, dst[:0])
	default: // lz4 frames, linked or independent blocks
		return decodeLZ4Frame(p, dst, maxPayload)
	}
}

// decodePacket decompresses a packet and checks its FlatBuffer (apply decodes what it holds). It touches
// nothing of the reader's state that changes while packets are read, so it runs on any goroutine; zd is
// that goroutine's zstd decoder.
func (r *Reader) decodePacket(j *packetJob, zd **zstd.Decoder) {
	j.why = ""
	payload, err := r.decompress(j.raw, j.payload, zd)
	if err != nil {
		j.why = err.Error()
		return
	}
	if r.comp != "none" {
		j.payload = payload // reused by the job's next packet (an uncompressed packet is j.raw itself)
	}
	if len(payload) < 8 {
		j.why = "payload shorter than a FlatBuffer"
		return
	}
	fbLen := int(binary.LittleEndian.Uint32(payload))
	if fbLen > len(payload)-4 {
		j.why = "FlatBuffer longer than its payload"
		return
	}
	buf := flatbuf.Buf(payload[4 : 4+fbLen])
	if buf.Identifier() != j.st.Type {
		j.why = fmt.Sprintf("identifier %q, want %s", buf.Identifier(), j.st.Type)
		return
	}
	root, ok := buf.Root()
	if !ok {
		j.why = "FlatBuffer root outside the payload"
		return
	}
	j.root = root
}

// apply counts a decompressed packet and decodes what it holds, in file order: its events become the
// pending batch (skipped before a SeekTime target, clamped to the last time given), its frames, IMU
// samples and triggers join the current Read's, a damaged packet is reported.
func (r *Reader) apply(j *packetJob) error {
	st := j.st
	if st == nil {
		r.counts.unknownStreams++
		return r.opts.Notify(formats.Notice{Path: r.path, Offset: j.start, Kind: formats.Lost,
			What: "packets of streams the header does not declare skipped", Count: 1, Events: -1})
	}
	if j.why != "" {
		return r.badPacket(j.start, st, j.why)
	}
	st.Packets++
	switch st.Type {
	case "EVTS":
		n, ok := r.decodeEvents(j.root, j.id == r.evStream)
		if !ok {
			return r.badPacket(j.start, st, "event vector outside the FlatBuffer")
		}
		st.Elements += int64(n)
		if j.id == r.evStream {
			if err := r.watch.Check(r.opts, r.counts.outOfRange, r.counts.clamps, j.start); err != nil {
				return err
			}
		}
	case "FRME":
		st.Elements++
		r.decodeFrame(j.root)
	case "IMUS":
		st.Elements += int64(r.decodeIMU(j.root))
	case "TRIG":
		st.Elements += int64(r.decodeTriggers(j.root))
	}
	return nil
}

// badPacket counts a damaged packet of stream st at byte off and reports it (Notify): its events are lost.
func (r *Reader) badPacket(off int64, st *Stream, why string) error {
	r.counts.badPackets++
	if err := r.opts.Notify(formats.Notice{Path: r.path, Offset: off, Kind: formats.Lost,
		What: "damaged packets skipped", Count: 1, Events: -1}); err != nil {
		return r.fail(off, fmt.Sprintf("damaged packet of stream %d (%s): %s", st.ID, st.Type, why), formats.ErrLoss)
	}
	return nil
}

// decodeEvents reads an EventPacket: a vector of 16-byte structs (t int64, x int16, y int16, on bool);
// false when the vector lies outside the buffer.
func (r *Reader) decodeEvents(root flatbuf.Table, keep bool) (int, bool) {
	n, start, ok := root.Vector(0, 16)
	if !ok {
		return 0, false
	}
	if !keep {
		return n, true
	}
	b := root.B[start : start+16*n]
	w, h := r.geometry.Width, r.geometry.Height
	if w <= 0 {
		w = math.MaxInt
	}
	if h <= 0 {
		h = math.MaxInt
	}
	// Events go straight into the pending columns (grown once for the packet), then cut to what was kept.
	base := r.pending.Len()
	r.pending.Grow(n)
	T, X, Y, P := r.pending.T[:base+n], r.pending.X[:base+n], r.pending.Y[:base+n], r.pending.P[:base+n]
	k := base
	lastT, skipBefore := r.lastT, r.skipBefore
	var outOfRange, clamps int64
	for i := 0; i < n; i++ {
		e := b[16*i : 16*i+16 : 16*i+16]
		t := int64(binary.LittleEndian.Uint64(e[0:8]))
		x := int(int16(binary.LittleEndian.Uint16(e[8:10])))
		y := int(int16(binary.LittleEndian.Uint16(e[10:12])))
		if x < 0 || y < 0 || x >= w || y >= h {
			outOfRange++
			continue
		}
		if t < skipBefore {
			continue
		}
		if t < lastT {
			t = lastT // a glitch, not a wrap: DV timestamps are absolute int64 (docs/architecture.md#time)
			clamps++
		}
		lastT = t
		var p uint8
		if e[12] != 0 {
			p = 1
		}
		T[k], X[k], Y[k], P[k] = t, uint16(x), uint16(y), p
		k++
	}
	r.pending.T, r.pending.X, r.pending.Y, r.pending.P = T[:k], X[:k], Y[:k], P[:k]
	r.lastT = lastT
	r.counts.outOfRange += outOfRange
	r.counts.clamps += clamps
	return n, true
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
	// A copy: the payload buffer is reused by the next packet of the same Read.
	f.Pixels = append([]byte(nil), t.B[start:start+n]...)
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
		src := t.Int8(1, 0)
		r.triggers = append(r.triggers, events.Trigger{T: t.Int64(0, 0), Kind: triggerKind(src), Raw: uint32(uint8(src))})
		r.counts.triggers++
	}
	return n
}
