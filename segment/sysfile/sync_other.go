//go:build unix && !linux

package sysfile

import "golang.org/x/sys/unix"

// Datasync flushes the file's data. golang.org/x/sys has fdatasync on Linux
// only; elsewhere fsync, which also covers the metadata, stands in.
func Datasync(fd int) error {
	for {
		if err := unix.Fsync(fd); err != unix.EINTR {
			return err
		}
	}
}
