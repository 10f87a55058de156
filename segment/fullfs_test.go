//go:build linux

package segment

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/warrenmq/warren/internal/smallfs"
)

// TestRecoverOnFullTmpfs: after a crash, a head segment is a sparse file
// (its capacity set with ftruncate, blocks reserved only ahead of the
// writer). On tmpfs, reading a hole through a mapping allocates a page, and
// with the file system full that raises SIGBUS: recovery faulted on every
// start until space was freed. Recovery must read without faulting, keep
// every record, and the log must take appends again once there is room.
func TestRecoverOnFullTmpfs(t *testing.T) {
	mnt := smallfs.Mount(t, 4<<20)
	dir := filepath.Join(mnt, "q")
	// A fault becomes a panic the test reports instead of killing the binary.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	o := Options{SegmentSize: 3 << 20, Durable: true, Logger: quietLogger(&logBuf{})}
	l, _ := openLog(t, dir, o)
	_, want := fill(t, l, 200, 500, nil)
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	l.crash()
	filler := filepath.Join(mnt, "filler")
	smallfs.Fill(t, filler)

	l2, recs, err := Open(dir, o)
	if err != nil {
		t.Fatalf("open on a full disk: %v", err)
	}
	if len(recs) != 1 || recs[0].Live != uint32(len(want)) {
		t.Fatalf("recovered %+v, want one segment with %d records", recs, len(want))
	}
	if got := readAll(t, l2); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("read back %d of %d records", len(got), len(want))
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := l2.Append(testRecord(0, body(0, 500))); err != nil {
		t.Fatalf("append after space was freed: %v", err)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
}
