package aedat

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// fuzzCheck decodes data twice (64 KiB buffer and 64 Ki-event batches; 7-byte buffer and 3-event
// batches) and checks that both agree and that the output obeys the invariants of docs/architecture.md#contracts: non-decreasing
// times, coordinates inside the sensor, polarity 0/1, at most one event per 6 input bytes, faults
// located inside the input.
func fuzzCheck(t *testing.T, data []byte, o formats.Options) {
	big, err1 := decodeAll(t, data, o, 1<<16, 1<<16)
	small, err2 := decodeAll(t, data, o, 7, 3)
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("open: %v vs %v", err1, err2)
	}
	if err1 != nil {
		return
	}
	if d := big.ev.FirstDifference(small.ev); d >= 0 {
		t.Fatalf("buffer sizes disagree at event %d", d)
	}
	if fmt.Sprint(big.trig) != fmt.Sprint(small.trig) || fmt.Sprint(big.err) != fmt.Sprint(small.err) {
		t.Fatalf("buffer sizes disagree: %v / %v", big.err, small.err)
	}
	if big.ev.Len() > len(data)/6 {
		t.Fatalf("%d events from %d bytes", big.ev.Len(), len(data))
	}
	if i := big.ev.CheckMonotonic(); i >= 0 {
		t.Fatalf("event %d goes back in time", i)
	}
	if err := big.ev.Validate(big.meta.Geometry); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(big.trig); i++ {
		if big.trig[i].T < big.trig[i-1].T {
			t.Fatalf("trigger %d goes back in time", i)
		}
	}
	var de *events.DecodeError
	if big.err != nil && (!errors.As(big.err, &de) || de.Offset < 0 || de.Offset > int64(len(data))) {
		t.Fatalf("fault %v is not a decode error inside the input", big.err)
	}
}

var fuzzChips = []string{"", "dvs128", "davis240", "davis346", "davis640"}

// FuzzAEDAT2 fuzzes the AEDAT 2.0 header parser and record decoder (every layout).
func FuzzAEDAT2(f *testing.F) {
	for _, s := range seeds2() {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, chip uint8) {
		data := append([]byte("#!AER-DAT2.0\r\n"), body...)
		fuzzCheck(t, data, opts(ParamChip, fuzzChips[int(chip)%len(fuzzChips)]))
	})
}

// FuzzAEDAT3 fuzzes the AEDAT 3.x header parser and packet walker (3.1, or 3.0 with its y flip).
func FuzzAEDAT3(f *testing.F) {
	for _, s := range seeds3() {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, body []byte, v30 bool) {
		magic := "#!AER-DAT3.1\r\n"
		if v30 {
			magic = "#!AER-DAT3.0\r\n"
		}
		fuzzCheck(t, append([]byte(magic), body...), formats.Options{})
	})
}

// FuzzAEDAT1 fuzzes AEDAT 1.0 (optional header, 6-byte records) and the version dispatch.
func FuzzAEDAT1(f *testing.F) {
	for _, s := range seeds1() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, data, formats.Options{})
	})
}

// Seeds: the hand-built files of the tests, without the version line the fuzz targets add.
func seeds2() [][]byte {
	strip := func(b []byte) []byte { return b[len("#!AER-DAT2.0\r\n"):] }
	davis := be32([]byte("#!AER-DAT2.0\r\n# AEChip: eu.seebetter.ini.chips.davis.Davis346red\r\n#End of Preferences for this AEChip\r\n"),
		0x23000800, 10, 0x80000C00, 11, 1<<10|3, 12, 1<<22|1<<12, 0xFFFFFFF0, 0, 5)
	return [][]byte{strip(handBuiltDVS128()), strip(davis), strip(davis[:len(davis)-3]), {}}
}

func seeds3() [][]byte {
	full := handBuilt31()[len("#!AER-DAT3.1\r\n"):]
	return [][]byte{full, full[:len(full)-5], []byte("#Source 0: DVS128\n#!END-HEADER\n")}
}

func seeds1() [][]byte {
	return [][]byte{{0x23, 0x08, 0, 0, 0, 5, 0x80, 1, 0, 0, 0, 6}, []byte("# hdr\r\n\x00\x01\x00\x00\x00\x07"), []byte("#!AER-DAT1.0\r\n")}
}

// TestWriteFuzzCorpus regenerates testdata/fuzz from the seeds when EVTOOL_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("EVTOOL_WRITE_CORPUS") != "1" {
		t.Skip("set EVTOOL_WRITE_CORPUS=1 to regenerate the committed fuzz seed corpus")
	}
	write := func(target string, i int, args ...any) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		text := "go test fuzz v1\n"
		for _, a := range args {
			if b, ok := a.([]byte); ok {
				text += fmt.Sprintf("[]byte(%q)\n", b)
			} else {
				text += fmt.Sprintf("%T(%v)\n", a, a)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range seeds2() {
		write("FuzzAEDAT2", i, s, uint8(i))
	}
	for i, s := range seeds3() {
		write("FuzzAEDAT3", i, s, i == 2)
	}
	for i, s := range seeds1() {
		write("FuzzAEDAT1", i, s)
	}
}
