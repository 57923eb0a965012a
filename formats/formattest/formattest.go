// Package formattest is the conformance kit of evtool's file formats, in the style of testing/iotest and
// testing/fstest: Run checks that a registered format keeps the promises every format makes, so a
// guarantee is written once here instead of once per format package. formats/all's TestEveryFormat runs
// it on every registered format: registering a format puts it under test.
//
// For each format Run checks, on content made by the format's writer (or its Conformance.Encode for a
// format evtool only reads):
//
//   - identity: write → read gives the same content, for empty, one-event and random content, for the
//     format's Conformance.Extremes (coordinate and timestamp edges), through a file and through a stream;
//   - batch sizes: the same events whether the caller asks for 1, 7 or 4096 per Read;
//   - hostile sources: iotest.OneByteReader (a tiny window: every record straddles refills),
//     iotest.DataErrReader, short reads, a failing source (the good events, then a *events.DecodeError
//     wrapping the cause) and a stalling source that returns (0, nil) forever (an error, never a hang);
//     formats that need random access (Arrow, Parquet) get the io.ReaderAt equivalents;
//   - truncation: cut at every byte (sampled for long files), a reader returns a prefix of the content,
//     then io.EOF or a *events.DecodeError wrapping events.ErrTruncated at an offset inside the cut file;
//     no complete record before the cut is lost (checked where the format only appends records, which
//     the kit finds out by writing prefixes), and dropping the last byte is never silent;
//   - Abort leaves nothing behind, not even a temporary file, also after a refused write;
//   - bounded output: given timestamps it cannot store compactly (10^15 µs absolute, gaps of 1000 s), a
//     writer refuses with an error wrapping formats.ErrTimeRange, or writes at most a small constant per
//     event (MaxFixedBytes + MaxBytesPerEvent·n);
//   - allocations: reading a 100,000-event file allocates (almost) no more than reading a 1,000-event one;
//   - detection: formats.DetectBytes recognises the format's own output (by magic, or by extension).
//
// A format kept as a folder of other formats' files (Format.Index: sharded datasets) gets the checks that
// apply to a folder — write → open identity, Abort, bounded output — while its files, Arrow or Parquet,
// get the byte-level checks as those formats.
//
// The kit works on any kind of content through Codec: EventCodec and DatasetCodec make one from a registry
// entry. To put another kind of file under the kit — the tensor formats (.npy, .npz, Arrow tensors) —
// write a Codec for it: Generate valid content, Create a writer, Read a file back, compare with Diff; then
// call RunCodec. Every check above except the event-specific bounds then applies unchanged.
package formattest

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/tensors"
)

// Bounds on what a writer may write: at most MaxFixedBytes plus MaxBytesPerEvent per event (or per
// sample of a dataset), whatever the events' timestamps.
const (
	MaxFixedBytes    = 2 << 20
	MaxBytesPerEvent = 64
)

// Writer is a format's writer as the kit drives it.
type Writer[C any] interface {
	Write(c C) error
	Close() error
	Abort()
}

// Codec is the kit's view of one kind of file: how to make valid ones and read them back as content of
// type C. EventCodec and DatasetCodec build one from a registry entry; another kind of data joins the kit
// by giving its own Codec to RunCodec.
type Codec[C any] struct {
	// Format is the registry entry: Name, Extensions, Detect and RandomAccess are used.
	Format *formats.Format
	// Generate returns valid content of n units (events, samples, tensors) drawn from rng.
	Generate func(rng *rand.Rand, n int) C
	// Extremes is content at the edges of what the format stores; its Units is 0 when there is none.
	Extremes C
	// Oversized is content a writer cannot store compactly: it must refuse it (an error wrapping
	// formats.ErrTimeRange) or store it within the bound. Empty for read-only formats.
	Oversized []C
	// Create starts a writer of the format at path (nil for a read-only format).
	Create func(path string) (Writer[C], error)
	// Encode returns a file holding c, for a read-only format (nil when Create is set).
	Encode func(c C) ([]byte, error)
	// Files are valid files relative to the fixture folder (real recordings, for a read-only format
	// without Encode or besides it): the reference content is what the reader reads from them intact,
	// and the checks that need no writer (batch sizes, hostile sources, truncation, detection) run on
	// them too.
	Files []string
	// Read reads a file from r (name is its name in errors), asking for chunk units per call. It returns
	// the content before the first fault and the fault: nil at a clean end. A broken reader contract is
	// returned as a *ContractError.
	Read func(r io.Reader, name string, chunk int) (C, error)
	// Drain reads a whole file from r and discards it, for the allocation check (nil skips that check).
	Drain func(r io.Reader, name string) error
	// Units counts the events (or samples, tensors) of c.
	Units func(c C) int
	// Prefix returns c's first n units (nil skips the record-boundary part of the truncation check).
	Prefix func(c C, n int) C
	// Diff describes how got departs from the first Units(got) units of want, or returns "" when got is
	// such a prefix.
	Diff func(got, want C) string
	// MinUnits is the least content the format stores (1 for formats that cannot hold nothing).
	MinUnits int
	// Framed says that a file states its length (a count, a footer): every cut must then be reported.
	Framed bool
	// LibraryAllocs are the allocations per 1,000 units that a library the reader builds on makes and
	// evtool cannot avoid (Conformance.LibraryAllocs): the allocation check allows them on top of its
	// slack of 8 plus 2 % of the short file's allocations.
	LibraryAllocs float64
}

