//go:build linux

package segment

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// segMappings counts this process's mappings of files under root.
func segMappings(t testing.TB, root string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("cannot read /proc/self/maps: %v", err)
	}
	return strings.Count(string(b), root+"/")
}

// ownedLog is a log and the lock its caller holds around every call, as
// a queue's mutex is held around its store.
type ownedLog struct {
	mu sync.Mutex
	l  *Log
	p  Pos // read cursor
	n  int // records read
}

// TestMapBudgetAcrossLogs: every log kept its head and up to two read
// segments mapped for as long as it lived, so enough queues with a
// backlog took the process past vm.max_map_count, and then every mmap
// failed. Under a budget of 6, 60 logs read concurrently, each across
// several segments, hold about the budget between them (plus the
// mappings of the logs being read at that moment, which are not
// evicted), and every record comes back byte for byte.
func TestMapBudgetAcrossLogs(t *testing.T) {
	const (
		budget  = 6
		nlogs   = 60
		segSize = 16 << 10
		perLog  = 60 // ~4 segments of 1 KiB records
		readers = 4
	)
	maps := NewMapBudget(budget)
	root := t.TempDir()
	logs := make([]*ownedLog, nlogs)
	for i := range logs {
		ol := &ownedLog{}
		ol.l, _ = openLog(t, filepath.Join(root, fmt.Sprint("q", i)), Options{SegmentSize: segSize, Maps: maps, Owner: &ol.mu})
		for j := range perLog {
			if _, _, _, err := ol.l.Append(testRecord(j, body(i*1000+j, 1000))); err != nil {
				t.Fatal(err)
			}
		}
		logs[i] = ol
	}
	// Readers take turns over the logs, a few records at a time, so every
	// log maps, goes cold and is read again.
	slack := readers * (maxReadMaps + 1)
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	var peakMu sync.Mutex
	peak := 0
	var finished atomic.Int32
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; finished.Load() < nlogs; round++ {
				for i := r; i < nlogs; i += readers {
					k := (i + round) % nlogs
					ol := logs[k]
					if !ol.mu.TryLock() {
						continue
					}
					for range 7 {
						if ol.n == perLog {
							break
						}
						q, rec, n, err := ol.l.Next(ol.p)
						if err != nil {
							ol.mu.Unlock()
							errs <- fmt.Errorf("log %d record %d: %v", k, ol.n, err)
							finished.Store(nlogs)
							return
						}
						if want := body(k*1000+ol.n, 1000); !bytes.Equal(rec.Body, want) {
							ol.mu.Unlock()
							errs <- fmt.Errorf("log %d record %d: %.12q, want %.12q", k, ol.n, rec.Body, want)
							finished.Store(nlogs)
							return
						}
						ol.p = Pos{q.Seg, q.Off + n}
						if ol.n++; ol.n == perLog {
							finished.Add(1)
						}
					}
					ol.mu.Unlock()
					peakMu.Lock()
					peak = max(peak, maps.Mapped())
					peakMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, ol := range logs {
		if ol.n != perLog {
			t.Fatalf("log %d: read %d records, want %d", i, ol.n, perLog)
		}
	}
	got := segMappings(t, root)
	t.Logf("%d logs: %d mappings at the end (%d counted), peak %d, budget %d; %d evictions", nlogs, got, maps.Mapped(), peak, budget, maps.Evictions())
	if maps.Evictions() == 0 {
		t.Fatal("no log was made to let go of its mappings, yet far more than the budget mapped")
	}
	if peak > budget+slack {
		t.Fatalf("%d mappings held at once, budget %d (+%d for the logs being read)", peak, budget, slack)
	}
	if got > budget+slack || got != maps.Mapped() {
		t.Fatalf("%d segment mappings in /proc/self/maps, %d counted, budget %d", got, maps.Mapped(), budget)
	}
}

// failMmap makes mmap fail with ENOMEM while fail() says so, as the
// kernel does at vm.max_map_count.
func failMmap(t *testing.T, fail func() bool) {
	t.Helper()
	real := mmap
	mmap = func(fd int, off int64, n, prot, flags int) ([]byte, error) {
		if fail() {
			return nil, unix.ENOMEM
		}
		return real(fd, off, n, prot, flags)
	}
	t.Cleanup(func() { mmap = real })
}

// TestMapRefusedIsAnError: a mapping the kernel refuses fails the read
// with ErrMapLimit (ENOMEM behind it), not a panic, and leaves the log
// whole: once mappings are to be had again, the same read succeeds.
func TestMapRefusedIsAnError(t *testing.T) {
	maps := NewMapBudget(100)
	var mu sync.Mutex
	l, _ := openLog(t, t.TempDir(), Options{SegmentSize: 16 << 10, Maps: maps, Owner: &mu})
	for j := range 40 {
		if _, _, _, err := l.Append(testRecord(j, body(j, 1000))); err != nil {
			t.Fatal(err)
		}
	}
	refuse := true
	failMmap(t, func() bool { return refuse })
	mu.Lock()
	defer mu.Unlock()
	_, _, _, err := l.Next(Pos{})
	if !errors.Is(err, ErrMapLimit) || !errors.Is(err, unix.ENOMEM) {
		t.Fatalf("read with mmap refused: %v, want ErrMapLimit (ENOMEM)", err)
	}
	t.Logf("refused: %v", err)
	if maps.Refused() != 1 || maps.Mapped() != 0 {
		t.Fatalf("refused %d, mapped %d; want 1 and 0", maps.Refused(), maps.Mapped())
	}
	refuse = false
	_, r, _, err := l.Next(Pos{})
	if err != nil || !bytes.Equal(r.Body, body(0, 1000)) {
		t.Fatalf("read once mappings are free again: %.12q, %v", r.Body, err)
	}
}

// TestMapRefusedEvictsColdLogs: when the kernel refuses a mapping while
// the count is still under the budget (other mappings took the rest of
// vm.max_map_count), cold logs are made to let go of theirs, whether or
// not they were used lately, and the read is tried again.
func TestMapRefusedEvictsColdLogs(t *testing.T) {
	maps := NewMapBudget(100)
	root := t.TempDir()
	var mus [3]sync.Mutex
	var ls [3]*Log
	for i := range ls {
		ls[i], _ = openLog(t, filepath.Join(root, fmt.Sprint(i)), Options{SegmentSize: 16 << 10, Maps: maps, Owner: &mus[i]})
		for j := range 40 {
			if _, _, _, err := ls[i].Append(testRecord(j, body(j, 1000))); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 2 {
		if _, _, _, err := ls[i].Next(Pos{}); err != nil {
			t.Fatal(err)
		}
	}
	held := maps.Mapped()
	if held == 0 {
		t.Fatal("reads mapped nothing")
	}
	// The kernel's limit is what is held now.
	failMmap(t, func() bool { return maps.Mapped() >= held })
	mus[2].Lock()
	_, r, _, err := ls[2].Next(Pos{})
	mus[2].Unlock()
	if err != nil || !bytes.Equal(r.Body, body(0, 1000)) {
		t.Fatalf("read at the kernel's limit with cold logs to evict: %.12q, %v", r.Body, err)
	}
	if maps.Evictions() == 0 || maps.Refused() != 0 {
		t.Fatalf("evictions %d, refused %d: the cold logs were not made to let go", maps.Evictions(), maps.Refused())
	}
}
