package datasets

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/evarrow"
	"github.com/evtool/evtool/internal/fixtures"
	h5 "github.com/evtool/evtool/internal/hdf5"
	"github.com/evtool/evtool/sources"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixtures.CleanupGenerated()
	os.Exit(code)
}

type miniSample struct {
	ID    string `json:"id"`
	Label int32  `json:"label"`
	N     int    `json:"n"`
	Sha   string `json:"sha"`
}

// miniatures writes the container datasets' miniatures once per test binary (h5py, scipy, numpy).
func miniatures(t *testing.T) (string, map[string]json.RawMessage) {
	t.Helper()
	dir, out := fixtures.Generate(t, "testdata/miniatures_gen.py", "h5py", "hdf5plugin", "scipy", "numpy")
	var exp map[string]json.RawMessage
	if err := json.Unmarshal(out, &exp); err != nil {
		t.Fatal(err)
	}
	return dir, exp
}

func digestEvents(b *events.Batch) string {
	buf := make([]byte, 0, 32*b.Len())
	for i := range b.T {
		for _, v := range []int64{b.T[i], int64(b.X[i]), int64(b.Y[i]), int64(b.P[i])} {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
		}
	}
	s := sha256.Sum256(buf)
	return hex.EncodeToString(s[:])
}

// checkPrepared compares a prepared dataset file with what the generator wrote, sample by sample.
func checkPrepared(t *testing.T, out string, want []miniSample, classes []string) events.Meta {
	t.Helper()
	d, err := evarrow.OpenDataset(out)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.NumSamples() != len(want) {
		t.Fatalf("%d samples, want %d", d.NumSamples(), len(want))
	}
	if classes != nil && strings.Join(d.Meta().Classes, ",") != strings.Join(classes, ",") {
		t.Errorf("classes %v, want %v", d.Meta().Classes, classes)
	}
	var s events.Sample
	for i, w := range want {
		if err := d.ReadSample(i, &s); err != nil {
			t.Fatal(err)
		}
		if s.ID != w.ID || s.Label != w.Label || s.Events.Len() != w.N {
			t.Fatalf("sample %d: id %q label %d, %d events; want %q, %d, %d", i, s.ID, s.Label, s.Events.Len(), w.ID, w.Label, w.N)
		}
		if digestEvents(&s.Events) != w.Sha {
			t.Fatalf("sample %d (%s): events differ from what the generator wrote (first %+v)", i, s.ID, s.Events.At(0))
		}
	}
	return d.Meta()
}

// TestContainerDatasets prepares each new dataset from an h5py/scipy-written miniature of its real layout
// and checks every sample's id, label and events.
func TestContainerDatasets(t *testing.T) {
	dir, exp := miniatures(t)
	cases := []struct {
		name, split, folder, key string
		workers                  int
	}{
		{"shd", "train", "shd", "shd/train", 2},
		{"shd", "test", "shd", "shd/test", 1},
		{"ssc", "valid", "ssc", "ssc/valid", 2},
		{"ntidigits18", "train", "ntidigits", "ntidigits/train", 2},
		{"ntidigits18", "test-sequences", "ntidigits", "ntidigits/test-sequences", 1},
		{"asldvs", "all", "asldvs", "asldvs/all", 2},
		{"stmnist", "all", "stmnist", "stmnist/all", 2},
		{"threeet", "train", "threeet", "threeet/train", 2},
		{"threeet", "val", "threeet", "threeet/val", 1},
		{"ebssa", "labelled", "ebssa", "ebssa/all", 2},
		{"dsec", "test", "dsec", "dsec/test", 2},
		{"dvslip", "train", "dvslip", "dvslip/train", 2},
		{"dvslip", "test", "dvslip", "dvslip/test", 1},
	}
	for _, c := range cases {
		t.Run(c.name+"/"+c.split, func(t *testing.T) {
			var want []miniSample
			if err := json.Unmarshal(exp[c.key], &want); err != nil {
				t.Fatal(err)
			}
			var classes []string
			if raw, ok := exp[c.name+"/classes"]; ok {
				json.Unmarshal(raw, &classes)
			}
			def, err := Lookup(c.name)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), c.name+".arrow")
			res, err := prepare(def, filepath.Join(dir, c.folder), out, Selection{Split: c.split}, c.workers)
			if err != nil {
				t.Fatal(err)
			}
			if res.Samples != len(want) {
				t.Errorf("Prepare reports %d samples, want %d", res.Samples, len(want))
			}
			meta := checkPrepared(t, out, want, classes)
			if def.Sensor.Known() && meta.Geometry != def.Sensor {
				t.Errorf("sensor %v, want %v", meta.Geometry, def.Sensor)
			}
			if c.name == "ebssa" && meta.Geometry != (events.Geometry{Width: 304, Height: 240}) {
				t.Errorf("canvas %v, want the largest recording's 304x240", meta.Geometry)
			}
			notes, err := Annotations(def, filepath.Join(dir, c.folder), Selection{Split: c.split})
			if err != nil {
				t.Fatal(err)
			}
			if raw, ok := exp[c.key+"/notes"]; ok {
				if notes == nil {
					t.Fatalf("%s has no annotations", c.name)
				}
				path := notes.Path(out)
				if err := notes.Write(path); err != nil {
					t.Fatal(err)
				}
				checkNotes(t, path, raw)
			} else if notes != nil {
				t.Errorf("%s: annotations %+v where none were expected", c.name, notes)
			}
		})
	}
}

