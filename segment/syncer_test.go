package segment

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitGen waits until s has completed generation g.
func waitGen(t testing.TB, s *Syncer, g uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Done() < g {
		if time.Now().After(deadline) {
			t.Fatalf("generation %d not done (at %d)", g, s.Done())
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func TestSyncerGenerations(t *testing.T) {
	s := NewSyncer()
	defer s.Close()
	if s.Done() != 0 {
		t.Fatal("fresh syncer has done something")
	}
	var seen []uint64
	var mu sync.Mutex
	cancel := s.Subscribe(func(g uint64) {
		mu.Lock()
		seen = append(seen, g)
		mu.Unlock()
	})
	l, _ := openLog(t, t.TempDir(), Options{Durable: true, Syncer: s})
	r := testRecord(1, []byte("persistent"))
	_, _, g1, err := l.Append(r)
	if err != nil || g1 == 0 {
		t.Fatalf("persistent append: gen %d %v", g1, err)
	}
	waitGen(t, s, g1)
	_, _, g2, _ := l.Append(r)
	if g2 <= g1 {
		t.Fatalf("append after round %d got gen %d", g1, g2)
	}
	waitGen(t, s, g2)
	tr := testRecord(2, []byte("transient"))
	tr.Flags = 0
	if _, _, g, _ := l.Append(tr); g != 0 {
		t.Fatalf("transient append waits for gen %d", g)
	}
	nd, _ := openLog(t, t.TempDir(), Options{Durable: false, Syncer: s})
	if _, _, g, _ := nd.Append(r); g != 0 {
		t.Fatalf("non-durable append waits for gen %d", g)
	}
	mu.Lock()
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("subscriber saw %v", seen)
		}
	}
	if len(seen) == 0 || seen[len(seen)-1] < g2 {
		t.Fatalf("subscriber saw %v, want up to %d", seen, g2)
	}
	n := len(seen)
	mu.Unlock()
	cancel()
	_, _, g3, _ := l.Append(r)
	waitGen(t, s, g3)
	mu.Lock()
	if len(seen) != n {
		t.Fatal("cancelled subscriber still called")
	}
	mu.Unlock()
}

// Many appends from many logs at once share few fdatasyncs.
func TestSyncerGroupCommit(t *testing.T) {
	s := NewSyncer()
	defer s.Close()
	const logs, per = 8, 500
	var wg sync.WaitGroup
	var maxGen atomic.Uint64
	for range logs {
		l, _ := openLog(t, t.TempDir(), Options{Durable: true, Syncer: s})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				_, _, g, err := l.Append(testRecord(i, body(i, 100)))
				if err != nil {
					t.Error(err)
					return
				}
				for m := maxGen.Load(); g > m && !maxGen.CompareAndSwap(m, g); m = maxGen.Load() {
				}
			}
		}()
	}
	wg.Wait()
	waitGen(t, s, maxGen.Load())
	rounds, syncs := s.Stats()
	t.Logf("%d appends: %d rounds, %d fdatasyncs", logs*per, rounds, syncs)
	if syncs > logs*per/10 {
		t.Fatalf("%d fdatasyncs for %d appends", syncs, logs*per)
	}
	// One fdatasync per dirty file per round: never more than files+dir.
	if syncs > rounds*(2*logs) {
		t.Fatalf("%d syncs in %d rounds", syncs, rounds)
	}
	// Idle: no rounds without work.
	time.Sleep(20 * time.Millisecond)
	r0, _ := s.Stats()
	time.Sleep(50 * time.Millisecond)
	if r1, _ := s.Stats(); r1 != r0 {
		t.Fatalf("idle syncer ran %d rounds", r1-r0)
	}
}

// Files sealed or removed while the syncer still has them queued are
// synced (or skipped) safely, and the generation still completes.
func TestSyncerSurvivesRemoval(t *testing.T) {
	s := NewSyncer()
	l, _ := openLog(t, t.TempDir(), Options{Durable: true, Syncer: s, SegmentSize: 4096})
	var last uint64
	for i := range 300 {
		p, _, g, err := l.Append(testRecord(i, body(i, 200)))
		if err != nil {
			t.Fatal(err)
		}
		last = g
		if i%7 == 0 {
			if err := l.Remove(p.Seg); err != nil {
				t.Fatal(err)
			}
		}
	}
	l.Close()
	s.Close()
	if s.Done() < last {
		t.Fatalf("closed syncer done %d < %d", s.Done(), last)
	}
}

// A record whose generation is done is in the file even though it was only
// staged: the round flushed it before its fdatasync. A crash right after
// keeps it; a record nobody waited for may be gone, but never half there.
func TestSyncerFlushesStaged(t *testing.T) {
	s := NewSyncer()
	defer s.Close()
	dir := t.TempDir()
	l, _ := openLog(t, dir, Options{Durable: true, Syncer: s})
	var last uint64
	for i := range 10 {
		_, _, g, _ := l.Append(testRecord(i, body(i, 100)))
		last = g
	}
	waitGen(t, s, last)
	tr := testRecord(99, []byte("transient, never flushed"))
	tr.Flags = 0
	l.Append(tr)
	l.crash()
	l2, _ := openLog(t, dir, Options{Durable: true, Syncer: s})
	got := readAll(t, l2)
	if len(got) != 10 {
		t.Fatalf("recovered %d records, want the 10 synced ones", len(got))
	}
}
