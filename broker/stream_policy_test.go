package broker

import (
	"testing"
	"time"
)

// A policy on an existing stream, as RabbitMQ 3.10 applies it: retention
// (max-length-bytes, max-age) at once, through osiris:update_retention;
// stream-max-segment-size-bytes is kept in the stream's configuration and
// used from the next open (RabbitMQ's writer reads it when it starts), so
// segments already being written keep their size until then.
func TestStreamPolicySegmentSizeAndLengthBytes(t *testing.T) {
	dir := t.TempDir()
	b, v := openStreamBroker(t, dir)
	s, _, err := v.DeclareStream(nil, "s", StreamConfig{MaxSegmentSizeBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	// The arguments of t say less than the policy: the policy wins for a
	// stream (not the lower of the two, as for a classic queue's limit).
	tq, _, err := v.DeclareStream(nil, "t", StreamConfig{MaxLengthBytes: 10000, MaxAge: time.Minute, MaxSegmentSizeBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 100, func(int) ([]byte, FilterSummary, int64) { return make([]byte, 300), FilterSummary{}, 0 })
	before := waitStreamCommitted(t, s, 100)
	if before.FirstOffset != 0 || before.Segments < 8 {
		t.Fatalf("before the policy: %+v", before)
	}
	if _, err := v.SetPolicy(UserPolicy, Policy{Name: "p", Pattern: "^[st]$", ApplyTo: "queues",
		Definition: map[string]any{"max-length-bytes": 20000, "max-age": "1h", "stream-max-segment-size-bytes": 1 << 20}}); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.FirstOffset == 0 || st.Bytes > 20000+4096 {
		t.Fatalf("max-length-bytes by policy not applied at once: %+v", st)
	}
	for _, x := range []*Stream{s, tq} {
		if c := x.Config(); c.MaxLengthBytes != 20000 || c.MaxAge != time.Hour || c.MaxSegmentSizeBytes != 1<<20 {
			t.Fatalf("config of %s after the policy: %+v", x.Name(), c)
		}
	}
	// The open log keeps its 4 KiB segments.
	segs := st.Segments
	appendN(t, s, 20, func(int) ([]byte, FilterSummary, int64) { return make([]byte, 300), FilterSummary{}, 0 })
	waitStreamCommitted(t, s, 120)
	if n := s.Stats(); n.FirstOffset <= st.FirstOffset || n.Bytes > 20000+4096 {
		t.Fatalf("retention after the policy, on new appends: %+v (was %+v, %d segments)", n, st, segs)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened: the policy's segment size.
	b, v = openStreamBroker(t, dir)
	defer b.Close()
	s, err = v.Stream("s")
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Config(); c.MaxSegmentSizeBytes != 1<<20 || c.MaxLengthBytes != 20000 {
		t.Fatalf("config after reopen: %+v", c)
	}
	st = s.Stats()
	appendN(t, s, 60, func(int) ([]byte, FilterSummary, int64) { return make([]byte, 300), FilterSummary{}, 0 })
	after := waitStreamCommitted(t, s, 180)
	// 60 x ~360 B in 4 KiB segments would be 6 more; in 1 MiB ones, one.
	if after.Segments > st.Segments+1 {
		t.Fatalf("after reopen, segments went from %d to %d: not the policy's 1 MiB", st.Segments, after.Segments)
	}
}
