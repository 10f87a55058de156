package broker

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warrenmq/warren/frame"
)

// publishRuns publishes n 0-9-1 messages of body bytes to stream "s",
// runs of 20 in every 2,000 carrying "rare" (1%), and returns their offsets.
func publishRuns(t *testing.T, v *VHost, from, n, body int) []uint64 {
	t.Helper()
	var rare []uint64
	for i := from; i < from+n; i++ {
		val := fmt.Sprint("common-", i%7)
		if i%2000 >= 1000 && i%2000 < 1020 {
			val = "rare"
			rare = append(rare, uint64(i))
		}
		props := frame.AppendProperties(nil, &frame.Properties{Headers: frame.Table{"x-stream-filter-value": val}})
		if _, _, err := v.Publish(guest, &Message{RoutingKey: []byte("s"), Props: props, Body: make([]byte, body), Persistent: true}, &PublishCache{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return rare
}

func checkFiltered(t *testing.T, what string, s *Stream, total int, want []uint64, maxShare float64) {
	t.Helper()
	fr := filteredRead(t, s, total)
	share := 100 * float64(fr.read) / float64(fr.size)
	t.Logf("%s: %d messages handed out, read %d of %d bytes (%.2f%%)", what, fr.got, fr.read, fr.size, share)
	if fmt.Sprint(fr.offsets) != fmt.Sprint(want) {
		t.Fatalf("%s: the rare messages at %v, want %v", what, fr.offsets, want)
	}
	if share > maxShare {
		t.Fatalf("%s: read %.2f%% of the stream, want at most %.0f%%", what, share, maxShare)
	}
}

// Sealed segments keep their block summaries in a file beside them: a
// filtered reader uses them across segments and after a restart (the
// head's are rebuilt from recovery's walk), and a segment whose file is
// missing or damaged is read chunk by chunk, with the same result.
func TestStreamBlockSummariesAcrossSegmentsAndRestart(t *testing.T) {
	dir := t.TempDir()
	b, v := openStreamBroker(t, dir)
	if _, _, err := v.DeclareStream(nil, "s", StreamConfig{MaxSegmentSizeBytes: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	s, _ := v.Stream("s")
	const n, body = 10000, 1024
	want := publishRuns(t, v, 0, n, body)
	st := waitStreamCommitted(t, s, n)
	if st.Segments < 5 {
		t.Fatalf("%d segments, want several", st.Segments)
	}
	sums, _ := filepath.Glob(filepath.Join(s.st.dir, "seg.*.sum"))
	if len(sums) != st.Segments-1 {
		t.Fatalf("%d summary files for %d segments: want one per sealed segment", len(sums), st.Segments)
	}
	checkFiltered(t, "before restart", s, n, want, 5)
	b.Close()

	b, v = openStreamBroker(t, dir)
	s, _ = v.Stream("s")
	checkFiltered(t, "after restart", s, n, want, 5)
	// More appends go on the recovered head's blocks (or a new head's).
	want = append(want, publishRuns(t, v, n, 2000, body)...)
	checkFiltered(t, "after restart and more publishes", s, n+2000, want, 5)
	b.Close()

	// One summary file gone, one damaged: those segments are read chunk
	// by chunk, the result is the same.
	if err := os.Remove(sums[0]); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(sums[1])
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-3] ^= 0xff
	if err := os.WriteFile(sums[1], raw, 0o644); err != nil {
		t.Fatal(err)
	}
	b, v = openStreamBroker(t, dir)
	defer b.Close()
	s, _ = v.Stream("s")
	checkFiltered(t, "two summary files missing or bad", s, n+2000, want, 25)
}

// A reader that starts inside a block, at an offset, skips the rest of it
// when its summary cannot match, and gets what a reader from the start
// gets from there on.
func TestStreamBlockSkipFromInside(t *testing.T) {
	b, v := openStreamBroker(t, t.TempDir())
	defer b.Close()
	if _, _, err := v.DeclareStream(nil, "s", StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	s, _ := v.Stream("s")
	const n = 4000
	want := publishRuns(t, v, 0, n, 16)
	waitStreamCommitted(t, s, n)
	for _, from := range []uint64{0, 1, 500, 999, 1000, 1005, 1019, 1020, 2999, 3010} {
		r, err := s.NewReader(OffsetSpec{Kind: OffsetAbsolute, Offset: from}, ReaderOptions{Filter: [][]byte{[]byte("rare")}})
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for r.NextOffset() < n {
			c, ok, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				continue
			}
			_ = DecodeWarrenChunk(c.Data, func(i int, m *StreamMessage) bool {
				if o := c.FirstOffset + uint64(i); string(m.FilterValue) == "rare" && o >= from {
					got = append(got, o)
				}
				return true
			})
		}
		r.Close()
		var exp []uint64
		for _, o := range want {
			if o >= from {
				exp = append(exp, o)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(exp) {
			t.Fatalf("from %d: rare at %v, want %v", from, got, exp)
		}
	}
}

// A summary file whose segment is gone (a machine crash can leave one)
// is deleted at recovery: a new segment with that id must not be read
// through stale blocks.
func TestStreamOrphanSummaryRemoved(t *testing.T) {
	dir := t.TempDir()
	b, v := openStreamBroker(t, dir)
	if _, _, err := v.DeclareStream(nil, "s", StreamConfig{MaxSegmentSizeBytes: 64 << 10}); err != nil {
		t.Fatal(err)
	}
	s, _ := v.Stream("s")
	publishRuns(t, v, 0, 300, 1024)
	waitStreamCommitted(t, s, 300)
	sdir := s.st.dir
	b.Close()
	sums, _ := filepath.Glob(filepath.Join(sdir, "seg.*.sum"))
	if len(sums) < 2 {
		t.Fatalf("%d summary files", len(sums))
	}
	// The newest sealed segment is lost, its summary is not; and a
	// write of a summary was cut short.
	last := sums[len(sums)-1]
	segs, _ := filepath.Glob(filepath.Join(sdir, "seg.??????????"))
	for _, g := range segs {
		if g > strings.TrimSuffix(last, ".sum") {
			if err := os.Remove(g); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Remove(strings.TrimSuffix(last, ".sum")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sums[0]+".tmp", []byte("torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, _ = openStreamBroker(t, dir)
	defer b.Close()
	for _, f := range []string{last, sums[0] + ".tmp"} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Fatalf("%s is still there after recovery (err %v)", filepath.Base(f), err)
		}
	}
	if _, err := os.Stat(sums[0]); err != nil {
		t.Fatalf("a good summary file went: %v", err)
	}
}
