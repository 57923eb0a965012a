package datasets

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FetchOptions steer Fetch. Zero values take the defaults.
type FetchOptions struct {
	// Client makes the requests; nil builds one with the timeouts below.
	Client *http.Client
	// ConnectTimeout bounds the TCP connection and the TLS handshake (default 30 s).
	ConnectTimeout time.Duration
	// HeaderTimeout bounds the wait for the response headers once the request is sent (default 60 s).
	HeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the next bytes of a response body: a transfer that stalls for
	// longer is cut and retried (default 60 s).
	IdleTimeout time.Duration
	// Attempts is how often a file is requested before Fetch gives up (default 5); every attempt
	// resumes from the bytes already in the file's .part.
	Attempts int
	// Backoff is the wait before the second attempt, doubled before each later one up to 1 minute
	// (default 2 s).
	Backoff time.Duration
	// Progress is called as bytes arrive: file name, bytes so far, total (-1 when unknown).
	Progress func(file string, done, total int64)
	// Log receives one line per step (may be nil).
	Log func(format string, a ...any)
}

func (o *FetchOptions) defaults() {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 30 * time.Second
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = 60 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 60 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.Client == nil {
		dialer := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
		o.Client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   o.ConnectTimeout,
			ResponseHeaderTimeout: o.HeaderTimeout,
			ForceAttemptHTTP2:     true,
		}}
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
}

// ManualDownloadError says that a dataset must be downloaded by hand, and where from.
type ManualDownloadError struct{ Def *Definition }

func (e *ManualDownloadError) Error() string {
	return fmt.Sprintf("%s cannot be downloaded automatically: get %s from %s, place it in the destination folder, "+
		"then prepare it from that folder", e.Def.Name, strings.Join(e.Def.ManualFiles, "; "), e.Def.ManualPage)
}

// doneMarker is written after a download was verified (and extracted): its presence is the only thing
// that makes a file count as fetched.
func doneMarker(dir string, d Download) string {
	return filepath.Join(dir, ".evtool-fetched-"+d.File)
}

