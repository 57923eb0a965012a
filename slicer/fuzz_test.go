package slicer

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadIntervals: any file gives sorted, valid intervals or an error, never a panic.
func FuzzReadIntervals(f *testing.F) {
	f.Add([]byte("class,startTime_usec,endTime_usec\n1,53036986,59508469\n2,64889467,73697045\n"), true)
	f.Add([]byte("0,10\n5,20\n"), false)
	f.Add([]byte("a,b\n1,2,3\n\"x\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, labelled bool) {
		path := filepath.Join(t.TempDir(), "l.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ivs, err := ReadIntervals(path, labelled)
		if err != nil {
			return
		}
		if _, err := New(Spec{Intervals: ivs}); err != nil {
			t.Fatalf("intervals read without error are refused by New: %v", err)
		}
	})
}
