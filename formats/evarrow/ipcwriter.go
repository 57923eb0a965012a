package evarrow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/evtool/evtool/formats/internal/output"
	"github.com/evtool/evtool/internal/flatbuf"
	"github.com/evtool/evtool/internal/parallel"
)

// ipcWriter writes an Arrow IPC file — the same bytes as arrow-go's ipc.FileWriter — but encodes and
// compresses record batches on all cores, several at once, while the caller builds the next ones, and
// writes them in order. ipc.FileWriter compresses the buffers of one batch in parallel and makes the
// caller wait: a dataset batch is dominated by its one timestamp buffer, so a conversion used about one
// core, whatever the machine.
//
// Each core has an encoder: an ipc.FileWriter of the same schema and codec whose output is caught batch
// by batch (a batch's message and body do not depend on where they lie in the file), so its compressors
// are reused from batch to batch as a single FileWriter reuses them (a zstd encoder's 8 MiB history is
// allocated once per core, not once per batch). The file framing is FileWriter's: the magic, the schema
// message, the batches, the end-of-stream marker, and the footer, which is arrow-go's footer for the same
// schema and number of batches with each batch's block (offset, metadata and body lengths) set to where
// it really is (arrowFile, setBlocks).
type ipcWriter struct {
	out      *output.File
	schema   *arrow.Schema
	opts     []ipc.Option
	pos      int64 // bytes written
	started  bool
	blocks   []block
	batches  *parallel.InOrder[*encoding] // batches being encoded, written in file order
	encoders chan *encoder                // idle encoders; at most one per core is ever made
	made     int
	pool     *bufferPool     // what the encoders compress into
	messages []*bytes.Buffer // written batches' buffers, reused for the next batches' messages
	err      error           // the first failure; sticks
}

// encoding is one record batch on its way to the file: its IPC message and body, once encoded.
type encoding struct {
	msg *bytes.Buffer
	err error
}

// encoder is an ipc.FileWriter whose output goes to the buffer of the batch it is encoding.
type encoder struct {
	fw   *ipc.FileWriter
	sink switchWriter
	mem  *encoderMemory
}

type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

// codecOption returns the arrow-go option for a --compression name ("" is zstd).
func codecOption(compression string) (ipc.Option, error) {
	switch strings.ToLower(compression) {
	case "", "zstd":
		return ipc.WithZstd(), nil
	case "lz4":
		return ipc.WithLZ4(), nil
	case "none":
		return nil, nil
	}
	return nil, fmt.Errorf("unknown compression %q (want zstd, lz4 or none)", compression)
}

func newIPCWriter(out *output.File, schema *arrow.Schema, compression string) (*ipcWriter, error) {
	codec, err := codecOption(compression)
	if err != nil {
		return nil, err
	}
	cores := runtime.GOMAXPROCS(0)
	// A batch's body has a handful of big buffers (a recording's: its four columns), each compressed
	// into one of the pool's; a dataset batch has a dozen, most of them small.
	pool := newBufferPool(8 * cores)
	// Each encoder adds its allocator, over the pool.
	opts := []ipc.Option{ipc.WithSchema(schema), ipc.WithCompressConcurrency(1)}
	if codec != nil {
		opts = append(opts, codec)
	}
	w := &ipcWriter{out: out, schema: schema, opts: opts, pool: pool, encoders: make(chan *encoder, cores)}
	// One batch per core being encoded, and one more done, waiting to be written.
	w.batches = parallel.NewInOrder(cores+1, w.writeBatch)
	return w, nil
}

// write hands rec to an encoder and takes ownership of it: it is released once encoded, and then done
// (when not nil) is called, from the encoder's goroutine, so the caller may reuse what rec's arrays lie
// on. It blocks only while every core is encoding a batch and one more is already waiting to be written.
func (w *ipcWriter) write(rec arrow.RecordBatch, done func()) error {
	drop := func(err error) error {
		rec.Release()
		if done != nil {
			done()
		}
		return err
	}
	if w.err != nil {
		return drop(w.err)
	}
	if err := w.start(); err != nil {
		return drop(err)
	}
	if err := w.batches.Room(); err != nil {
		return drop(err)
	}
	enc, err := w.encoder()
	if err != nil {
		return drop(w.fail(err))
	}
	e := &encoding{msg: w.message()}
	w.batches.Go(e, func() {
		e.err = enc.encode(rec, e.msg)
		rec.Release()
		if done != nil {
			done()
		}
		// Only now, with rec's columns handed back, may a waiting write take this encoder: the batches
		// in flight are then bounded by the encoders, and their columns by one set per encoder and one
		// being gathered.
		w.encoders <- enc
	})
	return nil
}

