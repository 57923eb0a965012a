package parquet

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/evtool/evtool/events"
)

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// decodeAll opens Parquet bytes and reads every event (recording) or sample (dataset), returning the
// first error. It is what the fuzz target drives.
func decodeAll(data []byte) (int, error) {
	pf, err := openReader(bytes.NewReader(data), nopCloser{}, "fuzz.parquet")
	if err != nil {
		return 0, err
	}
	if pf.meta.Kind == events.KindDataset {
		d, err := newDatasetReader(pf)
		if err != nil {
			return 0, err
		}
		defer d.Close()
		var s events.Sample
		n := 0
		for i := 0; i < d.NumSamples() && i < 1000; i++ {
			if err := d.ReadSample(i, &s); err != nil {
				return n, err
			}
			n += s.Events.Len()
		}
		return n, nil
	}
	r := &RecordingReader{pqFile: pf}
	defer r.Close()
	b := events.NewBatch(4096)
	n := 0
	for {
		err := r.Read(b)
		n += b.Len()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// FuzzOpen: no file makes the reader panic (arrow-go panics on some corrupt input; the reader recovers
// and reports an error naming the file).
func FuzzOpen(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decodeAll(data)
		var de *events.DecodeError
		if err != nil && !errors.As(err, &de) && !bytes.Contains([]byte(err.Error()), []byte("fuzz.parquet")) {
			t.Fatalf("error %q does not name the file", err)
		}
	})
}
