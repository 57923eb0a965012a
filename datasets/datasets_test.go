package datasets

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/internal/fixtures"
)

// zipTree packs the files under root (paths relative to base) into a zip archive.
func zipTree(t *testing.T, base, root string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		w, _ := zw.Create(filepath.ToSlash(rel))
		data, _ := os.ReadFile(p)
		w.Write(data)
		return nil
	})
	zw.Close()
	return buf.Bytes()
}

func tarGz(t *testing.T, files map[string][]byte) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, data := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write(data)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// server serves archives on 127.0.0.1 with Range support; the first request for a path listed in
// cutFirst is cut off half-way (a dropped connection).
type server struct {
	files    map[string][]byte
	cutFirst map[string]bool
	hits     map[string]*atomic.Int32
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data, ok := s.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	n := s.hits[r.URL.Path].Add(1)
	if n == 1 && s.cutFirst[r.URL.Path] && r.Header.Get("Range") == "" {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:len(data)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	http.ServeContent(w, r, "f", fixedTime, bytes.NewReader(data))
}

func newServer(t *testing.T, files map[string][]byte, cut ...string) (*httptest.Server, *server) {
	s := &server{files: files, cutFirst: map[string]bool{}, hits: map[string]*atomic.Int32{}}
	for p := range files {
		s.hits[p] = &atomic.Int32{}
	}
	for _, c := range cut {
		s.cutFirst[c] = true
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s)
	ts.Listener = l
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, s
}

// A fake N-MNIST download (zips made from the fixture tree, and an N-Caltech101 tar.gz): fetch
// succeeds, an interrupted transfer resumes with a Range request, and the files then prepare.
func TestFetchResumeAndPrepare(t *testing.T) {
	root := fixtures.Path(t, "nmnist")
	trainZip := zipTree(t, root, filepath.Join(root, "Train"))
	testZip := zipTree(t, root, filepath.Join(root, "Test"))
	cal, err := os.ReadFile(fixtures.Path(t, "ncaltech101/Faces_easy/image_0001.bin"))
	if err != nil {
		t.Fatal(err)
	}
	calTgz := tarGz(t, map[string][]byte{"Caltech101/Faces_easy/image_0001.bin": cal})
	ts, srv := newServer(t, map[string][]byte{"/train.zip": trainZip, "/test.zip": testZip, "/cal.tgz": calTgz}, "/train.zip")
	def := *registry["nmnist"]
	def.Downloads = []Download{
		{URL: ts.URL + "/train.zip", File: "train.zip", MD5: md5hex(trainZip), Extract: true},
		{URL: ts.URL + "/test.zip", File: "test.zip", MD5: md5hex(testZip), Extract: true},
	}
	dir := t.TempDir()
	var lines []string
	err = Fetch(context.Background(), &def, dir, FetchOptions{Log: func(f string, a ...any) { lines = append(lines, f) }})
	if err != nil {
		t.Fatal(err)
	}
	if srv.hits["/train.zip"].Load() != 2 {
		t.Fatalf("train.zip requested %d times; want 2 (cut off, then resumed)", srv.hits["/train.zip"].Load())
	}
	// Fetching again does nothing: the verified marker says it is done.
	if err := Fetch(context.Background(), &def, dir, FetchOptions{}); err != nil || srv.hits["/test.zip"].Load() != 1 {
		t.Fatalf("refetch: %v, test.zip hits %d", err, srv.hits["/test.zip"].Load())
	}
	for _, split := range []struct {
		name string
		n    int
	}{{"train", 20}, {"test", 12}} {
		out := filepath.Join(dir, split.name+".arrow")
		res, err := prepare(&def, dir, out, Selection{Split: split.name}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if res.Samples != split.n {
			t.Fatalf("%s: %d samples, want %d", split.name, res.Samples, split.n)
		}
	}
	// N-Caltech101 from a tar.gz: the canvas comes from the data (no sensor in the definition).
	cdef := *registry["ncaltech101"]
	cdef.Downloads = []Download{{URL: ts.URL + "/cal.tgz", File: "cal.tgz", MD5: md5hex(calTgz), Extract: true}}
	cdir := t.TempDir()
	if err := Fetch(context.Background(), &cdef, cdir, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := prepare(&cdef, cdir, filepath.Join(cdir, "c.arrow"), Selection{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Samples != 1 || res.Events != 67445 || res.Geometry != (events.Geometry{Width: 151, Height: 173}) {
		t.Fatalf("ncaltech101: %+v", res)
	}
}

// A wrong checksum is refused with a clear error and nothing extracted; a 404 names the URL.
func TestFetchRefusesBadChecksumAnd404(t *testing.T) {
	payload := tarGz(t, map[string][]byte{"Train/0/a.bin": {1, 2, 3, 4, 5}})
	ts, _ := newServer(t, map[string][]byte{"/a.tgz": payload})
	def := *registry["nmnist"]
	def.Downloads = []Download{{URL: ts.URL + "/a.tgz", File: "a.tgz", MD5: strings.Repeat("0", 32), Extract: true}}
	dir := t.TempDir()
	err := Fetch(context.Background(), &def, dir, FetchOptions{})
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), "a.tgz") {
		t.Fatalf("bad checksum: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Fatalf("after a refused download the folder holds %v", ents)
	}
	def.Downloads = []Download{{URL: ts.URL + "/missing.zip", File: "m.zip", MD5: strings.Repeat("0", 32)}}
	err = Fetch(context.Background(), &def, dir, FetchOptions{})
	if err == nil || !strings.Contains(err.Error(), ts.URL+"/missing.zip") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404: %v", err)
	}
	var manual *ManualDownloadError
	if err := Fetch(context.Background(), registry["dvsgesture"], dir, FetchOptions{}); !errors.As(err, &manual) ||
		!strings.Contains(err.Error(), "research.ibm.com") {
		t.Fatalf("manual dataset: %v", err)
	}
}

func TestExtractRefusesEscapingPaths(t *testing.T) {
	bad := tarGz(t, map[string][]byte{"../evil.bin": {1}})
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.tgz")
	os.WriteFile(p, bad, 0o644)
	if err := extractAll(context.Background(), p, dir, Download{}); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("extract: %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "evil.bin")); err == nil {
		t.Fatal("an entry escaped the target folder")
	}
}

// prepare of the N-MNIST fixture tree: 20 train + 12 test samples with the folder labels and the
// files' event counts, byte-for-byte identical when run twice (and with one worker).
func TestPrepareNMNISTDeterministic(t *testing.T) {
	root := fixtures.Path(t, "nmnist")
	exp := fixtures.ExpectedEvents(t)
	def := registry["nmnist"]
	dir := t.TempDir()
	for _, split := range []struct {
		name, folder string
		n            int
	}{{"train", "Train", 20}, {"test", "Test", 12}} {
		a := filepath.Join(dir, split.name+"-a.arrow")
		b := filepath.Join(dir, split.name+"-b.arrow")
		if _, err := prepare(def, root, a, Selection{Split: split.name}, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := prepare(def, root, b, Selection{Split: split.name}, 1); err != nil {
			t.Fatal(err)
		}
		da, _ := os.ReadFile(a)
		db, _ := os.ReadFile(b)
		if !bytes.Equal(da, db) {
			t.Fatalf("%s: two runs differ", split.name)
		}
		r, err := evarrow.OpenDataset(a)
		if err != nil {
			t.Fatal(err)
		}
		if r.NumSamples() != split.n {
			t.Fatalf("%s: %d samples, want %d", split.name, r.NumSamples(), split.n)
		}
		var s events.Sample
		for i := 0; i < r.NumSamples(); i++ {
			r.ReadSample(i, &s)
			parts := strings.Split(s.ID, "/") // Train/<digit>/<id>.bin
			if len(parts) != 3 || parts[0] != split.folder || strconv.Itoa(int(s.Label)) != parts[1] {
				t.Fatalf("sample %d: id %q label %d", i, s.ID, s.Label)
			}
			if e := exp["nmnist/"+s.ID]; e == nil || int64(s.Events.Len()) != e.N {
				t.Fatalf("sample %s: %d events", s.ID, s.Events.Len())
			}
		}
		r.Close()
	}
	if _, err := prepare(registry["ncaltech101"], root, filepath.Join(dir, "x.arrow"), Selection{Split: "train"}, 0); err == nil {
		t.Fatal("N-Caltech101 has no train split; prepare should refuse")
	}
}

// writeRecording writes a DVS128 recording as AEDAT 3.1 when that writer is registered.
func writeRecording(t *testing.T, path string, b *events.Batch) {
	f, err := formats.Lookup("aedat3")
	if err != nil {
		t.Fatalf("the AEDAT 3.1 writer is not registered: %v", err)
	}
	sink, err := f.Create(path, events.Meta{Kind: events.KindRecording, Geometry: events.Geometry{Width: 128, Height: 128}}, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := sink.Events
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// DVSGesture from original-layout files: AEDAT 3.1 recordings whose events span the real labels CSV
// are cut into one sample per row (label = class − 1, start ≤ t < end), or one per class.
func TestPrepareDVSGesture(t *testing.T) {
	csv := fixtures.Path(t, "dvsgesture/user01_natural_labels.csv")
	clips, err := ReadLabelsCSV(csv)
	if err != nil {
		t.Fatal(err)
	}
	if len(clips) != 12 || clips[0] != (Clip{Class: 1, Start: 53036986, End: 59508469}) || clips[11].End != 177991967 {
		t.Fatalf("labels CSV parsed as %+v", clips)
	}
	dir := t.TempDir()
	data, _ := os.ReadFile(csv)
	// One recording: an event every 997 µs from 50 s to 180 s, cycling over pixels and polarities,
	// exactly on some boundaries too.
	rec := events.NewBatch(0)
	for i, tt := 0, int64(50_000_000); tt < 180_000_000; i, tt = i+1, tt+997 {
		rec.Append(tt, uint16(i%128), uint16((i/128)%128), uint8(i%2))
	}
	for _, c := range clips[:3] { // events exactly on clip edges
		rec.Append(c.Start, 5, 5, 1)
	}
	sortBatch(rec)
	for _, name := range []string{"user01_natural", "user24_led"} {
		writeRecording(t, filepath.Join(dir, name+".aedat"), rec)
		os.WriteFile(filepath.Join(dir, name+"_labels.csv"), data, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "trials_to_train.txt"), []byte("user01_natural.aedat\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "trials_to_test.txt"), []byte("user24_led.aedat\n"), 0o644)

	want := func(c Clip) int {
		n := 0
		for _, tt := range rec.T {
			if tt >= c.Start && tt < c.End {
				n++
			}
		}
		return n
	}
	out := filepath.Join(dir, "train.arrow")
	res, err := prepare(registry["dvsgesture"], dir, out, Selection{Split: "train"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Samples != 12 {
		t.Fatalf("train: %d samples, want 12", res.Samples)
	}
	r, err := evarrow.OpenDataset(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var s events.Sample
	for i, c := range clips {
		r.ReadSample(i, &s)
		if s.Label != int32(c.Class-1) || s.Events.Len() != want(c) {
			t.Fatalf("clip %d: label %d, %d events; want %d, %d", i, s.Label, s.Events.Len(), c.Class-1, want(c))
		}
		if s.Events.T[0] < c.Start || s.Events.T[s.Events.Len()-1] >= c.End {
			t.Fatalf("clip %d: events [%d, %d] outside [%d, %d)", i, s.Events.T[0], s.Events.T[s.Events.Len()-1], c.Start, c.End)
		}
		if !strings.Contains(s.ID, "user=01") || !strings.Contains(s.ID, "lighting=natural") || !strings.Contains(s.ID, "clip="+strconv.Itoa(i)) {
			t.Fatalf("clip %d: id %q", i, s.ID)
		}
	}
	// per-class: the two arm-roll rows become one sample holding both rows' events.
	res, err = prepare(registry["dvsgesture"], dir, filepath.Join(dir, "all.arrow"),
		Selection{Split: "all", DVSGestureSamples: "per-class"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Samples != 22 {
		t.Fatalf("per-class, both trials: %d samples, want 2 × 11", res.Samples)
	}
	var armRoll int
	for _, c := range clips {
		if c.Class == 8 {
			armRoll += want(c)
		}
	}
	d2, _ := evarrow.OpenDataset(filepath.Join(dir, "all.arrow"))
	defer d2.Close()
	found := false
	for i := 0; i < 11; i++ {
		d2.ReadSample(i, &s)
		if s.Label == 7 {
			found = s.Events.Len() == armRoll
		}
	}
	if !found {
		t.Fatal("the per-class arm-roll sample does not hold both rows' events")
	}
}

func sortBatch(b *events.Batch) {
	idx := make([]int, b.Len())
	for i := range idx {
		idx[i] = i
	}
	sortStable(idx, func(i, j int) bool { return b.T[idx[i]] < b.T[idx[j]] })
	c := b.Clone()
	for i, k := range idx {
		b.T[i], b.X[i], b.Y[i], b.P[i] = c.T[k], c.X[k], c.Y[k], c.P[k]
	}
}

var _ = io.EOF
