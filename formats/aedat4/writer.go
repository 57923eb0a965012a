package aedat4

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/internal/output"
)

// EventsPerPacket caps a packet, as faery does, so streaming readers keep bounded memory.
const EventsPerPacket = 4096

// Writer writes one events stream (id 0) as AEDAT 4.0, then the FTAB index.
type Writer struct {
	out       *output.File
	codec     int32
	g         events.Geometry
	dtpOffset int64 // file offset of the IOHeader's dataTablePosition (back-patched at Close)
	pending   events.Batch
	table     []TableEntry
	lastT     int64
	enc       *zstd.Encoder
	lzw       *lz4.Writer
	fb        []byte       // flatbuffer scratch
	comp      bytes.Buffer // compressed scratch
}

// Create writes an AEDAT 4.0 file at path (atomically). The sensor size is o.Sensor, else meta's;
// o.Compression is lz4 (the default, as DV and faery), zstd or none.
func Create(path string, meta events.Meta, o formats.Options) (*Writer, error) {
	return output.Start(path, func(out *output.File) (*Writer, error) { return newWriter(out, meta, o) })
}

// NewWriter writes to w, which must be an io.WriterAt too (the header is back-patched at Close); name is
// used in errors.
func NewWriter(w io.Writer, name string, meta events.Meta, o formats.Options) (*Writer, error) {
	return newWriter(output.New(w, name), meta, o)
}

func newWriter(out *output.File, meta events.Meta, o formats.Options) (*Writer, error) {
	g := meta.Geometry
	if o.Sensor.Known() {
		g = o.Sensor
	}
	if !g.Known() || g.Width > 32767 || g.Height > 32767 {
		return nil, fmt.Errorf("%s: AEDAT 4 needs a sensor size up to 32767x32767 (got %v)", out.Name(), g)
	}
	w := &Writer{out: out, g: g, lastT: math.MinInt64}
	switch strings.ToLower(o.Compression) {
	case "", "lz4":
		w.codec = CompressionLZ4
		w.lzw = lz4.NewWriter(nil)
		if err := w.lzw.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.CompressionLevelOption(lz4.Fast)); err != nil {
			return nil, err
		}
	case "zstd":
		w.codec = CompressionZstd
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		w.enc = enc
	case "none":
		w.codec = CompressionNone
	default:
		return nil, fmt.Errorf("aedat4: unknown compression %q (want lz4, zstd or none)", o.Compression)
	}
	w.writeHeader("evtool")
	return w, out.Err()
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (w *Writer) writeHeader(source string) {
	desc := fmt.Sprintf(`<dv version="2.0">
    <node name="outInfo" path="/mainloop/Recorder/outInfo/">
        <node name="0" path="/mainloop/Recorder/outInfo/0/">
            <attr key="compression" type="string">%s</attr>
            <attr key="originalModuleName" type="string">evtool</attr>
            <attr key="originalOutputName" type="string">events</attr>
            <attr key="typeDescription" type="string">Array of events (polarity ON/OFF).</attr>
            <attr key="typeIdentifier" type="string">EVTS</attr>
            <node name="info" path="/mainloop/Recorder/outInfo/0/info/">
                <attr key="sizeX" type="int">%d</attr>
                <attr key="sizeY" type="int">%d</attr>
                <attr key="source" type="string">%s</attr>
                <attr key="tsOffset" type="long">0</attr>
            </node>
        </node>
    </node>
</dv>
`, strings.ToUpper(compressionName(w.codec)), w.g.Width, w.g.Height, xmlEscape(source))
	// IOHeader FlatBuffer, laid out by hand (fields: compression int32, dataTablePosition int64,
	// description string), with dataTablePosition present so it can be back-patched.
	const vt, tbl = 8, 24
	b := make([]byte, tbl+24, tbl+24+4+len(desc)+8)
	binary.LittleEndian.PutUint32(b[0:], tbl) // root offset
	copy(b[4:], "IOHE")
	binary.LittleEndian.PutUint16(b[vt:], 10)      // vtable size
	binary.LittleEndian.PutUint16(b[vt+2:], 24)    // table size
	binary.LittleEndian.PutUint16(b[vt+4:], 4)     // compression
	binary.LittleEndian.PutUint16(b[vt+6:], 8)     // dataTablePosition
	binary.LittleEndian.PutUint16(b[vt+8:], 16)    // description
	binary.LittleEndian.PutUint32(b[tbl:], tbl-vt) // soffset to the vtable
	binary.LittleEndian.PutUint32(b[tbl+4:], uint32(w.codec))
	binary.LittleEndian.PutUint64(b[tbl+8:], ^uint64(0)) // -1 until Close
	binary.LittleEndian.PutUint32(b[tbl+16:], uint32(len(b)-(tbl+16)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(desc)))
	b = append(b, desc...)
	b = append(b, 0)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	w.out.WriteString(Magic)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(b)))
	w.out.Write(n[:])
	w.dtpOffset = w.out.Offset() + tbl + 8
	w.out.Write(b)
}

