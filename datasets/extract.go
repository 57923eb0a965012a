package datasets

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/evtool/evtool/internal/atomicfile"
)

// maxEntries bounds the files of one download (N-MNIST has 70,000, ASL-DVS about 100,000): an archive
// of millions of empty entries would exhaust the folder's inodes.
const maxEntries = 2_000_000

// budget is what an extraction may still write: bytes (bounded by what the definition expects, with a
// margin) and entries.
type budget struct {
	bytes, limit int64
	entries      int
	expected     string // for the error: what the definition expects
}

// newBudget bounds the extraction of d, an archive of archiveSize bytes.
func newBudget(d Download, archiveSize int64) *budget {
	if d.Unpacked > 0 {
		limit := d.Unpacked + d.Unpacked/4 + 64<<20
		return &budget{bytes: limit, limit: limit, expected: fmt.Sprintf("the dataset's files take about %s", mib(d.Unpacked))}
	}
	limit := max(16*archiveSize, 64<<20)
	return &budget{bytes: limit, limit: limit, expected: fmt.Sprintf("16 times the archive's %s", mib(archiveSize))}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func (b *budget) tooLarge() error {
	return fmt.Errorf("the archive unpacks to more than %s, the bound for it (%s, with a margin): a corrupt or hostile archive; nothing was extracted",
		mib(b.limit), b.expected)
}

// claim reserves an entry of declared size n (-1 when unknown), refusing what the budget cannot hold.
func (b *budget) claim(n int64) error {
	b.entries++
	if b.entries > maxEntries {
		return fmt.Errorf("the archive holds more than %d entries: a corrupt or hostile archive; nothing was extracted", maxEntries)
	}
	if n > b.bytes {
		return b.tooLarge()
	}
	return nil
}

// extractAll unpacks the download d at archive into dir: first into a hidden scratch folder (removed on
// a signal, see atomicfile), then — with any inner archives unpacked too — its top-level entries are
// moved into dir. A failure, a cancelled ctx or an archive larger than its bound leaves dir as it was.
func extractAll(ctx context.Context, archive, dir string, d Download) error {
	st, err := os.Stat(archive)
	if err != nil {
		return err
	}
	b := newBudget(d, st.Size())
	tmp, err := atomicfile.TempDir(dir, "extract-"+filepath.Base(archive))
	if err != nil {
		return err
	}
	defer atomicfile.RemoveTemp(tmp)
	if err := extract(ctx, archive, tmp, b); err != nil {
		return err
	}
	for _, name := range d.Inner {
		// A name may be a pattern (ASL-DVS ships one zip per letter): every match is unpacked.
		var found []string
		filepath.WalkDir(tmp, func(p string, e fs.DirEntry, err error) error {
			if ok, _ := filepath.Match(name, e.Name()); err == nil && !e.IsDir() && ok {
				found = append(found, p)
			}
			return nil
		})
		if len(found) == 0 {
			return fmt.Errorf("the archive does not contain %s", name)
		}
		for _, p := range found {
			if err := extract(ctx, p, filepath.Dir(p), b); err != nil {
				return fmt.Errorf("%s: %w", filepath.Base(p), err)
			}
			os.Remove(p)
		}
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		dst := filepath.Join(dir, e.Name())
		if _, err := os.Stat(dst); err == nil {
			return fmt.Errorf("%s already exists; remove it or fetch into an empty folder", dst)
		}
	}
	return atomicfile.Guard(dir, func() error {
		for _, e := range entries {
			if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
		return nil
	})
}

// extract unpacks a zip, tar.gz/tgz or tar file into dir, refusing entries that would land outside it
// and content beyond the budget.
func extract(ctx context.Context, archive, dir string, b *budget) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	switch {
	case n >= 4 && string(magic[:4]) == "PK\x03\x04":
		st, err := f.Stat()
		if err != nil {
			return err
		}
		return extractZip(ctx, f, st.Size(), dir, b)
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", archive, err)
		}
		defer gz.Close()
		return extractTar(ctx, gz, dir, b)
	case strings.HasSuffix(archive, ".tar"):
		return extractTar(ctx, f, dir, b)
	}
	return fmt.Errorf("%s: not a zip, tar.gz or tar archive", archive)
}

// safeJoin returns dir/name, or an error when name escapes dir.
func safeJoin(dir, name string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(name))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("archive entry %q points outside the target folder", name)
	}
	return filepath.Join(dir, clean), nil
}

func extractZip(ctx context.Context, r io.ReaderAt, size int64, dir string, b *budget) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return err
	}
	// The sizes the directory declares are checked first (a bomb is refused before a byte is
	// written); the copies are bounded too, since a declared size may lie.
	var declared uint64
	for _, zf := range zr.File {
		declared += zf.UncompressedSize64
		if declared > uint64(b.bytes) {
			return b.tooLarge()
		}
	}
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		dst, err := safeJoin(dir, zf.Name)
		if err != nil {
			return err
		}
		if err := b.claim(int64(min(zf.UncompressedSize64, 1<<62))); err != nil {
			return err
		}
		if zf.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			continue
		}
		if !zf.Mode().IsRegular() {
			continue // links and devices have no place in a dataset
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", zf.Name, err)
		}
		err = writeFile(ctx, dst, rc, b)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", zf.Name, err)
		}
	}
	return nil
}

func extractTar(ctx context.Context, r io.Reader, dir string, b *budget) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		dst, err := safeJoin(dir, h.Name)
		if err != nil {
			return err
		}
		if err := b.claim(h.Size); err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(ctx, dst, tr, b); err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
		}
	}
}

// writeFile copies r to dst, taking what it writes from the budget.
func writeFile(ctx context.Context, dst string, r io.Reader, b *budget) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, b.bytes+1))
	b.bytes -= n
	if err == nil && b.bytes < 0 {
		err = b.tooLarge()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ctxReader stops a copy when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
