package broker

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/warrenmq/warren/frame"
)

func openStreamBroker(t *testing.T, dir string) (*Broker, *VHost) {
	t.Helper()
	b, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	v, ok := b.VHost("/")
	if !ok {
		t.Fatal("no default vhost")
	}
	return b, v
}

// readAll reads chunks until n records have come or the deadline passes.
func readAll(t *testing.T, r *StreamReader, n int) []Chunk {
	t.Helper()
	var out []Chunk
	recs := 0
	deadline := time.After(20 * time.Second)
	for recs < n {
		c, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			select {
			case <-r.Notify():
			case <-time.After(50 * time.Millisecond): // a commit before the reader registered
			case <-deadline:
				t.Fatalf("read %d of %d records", recs, n)
			}
			continue
		}
		c.Data = append([]byte(nil), c.Data...)
		out = append(out, c)
		recs += int(c.Records)
	}
	return out
}

func appendN(t *testing.T, s *Stream, n int, body func(i int) ([]byte, FilterSummary, int64)) []uint64 {
	t.Helper()
	var firsts []uint64
	for i := range n {
		data, f, ts := body(i)
		first, _, err := s.AppendChunk(&ChunkIn{Encoding: EncodingAMQP10, Entries: 1, Records: 1, Timestamp: ts, Filter: f, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		firsts = append(firsts, first)
	}
	return firsts
}

func TestStreamAppendReadRecover(t *testing.T) {
	dir := t.TempDir()
	b, v := openStreamBroker(t, dir)
	s, created, err := v.DeclareStream(nil, "s1", StreamConfig{})
	if err != nil || !created {
		t.Fatal(created, err)
	}
	if _, created, err := v.DeclareStream(nil, "s1", StreamConfig{}); err != nil || created {
		t.Fatalf("redeclare: created=%v err=%v", created, err)
	}
	// A chunk of 3 records takes 3 offsets.
	first, gen, err := s.AppendChunk(&ChunkIn{Encoding: EncodingAMQP10, Entries: 2, Records: 3, Data: []byte("abc")})
	if err != nil || first != 0 || gen == 0 {
		t.Fatalf("append: first=%d gen=%d err=%v", first, gen, err)
	}
	firsts := appendN(t, s, 5, func(i int) ([]byte, FilterSummary, int64) { return []byte(fmt.Sprint("c", i)), FilterSummary{}, 0 })
	if firsts[0] != 3 || firsts[4] != 7 {
		t.Fatalf("offsets %v, want 3..7", firsts)
	}
	// A 0-9-1 publish is a chunk in Warren's form.
	res, _, err := v.Publish(guest, &Message{RoutingKey: []byte("s1"), Props: []byte{0, 0}, Body: []byte("amqp"), Persistent: true}, &PublishCache{}, nil)
	if err != nil || res.Routed != 1 || res.CommitGen == 0 {
		t.Fatalf("publish: %+v %v", res, err)
	}
	r, err := s.NewReader(OffsetSpec{Kind: OffsetFirst}, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r, 9)
	r.Close()
	if len(got) != 7 || got[0].Records != 3 || string(got[0].Data) != "abc" || got[1].FirstOffset != 3 || string(got[5].Data) != "c4" {
		t.Fatalf("chunks %+v", got)
	}
	w := got[6]
	if w.Encoding != EncodingWarren || w.FirstOffset != 8 {
		t.Fatalf("0-9-1 chunk %+v", w)
	}
	var body string
	if err := DecodeWarrenChunk(w.Data, func(i int, m *StreamMessage) bool {
		body = string(m.Body) + "/" + string(m.RoutingKey)
		return true
	}); err != nil || body != "amqp/s1" {
		t.Fatalf("decode %q %v", body, err)
	}
	if err := s.StoreOffset("app-1", 5); err != nil {
		t.Fatal(err)
	}
	b.Close()

	b, v = openStreamBroker(t, dir)
	defer b.Close()
	s, err = v.Stream("s1")
	if err != nil {
		t.Fatal(err)
	}
	if off, ok, _ := s.QueryOffset("app-1"); !ok || off != 5 {
		t.Fatalf("offset after restart %d %v", off, ok)
	}
	st := s.Stats()
	if st.FirstOffset != 0 || st.CommittedNext != 9 || st.LastOffset != 8 || st.Messages != 9 {
		t.Fatalf("stats after restart %+v", st)
	}
	r, err = s.NewReader(OffsetSpec{Kind: OffsetFirst}, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again := readAll(t, r, 9)
	if len(again) != len(got) {
		t.Fatalf("after restart %d chunks, want %d", len(again), len(got))
	}
	for i := range got {
		if again[i].FirstOffset != got[i].FirstOffset || string(again[i].Data) != string(got[i].Data) {
			t.Fatalf("chunk %d after restart %+v, want %+v", i, again[i], got[i])
		}
	}
	// Appends go on after the last offset.
	if first, _, err := s.AppendChunk(&ChunkIn{Encoding: EncodingAMQP10, Entries: 1, Records: 1, Data: []byte("x")}); err != nil || first != 9 {
		t.Fatalf("append after restart: %d %v", first, err)
	}
	if c := readAll(t, r, 1); c[0].FirstOffset != 9 {
		t.Fatalf("reader after restart got %+v", c)
	}
	r.Close()
}

func TestStreamReaderSpecs(t *testing.T) {
	b, v := openStreamBroker(t, t.TempDir())
	defer b.Close()
	s, _, err := v.DeclareStream(nil, "s", StreamConfig{MaxSegmentSizeBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour).UnixMilli()
	appendN(t, s, 100, func(i int) ([]byte, FilterSummary, int64) {
		return make([]byte, 300), FilterSummary{}, base + int64(i)*1000
	})
	r0, _ := s.NewReader(OffsetSpec{Kind: OffsetFirst}, ReaderOptions{})
	readAll(t, r0, 100) // all committed
	r0.Close()
	if st := s.Stats(); st.Segments < 5 {
		t.Fatalf("%d segments of 4 KiB for 30 KB", st.Segments)
	}
	for _, tc := range []struct {
		spec OffsetSpec
		want uint64
	}{
		{OffsetSpec{Kind: OffsetFirst}, 0},
		{OffsetSpec{Kind: OffsetLast}, 99},
		{OffsetSpec{Kind: OffsetAbsolute, Offset: 0}, 0},
		{OffsetSpec{Kind: OffsetAbsolute, Offset: 37}, 37},
		{OffsetSpec{Kind: OffsetAbsolute, Offset: 99}, 99},
		{OffsetSpec{Kind: OffsetTimestamp, Timestamp: base + 42*1000}, 42},
		{OffsetSpec{Kind: OffsetTimestamp, Timestamp: base + 42*1000 - 500}, 42},
		{OffsetSpec{Kind: OffsetTimestamp, Timestamp: base - 1e6}, 0},
	} {
		r, err := s.NewReader(tc.spec, ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c, ok, err := r.Next()
		if err != nil || !ok || c.FirstOffset != tc.want {
			t.Fatalf("%+v: got %+v %v %v, want offset %d", tc.spec, c.FirstOffset, ok, err, tc.want)
		}
		r.Close()
	}
	// Past the end: nothing until something is appended.
	for _, spec := range []OffsetSpec{{Kind: OffsetNext}, {Kind: OffsetAbsolute, Offset: 1000}, {Kind: OffsetTimestamp, Timestamp: time.Now().Add(time.Hour).UnixMilli()}} {
		r, _ := s.NewReader(spec, ReaderOptions{})
		if c, ok, err := r.Next(); ok || err != nil {
			t.Fatalf("%+v: got %+v %v", spec, c, err)
		}
		defer r.Close()
	}
	r, _ := s.NewReader(OffsetSpec{Kind: OffsetNext}, ReaderOptions{})
	defer r.Close()
	appendN(t, s, 1, func(int) ([]byte, FilterSummary, int64) { return []byte("n"), FilterSummary{}, 0 })
	select {
	case <-r.Notify():
	case <-time.After(20 * time.Second):
		t.Fatal("no notification for a committed chunk")
	}
	if c := readAll(t, r, 1); c[0].FirstOffset != 100 {
		t.Fatalf("next got %+v", c[0])
	}
}

// Retention deletes whole segments from the head; a reader in a deleted
// segment goes on from the new first one.
func TestStreamRetention(t *testing.T) {
	b, v := openStreamBroker(t, t.TempDir())
	defer b.Close()
	s, _, err := v.DeclareStream(nil, "s", StreamConfig{MaxSegmentSizeBytes: 4096, MaxLengthBytes: 16384})
	if err != nil {
		t.Fatal(err)
	}
	slow, _ := s.NewReader(OffsetSpec{Kind: OffsetFirst}, ReaderOptions{})
	defer slow.Close()
	appendN(t, s, 10, func(int) ([]byte, FilterSummary, int64) { return make([]byte, 300), FilterSummary{}, 0 })
	readAll(t, slow, 1) // the slow reader holds the first segment's mapping
	appendN(t, s, 290, func(int) ([]byte, FilterSummary, int64) { return make([]byte, 300), FilterSummary{}, 0 })
	st := waitStreamCommitted(t, s, 300)
	if st.Bytes > 16384+4096 || st.FirstOffset == 0 || st.Segments > 6 {
		t.Fatalf("after retention: %+v", st)
	}
	// The slow reader's segment is gone: it goes on from the first kept.
	got := readAll(t, slow, 300-int(st.FirstOffset))
	for i, c := range got {
		if c.FirstOffset != st.FirstOffset+uint64(i) {
			t.Fatalf("slow reader chunk %d at offset %d, want %d (first kept %d)", i, c.FirstOffset, st.FirstOffset+uint64(i), st.FirstOffset)
		}
	}
	// The files are gone from disk too, with their block summaries: one
	// for each kept segment but the head.
	ents, _ := os.ReadDir(s.st.dir)
	segs, sums := 0, 0
	for _, e := range ents {
		switch {
		case strings.HasPrefix(e.Name(), "seg.") && strings.HasSuffix(e.Name(), ".sum"):
			sums++
			if _, err := os.Stat(strings.TrimSuffix(s.st.dir+"/"+e.Name(), ".sum")); err != nil {
				t.Fatalf("%s outlived its segment", e.Name())
			}
		case strings.HasPrefix(e.Name(), "seg."):
			segs++
		}
	}
	if segs != st.Segments || sums != segs-1 {
		t.Fatalf("%d segment files and %d summary files, stats say %d segments", segs, sums, st.Segments)
	}
}

func TestStreamRetentionByAge(t *testing.T) {
	b, v := openStreamBroker(t, t.TempDir())
	defer b.Close()
	s, _, err := v.DeclareStream(nil, "s", StreamConfig{MaxSegmentSizeBytes: 4096, MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour).UnixMilli()
	appendN(t, s, 50, func(int) ([]byte, FilterSummary, int64) { return make([]byte, 300), FilterSummary{}, old })
	// Old segments go as soon as the next one starts: a segment's newest
	// chunk is older than the next one's first.
	before := waitStreamCommitted(t, s, 50)
	appendN(t, s, 30, func(int) ([]byte, FilterSummary, int64) { return make([]byte, 300), FilterSummary{}, 0 })
	st := waitStreamCommitted(t, s, 80)
	if before.Segments > 2 || before.FirstOffset < 30 || st.FirstOffset < 40 || st.FirstOffset > 50 {
		t.Fatalf("before %+v, after %+v: the old segments should be gone", before, st)
	}
}

// A filtered reader selecting 1% reads the bodies of ~1% of the chunks.
func TestStreamFilterSkipsChunks(t *testing.T) {
	b, v := openStreamBroker(t, t.TempDir())
	defer b.Close()
	s, _, err := v.DeclareStream(nil, "s", StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 2000, func(i int) ([]byte, FilterSummary, int64) {
		var f FilterSummary
		switch {
		case i%100 == 0:
			f.Add([]byte("rare"))
		case i%100 == 50:
			f.AddUnfiltered()
		default:
			f.Add([]byte(fmt.Sprint("common-", i%7)))
		}
		return make([]byte, 200), f, 0
	})
	all, _ := s.NewReader(OffsetSpec{Kind: OffsetFirst}, ReaderOptions{})
	readAll(t, all, 2000)
	all.Close()
	r, _ := s.NewReader(OffsetSpec{Kind: OffsetFirst}, ReaderOptions{Filter: [][]byte{[]byte("rare")}})
	defer r.Close()
	var n int
	for {
		c, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if c.FirstOffset%100 == 0 {
			n++
		}
	}
	if n != 20 || r.ChunksRead() > 30 || r.ChunksRead()+r.ChunksSkipped() != 2000 {
		t.Fatalf("filtered reader: %d matching, %d bodies read, %d skipped", n, r.ChunksRead(), r.ChunksSkipped())
	}
	u, _ := s.NewReader(OffsetSpec{Kind: OffsetFirst}, ReaderOptions{Filter: [][]byte{[]byte("rare")}, MatchUnfiltered: true})
	defer u.Close()
	for {
		_, ok, _ := u.Next()
		if !ok {
			break
		}
	}
	if u.ChunksRead() < 40 || u.ChunksRead() > 50 {
		t.Fatalf("match-unfiltered reader read %d chunks, want the 20 rare and 20 unfiltered", u.ChunksRead())
	}
}

func TestStreamDeleteEndsReaders(t *testing.T) {
	b, v := openStreamBroker(t, t.TempDir())
	defer b.Close()
	s, _, _ := v.DeclareStream(nil, "s", StreamConfig{})
	r, _ := s.NewReader(OffsetSpec{Kind: OffsetFirst}, ReaderOptions{})
	defer r.Close()
	if err := v.DeleteStream(nil, "s"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Next(); !errors.Is(err, ErrStreamDeleted) {
		t.Fatalf("after delete: %v", err)
	}
	if _, _, err := s.AppendChunk(&ChunkIn{Encoding: EncodingAMQP10, Records: 1, Data: []byte("x")}); !errors.Is(err, ErrStreamDeleted) {
		t.Fatalf("append after delete: %v", err)
	}
	if _, err := v.Stream("s"); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("lookup after delete: %v", err)
	}
	if err := v.DeleteStream(nil, "s"); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "classic", Durable: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Stream("classic"); !errors.Is(err, ErrNotAStream) {
		t.Fatalf("classic queue as a stream: %v", err)
	}
}

func TestStreamOffsetTrackingCompacts(t *testing.T) {
	dir := t.TempDir()
	b, v := openStreamBroker(t, dir)
	s, _, _ := v.DeclareStream(nil, "s", StreamConfig{})
	for i := range 1000 {
		if err := s.StoreOffset(fmt.Sprint("ref", i%3), uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.StoreOffset("", 1); err == nil {
		t.Fatal("empty reference accepted")
	}
	b.Close()
	b, v = openStreamBroker(t, dir)
	defer b.Close()
	s, _ = v.Stream("s")
	for i, want := range []uint64{999, 997, 998} {
		if off, ok, _ := s.QueryOffset(fmt.Sprint("ref", i)); !ok || off != want {
			t.Fatalf("ref%d: %d %v, want %d", i, off, ok, want)
		}
	}
	if _, ok, _ := s.QueryOffset("nobody"); ok {
		t.Fatal("unknown reference found")
	}
}

func TestStreamConfigFromArguments(t *testing.T) {
	c, err := StreamConfigFromArguments(map[string]string{"max-length-bytes": "1000", "max-age": "7D", "stream-max-segment-size-bytes": "5000", "queue-leader-locator": "least-leaders"})
	if err != nil || c.MaxLengthBytes != 1000 || c.MaxAge != 7*24*time.Hour || c.MaxSegmentSizeBytes != 5000 {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []map[string]string{{"max-age": "7X"}, {"max-length-bytes": "-1"}, {"bogus": "1"}} {
		if _, err := StreamConfigFromArguments(bad); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}

// waitStreamCommitted waits until the stream's committed end reaches next.
func waitStreamCommitted(t *testing.T, s *Stream, next uint64) StreamStats {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := s.Stats()
		if st.CommittedNext >= next {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("committed %+v, want next %d", st, next)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A filtered reader over a long run of chunks it skips returns after a
// bounded number with "nothing yet" and a signal to call again, so an
// event loop running it is not held for the whole stream. Each chunk's
// summary lacks one of the bits of "last", in turn, so no chunk matches
// but every block (stream_index.go) does: the reader goes chunk by chunk.
func TestStreamFilteredReaderYields(t *testing.T) {
	b, v := openStreamBroker(t, t.TempDir())
	defer b.Close()
	s, _, _ := v.DeclareStream(nil, "s", StreamConfig{})
	const n = 3*skipBudget + 10
	var last FilterSummary
	last.Add([]byte("last"))
	var bits [][2]uint64
	for i := range 128 {
		if last.Bloom[i/64]&(1<<(i%64)) != 0 {
			var x [2]uint64
			x[i/64] = 1 << (i % 64)
			bits = append(bits, x)
		}
	}
	if len(bits) < 2 {
		t.Fatalf("\"last\" sets %d bits", len(bits))
	}
	appendN(t, s, n, func(i int) ([]byte, FilterSummary, int64) {
		f := last
		if i != n-1 {
			x := bits[i%len(bits)]
			f.Bloom[0] &^= x[0]
			f.Bloom[1] &^= x[1]
		}
		return []byte("x"), f, 0
	})
	waitStreamCommitted(t, s, n)
	r, _ := s.NewReader(OffsetSpec{Kind: OffsetFirst}, ReaderOptions{Filter: [][]byte{[]byte("last")}})
	defer r.Close()
	calls := 0
	for {
		calls++
		c, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if c.FirstOffset != n-1 {
				t.Fatalf("got chunk %d", c.FirstOffset)
			}
			break
		}
		select {
		case <-r.Notify():
		default:
			t.Fatalf("Next returned nothing after %d calls without signalling to call again", calls)
		}
	}
	if calls != 4 || r.ChunksSkipped() < n-1-3 {
		t.Fatalf("%d calls, %d skipped: want 4 calls of at most %d skips", calls, r.ChunksSkipped(), skipBudget)
	}
}

// A policy's max-age applies to a stream at once, and goes with the policy.
func TestStreamPolicyMaxAge(t *testing.T) {
	b, v := openStreamBroker(t, t.TempDir())
	defer b.Close()
	s, _, _ := v.DeclareStream(nil, "s", StreamConfig{MaxSegmentSizeBytes: 4096})
	old := time.Now().Add(-2 * time.Hour).UnixMilli()
	appendN(t, s, 50, func(int) ([]byte, FilterSummary, int64) { return make([]byte, 300), FilterSummary{}, old })
	appendN(t, s, 30, func(int) ([]byte, FilterSummary, int64) { return make([]byte, 300), FilterSummary{}, 0 })
	before := waitStreamCommitted(t, s, 80)
	if before.FirstOffset != 0 {
		t.Fatalf("retention without a setting: %+v", before)
	}
	if _, err := v.SetPolicy(UserPolicy, Policy{Name: "age", Pattern: "^s$", ApplyTo: "queues", Definition: map[string]any{"max-age": "1h"}}); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.FirstOffset < 40 || st.FirstOffset > 50 || s.Config().MaxAge != time.Hour {
		t.Fatalf("after a max-age policy: %+v config %+v", st, s.Config())
	}
	if _, err := v.DeletePolicy(UserPolicy, "age"); err != nil {
		t.Fatal(err)
	}
	if c := s.Config(); c.MaxAge != 0 {
		t.Fatalf("config after the policy went: %+v", c)
	}
}

// Readers on the same segment share one mapping, released with the last.
func TestStreamReadersShareMappings(t *testing.T) {
	b, v := openStreamBroker(t, t.TempDir())
	defer b.Close()
	s, _, _ := v.DeclareStream(nil, "s", StreamConfig{MaxSegmentSizeBytes: 4096})
	appendN(t, s, 40, func(int) ([]byte, FilterSummary, int64) { return make([]byte, 300), FilterSummary{}, 0 })
	waitStreamCommitted(t, s, 40)
	r1, _ := s.NewReader(OffsetSpec{Kind: OffsetFirst}, ReaderOptions{})
	r2, _ := s.NewReader(OffsetSpec{Kind: OffsetFirst}, ReaderOptions{NoVerify: true})
	c1, _, _ := r1.Next()
	c2, _, _ := r2.Next()
	if c1.FirstOffset != 0 || c2.FirstOffset != 0 || r1.r.sm != r2.r.sm || r1.r.sm.refs != 2 || len(s.st.maps) != 1 {
		t.Fatalf("two readers of segment %d: maps %v %v, %d mapped", r1.r.seg, r1.r.sm, r2.r.sm, len(s.st.maps))
	}
	readAll(t, r1, 39)
	if r2.r.sm.refs != 1 || len(s.st.maps) != 2 {
		t.Fatalf("after r1 moved on: refs %d, %d mapped", r2.r.sm.refs, len(s.st.maps))
	}
	r1.Close()
	r2.Close()
	if len(s.st.maps) != 0 {
		t.Fatalf("%d mappings left after both readers closed", len(s.st.maps))
	}
}

func TestStreamForPermissions(t *testing.T) {
	b, v := openStreamBroker(t, t.TempDir())
	defer b.Close()
	if _, _, err := v.DeclareStream(nil, "s", StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	if s, err := v.StreamFor(nil, "s", "write"); err != nil || s.Name() != "s" {
		t.Fatalf("broker: %v", err)
	}
	if _, err := v.StreamFor(guest, "s", "read"); err != nil {
		t.Fatalf("guest (all permissions): %v", err)
	}
	nobody := &Principal{User: "nobody", VHost: "/"}
	_, err := v.StreamFor(nobody, "s", "read")
	var fe *frame.Error
	if !errors.As(err, &fe) || fe.Code != frame.AccessRefused || !strings.Contains(fe.Error(), "access to queue 's' in vhost '/' refused for user 'nobody'") {
		t.Fatalf("user without permissions: %v", err)
	}
	if _, err := v.StreamFor(nil, "s", "bogus"); err == nil {
		t.Fatal("unknown verb accepted")
	}
	if _, err := v.StreamFor(nil, "missing", "read"); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("missing: %v", err)
	}
}