// checkNotes compares an annotations CSV with the generator's rows (per sample, in order).
func checkNotes(t *testing.T, path string, raw json.RawMessage) {
	t.Helper()
	var want [][][]string
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var flat []string
	for s, sample := range want {
		for _, r := range sample {
			flat = append(flat, strings.Join(append([]string{itoa(s)}, r...), ","))
		}
	}
	if len(rows)-1 != len(flat) {
		t.Fatalf("%s: %d rows, want %d", path, len(rows)-1, len(flat))
	}
	for i, r := range rows[1:] {
		// drop the id column (second) before comparing
		got := strings.Join(append([]string{r[0]}, r[2:]...), ",")
		if got != flat[i] {
			t.Fatalf("%s row %d = %q, want %q", path, i+1, got, flat[i])
		}
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestSTMNISTRealSample prepares a tree holding the real ST-MNIST sample and finds EXPECTED.md's events.
func TestSTMNISTRealSample(t *testing.T) {
	src := fixtures.Path(t, "other/stmnist/sample_stmnist.mat")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "7"), 0o755)
	os.WriteFile(filepath.Join(root, "7", "sample_stmnist.mat"), data, 0o644)
	def, _ := Lookup("stmnist")
	out := filepath.Join(t.TempDir(), "st.arrow")
	res, err := prepare(def, root, out, Selection{Split: "all"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Samples != 1 || res.Events != 2346 {
		t.Fatalf("%d samples, %d events; want 1, 2346", res.Samples, res.Events)
	}
	d, err := evarrow.OpenDataset(out)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var s events.Sample
	if err := d.ReadSample(0, &s); err != nil {
		t.Fatal(err)
	}
	var on int
	for _, p := range s.Events.P {
		on += int(p)
	}
	first := s.Events.At(0)
	if s.Label != 7 || on != 1601 || first != (events.Event{T: 196626, X: 5, Y: 4, P: 0}) || s.Events.T[s.Events.Len()-1] != 895745 {
		t.Errorf("label %d, %d ON, first %+v, last t %d; want 7, 1601, {196626 5 4 0}, 895745", s.Label, on, first, s.Events.T[s.Events.Len()-1])
	}
}

// DSEC: recordings missing from the download are listed; compression evtool cannot undo is refused
// before any sample is written, naming the filter (the miniature itself is Blosc-compressed, as DSEC is).
func TestDSECErrors(t *testing.T) {
	dir, _ := miniatures(t)
	def, _ := Lookup("dsec")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "thun_01_a", "events_left"), 0o755)
	out := filepath.Join(t.TempDir(), "d.arrow")
	_, err := prepare(def, root, out, Selection{Split: "test"}, 0)
	if err == nil || !strings.Contains(err.Error(), "interlaken_00_a") {
		t.Errorf("missing recordings: %v; want the list of what to download", err)
	}
	_, err = prepare(def, filepath.Join(dir, "dsec_lzf"), out, Selection{Split: "test"}, 0)
	if err == nil || !errors.Is(err, h5.ErrUnsupported) || !strings.Contains(err.Error(), "lzf") {
		t.Errorf("lzf-compressed DSEC files: %v; want a refusal naming lzf", err)
	}
	if _, serr := os.Stat(out); serr == nil {
		t.Error("a refused preparation left an output file")
	}
}

// zipFiles packs files (name → content) into a zip archive.
func zipFiles(t *testing.T, files map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	zw.Close()
	return buf.Bytes()
}

