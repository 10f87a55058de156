//go:build linux

package segment

import (
	"golang.org/x/sys/unix"

	"github.com/warrenmq/warren/segment/sysfile"
)

// preallocate reserves disk blocks for [off, off+n) so that a store through
// the mapping never meets a full disk: a page fault that cannot allocate a
// block raises SIGBUS, which Go cannot turn into an error. With the blocks
// reserved, a full disk shows up here as ENOSPC instead.
func preallocate(fd int, off, n int64) error {
	_, err := fallocate(fd, off, n)
	return err
}

// preallocateWritten is preallocate for blocks that must also be written
// (zeroed), not left as unwritten extents. fallocate goes first: it fails
// whole when the disk cannot hold the range, so a reservation that does not
// fit takes nothing, where writing zeros alone would fill the disk to its
// last block before failing (tripping the disk alarm, and making every
// other writer meet ENOSPC until the failed segment is removed).
func preallocateWritten(fd int, off, n int64) error {
	zeroed, err := fallocate(fd, off, n)
	if err != nil || zeroed {
		return err
	}
	return sysfile.ZeroFill(fd, off, n)
}

// fallocate reserves [off, off+n); zeroed reports that the file system
// could not and zeros were written instead.
func fallocate(fd int, off, n int64) (zeroed bool, err error) {
	for {
		err := unix.Fallocate(fd, 0, off, n)
		switch err {
		case unix.EINTR:
			continue
		case unix.EOPNOTSUPP:
			return true, sysfile.ZeroFill(fd, off, n)
		}
		return false, err
	}
}

// adviseRead tunes a read-only mapping: readers go through segments front
// to back, so ask for aggressive read-ahead; and allow huge page mappings
// of the page cache's large folios, which turns hundreds of page faults per
// segment into a handful (faults are what reading through a mapping costs).
// Neither is an error if the kernel says no.
func adviseRead(b []byte) {
	_ = unix.Madvise(b, unix.MADV_SEQUENTIAL)
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
}

// releasePages drops b's pages from the mapping (not from the page cache):
// the next touch faults them back in from the file.
func releasePages(b []byte) { _ = unix.Madvise(b, unix.MADV_DONTNEED) }

// writeRecord writes a record too big for the buffer straight to the file,
// gathering its parts with pwritev instead of copying them together.
func writeRecord(fd int, off int64, r *Record, n int64, sum bool) error {
	var h [HeaderSize]byte
	if sum {
		encodeHeader(h[:], r)
	} else {
		encodeHeaderUnsummed(h[:], r)
	}
	pad := sysfile.Zeros(int(n) - recordLen(r) - prefixSize)
	iov := [][]byte{h[:], r.Exchange, r.RoutingKey, r.Props, r.Body, pad}
	total := n
	for total > 0 {
		w, err := unix.Pwritev(fd, iov, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		off += int64(w)
		total -= int64(w)
		for w > 0 && len(iov) > 0 {
			k := min(w, len(iov[0]))
			iov[0] = iov[0][k:]
			w -= k
			if len(iov[0]) == 0 {
				iov = iov[1:]
			}
		}
	}
	return nil
}

// dataEnd is where the file's last stretch of data ends: past it are only
// holes (a head's capacity is set with ftruncate, its blocks reserved as it
// fills). Where the file system cannot tell, it is the file's size.
func dataEnd(fd int, size int64) int64 {
	end := int64(0)
	for off := int64(0); off < size; {
		d, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if err == unix.ENXIO {
			break // only holes from off on
		}
		if err != nil {
			return size
		}
		h, err := unix.Seek(fd, d, unix.SEEK_HOLE)
		if err != nil {
			return size
		}
		end, off = h, h
	}
	return min(end, size)
}
