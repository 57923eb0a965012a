//go:build !unix

package input

import "os"

// OpenFile opens a file for reading (os.Open; the Unix build saves the poller's system calls).
func OpenFile(path string) (*os.File, error) { return os.Open(path) }
