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
