package segment

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// preadFull reads len(b) bytes at off.
func preadFull(fd int, b []byte, off int64) error {
	for len(b) > 0 {
		r, err := unix.Pread(fd, b, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if r == 0 {
			return fmt.Errorf("segment: short read at %d", off)
		}
		b = b[r:]
		off += int64(r)
	}
	return nil
}

func openFile(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0o644)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func fileSize(fd int) (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, err
	}
	return st.Size, nil
}

// mapFile maps [0, n) of fd shared; writable only for the segment being
// appended to, so a stray write elsewhere faults instead of corrupting data.
func mapFile(fd int, n int64, writable bool) ([]byte, error) {
	prot := unix.PROT_READ
	if writable {
		prot |= unix.PROT_WRITE
	}
	return mmap(fd, 0, int(n), prot, unix.MAP_SHARED)
}

// mmap is unix.Mmap; tests make it fail the way the kernel does at
// vm.max_map_count (ENOMEM).
var mmap = unix.Mmap

func unmap(b []byte) error {
	if b == nil {
		return nil
	}
	return unix.Munmap(b)
}

// withFile runs fn on a descriptor of path open for the moment.
func withFile(path string, flags int, fn func(fd int) error) error {
	fd, err := openFile(path, flags)
	if err != nil {
		return err
	}
	err = fn(fd)
	_ = unix.Close(fd)
	return err
}
