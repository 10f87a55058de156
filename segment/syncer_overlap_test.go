package segment

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// While one round's fdatasync is slow, a file that gathers overlapMarks
// marks gets a second round at once, and its fdatasync overlaps the
// first; its generation is published only after the first one's.
func TestSyncerOverlapsRoundsInOrder(t *testing.T) {
	s := NewSyncer()
	var slowFD atomic.Int64
	slowFD.Store(-2)
	release := make(chan struct{})
	var once sync.Once
	letGo := func() { once.Do(func() { close(release) }) }
	defer s.Close()
	defer letGo() // before Close, also when the test fails
	entered, exited := make(chan int, 256), make(chan int, 256)
	s.datasync = func(f *syncFile) error {
		entered <- f.fd
		if int64(f.fd) == slowFD.Load() {
			<-release
		}
		err := f.sync()
		exited <- f.fd
		return err
	}
	slow, _ := openLog(t, t.TempDir(), Options{Durable: true, Syncer: s})
	fast, _ := openLog(t, t.TempDir(), Options{Durable: true, Syncer: s})
	// The first appends create segments, whose directory entries are
	// synced too: get them done before the test proper.
	_, _, g, _ := slow.Append(testRecord(0, body(0, 16)))
	_, _, g2, _ := fast.Append(testRecord(0, body(0, 16)))
	waitGen(t, s, max(g, g2))
	for len(entered) > 0 || len(exited) > 0 {
		select {
		case <-entered:
		case <-exited:
		}
	}

	slowFD.Store(int64(slow.headFD()))
	_, _, g1, err := slow.Append(testRecord(1, body(1, 16)))
	if err != nil {
		t.Fatal(err)
	}
	waitFD(t, entered, slow.headFD(), "the slow round to start")
	var last uint64
	for i := range overlapMarks {
		_, _, g, err := fast.Append(testRecord(i, body(i, 16)))
		if err != nil {
			t.Fatal(err)
		}
		last = g
	}
	if last <= g1 {
		t.Fatalf("appends during round %d got generation %d", g1, last)
	}
	waitFD(t, exited, fast.headFD(), "an overlapping round to sync the fast log")
	time.Sleep(10 * time.Millisecond)
	if d := s.Done(); d >= g1 {
		t.Fatalf("done %d while round %d is still in flight", d, g1)
	}
	letGo()
	waitGen(t, s, last)
}

// waitFD waits until fd comes out of ch.
func waitFD(t *testing.T, ch chan int, fd int, what string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-ch:
			if got == fd {
				return
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s (fd %d)", what, fd)
		}
	}
}
