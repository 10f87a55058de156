package segment

import (
	"os"
	"syscall"
	"testing"
)

// diskBytes is what a file costs on disk (its allocated blocks).
func diskBytes(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Blocks * 512
}

// A queue holding one small message used to cost a whole megabyte of
// reserved blocks (1,000 such queues freed 1,005 MB); a segment now
// reserves 64 KiB first and more as it fills, and a full one still gets
// every byte it writes reserved ahead.
func TestSmallSegmentCostsLittleDisk(t *testing.T) {
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{Durable: true})
	if _, _, _, err := l.Append(testRecord(0, []byte("x"))); err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	files := segFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("segment files %v, want one", files)
	}
	if got := diskBytes(t, files[0]); got > 128<<10 {
		t.Errorf("a segment holding one 1-byte record takes %d KiB of disk, want at most 128 KiB", got>>10)
	}

	// Filling it: the reservation keeps ahead of the data and grows to
	// whole megabytes.
	body := make([]byte, 4000)
	for i := range 1000 {
		if _, _, _, err := l.Append(testRecord(i, body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	h := l.head
	if h.alloc < int64(h.used) {
		t.Errorf("reserved %d bytes, behind the %d written", h.alloc, h.used)
	}
	if got := diskBytes(t, l.path(h.id)); got < int64(h.used) {
		t.Errorf("head takes %d bytes of disk, less than the %d written: blocks were not reserved", got, h.used)
	}
}
