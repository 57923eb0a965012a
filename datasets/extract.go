package datasets

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// extractAll unpacks archive into dir: first into a temporary folder, then (with any inner archives
// unpacked too) its top-level entries are moved into dir. A failure leaves dir as it was.
func extractAll(archive, dir string, inner []string) error {
	tmp, err := os.MkdirTemp(dir, ".extract-"+filepath.Base(archive)+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := extract(archive, tmp); err != nil {
		return err
	}
	for _, name := range inner {
		// A name may be a pattern (ASL-DVS ships one zip per letter): every match is unpacked.
		var found []string
		filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
			if ok, _ := filepath.Match(name, d.Name()); err == nil && !d.IsDir() && ok {
				found = append(found, p)
			}
			return nil
		})
		if len(found) == 0 {
			return fmt.Errorf("the archive does not contain %s", name)
		}
		for _, p := range found {
			if err := extract(p, filepath.Dir(p)); err != nil {
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
	for _, e := range entries {
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// extract unpacks a zip, tar.gz/tgz or tar file into dir, refusing entries that would land outside it.
func extract(archive, dir string) error {
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
		return extractZip(f, st.Size(), dir)
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", archive, err)
		}
		defer gz.Close()
		return extractTar(gz, dir)
	case strings.HasSuffix(archive, ".tar"):
		return extractTar(f, dir)
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

func extractZip(r io.ReaderAt, size int64, dir string) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return err
	}
	for _, zf := range zr.File {
		dst, err := safeJoin(dir, zf.Name)
		if err != nil {
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
		err = writeFile(dst, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", zf.Name, err)
		}
	}
	return nil
}

func extractTar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
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
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(dst, tr); err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
		}
	}
}

func writeFile(dst string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
