package broker

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// A segment file cut short behind the store's back (another process, a
// failing disk) must not crash the broker: reading the lost pages through
// the mapping raises SIGBUS, which the store turns into a failed queue.
func TestStoreSurvivesTruncatedMappedSegment(t *testing.T) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	dir := t.TempDir()
	s := openTestStore(t, dir, storeOptions{Durable: true, SegmentSize: 1 << 20})
	for i := range 30000 {
		if _, _, err := s.appendRecord(storeRec(i, 100, true)); err != nil {
			t.Fatal(err)
		}
	}
	// Read one message so the first segment is mapped, then cut it.
	if _, _, ok := s.next(); !ok {
		t.Fatal("no message")
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "seg.*"))
	if len(segs) < 2 {
		t.Fatalf("want several segments, have %v", segs)
	}
	if err := os.Truncate(segs[0], 4096); err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, _, ok := s.next()
		if !ok {
			break
		}
		n++
	}
	if n >= 29999 {
		t.Fatalf("read %d messages from a truncated segment", n)
	}
	t.Logf("store stopped after %d more messages", n)
}