// encode writes rec's IPC message and body into msg.
func (enc *encoder) encode(rec arrow.RecordBatch, msg *bytes.Buffer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("encode a record batch: %v", r)
		}
	}()
	msg.Reset()
	enc.sink.w = msg
	enc.mem.zero = needsZeroedMemory(rec)
	return enc.fw.Write(rec)
}

// encoder returns an idle encoder, making one while there are fewer than cores, else waiting for one.
func (w *ipcWriter) encoder() (*encoder, error) {
	select {
	case enc := <-w.encoders:
		return enc, nil
	default:
	}
	if w.made == cap(w.encoders) {
		return <-w.encoders, nil
	}
	w.made++
	enc := &encoder{mem: &encoderMemory{pool: w.pool, zero: true}}
	enc.sink.w = io.Discard
	fw, err := ipc.NewFileWriter(&enc.sink, slices.Concat(w.opts, []ipc.Option{ipc.WithAllocator(enc.mem)})...)
	if err != nil {
		return nil, err
	}
	// A FileWriter writes the magic and the schema before its first batch: have it do so now, with an
	// empty batch, so that what it writes afterwards is one batch per Write.
	rb := array.NewRecordBuilder(memory.DefaultAllocator, w.schema)
	empty := rb.NewRecordBatch()
	rb.Release()
	defer empty.Release()
	if err := fw.Write(empty); err != nil {
		return nil, err
	}
	enc.fw = fw
	return enc, nil
}

// message returns a buffer for a batch's message: one a written batch was encoded into, if any.
func (w *ipcWriter) message() *bytes.Buffer {
	if n := len(w.messages); n > 0 {
		b := w.messages[n-1]
		w.messages = w.messages[:n-1]
		return b
	}
	return new(bytes.Buffer)
}

// reuse keeps a written batch's buffer for a later batch (there are never more than the batches in flight).
func (w *ipcWriter) reuse(b *bytes.Buffer) { w.messages = append(w.messages, b) }

// start writes what FileWriter writes before the first batch: the magic, padded to 8 bytes, and the
// schema message.
func (w *ipcWriter) start() error {
	if w.started {
		return nil
	}
	w.started = true
	head, _, err := arrowFile(w.schema, 0)
	if err != nil {
		return w.fail(err)
	}
	return w.put(head.header)
}

// writeBatch writes an encoded batch, in file order.
func (w *ipcWriter) writeBatch(e *encoding) error {
	defer w.reuse(e.msg)
	if w.err != nil {
		return w.err
	}
	if e.err != nil {
		return w.fail(fmt.Errorf("write %s: %w", w.out.Name(), e.err))
	}
	b := e.msg.Bytes()
	// The message: a continuation marker, the length of its FlatBuffer (padded), the FlatBuffer; the body.
	if len(b) < 8 || binary.LittleEndian.Uint32(b) != 0xFFFFFFFF {
		return w.fail(errors.New("arrow-go encoded a record batch without its message prefix"))
	}
	meta := 8 + int64(binary.LittleEndian.Uint32(b[4:]))
	if meta > int64(len(b)) {
		return w.fail(errors.New("arrow-go encoded a record batch message longer than its bytes"))
	}
	block := block{offset: w.pos, metaLen: meta, bodyLen: int64(len(b)) - meta}
	if err := w.put(b); err != nil {
		return err
	}
	w.blocks = append(w.blocks, block)
	return nil
}

// close writes the pending batches, then the end-of-stream marker and the footer.
func (w *ipcWriter) close() error {
	if err := w.start(); err != nil {
		return err
	}
	if err := w.batches.Finish(); err != nil {
		return err
	}
	_, tail, err := arrowFile(w.schema, len(w.blocks))
	if err != nil {
		return w.fail(err)
	}
	if err := tail.setBlocks(w.blocks); err != nil {
		return w.fail(err)
	}
	return w.put(tail.bytes)
}

// abort waits for the batches being encoded (so nothing runs after the output is gone) and drops them.
func (w *ipcWriter) abort() {
	w.batches.Abandon()
	if w.err == nil {
		w.err = errors.New("aborted")
	}
}

