package shards

import (
	"bytes"
	"strings"
	"testing"
)

const validManifest = `{
  "evtool_shards": 1,
  "kind": "dataset",
  "format": "arrow",
  "classes": ["a", "b"],
  "sensor": {"width": 34, "height": 34},
  "samples": 5,
  "events": 70,
  "label_counts": [2, 2],
  "unlabelled": 1,
  "shards": [
    {"file": "label=0/part-00000.arrow", "samples": 2, "events": 30, "bytes": 100, "label_counts": [2, 0],
     "sha256": "0000000000000000000000000000000000000000000000000000000000000000", "rows": [[0, 1], [3, 1]]},
    {"file": "label=1/part-00001.arrow", "samples": 3, "events": 40, "bytes": 100, "label_counts": [0, 2], "unlabelled": 1,
     "sha256": "1111111111111111111111111111111111111111111111111111111111111111", "rows": [[1, 2], [4, 1]]}
  ]
}`

// Broken manifests are refused with a message that says what is wrong, never a panic.
func TestManifestChecks(t *testing.T) {
	if _, err := ReadManifest(strings.NewReader(validManifest), "m.json"); err != nil {
		t.Fatalf("the valid manifest: %v", err)
	}
	for _, c := range []struct{ old, new, want string }{
		{`"evtool_shards": 1`, `"evtool_shards": 2`, "manifest version 2"},
		{`"kind": "dataset"`, `"kind": "recording"`, `kind "recording"`},
		{`"format": "arrow"`, `"format": ""`, "no shard format"},
		{`"samples": 5`, `"samples": 6`, "the totals say 6"},
		{`"label_counts": [2, 2]`, `"label_counts": [2, 1]`, "do not add up"},
		{`"label_counts": [2, 2]`, `"label_counts": [2, 2, 0]`, "3 label counts for 2 classes"},
		{`[[1, 2], [4, 1]]`, `[[0, 2], [4, 1]]`, "row 0 belongs to two shards"},
		{`[[1, 2], [4, 1]]`, `[[1, 1], [4, 2]]`, "rows 2..2 belong to no shard"},
		{`[[1, 2], [4, 1]]`, `[[1, 2]]`, "its rows list 2 samples, not 3"},
		{`[[1, 2], [4, 1]]`, `[[1, 2], [4, 0]]`, "row run"},
		{`"label=1/part-00001.arrow"`, `"/etc/passwd"`, "want a relative path"},
		{`"label=1/part-00001.arrow"`, `"label=1/../x.arrow"`, "not a clean path"},
		{`"label=1/part-00001.arrow"`, `"label=0/part-00000.arrow"`, "listed twice"},
		{`"label=1/part-00001.arrow"`, `""`, "no file name"},
		{`"1111111111111111111111111111111111111111111111111111111111111111"`, `"x"`, "not 64 lower-case hex digits"},
		{`"bytes": 100, "label_counts": [0, 2]`, `"bytes": -1, "label_counts": [0, 2]`, "negative counts"},
		{`"sensor": {"width": 34, "height": 34}`, `"sensor": {"width": 70000, "height": 34}`, "outside 0..65536"},
		{`"samples": 5,`, `"samples": 5, "partition": ["split"],`, "partitioned by label only"},
		{`"samples": 5,`, `"samples": 5, "part": {"index": 4, "count": 4},`, "part 4 of 4"},
		{`"samples": 5,`, `"samples": 5, "what": 1,`, "unknown field"},
		{`"samples": 5,`, `"samples": 5, "box_classes": ["car"],`, "box classes [\"car\"] but no boxes"},
		{`"samples": 5,`, `"samples": "5",`, "at byte"},
	} {
		text := strings.Replace(validManifest, c.old, c.new, 1)
		if text == validManifest {
			t.Fatalf("%q is not in the manifest", c.old)
		}
		_, err := ReadManifest(strings.NewReader(text), "m.json")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "m.json: ") {
			t.Errorf("%s → %s: %v; want an error naming m.json and saying %q", c.old, c.new, err, c.want)
		}
	}
	// A manifest with boxes reads, and a manifest without them (as written before boxes were kept) reads
	// as a dataset without boxes.
	boxed := strings.Replace(validManifest, `"samples": 5,`, `"boxes": true, "box_classes": ["car", "pedestrian"], "samples": 5,`, 1)
	if m, err := ReadManifest(strings.NewReader(boxed), "m.json"); err != nil || !m.Meta().Boxes || len(m.Meta().BoxClasses) != 2 {
		t.Fatalf("a manifest with boxes: %v", err)
	}
	if m, _ := ReadManifest(strings.NewReader(validManifest), "m.json"); m.Meta().Boxes || m.BoxClasses != nil {
		t.Fatal("a manifest without boxes reads as one with boxes")
	}
	for _, notOurs := range []string{"", "[]", `{"a": 1}`, "PAR1", `{ "evtool_shards" `} {
		if _, err := ReadManifest(strings.NewReader(notOurs), "m.json"); err == nil {
			t.Errorf("%q read as a manifest", notOurs)
		}
	}
}

func TestDetect(t *testing.T) {
	for head, want := range map[string]bool{validManifest: true, " \n{\n\t\"evtool_shards\": 1": true, `{"classes": []}`: false,
		"ARROW1": false, "": false} {
		if isManifest([]byte(head)) != want {
			t.Errorf("isManifest(%.20q) = %v", head, !want)
		}
	}
}

// The writer's manifest encodes to the same bytes every time and reads back as it was.
func TestManifestEncode(t *testing.T) {
	m, err := ReadManifest(strings.NewReader(validManifest), "m.json")
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := m.Encode()
	m2, err := ReadManifest(bytes.NewReader(b1), "again.json")
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := m2.Encode()
	if !bytes.Equal(b1, b2) {
		t.Fatalf("encode → read → encode changed the bytes:\n%s\n%s", b1, b2)
	}
}

func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(validManifest))
	f.Add([]byte(`{"evtool_shards": 1, "kind": "dataset", "format": "parquet", "classes": [], "samples": 0, "events": 0, "label_counts": [], "shards": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadManifest(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			return
		}
		// A manifest that passes the checks maps every index to a shard row.
		r, err := newReader(m, "fuzz.json", defaultOptions)
		if err != nil {
			return
		}
		var total int64
		for _, run := range r.runs {
			if run.first != total {
				t.Fatalf("runs do not tile the indices at %d", total)
			}
			total += run.count
		}
		if total != int64(m.Samples) {
			t.Fatalf("runs cover %d of %d samples", total, m.Samples)
		}
	})
}

func TestInterleaved(t *testing.T) {
	m := &Manifest{Shards: []Shard{
		{Rows: []Run{{0, 2}, {6, 1}}}, // rows 0..6
		{Rows: []Run{{2, 2}}},         // 2..3
		{Rows: []Run{{4, 2}, {7, 3}}}, // 4..9
	}}
	if n := interleaved(m); n != 2 {
		t.Fatalf("interleaved = %d, want 2", n)
	}
	m.Shards[1].Rows = []Run{{2, 2}, {10, 1}}
	if n := interleaved(m); n != 3 {
		t.Fatalf("interleaved = %d, want 3", n)
	}
}