// Write appends events (in time order; coordinates inside the sensor).
func (w *Writer) Write(b *events.Batch) error {
	for i := 0; i < b.Len(); i++ {
		if int(b.X[i]) >= w.g.Width || int(b.Y[i]) >= w.g.Height {
			return fmt.Errorf("%s: event at (%d,%d) lies outside the %v sensor", w.out.Name(), b.X[i], b.Y[i], w.g)
		}
		if b.T[i] < w.lastT {
			return fmt.Errorf("%s: events must be in time order (%d after %d)", w.out.Name(), b.T[i], w.lastT)
		}
		w.lastT = b.T[i]
		w.pending.Append(b.T[i], b.X[i], b.Y[i], b.P[i])
		if w.pending.Len() == EventsPerPacket {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return w.out.Err()
}

// eventPacket lays out a size-prefixed EventPacket FlatBuffer; the 16-byte structs start 8-aligned
// from the start of the payload.
func eventPacket(dst []byte, ev *events.Batch) []byte {
	n := ev.Len()
	const vt, tbl, vec = 8, 16, 32 // positions inside the FlatBuffer (after the 4-byte size prefix)
	size := vec + 4 + 16*n
	dst = append(dst[:0], make([]byte, 4+size)...)
	b := dst[4:]
	binary.LittleEndian.PutUint32(dst, uint32(size))
	binary.LittleEndian.PutUint32(b[0:], tbl)
	copy(b[4:], "EVTS")
	binary.LittleEndian.PutUint16(b[vt:], 6)
	binary.LittleEndian.PutUint16(b[vt+2:], 8)
	binary.LittleEndian.PutUint16(b[vt+4:], 4)
	binary.LittleEndian.PutUint32(b[tbl:], tbl-vt)
	binary.LittleEndian.PutUint32(b[tbl+4:], vec-(tbl+4))
	binary.LittleEndian.PutUint32(b[vec:], uint32(n))
	for i := 0; i < n; i++ {
		e := b[vec+4+16*i : vec+4+16*i+16]
		binary.LittleEndian.PutUint64(e[0:], uint64(ev.T[i]))
		binary.LittleEndian.PutUint16(e[8:], ev.X[i])
		binary.LittleEndian.PutUint16(e[10:], ev.Y[i])
		e[12] = ev.P[i]
	}
	return dst
}

func (w *Writer) compress(p []byte) ([]byte, error) {
	w.comp.Reset()
	switch w.codec {
	case CompressionZstd:
		return w.enc.EncodeAll(p, w.comp.Bytes()), nil
	case CompressionLZ4:
		w.lzw.Reset(&w.comp)
		if _, err := w.lzw.Write(p); err != nil {
			return nil, err
		}
		if err := w.lzw.Close(); err != nil {
			return nil, err
		}
		return w.comp.Bytes(), nil
	}
	return p, nil
}

func (w *Writer) flush() error {
	if w.pending.Len() == 0 {
		return nil
	}
	w.fb = eventPacket(w.fb, &w.pending)
	c, err := w.compress(w.fb)
	if err != nil {
		return fmt.Errorf("%s: compress: %w", w.out.Name(), err)
	}
	var hdr [8]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0)
	binary.LittleEndian.PutUint32(hdr[4:], uint32(len(c)))
	w.out.Write(hdr[:])
	w.table = append(w.table, TableEntry{ByteOffset: w.out.Offset(), StreamID: 0, Size: int32(len(c)),
		Elements: int64(w.pending.Len()), StartT: w.pending.T[0], EndT: w.pending.T[w.pending.Len()-1], HasTimes: true})
	w.out.Write(c)
	w.pending.Reset()
	return w.out.Err()
}

// ftab lays out the size-prefixed FileDataTable FlatBuffer.
func ftab(entries []TableEntry) []byte {
	n := len(entries)
	// Positions inside the FlatBuffer: root vtable at 8, root table at 16, vector at 28 (elements at 32),
	// the entries' shared vtable after the vector, then the entries (48 bytes each, 8-aligned).
	const rvt, rtbl, vec = 8, 16, 28
	evt := vec + 4 + 4*n
	evt += (8 - (evt+4)%8) % 8 // keep the entries' int64 fields 8-aligned from the payload start
	first := evt + 16
	first += (8 - (first+4)%8) % 8
	size := first + 48*n
	out := make([]byte, 4+size)
	b := out[4:]
	binary.LittleEndian.PutUint32(out, uint32(size))
	binary.LittleEndian.PutUint32(b[0:], rtbl)
	copy(b[4:], "FTAB")
	binary.LittleEndian.PutUint16(b[rvt:], 6)
	binary.LittleEndian.PutUint16(b[rvt+2:], 8)
	binary.LittleEndian.PutUint16(b[rvt+4:], 4)
	binary.LittleEndian.PutUint32(b[rtbl:], rtbl-rvt)
	binary.LittleEndian.PutUint32(b[rtbl+4:], vec-(rtbl+4))
	binary.LittleEndian.PutUint32(b[vec:], uint32(n))
	binary.LittleEndian.PutUint16(b[evt:], 14)
	binary.LittleEndian.PutUint16(b[evt+2:], 48)
	for i, off := range []uint16{8, 16, 24, 32, 40} {
		binary.LittleEndian.PutUint16(b[evt+4+2*i:], off)
	}
	for i, e := range entries {
		t := first + 48*i
		binary.LittleEndian.PutUint32(b[vec+4+4*i:], uint32(t-(vec+4+4*i)))
		binary.LittleEndian.PutUint32(b[t:], uint32(t-evt))
		binary.LittleEndian.PutUint64(b[t+8:], uint64(e.ByteOffset))
		binary.LittleEndian.PutUint32(b[t+16:], uint32(e.StreamID))
		binary.LittleEndian.PutUint32(b[t+20:], uint32(e.Size))
		binary.LittleEndian.PutUint64(b[t+24:], uint64(e.Elements))
		binary.LittleEndian.PutUint64(b[t+32:], uint64(e.StartT))
		binary.LittleEndian.PutUint64(b[t+40:], uint64(e.EndT))
	}
	return out
}

// Close writes the last packet and the FTAB, back-patches dataTablePosition, and moves the file into place.
func (w *Writer) Close() error {
	defer w.release()
	return w.out.Close(func() error {
		if err := w.flush(); err != nil {
			return err
		}
		dtp := w.out.Offset()
		c, err := w.compress(ftab(w.table))
		if err != nil {
			return fmt.Errorf("%s: compress: %w", w.out.Name(), err)
		}
		w.out.Write(c)
		var v [8]byte
		binary.LittleEndian.PutUint64(v[:], uint64(dtp))
		return w.out.WriteAt(v[:], w.dtpOffset)
	})
}

// Abort discards the output.
func (w *Writer) Abort() {
	w.out.Abort()
	w.release()
}

func (w *Writer) release() {
	if w.enc != nil {
		w.enc.Close()
		w.enc = nil
	}
}
