//go:build unix

package input

import (
	"os"
	"syscall"
)

// OpenFile opens a file for reading. os.Open would also try to register the file with the network
// poller and toggle its blocking mode — five system calls that fail or undo each other for a regular
// file, about a quarter of the calls evtool makes per small file of a dataset. A descriptor opened here
// and handed to os.NewFile is read with plain blocking calls, as os.Open's regular files are anyway.
func OpenFile(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
