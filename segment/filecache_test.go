//go:build linux

package segment

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// openFDs counts this process's open descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list /proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestTransientBacklogWithinFDBudget: every segment of a non-durable log
// used to hold a descriptor (an unlinked file kept open: one fd per
// segment of backlog), so a transient backlog ran the broker out of fds.
// A backlog across 2,000 segments, and 200 more logs each holding a
// backlog, must stay within a small FileCache budget while being written
// and read back byte for byte.
func TestTransientBacklogWithinFDBudget(t *testing.T) {
	const (
		budget  = 8
		segSize = 64 << 10
		bodyLen = 1000
		perSeg  = segSize / 1024 // records of 1 KiB (header and padding included)
		bigSegs = 2000
		small   = 200
	)
	files := NewFileCache(budget)
	root := t.TempDir()
	base := openFDs(t)
	// Open descriptors beyond the budget: the directory listing itself, and
	// a moment's descriptor for a read mapping or a sealed segment.
	limit := base + budget + 4
	peak := 0
	check := func(what string) {
		t.Helper()
		n := openFDs(t)
		peak = max(peak, n)
		if n > limit {
			t.Fatalf("%s: %d descriptors open, budget allows %d (%d before the test)", what, n, limit, base)
		}
	}
	o := Options{SegmentSize: segSize, Files: files}
	big, _ := openLog(t, filepath.Join(root, "big"), o)
	logs := make([]*Log, small)
	for i := range logs {
		logs[i], _ = openLog(t, filepath.Join(root, fmt.Sprint("q", i)), o)
	}
	total := bigSegs * perSeg
	for i := range total {
		if _, _, _, err := big.Append(testRecord(i, body(i, bodyLen))); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if i%perSeg == 0 {
			// Every other log gets a record now and then: all of them
			// hold a head and a backlog while the big one grows.
			l := logs[(i/perSeg)%small]
			if _, _, _, err := l.Append(testRecord(i, body(i, bodyLen))); err != nil {
				t.Fatal(err)
			}
		}
		if i%(50*perSeg) == 0 {
			check(fmt.Sprintf("after %d appends", i))
		}
	}
	if n := len(big.Segments()); n < bigSegs {
		t.Fatalf("%d segments, want at least %d", n, bigSegs)
	}
	check("backlog written")
	if files.Evictions() == 0 {
		t.Fatal("no head was ever closed, yet more logs than the budget hold one")
	}
	// Read it all back, deleting segments as a consumer's acks would.
	p := Pos{}
	for i := range total {
		q, r, n, err := big.Next(p)
		if err != nil {
			t.Fatalf("next %d at %v: %v", i, p, err)
		}
		if want := body(i, bodyLen); !bytes.Equal(r.Body, want) {
			t.Fatalf("record %d: %.20q, want %.20q", i, r.Body, want)
		}
		if q.Seg != p.Seg && p.Seg != 0 {
			if err := big.Remove(p.Seg); err != nil {
				t.Fatal(err)
			}
		}
		p = Pos{q.Seg, q.Off + n}
		if i%(50*perSeg) == 0 {
			check(fmt.Sprintf("after %d reads", i))
		}
	}
	for i, l := range logs {
		got := readAll(t, l)
		if len(got) == 0 {
			t.Fatalf("log %d is empty", i)
		}
	}
	check("everything read")
	t.Logf("descriptors: %d before, peak %d, budget %d; %d heads closed by the cache", base, peak, budget, files.Evictions())
}

// TestEvictedDurableHeadStaysCommitted: a durable head closed by the cache
// while a group commit is pending keeps its promise (the Syncer holds the
// descriptor until the round), and the log reopens it for the next append.
func TestEvictedDurableHeadStaysCommitted(t *testing.T) {
	sy := NewSyncer()
	defer sy.Close()
	files := NewFileCache(1)
	dir := t.TempDir()
	o := Options{Durable: true, Syncer: sy, Files: files}
	a, _ := openLog(t, filepath.Join(dir, "a"), o)
	b, _ := openLog(t, filepath.Join(dir, "b"), o)
	rec := func(i int) *Record {
		r := testRecord(i, body(i, 100))
		r.Flags = FlagPersistent
		return r
	}
	var gens []uint64
	for i := range 200 {
		l := a
		if i%2 == 1 {
			l = b
		}
		// Clear the used bits so that each open evicts the other log.
		a.w.used.Store(false)
		b.w.used.Store(false)
		_, _, g, err := l.Append(rec(i))
		if err != nil {
			t.Fatal(err)
		}
		gens = append(gens, g)
	}
	if files.Evictions() < 100 {
		t.Fatalf("%d evictions, want one per append", files.Evictions())
	}
	last := gens[len(gens)-1]
	deadline := time.Now().Add(10 * time.Second)
	for sy.Done() < last {
		if time.Now().After(deadline) {
			t.Fatalf("generation %d not done after 10 s", last)
		}
		time.Sleep(time.Millisecond)
	}
	if sy.Failed(1, last) {
		t.Fatal("a commit failed")
	}
	for _, l := range []*Log{a, b} {
		if got := readAll(t, l); len(got) != 100 {
			t.Fatalf("read %d records, want 100", len(got))
		}
		l.crash()
	}
	for _, name := range []string{"a", "b"} {
		_, recs := openLog(t, filepath.Join(dir, name), Options{Durable: true})
		if len(recs) != 1 || recs[0].Live != 100 {
			t.Fatalf("log %s recovered %+v, want 100 records", name, recs)
		}
	}
}

// TestFileCacheConcurrentLogs: logs owned by different goroutines evict
// each other's heads (each append may close another log's descriptor
// under its staging lock) while a Syncer commits them. Run with -race.
func TestFileCacheConcurrentLogs(t *testing.T) {
	sy := NewSyncer()
	defer sy.Close()
	files := NewFileCache(2)
	dir := t.TempDir()
	const logs, each = 8, 2000
	errs := make(chan error, logs)
	lastGen := make([]uint64, logs)
	ls := make([]*Log, logs)
	for i := range ls {
		ls[i], _ = openLog(t, filepath.Join(dir, fmt.Sprint(i)), Options{SegmentSize: 16 << 10, Durable: i%2 == 0, Syncer: sy, Files: files})
	}
	for i, l := range ls {
		go func() {
			for j := range each {
				r := testRecord(j, body(j, 200+j%3000))
				r.Flags = FlagPersistent
				_, _, g, err := l.Append(r)
				if err != nil {
					errs <- err
					return
				}
				lastGen[i] = max(lastGen[i], g)
			}
			errs <- nil
		}()
	}
	for range logs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := files.Open(); n > files.Budget() {
		t.Fatalf("%d heads open, budget %d", n, files.Budget())
	}
	if files.Evictions() == 0 {
		t.Fatal("no evictions with 8 logs and a budget of 2")
	}
	last := slices.Max(lastGen)
	deadline := time.Now().Add(20 * time.Second)
	for sy.Done() < last {
		if time.Now().After(deadline) {
			t.Fatalf("generation %d not done after 20 s", last)
		}
		time.Sleep(time.Millisecond)
	}
	if sy.Failed(1, last) {
		t.Fatal("a commit failed")
	}
	for i, l := range ls {
		got := readAll(t, l)
		if len(got) != each {
			t.Fatalf("log %d: read %d records, want %d", i, len(got), each)
		}
		for j, b := range got {
			if b != string(body(j, 200+j%3000)) {
				t.Fatalf("log %d record %d differs", i, j)
			}
		}
	}
}
