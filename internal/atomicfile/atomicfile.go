// Package atomicfile writes an output file through a temporary file in the same folder, renamed into place
// only on success, so a failed run never leaves a partial output behind (ARCHITECTURE.md, CLI contract).
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// File is an output being written. Commit makes it visible under its final name; Abort removes it.
type File struct {
	*os.File
	final string
	done  bool
}

// Create opens a temporary file next to path.
func Create(path string) (*File, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create output %s: %w", path, err)
	}
	// CreateTemp makes the file private (0600); an output is an ordinary file, so give it the usual mode.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("create output %s: %w", path, err)
	}
	return &File{File: f, final: path}, nil
}

// FinalPath returns the final path (not the temporary one).
func (f *File) FinalPath() string { return f.final }

// Commit flushes, closes and renames the temporary file into place.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		os.Remove(f.File.Name())
		return fmt.Errorf("write %s: %w", f.final, err)
	}
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("write %s: %w", f.final, err)
	}
	if err := os.Rename(f.File.Name(), f.final); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("move output into place: %w", err)
	}
	return nil
}

// Abort discards the temporary file. Safe to call after Commit (then it does nothing).
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

// Dir is an output folder built under a temporary name and renamed into place on success.
// The final folder must not exist yet (we never merge into, or delete, a user's folder).
type Dir struct {
	Tmp   string // write here
	final string
	done  bool
}

// CreateDir prepares a temporary folder next to path.
func CreateDir(path string) (*Dir, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("output folder %s already exists; remove it or choose another", path)
	}
	parent := filepath.Dir(filepath.Clean(path))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create output folder %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("create output folder %s: %w", path, err)
	}
	return &Dir{Tmp: tmp, final: path}, nil
}

// Commit renames the folder into place.
func (d *Dir) Commit() error {
	if d.done {
		return nil
	}
	d.done = true
	if err := os.Rename(d.Tmp, d.final); err != nil {
		os.RemoveAll(d.Tmp)
		return fmt.Errorf("move output folder into place: %w", err)
	}
	return nil
}

// Abort removes the temporary folder and everything in it.
func (d *Dir) Abort() {
	if d.done {
		return
	}
	d.done = true
	os.RemoveAll(d.Tmp)
}