// ContractError is a reader that broke the events.Reader contract (more events than asked for, events
// returned with an error, no io.EOF after a fault).
type ContractError struct{ Msg string }

func (e *ContractError) Error() string { return "reader contract broken: " + e.Msg }

// Run checks a registered format: its event content, its dataset content when it writes datasets that
// read back as datasets, and its tensors when it holds tensors.
func Run(t *testing.T, f *formats.Format) {
	t.Helper()
	if f.Tensors != nil {
		for _, dtype := range []tensors.DType{tensors.Uint16, tensors.Float32} {
			t.Run("tensors-"+string(dtype), func(t *testing.T) { RunCodec(t, TensorCodec(f, dtype)) })
		}
		t.Run("tensors-stored", func(t *testing.T) { StoredTypes(t, f) })
	}
	switch {
	case f.Index != "":
		t.Run("folder", func(t *testing.T) { runFolder(t, f) })
		return
	case f.NewReader == nil && f.Create == nil:
		if f.Tensors == nil {
			t.Fatalf("format %s can neither be read nor written", f.Name)
		}
		return // a format of tensors only
	case f.NewReader == nil:
		t.Run("write-only", func(t *testing.T) { RunCodec(t, EventCodec(f)) })
		return
	}
	RunCodec(t, EventCodec(f))
	if f.DatasetCreate {
		t.Run("dataset", func(t *testing.T) {
			c := DatasetCodec(f)
			if !writesOneFile(t, f) {
				c.Read = nil // a folder of per-sample files: each is a recording, read as such above
			}
			RunCodec(t, c)
		})
	}
}

// RunCodec runs every check on one codec.
func RunCodec[C any](t *testing.T, c Codec[C]) {
	t.Helper()
	generated := c.Create != nil || c.Encode != nil
	if !generated && len(c.Files) == 0 {
		t.Fatalf("format %s has no writer, no Conformance.Encode and no Conformance.Files: the kit has no content for it", c.Format.Name)
	}
	k := &kit[C]{Codec: c}
	if c.Read != nil {
		if generated {
			t.Run("identity", k.identity)
		}
		t.Run("batch-sizes", k.batchSizes)
		t.Run("hostile-sources", k.hostileSources)
		t.Run("truncation", k.truncation)
		if c.Drain != nil && generated {
			t.Run("allocations", k.allocations)
		}
		t.Run("detect", k.detect)
	}
	if c.Create != nil {
		t.Run("abort", k.abort)
		t.Run("bounded-output", k.bounded)
	}
}

// kit carries a codec through the checks.
type kit[C any] struct {
	Codec[C]
}

func (k *kit[C]) ext() string { return extension(k.Format) }

// extension is the format's first extension, or ".dat" for a format without one (sharded datasets).
func extension(f *formats.Format) string {
	if len(f.Extensions) > 0 {
		return f.Extensions[0]
	}
	return ".dat"
}

// describe names content for failure messages.
func (k *kit[C]) describe(c C) string { return fmt.Sprintf("%d units", k.Units(c)) }
