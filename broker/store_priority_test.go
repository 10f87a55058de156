package broker

import (
	"fmt"
	"os"
	"sort"
	"testing"
	"unsafe"

	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/segment"
)

// prioMsg is storeMsg(i) with priority p (p < 0: no priority property).
func prioMsg(i, p int, persistent bool) Message {
	m := storeMsg(i, 20, persistent)
	if p >= 0 {
		m.Props = frame.AppendProperties(nil, &frame.Properties{Priority: uint8(p)})
	}
	return m
}

func openTestPriorityStore(t testing.TB, dir string, max int, o storeOptions) *priorityStore {
	t.Helper()
	s, err := openPriorityStore(dir, max, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close() })
	return s
}

// levelDirs lists the level sub-directories that exist under dir.
func levelDirs(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// drainIDs takes every ready message and returns their ids and levels.
func drainIDs(t *testing.T, s store, ack bool) (ids, levels []int, redelivered []bool) {
	t.Helper()
	for {
		tk, d, ok := s.next()
		if !ok {
			return
		}
		ids = append(ids, storeID(d.Body))
		levels = append(levels, int(tk.level))
		redelivered = append(redelivered, d.Redelivered)
		if ack {
			if err := s.ack(tk); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestTicketStaysSmall(t *testing.T) {
	if n := unsafe.Sizeof(Ticket{}); n > 20 {
		t.Fatalf("Ticket is %d bytes, want at most 20 (unacked lists hold one per delivery)", n)
	}
}

// Levels open as messages use them: a queue with x-max-priority 255 and
// three priorities in use has three level directories; next takes the
// highest first, FIFO within a level; priorities above the maximum count
// as the maximum.
func TestPriorityStoreLevels(t *testing.T) {
	dir := t.TempDir()
	sy := segment.NewSyncer()
	defer sy.Close()
	label := func(d string) error { return writeQueueLabel(d, "/", "q") }
	s := openTestPriorityStore(t, dir, 9, storeOptions{Durable: true, Syncer: sy, OnMkdir: label})
	prios := []int{0, 5, -1, 200, 5, 9, 0}
	for i, p := range prios {
		if _, err := s.append(prioMsg(i, p, true)); err != nil {
			t.Fatal(err)
		}
	}
	if got := levelDirs(t, dir); len(got) != 3 || got[0] != "p0" || got[1] != "p5" || got[2] != "p9" {
		t.Fatalf("level directories %q, want [p0 p5 p9]", got)
	}
	if _, err := os.Stat(dir + "/" + queueLabelFile); err != nil {
		t.Fatalf("queue label: %v", err)
	}
	if s.readyCount() != len(prios) {
		t.Fatalf("ready %d", s.readyCount())
	}
	ids, levels, _ := drainIDs(t, s, true)
	wantIDs, wantLevels := []int{3, 5, 1, 4, 0, 2, 6}, []int{9, 9, 5, 5, 0, 0, 0}
	for i := range wantIDs {
		if ids[i] != wantIDs[i] || levels[i] != wantLevels[i] {
			t.Fatalf("order %v levels %v, want %v levels %v", ids, levels, wantIDs, wantLevels)
		}
	}
	if s.readyCount() != 0 {
		t.Fatalf("ready %d after drain", s.readyCount())
	}
}

// A requeued message goes back to the head of its own level: ahead of the
// rest of its level, behind every higher level.
func TestPriorityStoreRequeue(t *testing.T) {
	s := openTestPriorityStore(t, t.TempDir(), 3, storeOptions{})
	for i, p := range []int{1, 1, 1, 3} {
		s.append(prioMsg(i, p, false))
	}
	top, _, _ := s.next() // 3
	mid, _, _ := s.next() // 0 (level 1)
	_, d, _ := s.next()   // 1
	s.requeue(mid)
	if storeID(d.Body) != 1 {
		t.Fatalf("third out %d, want 1", storeID(d.Body))
	}
	s.requeue(top)
	ids, _, red := drainIDs(t, s, true)
	if len(ids) != 3 || ids[0] != 3 || ids[1] != 0 || ids[2] != 2 || !red[0] || !red[1] || red[2] {
		t.Fatalf("after requeue %v redelivered %v, want [3 0 2] [true true false]", ids, red)
	}
}

// A durable priority store reopens with every level: the backlog in
// priority order, what was in flight flagged redelivered, acked messages
// gone; purge empties every level and destroy removes the directory.
func TestPriorityStoreReopen(t *testing.T) {
	dir := t.TempDir()
	sy := segment.NewSyncer()
	defer sy.Close()
	o := storeOptions{Durable: true, Syncer: sy}
	s := openTestPriorityStore(t, dir, 4, o)
	var gen uint64
	for i := range 50 {
		g, err := s.append(prioMsg(i, i%5, true))
		if err != nil {
			t.Fatal(err)
		}
		gen = max(gen, g)
	}
	waitSynced(t, sy, gen)
	acked, _, _ := s.next() // 4, level 4
	if err := s.ack(acked); err != nil {
		t.Fatal(err)
	}
	s.next() // 9, in flight at close
	if err := s.close(); err != nil {
		t.Fatal(err)
	}

	s2 := openTestPriorityStore(t, dir, 4, o)
	if s2.readyCount() != 49 {
		t.Fatalf("ready %d after reopen, want 49", s2.readyCount())
	}
	ids, levels, red := drainIDs(t, s2, false)
	if len(ids) != 49 || ids[0] != 9 || !red[0] {
		t.Fatalf("after reopen first %v (redelivered %v) of %d, want 9, redelivered, of 49", ids[:1], red[:1], len(ids))
	}
	for i := 1; i < len(levels); i++ {
		// The classic store may flag what follows a delivery in its
		// level (its delivered hint is coarse); levels never delivered
		// from must not be flagged.
		if levels[i] > levels[i-1] || ids[i]%5 != levels[i] || (red[i] && levels[i] != 4) {
			t.Fatalf("after reopen: %v at levels %v, redelivered %v", ids, levels, red)
		}
	}
	s3 := openTestPriorityStore(t, t.TempDir(), 4, storeOptions{})
	for i := range 20 {
		s3.append(prioMsg(i, i%5, false))
	}
	held, _, _ := s3.next()
	if n := s3.purge(); n != 19 || s3.readyCount() != 0 {
		t.Fatalf("purge %d, ready %d after, want 19 and 0", n, s3.readyCount())
	}
	s3.requeue(held)
	if ids, _, _ := drainIDs(t, s3, true); len(ids) != 1 || ids[0] != 4 {
		t.Fatalf("after purge and requeue: %v, want [4]", ids)
	}
	if err := s2.destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("queue directory after destroy: %v", err)
	}
}

// The hot path of a priority queue allocates nothing once its levels are
// open.
func TestPriorityStoreZeroAlloc(t *testing.T) {
	sy := segment.NewSyncer()
	defer sy.Close()
	var st store = openTestPriorityStore(t, t.TempDir(), 10, storeOptions{Durable: true, Syncer: sy})
	ms := []Message{prioMsg(1, 2, true), prioMsg(2, 7, true), prioMsg(3, -1, true)}
	for range 1000 {
		for _, m := range ms {
			st.append(m)
		}
		for range ms {
			tk, _, _ := st.next()
			st.ack(tk)
		}
	}
	if a := testing.AllocsPerRun(5000, func() {
		for _, m := range ms {
			st.append(m)
		}
		tk, _, _ := st.next()
		st.requeue(tk)
		for range ms {
			tk, _, _ := st.next()
			st.ack(tk)
		}
	}); a != 0 {
		t.Errorf("%v allocs per 3 appends, a requeue and 4 nexts", a)
	}
}

// BenchmarkPriorityQueueCycle is BenchmarkQueueCycle on a queue with
// x-max-priority 10, messages spread over three priorities.
func BenchmarkPriorityQueueCycle(b *testing.B) {
	for _, durable := range []bool{false, true} {
		b.Run(fmt.Sprintf("durable=%v/16B", durable), func(b *testing.B) {
			br := openTestBroker(b)
			v, _ := br.VHost("/")
			q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "bench", Durable: durable, Args: frame.Table{"x-max-priority": int32(10)}})
			if err != nil {
				b.Fatal(err)
			}
			d := &ackingDeliverer{}
			if err := q.AddConsumer(&Consumer{Tag: "c", D: d}, nil); err != nil {
				b.Fatal(err)
			}
			var ms []Message
			for _, p := range []int{0, 4, 9} {
				m := prioMsg(0, p, durable)
				m.Exchange, m.RoutingKey, m.Body = nil, []byte("bench"), make([]byte, 16)
				ms = append(ms, m)
			}
			var cache PublishCache
			var scratch []*Queue
			b.SetBytes(16)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				var res PublishResult
				res, scratch, err = v.Publish(guest, &ms[i%len(ms)], &cache, scratch)
				if err != nil || res.Routed != 1 {
					b.Fatal(res, err)
				}
				q.Ack(d.last)
			}
		})
	}
}
