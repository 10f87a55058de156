package sysfile

import "golang.org/x/sys/unix"

// zeros is the source of ZeroFill's writes and of Zeros' views.
var zeros [64 << 10]byte

// ZeroChunk is the longest slice Zeros returns.
const ZeroChunk = len(zeros)

// Zeros returns n zero bytes, n at most ZeroChunk. The slice is shared:
// callers read it (checksums over zeros, padding in a gathered write) and
// never write to it.
func Zeros(n int) []byte { return zeros[:n] }

// PwriteAll writes all of b at off, retrying short writes and EINTR.
func PwriteAll(fd int, b []byte, off int64) error {
	for len(b) > 0 {
		w, err := unix.Pwrite(fd, b, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[w:]
		off += int64(w)
	}
	return nil
}

// ZeroFill writes zeros over [off, off+n): the portable way to make the file
// system allocate the blocks, so that a store through a mapping of them can
// never meet a full disk (a SIGBUS Go cannot turn into an error).
func ZeroFill(fd int, off, n int64) error {
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if err := PwriteAll(fd, zeros[:k], off); err != nil {
			return err
		}
		off += k
		n -= k
	}
	return nil
}
