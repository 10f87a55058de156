//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A mode is a file (how it was prepared) and a method (how a write is made
// durable): "falloc/fdatasync" is Warren's segments.
var (
	files   = []string{"sparse", "falloc", "zeroed"}
	methods = []string{"fdatasync", "rwfdsync", "odsync", "odirect"}
)

func allModes() []string {
	var m []string
	for _, f := range files {
		for _, s := range methods {
			if f == "sparse" && s == "odirect" {
				continue // O_DIRECT past the end falls back to buffered I/O
			}
			m = append(m, f+"/"+s)
		}
	}
	return m
}

type result struct {
	writes   int
	wall     time.Duration // whole run
	p50, p99 time.Duration // per durable write
	cpu, sys time.Duration // the process's, whole run
}

func (r result) perSec() float64 { return float64(r.writes) / r.wall.Seconds() }
func (r result) cpuPer() float64 {
	return float64(r.cpu) / float64(time.Microsecond) / float64(r.writes)
}
func (r result) sysPer() float64 {
	return float64(r.sys) / float64(time.Microsecond) / float64(r.writes)
}

// measure runs k writers of n durable writes each on one fresh file.
func measure(dir, mode string, k, n, size int) (result, error) {
	file, method, _ := strings.Cut(mode, "/")
	path := filepath.Join(dir, fmt.Sprintf("warren-fsynccost-%d", os.Getpid()))
	defer os.Remove(path)
	total := int64(k) * int64(n) * int64(size)
	flags := unix.O_RDWR | unix.O_CREAT | unix.O_TRUNC | unix.O_CLOEXEC
	fd, err := unix.Open(path, flags, 0o600)
	if err != nil {
		return result{}, err
	}
	switch file {
	case "falloc":
		err = unix.Fallocate(fd, 0, 0, total)
	case "zeroed":
		err = zeroFill(fd, total)
	}
	if err == nil {
		err = unix.Fsync(fd)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		unix.Close(fd)
		return result{}, err
	}
	switch method {
	case "odsync", "odirect":
		// Reopened with the flag: the zero fill above went through the
		// page cache.
		unix.Close(fd)
		extra := unix.O_DSYNC
		if method == "odirect" {
			extra |= unix.O_DIRECT
		}
		if fd, err = unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC|extra, 0); err != nil {
			return result{}, err
		}
	}
	defer unix.Close(fd)

	lat := make([][]time.Duration, k)
	errs := make([]error, k)
	var wg sync.WaitGroup
	var before, after unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &before); err != nil {
		return result{}, err
	}
	start := time.Now()
	for w := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			lat[w], errs[w] = writer(fd, method, w, k, n, size)
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	if err := unix.Getrusage(unix.RUSAGE_SELF, &after); err != nil {
		return result{}, err
	}
	for _, err := range errs {
		if err != nil {
			return result{}, err
		}
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	user := tv(after.Utime) - tv(before.Utime)
	sys := tv(after.Stime) - tv(before.Stime)
	return result{
		writes: len(all), wall: wall,
		p50: all[len(all)/2], p99: all[len(all)*99/100],
		cpu: user + sys, sys: sys,
	}, nil
}

// writer is writer w of k: its i-th write goes to block i*k+w, so the
// writers interleave through the file as a queue's appends would.
func writer(fd int, method string, w, k, n, size int) ([]time.Duration, error) {
	buf := alignedBuf(size)
	for i := range buf {
		buf[i] = byte(i*7 + w)
	}
	lat := make([]time.Duration, 0, n)
	iov := [][]byte{buf}
	for i := range n {
		off := int64(i*k+w) * int64(size)
		t := time.Now()
		var err error
		switch method {
		case "rwfdsync":
			_, err = unix.Pwritev2(fd, iov, off, unix.RWF_DSYNC)
		case "odsync", "odirect":
			_, err = unix.Pwrite(fd, buf, off)
		default:
			if _, err = unix.Pwrite(fd, buf, off); err == nil {
				err = unix.Fdatasync(fd)
			}
		}
		if err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t))
	}
	return lat, nil
}

// alignedBuf is size bytes at a 4 KiB boundary, as O_DIRECT wants.
func alignedBuf(size int) []byte {
	const align = 4096
	b := make([]byte, size+align)
	off := int(uintptr(unsafe.Pointer(&b[0])) & (align - 1))
	if off != 0 {
		off = align - off
	}
	return b[off : off+size]
}

func zeroFill(fd int, n int64) error {
	z := make([]byte, 1<<20)
	for off := int64(0); off < n; off += int64(len(z)) {
		c := min(int64(len(z)), n-off)
		if _, err := unix.Pwrite(fd, z[:c], off); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fsync(fd)
}

func tv(t unix.Timeval) time.Duration {
	return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
}
