package segment

import "testing"

// With SyncWrite a generation is done once its staged records are written
// to the kernel, with no fdatasync, and what it covered is there after a
// crash of the process.
func TestSyncWriteWritesWithoutFdatasync(t *testing.T) {
	for _, tc := range []struct {
		policy    SyncPolicy
		wantSyncs bool
	}{{SyncData, true}, {SyncWrite, false}} {
		s := NewSyncerPolicy(tc.policy)
		dir := t.TempDir()
		l, _ := openLog(t, dir, Options{Durable: true, Syncer: s})
		var last uint64
		for i := range 10 {
			_, _, g, err := l.Append(testRecord(i, body(i, 100)))
			if err != nil || g == 0 {
				t.Fatalf("policy %d: append %d: gen %d %v", tc.policy, i, g, err)
			}
			last = g
		}
		waitGen(t, s, last)
		if _, syncs := s.Stats(); (syncs > 0) != tc.wantSyncs {
			t.Fatalf("policy %d: %d fdatasyncs, want some: %v", tc.policy, syncs, tc.wantSyncs)
		}
		l.crash()
		l2, _ := openLog(t, dir, Options{Durable: true, Syncer: s})
		if got := readAll(t, l2); len(got) != 10 {
			t.Fatalf("policy %d: recovered %d records, want the 10 of the done generations", tc.policy, len(got))
		}
		s.Close()
	}
}
