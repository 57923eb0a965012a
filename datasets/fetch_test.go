package datasets

import (
	"archive/zip"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// quick are fetch options for servers on 127.0.0.1: short timeouts, two attempts.
func quick() FetchOptions {
	return FetchOptions{ConnectTimeout: time.Second, HeaderTimeout: 300 * time.Millisecond,
		IdleTimeout: 300 * time.Millisecond, Attempts: 2, Backoff: 50 * time.Millisecond}
}

func oneDownload(url string, data []byte) *Definition {
	def := *registry["nmnist"]
	def.Downloads = []Download{{URL: url, File: "x.bin", MD5: md5hex(data)}}
	return &def
}

// A server that accepts connections and never answers: fetch gives up after its attempts, each bounded
// by the header timeout, with an error that says so.
func TestFetchSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			defer c.Close() // held open, silent, until the test ends
		}
	}()
	dir := t.TempDir()
	start := time.Now()
	err = Fetch(context.Background(), oneDownload("http://"+l.Addr().String()+"/x.bin", []byte("x")), dir, quick())
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "giving up after 2 attempts") || !strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("silent server: %v", err)
	}
	// Two attempts of 300 ms and a back-off of 50 ms; far less than the 10 s of a hang.
	if took > 5*time.Second {
		t.Fatalf("took %v", took)
	}
	if conns.Load() != 2 {
		t.Fatalf("%d connections; want one per attempt", conns.Load())
	}
}

// A server that sends the headers and part of the body, then stalls: every attempt resumes with a
// Range request from the bytes received, and after the last one the error names the stall and the kept
// .part file; a later fetch from a healthy server resumes from it and completes.
func TestFetchStallMidBody(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	var ranges []string
	var healthy atomic.Bool
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ranges = append(ranges, r.Header.Get("Range"))
		from := 0
		if rg := r.Header.Get("Range"); rg != "" {
			from, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
			w.Header().Set("Content-Range", "bytes "+strconv.Itoa(from)+"-"+strconv.Itoa(len(data)-1)+"/"+strconv.Itoa(len(data)))
			w.Header().Set("Content-Length", strconv.Itoa(len(data)-from))
			w.WriteHeader(http.StatusPartialContent)
		} else {
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		}
		if healthy.Load() {
			w.Write(data[from:])
			return
		}
		w.Write(data[from : from+1000])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // stall until the client gives up
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	def := oneDownload("http://"+l.Addr().String()+"/x.bin", data)
	dir := t.TempDir()
	start := time.Now()
	err = Fetch(context.Background(), def, dir, quick())
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "no data for 300ms after") || !strings.Contains(err.Error(), "x.bin.part keeps the 2000 bytes") {
		t.Fatalf("stalled server: %v", err)
	}
	if took > 5*time.Second {
		t.Fatalf("took %v", took)
	}
	if strings.Join(ranges, ",") != ",bytes=1000-" {
		t.Fatalf("requests asked for ranges %q; want the second to resume at 1000", ranges)
	}
	healthy.Store(true)
	if err := Fetch(context.Background(), def, dir, quick()); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "x.bin")); !bytes.Equal(got, data) {
		t.Fatal("the resumed download differs")
	}
	if ranges[len(ranges)-1] != "bytes=2000-" {
		t.Fatalf("the healthy fetch asked for %q; want a resume at 2000", ranges[len(ranges)-1])
	}
}

// A cancelled context (a signal) stops the download at once and keeps the .part file.
func TestFetchCancelKeepsPart(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 1<<16)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data[:500])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	dir := t.TempDir()
	o := quick()
	o.IdleTimeout = time.Minute
	err := Fetch(ctx, oneDownload("http://"+l.Addr().String()+"/x.bin", data), dir, o)
	if err == nil || !strings.Contains(err.Error(), "stopped after 500 bytes") || ctx.Err() == nil {
		t.Fatalf("cancelled fetch: %v", err)
	}
	if st, err := os.Stat(filepath.Join(dir, "x.bin.part")); err != nil || st.Size() != 500 {
		t.Fatalf("the .part file: %v", err)
	}
}