// Fetch downloads and unpacks the new datasets' archives: SHD's .h5.zip files, and ASL-DVS's zip of
// per-letter zips (an Inner pattern); the result then prepares.
func TestFetchContainerDatasets(t *testing.T) {
	dir, exp := miniatures(t)
	read := func(p string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	letters := map[string][]byte{}
	for _, l := range []string{"a", "b", "y"} {
		inner := map[string][]byte{}
		for k := 1; k <= 3; k++ {
			name := fmt.Sprintf("%s/%s_%04d.mat", l, l, k)
			inner[name] = read(filepath.Join("asldvs", name))
		}
		letters["Yin Bi - "+l+".zip"] = zipFiles(t, inner)
	}
	files := map[string][]byte{
		"/shd_train.h5.zip": zipFiles(t, map[string][]byte{"shd_train.h5": read("shd/shd_train.h5")}),
		"/shd_test.h5.zip":  zipFiles(t, map[string][]byte{"shd_test.h5": read("shd/shd_test.h5")}),
		"/ASLDVS.zip":       zipFiles(t, letters),
	}
	ts, _ := newServer(t, files)
	for _, c := range []struct{ name, split, key string }{{"shd", "train", "shd/train"}, {"asldvs", "all", "asldvs/all"}} {
		orig, _ := Lookup(c.name)
		def := *orig
		def.Downloads = nil
		for _, d := range orig.Downloads {
			d.URL = ts.URL + "/" + d.File
			d.MD5 = md5hex(files["/"+d.File])
			def.Downloads = append(def.Downloads, d)
		}
		to := t.TempDir()
		if err := Fetch(context.Background(), &def, to, FetchOptions{}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		out := filepath.Join(t.TempDir(), c.name+".arrow")
		if _, err := prepare(&def, to, out, Selection{Split: c.split}, 0); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var want []miniSample
		json.Unmarshal(exp[c.key], &want)
		checkPrepared(t, out, want, nil)
	}
}

// ReadIn decodes what Read decodes, for every container dataset read in groups (the others are files),
// and shows each sample to each in turn; read again into the same buffer (now made for the group), every
// sample with events lies in it, one after the other, clipped.
func TestContainerReadInMatchesRead(t *testing.T) {
	dir, _ := miniatures(t)
	for _, c := range []struct{ name, split, folder string }{
		{"shd", "train", "shd"}, {"ssc", "valid", "ssc"}, {"ntidigits18", "train", "ntidigits"},
		{"threeet", "train", "threeet"}, {"ebssa", "labelled", "ebssa"}, {"dsec", "test", "dsec"},
	} {
		t.Run(c.name, func(t *testing.T) {
			def, err := Lookup(c.name)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := Inputs(def, filepath.Join(dir, c.folder), Selection{Split: c.split})
			if err != nil {
				t.Fatal(err)
			}
			gi, ok := plan.Groups.(sources.GroupsIn)
			if !ok {
				t.Fatalf("%T does not decode into one buffer", plan.Groups)
			}
			var buf events.Batch
			var plain, in []events.Sample
			for g := range gi.Len() {
				if plain, err = gi.Read(g, plain); err != nil {
					t.Fatal(err)
				}
				for pass := 0; pass < 2; pass++ {
					var seen []string
					each := func(s *events.Sample) error { seen = append(seen, s.ID); return nil }
					if in, err = gi.ReadIn(g, in, &buf, each); err != nil {
						t.Fatal(err)
					}
					if len(seen) != len(in) || len(in) > 0 && (seen[0] != in[0].ID || seen[len(seen)-1] != in[len(in)-1].ID) {
						t.Fatalf("group %d: each saw %d samples of %d", g, len(seen), len(in))
					}
					if len(in) != len(plain) {
						t.Fatalf("group %d: %d samples, Read gives %d", g, len(in), len(plain))
					}
					at := 0
					for k := range in {
						s, p := &in[k], &plain[k]
						if s.ID != p.ID || s.Label != p.Label || !s.Events.Equal(&p.Events) {
							t.Fatalf("group %d sample %d (%s): differs from Read's", g, k, p.ID)
						}
						if n := s.Events.Len(); pass == 1 && n > 0 {
							if &s.Events.T[0] != &buf.T[at] || &s.Events.P[0] != &buf.P[at] || cap(s.Events.T) != n {
								t.Fatalf("group %d sample %d: not clipped in the buffer at %d", g, k, at)
							}
							at += n
						}
					}
					if pass == 1 && at != buf.Len() {
						t.Fatalf("group %d: the buffer holds %d events, its samples %d", g, buf.Len(), at)
					}
				}
			}
		})
	}
}