// Fetch downloads every file of def into dir, resuming partial downloads, verifying the published
// checksums and extracting archives. A file counts as done only once its checksum matched and its
// extraction finished; anything else is redone (downloads resume from their .part file, which an
// error or a cancelled ctx leaves in place for the next call).
func Fetch(ctx context.Context, def *Definition, dir string, o FetchOptions) error {
	if !def.Fetchable() {
		return &ManualDownloadError{Def: def}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	o.defaults()
	for _, d := range def.Downloads {
		if _, err := os.Stat(doneMarker(dir, d)); err == nil {
			o.Log("%s: already fetched and verified", d.File)
			continue
		}
		path := filepath.Join(dir, d.File)
		if err := verifiedOrRemoved(path, d); err != nil {
			if err := download(ctx, o, d, path); err != nil {
				return err
			}
			if err := verify(path, d); err != nil {
				os.Remove(path)
				return err
			}
		}
		o.Log("%s: checksum ok", d.File)
		if d.Extract {
			if err := extractAll(ctx, path, dir, d); err != nil {
				return fmt.Errorf("extract %s: %w", path, err)
			}
			o.Log("%s: extracted", d.File)
		}
		if err := os.WriteFile(doneMarker(dir, d), []byte(d.MD5+d.SHA256+"\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// verifiedOrRemoved returns nil when a complete, verified file is already there.
func verifiedOrRemoved(path string, d Download) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	if err := verify(path, d); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

func verify(path string, d Download) error {
	if d.MD5 == "" && d.SHA256 == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var hs []hash.Hash
	m, s := md5.New(), sha256.New()
	if d.MD5 != "" {
		hs = append(hs, m)
	}
	if d.SHA256 != "" {
		hs = append(hs, s)
	}
	ws := make([]io.Writer, len(hs))
	for i, h := range hs {
		ws[i] = h
	}
	if _, err := io.Copy(io.MultiWriter(ws...), f); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if d.MD5 != "" {
		if got := hex.EncodeToString(m.Sum(nil)); !strings.EqualFold(got, d.MD5) {
			return fmt.Errorf("%s: checksum mismatch: md5 %s, expected %s (the download is corrupt or the file changed upstream); it was deleted",
				d.File, got, d.MD5)
		}
	}
	if d.SHA256 != "" {
		if got := hex.EncodeToString(s.Sum(nil)); !strings.EqualFold(got, d.SHA256) {
			return fmt.Errorf("%s: checksum mismatch: sha256 %s, expected %s; it was deleted", d.File, got, d.SHA256)
		}
	}
	return nil
}

// download fetches d.URL into path, through path+".part", resuming from the .part file's size with an
// HTTP Range request. Transient failures (timeouts, dropped connections, 5xx, 429) are retried with a
// doubling back-off, each attempt resuming where the last one stopped; the last failure is reported with
// how many bytes the .part file keeps for the next fetch.
func download(ctx context.Context, o FetchOptions, d Download, path string) error {
	part := path + ".part"
	var lastErr error
	wait := o.Backoff
	for attempt := 1; attempt <= o.Attempts; attempt++ {
		if attempt > 1 {
			o.Log("%s: %v; attempt %d of %d in %s", d.File, lastErr, attempt, o.Attempts, wait)
			select {
			case <-ctx.Done():
				return interrupted(ctx, d, part)
			case <-time.After(wait):
			}
			wait = min(2*wait, time.Minute)
		}
		err := downloadOnce(ctx, o, d, part)
		if err == nil {
			return os.Rename(part, path)
		}
		if ctx.Err() != nil {
			return interrupted(ctx, d, part)
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			return perm.error
		}
		lastErr = err
	}
	kept := ""
	if st, err := os.Stat(part); err == nil && st.Size() > 0 {
		kept = fmt.Sprintf("; %s keeps the %d bytes received, and fetching again resumes from there", part, st.Size())
	}
	return fmt.Errorf("download %s: giving up after %d attempts: %w%s", d.URL, o.Attempts, lastErr, kept)
}

// interrupted is the error of a download stopped by ctx: the .part file stays for the next fetch.
func interrupted(ctx context.Context, d Download, part string) error {
	n := int64(0)
	if st, err := os.Stat(part); err == nil {
		n = st.Size()
	}
	return fmt.Errorf("download %s: stopped after %d bytes, kept in %s for the next fetch to resume: %w", d.URL, n, part, ctx.Err())
}

// permanentError is a failure that another attempt would not fix (an HTTP 404, a bad URL, a local
// file error).
type permanentError struct{ error }

// errStalled is the error of a body that sent nothing for IdleTimeout.
var errStalled = errors.New("stalled")

func downloadOnce(parent context.Context, o FetchOptions, d Download, part string) error {
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	// The attempt has its own context, cancelled when the body stalls for IdleTimeout.
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return &permanentError{fmt.Errorf("download %s: %w", d.URL, err)}
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("download %s: no answer within the timeout (connect %s, headers %s): %w", d.URL, o.ConnectTimeout, o.HeaderTimeout, err)
		}
		return fmt.Errorf("download %s: %w", d.URL, err)
	}
	defer resp.Body.Close()
	flags := os.O_CREATE | os.O_WRONLY
	total := int64(-1)
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		flags |= os.O_APPEND
		if resp.ContentLength >= 0 {
			total = have + resp.ContentLength
		}
	case resp.StatusCode == http.StatusOK:
		flags |= os.O_TRUNC // the server ignored the Range: start over
		have = 0
		total = resp.ContentLength
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		// The .part is already complete (or longer than the file): restart cleanly.
		os.Remove(part)
		return fmt.Errorf("download %s: the server refused to resume; restarting", d.URL)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout:
		return fmt.Errorf("download %s: HTTP %s", d.URL, resp.Status)
	default:
		return &permanentError{fmt.Errorf("download %s: HTTP %s", d.URL, resp.Status)}
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return &permanentError{err}
	}
	w := &progressWriter{w: f, done: have, total: total, file: d.File, fn: o.Progress}
	body := &idleReader{r: resp.Body, timer: time.AfterFunc(o.IdleTimeout, func() { cancel(errStalled) }), idle: o.IdleTimeout}
	_, cerr := io.Copy(w, body)
	body.timer.Stop()
	if err := f.Close(); cerr == nil {
		cerr = err
	}
	if errors.Is(context.Cause(ctx), errStalled) {
		return fmt.Errorf("download %s: no data for %s after %d bytes (stalled)", d.URL, o.IdleTimeout, w.done)
	}
	if cerr != nil {
		return fmt.Errorf("download %s: interrupted after %d bytes: %w", d.URL, w.done, cerr)
	}
	if total >= 0 && w.done != total {
		return fmt.Errorf("download %s: got %d of %d bytes", d.URL, w.done, total)
	}
	return nil
}

// idleReader restarts its timer whenever bytes arrive: the timer fires (cancelling the request) only
// after idle without data.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	idle  time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.timer.Reset(r.idle)
	}
	return n, err
}

type progressWriter struct {
	w     io.Writer
	done  int64
	total int64
	file  string
	fn    func(string, int64, int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	if p.fn != nil {
		p.fn(p.file, p.done, p.total)
	}
	return n, err
}