// A zip bomb — 256 MiB of zeros in a few hundred KB — is refused before a byte is written, whether its
// directory tells the truth or lies about the sizes; a download within its bound extracts.
func TestExtractBound(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("Train/0/bomb.bin")
	zero := make([]byte, 1<<20)
	for i := 0; i < 256; i++ {
		w.Write(zero)
	}
	zw.Close()
	if buf.Len() > 400<<10 {
		t.Fatalf("the bomb is %d bytes", buf.Len())
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "bomb.zip")
	os.WriteFile(p, buf.Bytes(), 0o644)
	err := extractAll(context.Background(), p, dir, Download{File: "bomb.zip"})
	if err == nil || !strings.Contains(err.Error(), "unpacks to more than 64.0 MiB") {
		t.Fatalf("bomb: %v", err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Fatalf("after the refusal the folder holds %d entries; want only the archive", len(es))
	}
	// A zip whose directory lies about the sizes is refused too (archive/zip stops an entry at its
	// declared size), leaving nothing.
	os.WriteFile(p, lieAboutSizes(t, buf.Bytes()), 0o644)
	if err := extractAll(context.Background(), p, dir, Download{File: "bomb.zip"}); err == nil {
		t.Fatal("a zip with false sizes was extracted")
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Fatalf("after the refusal the folder holds %d entries; want only the archive", len(es))
	}
	// A tar.gz of a hundred 1 MiB entries: each fits, their sum does not.
	many := map[string][]byte{}
	for i := 0; i < 100; i++ {
		many["Train/0/"+strconv.Itoa(i)+".bin"] = zero
	}
	tgz := filepath.Join(dir, "many.tgz")
	os.WriteFile(tgz, tarGz(t, many), 0o644)
	if err := extractAll(context.Background(), tgz, dir, Download{File: "many.tgz"}); err == nil || !strings.Contains(err.Error(), "unpacks to more than 64.0 MiB") {
		t.Fatalf("many entries: %v", err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 2 {
		t.Fatalf("after the refusal the folder holds %d entries; want only the archives", len(es))
	}
	os.WriteFile(p, buf.Bytes(), 0o644)
	// What the definition expects sets the bound: 2 MiB expected allows 2.5 MiB + 64 MiB.
	err = extractAll(context.Background(), p, dir, Download{File: "bomb.zip", Unpacked: 2 << 20})
	if err == nil || !strings.Contains(err.Error(), "66.5 MiB") || !strings.Contains(err.Error(), "about 2.0 MiB") {
		t.Fatalf("bound from the definition: %v", err)
	}
	if err := extractAll(context.Background(), p, dir, Download{File: "bomb.zip", Unpacked: 250 << 20}); err != nil {
		t.Fatalf("within the bound: %v", err)
	}
	if st, err := os.Stat(filepath.Join(dir, "Train", "0", "bomb.bin")); err != nil || st.Size() != 256<<20 {
		t.Fatalf("extracted: %v", err)
	}
}

// lieAboutSizes rewrites a one-entry zip so that its local header and central directory declare an
// uncompressed size of 1,000 bytes.
func lieAboutSizes(t *testing.T, z []byte) []byte {
	t.Helper()
	out := bytes.Clone(z)
	patched := 0
	for i := 0; i+4 <= len(out); i++ {
		switch string(out[i : i+4]) {
		case "PK\x03\x04": // local header: uncompressed size at +22
			putLE32(out[i+22:], 1000)
			patched++
		case "PK\x01\x02": // central directory: uncompressed size at +24
			putLE32(out[i+24:], 1000)
			patched++
		case "PK\x07\x08": // data descriptor: crc, compressed, uncompressed at +12
			putLE32(out[i+12:], 1000)
			patched++
		}
	}
	if patched < 2 {
		t.Fatal("could not patch the zip")
	}
	return out
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
