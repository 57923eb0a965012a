package atomicfile

import "syscall"

// startWriteback asks the kernel to start writing the file's bytes [off, off+n) to disk, without
// waiting for it.
func startWriteback(f *File, off, n int64) {
	// A hint: where it fails (a file system without it) the sync before the rename does all the work.
	_ = syscall.SyncFileRange(int(f.File.Fd()), off, n, syncFileRangeWrite)
}

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE: start writing the range's dirty pages, wait for nothing.
const syncFileRangeWrite = 2
