package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/evarrow"
)

// benchCase is one line (or a few) of the table: docs/performance.md describes each.
type benchCase struct {
	name, what string
	run        func(c *config) ([]row, error)
}

var allCases = []benchCase{
	{"a", "folder of N-MNIST .bin → Arrow dataset", caseFolderToDataset},
	{"b", "folder → frames(bins=10) → .npz", caseFrames},
	{"c", "folder → denoise(dt=10ms) → Arrow", caseDenoise},
	{"d", "generated 60,000-file N-MNIST tree → dataset", caseTree},
	{"e", "≥ 1 GB EVT3 and AEDAT 4 recordings → Arrow", caseBigRecordings},
	{"f", "reading every sample of a dataset file", caseReadBack},
	{"g", "evtool info over 1,000 files", caseInfo},
	{"h", "SHD-like HDF5 file (10,000 samples) → dataset", caseSHD},
}

// nmnistTrain is the 1,000 real N-MNIST training recordings (4.13 M events).
func nmnistTrain(c *config) (dir string, files []string, nEvents int64, err error) {
	dir = filepath.Join(c.fixtures, "nmnist-small", "Train")
	files, err = binFiles(dir)
	if err != nil {
		return "", nil, 0, err
	}
	if len(files) == 0 {
		return "", nil, 0, fmt.Errorf("no .bin files under %s (set -fixtures)", dir)
	}
	for _, f := range files {
		n, err := nmnistEvents(f)
		if err != nil {
			return "", nil, 0, err
		}
		nEvents += n
	}
	return dir, files, nEvents, nil
}

func binFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".bin") {
			files = append(files, p)
		}
		return err
	})
	sort.Strings(files)
	return files, err
}

// nmnistEvents counts the events of a .bin file: 5-byte records minus y == 240 overflow markers.
func nmnistEvents(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var n int64
	for i := 0; i+5 <= len(b); i += 5 {
		if b[i+1] != 240 {
			n++
		}
	}
	return n, nil
}

// evtoolRow times one evtool command (and the -before binary on the same arguments).
func evtoolRow(c *config, r row, out string, args ...string) row {
	r.evtool = measure(c, out, append([]string{c.evtool}, args...)...)
	if c.before != "" {
		b := measure(c, out, append([]string{c.before}, args...)...)
		r.before = &b
	}
	r.command = "evtool " + strings.Join(args, " ")
	return r
}

