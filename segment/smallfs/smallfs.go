//go:build linux

// Package smallfs mounts a small tmpfs for tests that need a disk that
// fills up. Mounting needs root (CAP_SYS_ADMIN); where the machine cannot
// mount one, the test is skipped with the reason.
package smallfs

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Mount mounts a tmpfs of size bytes on a fresh directory and unmounts it
// when the test ends.
func Mount(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("needs a small tmpfs to fill up and cannot mount one here (mount -t tmpfs needs root; euid %d): %v", os.Geteuid(), err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

// Fill writes a file of zeros at path until the file system is full and
// returns how many bytes it took.
func Fill(t testing.TB, path string) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("fill: %v", err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	var n int64
	for {
		w, err := f.Write(buf)
		n += int64(w)
		if err != nil {
			if isNoSpace(err) {
				return n
			}
			t.Fatalf("fill: %v", err)
		}
	}
}

func isNoSpace(err error) bool {
	pe, ok := err.(*os.PathError)
	return ok && pe.Err == unix.ENOSPC
}
