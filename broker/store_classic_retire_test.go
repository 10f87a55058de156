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
	gens := map[int]uint64{}
	appendN := func(from, to int) (last uint64) {
		t.Helper()
		for i := from; i < to; i++ {
			_, g, err := s.appendRecord(storeRec(i, 100, true))
			if err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
			gens[i] = g
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
	// Record 10 is written to the failing descriptor. Whether 11-14 are
	// staged behind it or, once the syncer has seen the failure, go to a
	// fresh segment depends on when the syncer's round runs: both are
	// right, as long as every record whose commit did not fail is kept.
	wait(appendN(10, 15))
	if !sy.Failed(gens[10], gens[10]) {
		t.Fatal("the commit of a record whose write failed did not fail")
	}
	wait(appendN(15, 18)) // retires the failed head if 11-14 did not
	var want []int
	for i := 0; i < 18; i++ {
		if !sy.Failed(gens[i], gens[i]) {
			want = append(want, i)
		}
	}
	ready := s.readyCount()
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
	if ready != len(got) {
		t.Fatalf("ready count %d, but %d delivered", ready, len(got))
	}
	// A failed generation may also cover a record that did reach the disk
	// (a nack for a stored message only costs a duplicate); a committed
	// one must never be missing.
	j := 0
	for _, id := range got {
		if j < len(want) && id == want[j] {
			j++
		}
	}
	if j != len(want) || !isSorted(got) {
		t.Fatalf("delivered %v; every committed record %v must be there, in order", got, want)
	}
	for _, id := range got {
		if id == 10 {
			t.Fatalf("record 10 never reached the file but was delivered: %v", got)
		}
	}
	// Only the fresh head may stay (less than half full).
	if segs, _ := filepath.Glob(filepath.Join(dir, "seg.*")); len(segs) > 1 {
		t.Fatalf("segments left after everything was acked: %v", segs)
	}
}

func isSorted(xs []int) bool {
	for i := 1; i < len(xs); i++ {
		if xs[i] <= xs[i-1] {
			return false
		}
	}
	return true
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
