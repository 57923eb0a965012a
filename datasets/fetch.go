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
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FetchOptions steer Fetch.
type FetchOptions struct {
	Client *http.Client
	// Progress is called as bytes arrive: file name, bytes so far, total (-1 when unknown).
	Progress func(file string, done, total int64)
	// Log receives one line per step (may be nil).
	Log func(format string, a ...any)
}

// ManualDownloadError says that a dataset must be downloaded by hand, and where from.
type ManualDownloadError struct{ Def *Definition }

func (e *ManualDownloadError) Error() string {
	return fmt.Sprintf("%s cannot be downloaded automatically: get %s from %s, place it in the --to folder, "+
		"then run `evtool datasets prepare %s --from FOLDER`", e.Def.Name, strings.Join(e.Def.ManualFiles, "; "),
		e.Def.ManualPage, e.Def.Name)
}

// doneMarker is written after a download was verified (and extracted): its presence is the only thing
// that makes a file count as fetched.
func doneMarker(dir string, d Download) string {
	return filepath.Join(dir, ".evtool-fetched-"+d.File)
}

// Fetch downloads every file of def into dir, resuming partial downloads, verifying the published
// checksums and extracting archives. A file counts as done only once its checksum matched and its
// extraction finished; anything else is redone (downloads resume from their .part file).
func Fetch(ctx context.Context, def *Definition, dir string, o FetchOptions) error {
	if !def.Fetchable() {
		return &ManualDownloadError{Def: def}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 0}
	}
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	for _, d := range def.Downloads {
		if _, err := os.Stat(doneMarker(dir, d)); err == nil {
			logf("%s: already fetched and verified", d.File)
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
		logf("%s: checksum ok", d.File)
		if d.Extract {
			if err := extractAll(path, dir, d.Inner); err != nil {
				return fmt.Errorf("extract %s: %w", d.File, err)
			}
			logf("%s: extracted", d.File)
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
// HTTP Range request. Transient failures are retried a few times, each resuming where it stopped.
func download(ctx context.Context, o FetchOptions, d Download, path string) error {
	part := path + ".part"
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		done, err := downloadOnce(ctx, o, d, part)
		if err == nil {
			return os.Rename(part, path)
		}
		lastErr = err
		var perm *permanentError
		if errors.As(err, &perm) || ctx.Err() != nil {
			return err
		}
		_ = done
	}
	return fmt.Errorf("download %s: giving up after 5 attempts: %w", d.URL, lastErr)
}

type permanentError struct{ error }

func downloadOnce(ctx context.Context, o FetchOptions, d Download, part string) (int64, error) {
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return 0, &permanentError{err}
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		return have, fmt.Errorf("download %s: %w", d.URL, err)
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
		return 0, fmt.Errorf("download %s: server refused to resume; restarting", d.URL)
	default:
		return have, &permanentError{fmt.Errorf("download %s: HTTP %s", d.URL, resp.Status)}
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return have, &permanentError{err}
	}
	w := &progressWriter{w: f, done: have, total: total, file: d.File, fn: o.Progress}
	_, cerr := io.Copy(w, resp.Body)
	if err := f.Close(); cerr == nil {
		cerr = err
	}
	if cerr != nil {
		return w.done, fmt.Errorf("download %s: interrupted after %d bytes: %w", d.URL, w.done, cerr)
	}
	if total >= 0 && w.done != total {
		return w.done, fmt.Errorf("download %s: got %d of %d bytes", d.URL, w.done, total)
	}
	return w.done, nil
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
