// Package readerat opens a file for a reader that works by offset (io.ReaderAt) and needs the file's
// size up front, as the HDF5 and MATLAB readers do: one place for the open, stat and close-on-error.
package readerat

import (
	"io"
	"os"
)

// Open opens path and hands it, with its size and path (for errors), to newFile. On success the caller
// owns the returned closer; on any error the file is closed.
func Open[T any](path string, newFile func(r io.ReaderAt, size int64, name string) (T, error)) (T, io.Closer, error) {
	var zero T
	fh, err := os.Open(path)
	if err != nil {
		return zero, nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return zero, nil, err
	}
	v, err := newFile(fh, st.Size(), path)
	if err != nil {
		fh.Close()
		return zero, nil, err
	}
	return v, fh, nil
}
