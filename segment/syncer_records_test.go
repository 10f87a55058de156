package segment

import "testing"

// Records counts the appends the fdatasyncs covered, so records per sync
// is group commit's messages per fdatasync.
func TestSyncerCountsRecordsPerSync(t *testing.T) {
	s := NewSyncer()
	defer s.Close()
	l, _ := openLog(t, t.TempDir(), Options{Durable: true, Syncer: s})
	r := testRecord(1, []byte("persistent"))
	const n = 1000
	var last uint64
	for range n {
		_, _, g, err := l.Append(r)
		if err != nil {
			t.Fatal(err)
		}
		last = g
	}
	waitGen(t, s, last)
	_, syncs := s.Stats()
	got := s.Records()
	// Each append is counted once; the new segment's directory entry is
	// one more mark.
	if got < n || got > n+2 {
		t.Fatalf("%d records counted for %d appends", got, n)
	}
	t.Logf("%d records over %d fdatasyncs: %.1f per sync", got, syncs, float64(got)/float64(syncs))
}

// A round over several files syncs them in parallel: every append of
// every log is covered when its generation is done, and counted once.
func TestSyncerParallelRound(t *testing.T) {
	s := NewSyncer()
	defer s.Close()
	const logs, n = 6, 300
	ls := make([]*Log, logs)
	for i := range ls {
		ls[i], _ = openLog(t, t.TempDir(), Options{Durable: true, Syncer: s})
	}
	r := testRecord(1, []byte("persistent"))
	var last uint64
	for range n {
		for _, l := range ls {
			_, _, g, err := l.Append(r)
			if err != nil {
				t.Fatal(err)
			}
			last = max(last, g)
		}
	}
	waitGen(t, s, last)
	rounds, syncs := s.Stats()
	if got := s.Records(); got < logs*n || got > logs*(n+2) {
		t.Fatalf("%d records counted for %d appends", got, logs*n)
	}
	if syncs <= rounds {
		t.Fatalf("%d syncs in %d rounds: no round had several files", syncs, rounds)
	}
	for _, l := range ls {
		if l.CommitFailed(1, last) {
			t.Fatal("a commit failed")
		}
	}
}
