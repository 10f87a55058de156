// Package sysfile holds the small file-system helpers that package segment
// and package index both need: positioned writes that finish, zero-filling
// a range, flushing a file's data, and the CRC-32C table their on-disk
// formats checksum with. Each retries EINTR itself, so callers never do.
//
// It imports only the standard library and golang.org/x/sys/unix.
package sysfile
