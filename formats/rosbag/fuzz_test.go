package rosbag

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// fuzzSeeds are small bags of every kind the reader takes: each compression, both message types, IMU and
// image topics, connection records in chunks, two event topics.
func fuzzSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for i, rc := range []recording{
		{compression: "none", width: 8, height: 6, messages: 3, perMessage: 4, perChunk: 2, imu: true, seed: 11},
		{compression: "bz2", width: 8, height: 6, messages: 2, perMessage: 3, perChunk: 2, imu: true, image: true, seed: 12},
		{compression: "lz4", prophesee: true, width: 12, height: 8, messages: 3, perMessage: 3, perChunk: 2, seed: 13},
		{compression: "none", width: 4, height: 4, messages: 2, perMessage: 2, connInChunk: true, secondEvents: true, seed: 14},
	} {
		seeds[fmt.Sprintf("seed-%d-%s", i, rc.compression)] = rc.generate(t).bag
	}
	return seeds
}

// FuzzDecode: no input panics, hangs or allocates beyond what its bytes back; a fault is a DecodeError
// inside the input (or a TopicError listing the topics); what decodes is a valid event stream (time never goes back, events inside the sensor).
// The seed corpus is testdata/fuzz/FuzzDecode, kept in step with the generator by TestSeeds (rewrite it
// with EVTOOL_WRITE_SEEDS=1 go test -run Seeds).
// Run it with a short -fuzzminimizetime (the seeds are ~10 KB, and minimising each new input for the
// default 60 s leaves little time to fuzz): go test -fuzz FuzzDecode -fuzzminimizetime 2s ./formats/rosbag
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, right bool) {
		o := formats.Options{}
		if right {
			o = params("topic", "/right/events")
		}
		// Go's fuzzer has no per-input time limit: a hang would stall it silently, so make it a crash.
		hang := time.AfterFunc(10*time.Second, func() { panic("one input took more than 10 s to decode") })
		defer hang.Stop()
		var got events.Batch
		r, err := NewReaderAt(bytesReader(data), int64(len(data)), "fuzz.bag", o)
		if err == nil {
			buf := events.NewBatch(7)
			for err == nil {
				if err = r.Read(buf); err == nil && buf.Len() == 0 {
					t.Fatal("Read returned no events and no error")
				}
				got.AppendBatch(buf)
			}
			if err.Error() == "EOF" {
				err = nil
			}
			if i := got.CheckMonotonic(); i >= 0 {
				t.Fatalf("event %d goes back in time", i)
			}
			if verr := got.Validate(r.Meta().Geometry); verr != nil {
				t.Fatal(verr)
			}
		}
		var te *TopicError
		if err != nil && !errors.As(err, &te) {
			var de *events.DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > int64(len(data)) {
				t.Fatalf("error %v is not a DecodeError inside the %d-byte input", err, len(data))
			}
		}
	})
}

// TestSeeds keeps the committed seed corpus in step with the generator: every seed decodes cleanly.
func TestSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	seeds := fuzzSeeds(t)
	if os.Getenv("EVTOOL_WRITE_SEEDS") == "1" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbool(false)\n", b)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, b := range seeds {
		o := formats.Options{}
		if name == "seed-3-none" { // two event topics
			o = params("topic", "/dvs/events")
		}
		var got events.Batch
		if _, err := Decode(b, name, o, &got); err != nil || got.Len() == 0 {
			t.Fatalf("%s: %d events, %v", name, got.Len(), err)
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("seed %s is not in %s: %v", name, dir, err)
		}
	}
}
