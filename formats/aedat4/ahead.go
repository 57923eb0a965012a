package aedat4

import (
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/evtool/evtool/internal/flatbuf"
)

// Every AEDAT 4 packet is compressed on its own, so a long file's packets are decompressed on other
// goroutines: the reader reads a few packets ahead of the one it hands out (copying their bytes out of
// the input window), goroutines decompress them and check their FlatBuffer (decodePacket), and the
// reader takes them in file order and decodes what they hold (apply) — so events, frames, IMU samples,
// triggers, counts, notices and errors come out exactly as when each packet is decoded in line, and
// everything that depends on earlier packets (a time clamped to the last one given, SeekTime's cut, the
// Read a frame belongs to, a notice and its error) stays on the reader's goroutine. Decompression is
// most of the work (zstd: about 6 of the 7 CPU seconds of reading a 1.3 GB file); the events are decoded
// where they are handed out, so the columns never cross cores before the caller's copy.
//
// Packets go to the goroutines in groups of consecutive packets (up to groupPackets, or groupBytes of
// packet bytes), and a goroutine hands a whole group back at once: the goroutines wake one another once
// per group, not once per packet.
//
// A file shorter than aheadBytes never starts the goroutines. The goroutines end with the stream (its
// end, a fault, an error), at SeekTime and at Close. Groups handed over are at most workers+1, plus the
// one being taken: packets in flight at most (maxWorkers+2)·groupPackets, each of them bounded as in line.

// aheadBytes is how long a file must be for its packets to be decoded ahead: a file with fewer bytes of
// packets left, or a stream until it has given that many, is decoded in line. Decoding ahead costs CPU
// (the hand-overs, the packets' bytes copied out of the window, the payloads crossing cores: about 20 %
// more CPU per event on the 18 MB LZ4 file of BenchmarkReadLZ4Ahead, 66 % more on the 1 MB DVXplorer
// fixture of small packets) that only a long file pays back in time (the 1.3 GB zstd file: about 2 %
// more). A variable so that tests can send every packet ahead.
var aheadBytes int64 = 32 << 20

const (
	maxWorkers    = 4        // decoding goroutines at most (fewer with fewer cores)
	groupPackets  = 32       // packets handed to a goroutine at once, at most
	groupBytes    = 64 << 10 // packet bytes after which a group is handed over before it has groupPackets
	maxKeptBuffer = 4 << 20  // a job's buffer larger than this is let go once used
)

// packetJob is one packet: read, decompressed (on another goroutine or in line), then applied.
type packetJob struct {
	id    int32
	start int64   // file offset of its header
	st    *Stream // nil: a stream the header does not declare (counted, not decoded)
	err   error   // io.EOF, or a fault of the file met here: no packet, the stream's end

	raw []byte // the packet's bytes (owned by the job when read ahead)

	// The first packet of a group leads it: the group is handed to a goroutine through it, and done
	// is signalled once all of the group is decoded.
	lead  bool
	group []*packetJob
	done  chan struct{} // made once per job

	// What decodePacket found.
	payload []byte        // decompressed (reused by the job's next packet)
	root    flatbuf.Table // the packet's FlatBuffer, when why is empty
	why     string        // non-empty: the packet is damaged (why)
}

// ahead is the reader's state of the packets read ahead.
type ahead struct {
	jobs   []*packetJob // read and handed to the goroutines, in file order; the first is taken next
	spare  []*packetJob
	work   chan *packetJob // the groups' leads, to the decoding goroutines; nil while none runs
	wg     sync.WaitGroup
	groups int       // groups handed over whose lead is not taken yet
	depth  int       // groups in flight at most
	ended  bool      // the last packet read ended the stream (io.EOF or a fault)
	one    packetJob // the packet decoded in line while no goroutine runs
	inline int64     // packet bytes decoded in line since the start or the last seek
	closed bool      // Close ran: the goroutines are not started again
}

// nextPacket takes the next packet in file order and applies it. io.EOF ends the stream.
func (r *Reader) nextPacket() error {
	a := &r.ahead
	if a.work == nil {
		if !r.long() || a.closed || runtime.GOMAXPROCS(0) < 2 {
			return r.nextInline()
		}
		r.startAhead()
	}
	r.readAhead()
	j := a.jobs[0]
	copy(a.jobs, a.jobs[1:]) // kept at the front: appending never reallocates
	a.jobs = a.jobs[:len(a.jobs)-1]
	defer a.recycle(j)
	if j.lead {
		<-j.done // the whole group is decoded
		a.groups--
	}
	if j.err != nil {
		return j.err // the last packet read: Read stops the goroutines
	}
	return r.apply(j)
}

