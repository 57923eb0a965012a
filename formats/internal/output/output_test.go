package output

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// failAfter accepts n bytes, then fails every write.
type failAfter struct{ n int }

var errDisk = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errDisk
	}
	f.n -= len(p)
	return len(p), nil
}

// The first write error sticks: later writes do nothing, Err and Close report it with the file name.
func TestWriteErrorSticks(t *testing.T) {
	o := New(&failAfter{n: 10}, "out.bin")
	big := make([]byte, bufferSize+100) // larger than the buffer: reaches the destination at once
	if _, err := o.Write(big); !errors.Is(err, errDisk) || !strings.Contains(err.Error(), "out.bin") {
		t.Fatalf("Write = %v", err)
	}
	if err := o.WriteByte(1); !errors.Is(err, errDisk) {
		t.Fatalf("WriteByte after a failure = %v", err)
	}
	if err := o.Close(nil); !errors.Is(err, errDisk) {
		t.Fatalf("Close = %v", err)
	}
	if err := o.Close(nil); !errors.Is(err, errDisk) {
		t.Fatalf("second Close = %v", err)
	}
}

// A failure while finishing removes the file; a successful Close moves it into place; Abort after Close
// changes nothing.
func TestCloseAndAbort(t *testing.T) {
	dir := t.TempDir()
	o, err := Create(filepath.Join(dir, "a.bin"))
	if err != nil {
		t.Fatal(err)
	}
	o.WriteString("abc")
	if err := o.Close(func() error { return errDisk }); !errors.Is(err, errDisk) {
		t.Fatalf("Close = %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("a failed Close left %v", ents)
	}
	path := filepath.Join(dir, "b.bin")
	o, _ = Create(path)
	o.WriteString("xyz!")
	if err := o.Close(func() error { return o.WriteAt([]byte("X"), 1) }); err != nil {
		t.Fatal(err)
	}
	o.Abort()
	if data, err := os.ReadFile(path); err != nil || string(data) != "xXz!" {
		t.Fatalf("file %q, %v", data, err)
	}
	o, _ = Create(filepath.Join(dir, "c.bin"))
	o.WriteString("gone")
	o.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("Abort left %v", ents)
	}
}

func TestFillerBudget(t *testing.T) {
	var b FillerBudget
	if !b.Take(FillerSlack, 0) || b.Take(1, 0) {
		t.Fatal("the slack is FillerSlack bytes")
	}
	if !b.Take(FillerPerEvent*10, 10) || b.Take(1, 10) {
		t.Fatal("each event adds FillerPerEvent bytes")
	}
	if b.Take(-1, 100) {
		t.Fatal("a negative request must be refused")
	}
}
