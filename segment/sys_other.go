//go:build unix && !linux

package segment

import "github.com/warrenmq/warren/segment/sysfile"

// The portable fallback: no fallocate, so blocks are reserved by writing
// zeros, and fsync stands in for fdatasync. madvise hints are skipped.

func preallocate(fd int, off, n int64) error { return sysfile.ZeroFill(fd, off, n) }

func preallocateWritten(fd int, off, n int64) error { return sysfile.ZeroFill(fd, off, n) }

func adviseRead([]byte) {}

func releasePages([]byte) {}

// writeRecord writes a record too big for the staging buffer. Without
// pwritev the record is put together in a temporary buffer: big records
// are rare, and this is the portable path.
func writeRecord(fd int, off int64, r *Record, n int64, sum bool) error {
	b := make([]byte, n)
	if sum {
		encode(b, r)
	} else {
		encodeUnsummed(b, r)
	}
	return sysfile.PwriteAll(fd, b, off)
}

func dataEnd(_ int, size int64) int64 { return size }