// long reports whether aheadBytes of packets are left in the file, or have been read in line from a
// stream of unknown length.
func (r *Reader) long() bool {
	left := r.remaining()
	if r.dataTable >= 0 {
		left = r.dataTable - r.in.Offset()
	}
	return left >= aheadBytes || (left < 0 && r.ahead.inline >= aheadBytes)
}

// nextInline reads, decodes and applies the next packet on the calling goroutine.
func (r *Reader) nextInline() error {
	id, packet, start, err := r.readPacket()
	if err != nil {
		return err
	}
	r.ahead.inline += int64(len(packet))
	j := &r.ahead.one
	j.id, j.start, j.st = id, start, r.streams[id]
	if j.st != nil {
		j.raw = packet // valid until the next read from the input, after apply
		r.decodePacket(j, &r.zd)
		j.raw = nil
	}
	return r.apply(j)
}

// startAhead starts the decoding goroutines.
func (r *Reader) startAhead() {
	a := &r.ahead
	n := min(runtime.GOMAXPROCS(0), maxWorkers)
	a.depth = n + 1
	a.work = make(chan *packetJob, a.depth) // never full: a send does not wait
	a.wg.Add(n)
	for range n {
		go r.decodeLoop(a.work)
	}
}

// decodeLoop decodes the packets handed to it until the channel closes.
func (r *Reader) decodeLoop(work <-chan *packetJob) {
	defer r.ahead.wg.Done()
	var zd *zstd.Decoder // this goroutine's
	defer func() {
		if zd != nil {
			zd.Close()
		}
	}()
	for lead := range work {
		for _, j := range lead.group {
			if j.st != nil && j.err == nil {
				r.decodePacket(j, &zd)
			}
		}
		lead.done <- struct{}{}
	}
}

// readAhead reads groups of packets and hands them to the goroutines until depth groups are in flight
// or the stream has ended (a packet read with err).
func (r *Reader) readAhead() {
	a := &r.ahead
	for a.groups < a.depth && !a.ended {
		var lead *packetJob
		for size := 0; len(lead.groupOf()) < groupPackets && size < groupBytes; {
			id, packet, start, err := r.readPacket()
			j := a.job()
			j.id, j.start, j.err, j.st = id, start, err, nil
			a.jobs = append(a.jobs, j)
			if lead == nil {
				lead = j
				j.lead, j.group = true, j.group[:0]
			}
			lead.group = append(lead.group, j)
			if err != nil {
				a.ended = true
				break
			}
			if j.st = r.streams[id]; j.st != nil {
				j.raw = append(j.raw[:0], packet...)
				size += len(packet)
			}
		}
		a.groups++
		a.work <- lead
	}
}

// groupOf is the group j leads (none for a nil job).
func (j *packetJob) groupOf() []*packetJob {
	if j == nil {
		return nil
	}
	return j.group
}

func (a *ahead) job() *packetJob {
	if n := len(a.spare); n > 0 {
		j := a.spare[n-1]
		a.spare = a.spare[:n-1]
		return j
	}
	return &packetJob{done: make(chan struct{}, 1)}
}

// recycle keeps a taken job for a later packet; an unusually large buffer is let go.
func (a *ahead) recycle(j *packetJob) {
	j.err, j.root, j.lead = nil, flatbuf.Table{}, false
	clear(j.group)
	j.group = j.group[:0]
	if cap(j.raw) > maxKeptBuffer {
		j.raw = nil
	}
	if cap(j.payload) > maxKeptBuffer {
		j.payload = nil
	}
	a.spare = append(a.spare, j)
}

// stopAhead waits for the packets in flight, forgets them and ends the goroutines (at the end of the
// stream, at SeekTime and Close). The reader decodes in line again afterwards.
func (r *Reader) stopAhead() {
	a := &r.ahead
	for _, j := range a.jobs {
		if j.lead {
			<-j.done
		}
	}
	for _, j := range a.jobs {
		a.recycle(j)
	}
	a.jobs, a.groups, a.ended = a.jobs[:0], 0, false
	if a.work != nil {
		close(a.work)
		a.work = nil
		a.wg.Wait()
	}
	a.inline = 0
}