func (w *ipcWriter) put(b []byte) error {
	w.out.Write(b)
	if err := w.out.Err(); err != nil {
		return w.fail(err)
	}
	w.pos += int64(len(b))
	return nil
}

func (w *ipcWriter) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// fileHead is what precedes the first record batch.
type fileHead struct{ header []byte }

// fileTail is the end-of-stream marker, the footer, its length and the magic; footer is the footer's
// FlatBuffer within bytes.
type fileTail struct {
	bytes  []byte
	footer flatbuf.Buf
}

// arrowFile has arrow-go's ipc.FileWriter write a file of schema with n empty record batches, and returns
// its head (the magic and the schema message) and its tail (end-of-stream marker and footer, whose blocks
// setBlocks then points at the real batches). Only the batch count and the blocks' values differ from
// the file FileWriter would write with the real batches: the FlatBuffer layout of the footer does not
// depend on the values in its Block structs.
func arrowFile(schema *arrow.Schema, n int) (fileHead, fileTail, error) {
	var buf bytes.Buffer
	fw, err := ipc.NewFileWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return fileHead{}, fileTail{}, err
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	empty := rb.NewRecordBatch()
	rb.Release()
	defer empty.Release()
	// The head ends where the first batch starts: write the header alone first.
	if n == 0 {
		if err := fw.Close(); err != nil {
			return fileHead{}, fileTail{}, err
		}
	} else if err := fw.Write(empty); err != nil {
		return fileHead{}, fileTail{}, err
	}
	b := buf.Bytes()
	headLen, err := schemaEnd(b)
	if err != nil {
		return fileHead{}, fileTail{}, err
	}
	head := fileHead{header: bytes.Clone(b[:headLen])}
	for i := 1; i < n; i++ {
		if err := fw.Write(empty); err != nil {
			return fileHead{}, fileTail{}, err
		}
	}
	if n > 0 {
		if err := fw.Close(); err != nil {
			return fileHead{}, fileTail{}, err
		}
	}
	b = buf.Bytes()
	if len(b) < 10+8 || string(b[len(b)-len(Magic):]) != Magic {
		return fileHead{}, fileTail{}, errors.New("arrow-go wrote no file footer")
	}
	flen := int(binary.LittleEndian.Uint32(b[len(b)-10:]))
	start := len(b) - 10 - flen - 8 // the end-of-stream marker comes first
	if flen <= 0 || start < headLen || binary.LittleEndian.Uint32(b[start:]) != 0xFFFFFFFF || binary.LittleEndian.Uint32(b[start+4:]) != 0 {
		return fileHead{}, fileTail{}, errors.New("arrow-go's file does not end with end-of-stream, footer, length and magic")
	}
	tail := fileTail{bytes: bytes.Clone(b[start:])}
	tail.footer = flatbuf.Buf(tail.bytes[8 : 8+flen])
	return head, tail, nil
}

// schemaEnd returns the length of the magic, its padding and the schema message at the start of b.
func schemaEnd(b []byte) (int, error) {
	const at = 8 // "ARROW1" and two bytes of padding
	if len(b) < at+8 || binary.LittleEndian.Uint32(b[at:]) != 0xFFFFFFFF {
		return 0, errors.New("arrow-go's file does not start with the magic and a schema message")
	}
	end := at + 8 + int(binary.LittleEndian.Uint32(b[at+4:]))
	if end > len(b) {
		return 0, errors.New("arrow-go's schema message runs past its file")
	}
	return end, nil
}

// setBlocks sets the footer's record batch blocks (Footer field 3, a vector of 24-byte Block structs:
// offset int64, metaDataLength int32, padding, bodyLength int64).
func (t fileTail) setBlocks(blocks []block) error {
	root, ok := t.footer.Root()
	if !ok {
		return errors.New("arrow-go's footer has no root table")
	}
	n, start, ok := root.Vector(3, 24)
	if !ok || n != len(blocks) {
		return fmt.Errorf("arrow-go's footer lists %d record batches; want %d", n, len(blocks))
	}
	for i, b := range blocks {
		s := t.footer[start+24*i : start+24*(i+1)]
		binary.LittleEndian.PutUint64(s[0:], uint64(b.offset))
		binary.LittleEndian.PutUint32(s[8:], uint32(int32(b.metaLen)))
		binary.LittleEndian.PutUint64(s[16:], uint64(b.bodyLen))
	}
	return nil
}
