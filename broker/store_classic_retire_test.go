//go:build linux

package broker

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/warrenmq/warren/segment"
)

// TestStoreRetiresFailedSegment: when the head segment's write fails (its
// descriptor is made /dev/full behind the store's back), the records that
// never reached the file are gone, the next appends go to a fresh segment,
// the ready count is recounted, every committed record is delivered in
// order, and once all are acked no segment is left behind (the failed one
// used to refuse appends until a restart).
func TestStoreRetiresFailedSegment(t *testing.T) {
	sy := segment.NewSyncer()
	defer sy.Close()
	dir := t.TempDir()
	s := openTestStore(t, dir, storeOptions{Durable: true, Syncer: sy})
	wait := func(g uint64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); sy.Done() < g; {
			if time.Now().After(deadline) {
				t.Fatalf("generation %d not done after 10 s", g)
			}
			time.Sleep(time.Millisecond)
		}
	}
	appendN := func(from, to int) (last uint64) {
		t.Helper()
		for i := from; i < to; i++ {
			_, g, err := s.appendRecord(storeRec(i, 100, true))
			if err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
			last = max(last, g)
		}
		return last
	}
	wait(appendN(0, 10))
	full, err := unix.Open("/dev/full", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer unix.Close(full)
	if err := unix.Dup2(full, segmentFD(t, dir)); err != nil {
		t.Fatal(err)
	}
	g := appendN(10, 15) // staged; their commit fails
	wait(g)
	if !sy.Failed(g, g) {
		t.Fatal("the commit of records whose write failed did not fail")
	}
	wait(appendN(15, 18)) // retires the failed head
	if n := s.readyCount(); n != 13 {
		t.Fatalf("ready %d, want 13 (10 before the failure, 3 after)", n)
	}
	var got []int
	for {
		tk, d, ok := s.next()
		if !ok {
			break
		}
		got = append(got, storeID(d.Body))
		if err := s.ack(tk); err != nil {
			t.Fatal(err)
		}
	}
	want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17}
	if len(got) != len(want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delivered %v, want %v", got, want)
		}
	}
	// Only the fresh head may stay (less than half full).
	if segs, _ := filepath.Glob(filepath.Join(dir, "seg.*")); len(segs) > 1 {
		t.Fatalf("segments left after everything was acked: %v", segs)
	}
}

// segmentFD finds this process's descriptor on a segment file under dir.
func segmentFD(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list /proc/self/fd: %v", err)
	}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil || !strings.HasPrefix(target, dir) || !strings.HasPrefix(filepath.Base(target), "seg.") {
			continue
		}
		if fd, err := strconv.Atoi(e.Name()); err == nil {
			return fd
		}
	}
	t.Fatalf("no open segment file under %s", dir)
	return -1
}
