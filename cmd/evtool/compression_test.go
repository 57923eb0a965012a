package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/fixtures"
)

// TestCompressionComesFromTheFormat: --compression accepts exactly the codecs of the output format's
// registry entry, which `evtool formats` prints: each one writes a file that reads back with every event;
// a codec the format does not offer, or any codec for a format that does not compress, is a usage error
// naming what the format offers.
func TestCompressionComesFromTheFormat(t *testing.T) {
	const rel = "nmnist/Train/0/00002.bin"
	in := fixtures.Path(t, rel)
	want := fixtures.ExpectedEvents(t)[rel].N
	listing, _, code := run(t, "formats")
	if code != 0 {
		t.Fatal("evtool formats failed")
	}
	dir := t.TempDir()
	compressing := 0
	for _, f := range formats.All() {
		if f.Create == nil || len(f.Extensions) == 0 {
			continue // folder formats (shards) take their files' codecs: the shards tests check them
		}
		if len(f.Compressions) == 0 {
			_, stderr, code := run(t, "convert", in, "-o", filepath.Join(dir, "out"+f.Extensions[0]), "--to", f.Name, "--compression", "zstd")
			if code != 2 || !strings.Contains(stderr, "does not compress") {
				t.Errorf("%s --compression zstd: exit %d, %q; want a usage error", f.Name, code, stderr)
			}
			continue
		}
		compressing++
		line := "--compression: " + f.Compressions[0] + " (default), " + strings.Join(f.Compressions[1:], ", ")
		if !strings.Contains(listing, line) {
			t.Errorf("evtool formats does not show %s's codecs (%q)", f.Name, line)
		}
		for _, c := range f.Compressions {
			out := filepath.Join(dir, f.Name+"-"+c+f.Extensions[0])
			if _, stderr, code := run(t, "convert", in, "-o", out, "--compression", c); code != 0 {
				t.Errorf("%s --compression %s: exit %d: %s", f.Name, c, code, stderr)
				continue
			}
			info, _, code := run(t, "info", "--json", out)
			if r := parseInfo(t, info); code != 0 || r[0].Events != want || r[0].Format != f.Name {
				t.Errorf("%s --compression %s reads back as %+v; want %d events", f.Name, c, r, want)
			}
		}
		for _, other := range []string{"snappy", "gzip", "lz4", "zstd", "none", "brotli"} {
			if slices.Contains(f.Compressions, other) {
				continue
			}
			_, stderr, code := run(t, "convert", in, "-o", filepath.Join(dir, "bad"+f.Extensions[0]), "--compression", other)
			if code != 2 || !strings.Contains(stderr, formats.List(f.Compressions)) {
				t.Errorf("%s --compression %s: exit %d, %q; want a usage error listing %s", f.Name, other, code, stderr, formats.List(f.Compressions))
			}
			break
		}
	}
	if compressing < 3 {
		t.Fatalf("%d formats offer codecs; arrow, aedat4 and parquet should", compressing)
	}
}
