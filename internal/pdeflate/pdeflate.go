// Package pdeflate writes one raw DEFLATE stream (RFC 1951, what a zip entry holds) on all cores.
//
// A single deflate writer uses one core, and a frames .npz is dominated by deflating its one big array.
// The input is cut into fixed-size chunks; each chunk is compressed on its own, primed with the 32 KiB
// before it (so matches still reach back across the cut, and the ratio is that of one writer), and ended
// with a sync flush, which closes its last block on a byte boundary. The chunks' outputs written in order,
// then one empty final block, are one valid stream, which any inflater reads as if one writer had made it.
//
// The bytes depend only on the input, the level and the chunk size: never on the number of cores, on how
// the input was split into Write calls, or on scheduling.
package pdeflate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/klauspost/compress/flate"

	"github.com/evtool/evtool/internal/parallel"
)

// window is how far back a DEFLATE match may reach, and so what of the previous chunk primes the next.
const window = 32 << 10

// DefaultChunk is the chunk size: large enough that the per-chunk costs (a sync marker, a primed window,
// a goroutine hand-off) are noise, small enough that a few-MB array still spreads over the cores.
const DefaultChunk = 1 << 20

// Writer compresses what is written to it into out. It is not safe for concurrent use.
type Writer struct {
	out     io.Writer
	level   int
	chunk   int
	workers int
	cur     *job                    // the chunk being filled
	tail    []byte                  // the last window of input before cur, its dictionary
	chunks  *parallel.InOrder[*job] // chunks being compressed, written in stream order
	free    []*job                  // written chunks, whose buffers take later ones
	coders  chan *flate.Writer
	made    int
	err     error // the first write error; sticks
	closed  bool
}

// job is one chunk: its input, the dictionary that precedes it, and its compressed bytes.
type job struct {
	in, dict []byte
	out      bytes.Buffer
}

// NewWriter returns a Writer at a compress/flate level (1–9) with chunks of chunk bytes (DefaultChunk
// when ≤ 0), using up to GOMAXPROCS goroutines.
func NewWriter(out io.Writer, level, chunk int) (*Writer, error) {
	return newWriter(out, level, chunk, runtime.GOMAXPROCS(0))
}

func newWriter(out io.Writer, level, chunk, workers int) (*Writer, error) {
	if level < flate.BestSpeed || level > flate.BestCompression {
		return nil, fmt.Errorf("deflate level %d: want %d to %d", level, flate.BestSpeed, flate.BestCompression)
	}
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	w := &Writer{out: out, level: level, chunk: chunk, workers: workers, coders: make(chan *flate.Writer, workers)}
	// One chunk per core being compressed, and one more done, waiting to be written.
	w.chunks = parallel.NewInOrder(workers+1, w.write)
	return w, nil
}

// Write takes p for compression; a full chunk is handed to a core, and the oldest chunks are written
// once more than one per core are in flight.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("pdeflate: write after Close")
	}
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	for len(p) > 0 {
		if w.cur == nil {
			w.cur = w.newJob()
		}
		k := min(len(p), w.chunk-len(w.cur.in))
		w.cur.in = append(w.cur.in, p[:k]...)
		p = p[k:]
		if len(w.cur.in) == w.chunk {
			if err := w.dispatch(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// Close compresses what is left, writes every chunk and the final block. It does not close out.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil && w.cur != nil && len(w.cur.in) > 0 {
		w.err = w.dispatch()
	}
	if err := w.chunks.Finish(); err != nil && w.err == nil {
		w.err = err
	}
	if w.err != nil {
		return w.err
	}
	_, w.err = w.out.Write(finalBlock)
	return w.err
}

// finalBlock ends the stream: an empty stored block with the final bit set (BFINAL=1, BTYPE=00, then,
// byte-aligned, LEN=0 and NLEN=0xFFFF).
var finalBlock = []byte{0x01, 0x00, 0x00, 0xff, 0xff}

func (w *Writer) newJob() *job {
	if n := len(w.free); n > 0 {
		j := w.free[n-1]
		w.free = w.free[:n-1]
		j.in, j.dict = j.in[:0], j.dict[:0]
		j.out.Reset()
		return j
	}
	return &job{in: make([]byte, 0, w.chunk)}
}

// dispatch hands the filled chunk to a core (or compresses it here on one core) and keeps its last
// window as the next chunk's dictionary.
func (w *Writer) dispatch() error {
	j := w.cur
	w.cur = nil
	j.dict = append(j.dict, w.tail...)
	w.tail = append(w.tail[:0], j.in[max(0, len(j.in)-window):]...)
	if err := w.chunks.Room(); err != nil {
		return err
	}
	fw := w.coder()
	w.chunks.Go(j, func() {
		compress(fw, j)
		w.coders <- fw
	})
	return nil
}

// compress deflates j.in after j.dict into j.out, ending with a sync flush.
func compress(fw *flate.Writer, j *job) {
	fw.ResetDict(&j.out, j.dict)
	// Writes and flushes into a bytes.Buffer cannot fail.
	fw.Write(j.in)
	fw.Flush()
}

// coder returns an idle deflate writer, making one while there are fewer than the workers.
func (w *Writer) coder() *flate.Writer {
	select {
	case fw := <-w.coders:
		return fw
	default:
	}
	if w.made < w.workers {
		w.made++
		fw, _ := flate.NewWriter(nil, w.level) // the level was checked by NewWriter
		return fw
	}
	return <-w.coders
}

// write writes a compressed chunk's bytes, in stream order.
func (w *Writer) write(j *job) error {
	w.free = append(w.free, j)
	if w.err != nil {
		return w.err
	}
	if _, err := w.out.Write(j.out.Bytes()); err != nil {
		w.err = err
	}
	return w.err
}
