//go:build linux

package segment

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/warrenmq/warren/segment/smallfs"
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

// TestFailedWriteIsNotCommitted: records staged for the Syncer whose write
// (or fdatasync) fails must not count as committed. The round used to
// ignore the write error, fdatasync what was there and call the generation
// done: a publisher would be confirmed for a record that never reached the
// file. Now the generation is reported as failed, and the file takes no
// more appends: the next one retires it and goes to a fresh segment (it
// used to be refused until a restart), and the record that was confirmed
// before the failure is still there.
func TestFailedWriteIsNotCommitted(t *testing.T) {
	sy := NewSyncer()
	defer sy.Close()
	l, _ := openLog(t, t.TempDir(), Options{Durable: true, Syncer: sy, Logger: quietLogger(&logBuf{})})
	waitDone := func(g uint64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for sy.Done() < g {
			if time.Now().After(deadline) {
				t.Fatalf("generation %d not done after 10 s", g)
			}
			time.Sleep(time.Millisecond)
		}
	}
	rec := testRecord(1, body(1, 100))
	rec.Flags = FlagPersistent
	_, _, g1, err := l.Append(rec)
	if err != nil {
		t.Fatal(err)
	}
	waitDone(g1)
	if sy.Failed(1, g1) {
		t.Fatal("a good round reported as failed")
	}
	// From now on every write to the head fails as on a full disk.
	full, err := unix.Open("/dev/full", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer unix.Close(full)
	if err := unix.Dup2(full, l.headFD()); err != nil {
		t.Fatal(err)
	}
	_, _, g2, err := l.Append(rec) // staged: the write happens in the round
	if err != nil {
		t.Fatal(err)
	}
	waitDone(g2)
	if !sy.Failed(g1+1, g2) {
		t.Fatalf("generation %d is done and not reported failed, but its record was never written", g2)
	}
	first := l.head.id
	p3, _, g3, err := l.Append(rec)
	if err != nil {
		t.Fatalf("append after a failed write: %v (the failed segment must retire, not refuse)", err)
	}
	if p3.Seg == first {
		t.Fatalf("append after a failed write went to the failed segment %d", first)
	}
	waitDone(g3)
	if sy.Failed(g2+1, g3) {
		t.Fatal("the fresh segment's commit failed")
	}
	ret := l.TakeRetired()
	if len(ret) != 1 || ret[0].ID != first || ret[0].Live != 1 {
		t.Fatalf("retired %+v, want segment %d with the one record written before the failure", ret, first)
	}
	if got := readAll(t, l); len(got) != 2 {
		t.Fatalf("read %d records, want 2 (the one before the failure and the one after)", len(got))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestWritesResumeAfterFullTmpfs: a log that ran into a full disk writes
// again, without a restart, once space is freed, and every record whose
// append succeeded (and, for persistent ones, whose commit did) is read
// back byte for byte. Both kinds of log, with records small enough to be
// staged and large enough to be written directly.
func TestWritesResumeAfterFullTmpfs(t *testing.T) {
	for _, durable := range []bool{false, true} {
		for _, size := range []int{300, 40 << 10} {
			t.Run(fmt.Sprintf("durable=%v/%dB", durable, size), func(t *testing.T) {
				mnt := smallfs.Mount(t, 4<<20)
				spare := filepath.Join(mnt, "spare")
				if err := os.WriteFile(spare, make([]byte, 1<<20), 0o644); err != nil {
					t.Fatal(err)
				}
				sy := NewSyncer()
				defer sy.Close()
				o := Options{SegmentSize: 256 << 10, Durable: durable, Syncer: sy, Logger: quietLogger(&logBuf{})}
				l, _ := openLog(t, filepath.Join(mnt, "q"), o)
				type appended struct {
					gen  uint64
					body string
				}
				var ok []appended
				i, failures := 0, 0
				appendOne := func() error {
					r := testRecord(i, body(i, size))
					r.Flags = FlagPersistent
					_, _, g, err := l.Append(r)
					if err == nil {
						ok = append(ok, appended{g, string(r.Body)})
					}
					i++
					return err
				}
				for failures < 20 && i < 10000 {
					if appendOne() != nil {
						failures++
					}
				}
				if failures == 0 {
					t.Fatalf("%d appends to a 4 MiB disk all succeeded", i)
				}
				if err := os.Remove(spare); err != nil {
					t.Fatal(err)
				}
				for range 10 {
					if err := appendOne(); err != nil {
						t.Fatalf("append after space was freed: %v", err)
					}
				}
				last := ok[len(ok)-1].gen
				deadline := time.Now().Add(10 * time.Second)
				for sy.Done() < last {
					if time.Now().After(deadline) {
						t.Fatalf("generation %d not done after 10 s", last)
					}
					time.Sleep(time.Millisecond)
				}
				// Committed: the append succeeded and, for a durable log,
				// its generation did not fail.
				var want []string
				for _, a := range ok {
					if a.gen == 0 || !sy.Failed(a.gen, a.gen) {
						want = append(want, a.body)
					}
				}
				got := readAll(t, l)
				gi := 0
				for _, w := range want {
					for gi < len(got) && got[gi] != w {
						gi++ // a record whose commit failed may or may not be there
					}
					if gi == len(got) {
						t.Fatalf("committed record %.12q missing (read %d records, %d committed)", w, len(got), len(want))
					}
					gi++
				}
				if got[len(got)-1] != ok[len(ok)-1].body {
					t.Fatal("the last record appended after space was freed is not the last one read")
				}
			})
		}
	}
}