// tonicRow times the peer on a list of N-MNIST files.
func tonicRow(c *config, r *row, peerCase string, files []string) error {
	if c.tonic == "" {
		return nil
	}
	list := filepath.Join(c.work, "peer-files-"+r.name+".txt")
	if err := os.WriteFile(list, []byte(strings.Join(files, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	script, err := filepath.Abs(filepath.Join("bench", "tonic_peer.py"))
	if err != nil {
		return err
	}
	cmd := exec.Command(c.python, script, "--tonic", c.tonic, "--case", peerCase, "--list", list, "--runs", fmt.Sprint(c.runs))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t := timing{err: fmt.Errorf("tonic peer: %v: %s", err, strings.TrimSpace(stderr.String()))}
		r.peer = &t
		return nil
	}
	var res struct {
		Seconds float64 `json:"seconds"`
		Events  int64   `json:"events"`
	}
	if err := json.Unmarshal(outb, &res); err != nil {
		return fmt.Errorf("tonic peer output %q: %w", outb, err)
	}
	r.peer = &timing{seconds: res.Seconds}
	r.peerWhat = map[string]string{"read": "tonic read_mnist_file", "frames": "tonic read + ToFrame", "denoise": "tonic read + Denoise"}[peerCase]
	return nil
}

func outPath(c *config, name string) string {
	dir := filepath.Join(c.work, "out")
	os.MkdirAll(dir, 0o755)
	return filepath.Join(dir, name)
}

func caseFolderToDataset(c *config) ([]row, error) {
	return folderCase(c, "a", "", "a.arrow", "", "read")
}

func caseFrames(c *config) ([]row, error) {
	return folderCase(c, "b", "the same → frames(bins=10) → .npz", "b.npz", "frames(bins=10)", "frames")
}

func caseDenoise(c *config) ([]row, error) {
	return folderCase(c, "c", "the same → denoise(dt=10ms) → Arrow", "c.arrow", "denoise(dt=10ms)", "denoise")
}

// folderCase times `evtool convert` of the N-MNIST training folder to out (with the transform chain, if
// any) and tonic's peer operation on the same files. An empty what describes case a.
func folderCase(c *config, name, what, out, chain, peerOp string) ([]row, error) {
	dir, files, n, err := nmnistTrain(c)
	if err != nil {
		return nil, err
	}
	if what == "" {
		what = fmt.Sprintf("%d N-MNIST files (%.2f M events) → Arrow dataset, zstd", len(files), float64(n)/1e6)
	}
	out = outPath(c, out)
	args := []string{"convert", dir, "-o", out}
	if chain != "" {
		args = append(args, "-t", chain)
	}
	r := evtoolRow(c, row{name: name, what: what, unit: "M events/s", amount: float64(n) / 1e6}, out, args...)
	return []row{r}, tonicRow(c, &r, peerOp, files)
}

// caseTree writes c.treeFiles N-MNIST files (the 1,000 real ones, cycled) in the dataset's layout.
func caseTree(c *config) ([]row, error) {
	_, files, _, err := nmnistTrain(c)
	if err != nil {
		return nil, err
	}
	root := filepath.Join(c.work, fmt.Sprintf("nmnist-tree-%d", c.treeFiles))
	marker := filepath.Join(root, ".complete")
	var tree []string
	if _, err := os.Stat(marker); err != nil {
		fmt.Fprintf(os.Stderr, "  generating %d files under %s\n", c.treeFiles, root)
		os.RemoveAll(root)
		for i := 0; i < c.treeFiles; i++ {
			src := files[i%len(files)]
			label := filepath.Base(filepath.Dir(src))
			dst := filepath.Join(root, "Train", label, fmt.Sprintf("%05d.bin", i))
			b, err := os.ReadFile(src)
			if err != nil {
				return nil, err
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				return nil, err
			}
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			return nil, err
		}
	}
	if tree, err = binFiles(root); err != nil {
		return nil, err
	}
	out := outPath(c, "d.arrow")
	r := evtoolRow(c, row{name: "d", what: fmt.Sprintf("%d-file N-MNIST tree → Arrow dataset", len(tree)), unit: "files/s", amount: float64(len(tree))},
		out, "convert", filepath.Join(root, "Train"), "-o", out)
	return []row{r}, tonicRow(c, &r, "read", tree)
}

// caseBigRecordings tiles the real Gen4.1 EVT3 fixture into a recording of c.bigBytes and converts it (and
// its AEDAT 4 conversion) to an Arrow recording.
func caseBigRecordings(c *config) ([]row, error) {
	raw := filepath.Join(c.work, fmt.Sprintf("big-%dMB.raw", c.bigBytes>>20))
	n, err := bigEVT3(c, raw)
	if err != nil {
		return nil, err
	}
	// LZ4 packets, as DV writes them (the codec is in the name: a file of another codec is not reused).
	a4 := strings.TrimSuffix(raw, ".raw") + "-lz4.aedat4"
	if _, err := os.Stat(a4); err != nil {
		fmt.Fprintf(os.Stderr, "  writing %s with evtool\n", a4)
		if t := runOnce(c.evtool, "convert", raw, "-o", a4, "--compression", "lz4"); t.err != nil {
			return nil, t.err
		}
	}
	var rows []row
	for _, in := range []struct{ path, what, out string }{{raw, "EVT3", "e-EVT3.arrow"}, {a4, "AEDAT 4 (LZ4)", "e-AEDAT4.arrow"}} {
		st, err := os.Stat(in.path)
		if err != nil {
			return nil, err
		}
		out := outPath(c, in.out)
		rows = append(rows, evtoolRow(c, row{name: "e", what: fmt.Sprintf("%s recording, %.2f GB, %.0f M events → Arrow recording, zstd", in.what, float64(st.Size())/1e9, float64(n)/1e6),
			unit: "M events/s", amount: float64(n) / 1e6}, out, "convert", in.path, "-o", out))
	}
	return rows, nil
}

// bigEVT3 writes the header of the real EVT3 fixture and then its words again and again, each copy moved
// later in time by patching the TIME_HIGH words, until the file holds size bytes. It returns the event count,
// checked with `evtool info` when the file is first written.
func bigEVT3(c *config, path string) (int64, error) {
	countFile := path + ".events"
	if b, err := os.ReadFile(countFile); err == nil {
		var n int64
		if _, err := fmt.Sscan(string(b), &n); err == nil {
			return n, nil
		}
	}
	src := filepath.Join(c.fixtures, "prophesee", "evt3", "expelliarmus_evt3_sample_gen41.raw")
	data, err := os.ReadFile(src)
	if err != nil {
		return 0, err
	}
	const perCopy = 219596 // EXPECTED.md: events of the fixture
	end := bytes.Index(data, []byte("% end\n"))
	hdrEnd := 0
	if end >= 0 {
		hdrEnd = end + len("% end\n")
	} else {
		// no `% end`: the header is the leading `%` lines
		for hdrEnd < len(data) && data[hdrEnd] == '%' {
			hdrEnd += bytes.IndexByte(data[hdrEnd:], '\n') + 1
		}
	}
	header, body := data[:hdrEnd], data[hdrEnd:]
	if len(body)%2 != 0 {
		return 0, errors.New("fixture body is not whole 16-bit words")
	}
	lo, hi := uint16(0xFFFF), uint16(0)
	for i := 0; i < len(body); i += 2 {
		if w := binary.LittleEndian.Uint16(body[i:]); w>>12 == 0x8 {
			lo, hi = min(lo, w&0xFFF), max(hi, w&0xFFF)
		}
	}
	// Each copy starts one TIME_HIGH step after the previous one ends, so TIME_HIGH only ever steps by one
	// and a reader sees each 2^24 µs wrap as a wrap.
	step := hi - lo + 1
	fmt.Fprintf(os.Stderr, "  generating %s (%d MB)\n", path, c.bigBytes>>20)
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(header)
	buf := make([]byte, len(body))
	var copies int64
	for written := int64(len(header)); written < c.bigBytes; written += int64(len(body)) {
		shift := uint16(copies) * step
		copy(buf, body)
		for i := 0; i < len(buf); i += 2 {
			if w := binary.LittleEndian.Uint16(buf[i:]); w>>12 == 0x8 {
				binary.LittleEndian.PutUint16(buf[i:], 0x8000|((w&0xFFF)+shift)&0xFFF)
			}
		}
		w.Write(buf)
		copies++
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	n := copies * perCopy
	// Check the count with evtool itself before trusting the file.
	out, err := exec.Command(c.evtool, "info", "--json", path+".tmp").Output()
	if err != nil {
		return 0, fmt.Errorf("evtool info on the generated file: %w", err)
	}
	var info struct {
		Events int64 `json:"events"`
	}
	if err := json.Unmarshal(firstLine(out), &info); err != nil {
		return 0, fmt.Errorf("evtool info output: %w", err)
	}
	if info.Events != n {
		return 0, fmt.Errorf("generated EVT3 holds %d events, want %d", info.Events, n)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return 0, err
	}
	return n, os.WriteFile(countFile, []byte(fmt.Sprint(n)), 0o644)
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// caseReadBack reads every sample of the dataset of case a: through the Go API in this process, and with
// `convert --to nmnist` back into a folder of .bin files.
func caseReadBack(c *config) ([]row, error) {
	dir, files, n, err := nmnistTrain(c)
	if err != nil {
		return nil, err
	}
	ds := outPath(c, "f-input.arrow")
	if t := runOnce(c.evtool, "convert", dir, "-o", ds); t.err != nil {
		if _, statErr := os.Stat(ds); statErr != nil {
			return nil, t.err
		}
	}
	api := row{name: "f", what: "dataset file → every sample in memory (Go API, evarrow.OpenDataset + ReadSample)", unit: "M events/s", amount: float64(n) / 1e6,
		command: "go run ./bench -cases f (in process)"}
	api.evtool = measureFunc(c, func() error {
		d, err := evarrow.OpenDataset(ds)
		if err != nil {
			return err
		}
		defer d.Close()
		var s events.Sample
		var got int64
		for i := 0; i < d.NumSamples(); i++ {
			if err := d.ReadSample(i, &s); err != nil {
				return err
			}
			got += int64(s.Events.Len())
		}
		if got != n {
			return fmt.Errorf("read %d events, want %d", got, n)
		}
		return nil
	})
	if err := tonicRow(c, &api, "read", files); err != nil {
		return nil, err
	}
	if api.peer != nil {
		api.peerWhat = "tonic reading the .bin files"
	}
	out := outPath(c, "f-bin")
	cli := evtoolRow(c, row{name: "f", what: "dataset file → folder of .bin (convert --to nmnist)", unit: "M events/s", amount: float64(n) / 1e6},
		out, "convert", ds, "-o", out, "--to", "nmnist")
	return []row{api, cli}, nil
}

func caseInfo(c *config) ([]row, error) {
	_, files, _, err := nmnistTrain(c)
	if err != nil {
		return nil, err
	}
	r := evtoolRow(c, row{name: "g", what: fmt.Sprintf("evtool info over %d files", len(files)), unit: "files/s", amount: float64(len(files))},
		"", append([]string{"info"}, files...)...)
	r.command = "evtool info nmnist-small/Train/*/*.bin"
	return []row{r}, nil
}

// caseSHD prepares an SHD-like HDF5 file — 10,000 samples, about 50 M spikes as variable-length float16
// times and uint16 units, written once by h5py with datasets/testdata/shd_bench_gen.py (the file of
// BenchmarkPrepareSHD) — into a dataset. The peer is tonic's SHD read path, datasets/testdata/
// shd_bench_tonic.py (h5py; it reads every sample and writes nothing).
func caseSHD(c *config) ([]row, error) {
	dir := filepath.Join(c.work, "shd-10000")
	h5 := filepath.Join(dir, "shd_train.h5")
	countFile := h5 + ".events"
	var n int64
	if b, err := os.ReadFile(countFile); err == nil {
		fmt.Sscan(string(b), &n)
	}
	if n <= 0 {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "  writing %s with h5py\n", h5)
		cmd := exec.Command(c.python, filepath.Join("datasets", "testdata", "shd_bench_gen.py"), dir, "10000", "5000")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("write the SHD-like file (%s needs h5py and NumPy): %v: %s", c.python, err, strings.TrimSpace(stderr.String()))
		}
		if _, err := fmt.Sscan(string(out), &n); err != nil || n <= 0 {
			return nil, fmt.Errorf("the SHD generator printed %q, not a spike count", out)
		}
		if err := os.WriteFile(countFile, []byte(fmt.Sprint(n)), 0o644); err != nil {
			return nil, err
		}
	}
	out := outPath(c, "h.arrow")
	r := evtoolRow(c, row{name: "h", what: fmt.Sprintf("SHD-like HDF5 file (10,000 samples, %.1f M events) → Arrow dataset, zstd", float64(n)/1e6),
		unit: "M events/s", amount: float64(n) / 1e6}, out, "datasets", "prepare", "shd", "--from", dir, "-o", out, "--split", "train")
	if c.tonic == "" {
		return []row{r}, nil
	}
	best := timing{seconds: -1}
	for i := 0; i < c.runs; i++ {
		cmd := exec.Command(c.python, filepath.Join("datasets", "testdata", "shd_bench_tonic.py"), h5)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		outb, err := cmd.Output()
		var evs int64
		var secs float64
		if err == nil {
			_, err = fmt.Sscan(string(outb), &evs, &secs)
		}
		if err == nil && evs != n {
			err = fmt.Errorf("read %d events, the file holds %d", evs, n)
		}
		if err != nil {
			best = timing{err: fmt.Errorf("SHD peer: %v: %s", err, strings.TrimSpace(stderr.String()))}
			break
		}
		if best.seconds < 0 || secs < best.seconds {
			best.seconds = secs
		}
	}
	r.peer, r.peerWhat = &best, "tonic's SHD read path (h5py), reading only"
	return []row{r}, nil
}
