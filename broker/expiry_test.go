package broker

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/warrenmq/warren/frame"
)

func ttlArgs(ms int32) frame.Table { return frame.Table{"x-message-ttl": ms} }

// A backlog expires without a consumer, in batches that let the lock go,
// and its segments are deleted as it goes.
func TestExpiryBacklogReclaimsSegments(t *testing.T) {
	b, err := Open(Config{DataDir: t.TempDir(), SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	v, _ := b.VHost("/")
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "ttl", Durable: true, Args: ttlArgs(300)})
	if err != nil {
		t.Fatal(err)
	}
	other := declareTestQueue(t, v, "other")
	const n = 3*expireBatch + 17
	var cache PublishCache
	var scratch []*Queue
	body := make([]byte, 100)
	for range n {
		m := Message{RoutingKey: []byte("ttl"), Props: []byte{0, 0}, Body: body, Timestamp: time.Now().UnixMilli()}
		if _, scratch, err = v.Publish(guest, &m, &cache, scratch); err != nil {
			t.Fatal(err)
		}
	}
	segments := func() int {
		files, _ := filepath.Glob(filepath.Join(b.queueDir(v, "ttl", true), "*"))
		n := 0
		for _, f := range files {
			if st, err := os.Stat(f); err == nil && st.Size() > 0 && filepath.Ext(f) != ".label" {
				n++
			}
		}
		return n
	}
	if s := segments(); s < 10 {
		t.Fatalf("backlog spans %d files, want many (the test needs several segments)", s)
	}
	deadline := time.Now().Add(30 * time.Second)
	for q.Ready() > 0 {
		// Other queues are served while the backlog expires.
		m := testMessage("x")
		m.RoutingKey = []byte("other")
		if _, scratch, err = v.Publish(guest, m, &cache, scratch); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages still ready after 30 s", q.Ready(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if other.Ready() == 0 {
		t.Fatal("no publish to another queue went through")
	}
	if s := segments(); s > 3 {
		t.Fatalf("%d files left after the backlog expired, want the segments deleted", s)
	}
}

// expireLocked stops after a batch: the rest is the timer's next turn.
func TestExpiryBatchBounded(t *testing.T) {
	v := openTestVHost(t)
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "ttl", Args: ttlArgs(60_000)})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).UnixMilli()
	q.mu.Lock()
	for range expireBatch + 5 {
		if _, err := q.st.append(Message{Props: []byte{0, 0}, Body: []byte("b"), Timestamp: old}); err != nil {
			t.Fatal(err)
		}
	}
	n, more := q.expireLocked(nowMilli(), expireBatch)
	if n != expireBatch || !more {
		t.Fatalf("first batch expired %d (more %v), want %d and more", n, more, expireBatch)
	}
	n, more = q.expireLocked(nowMilli(), expireBatch)
	q.mu.Unlock()
	if n != 5 || more {
		t.Fatalf("second batch expired %d (more %v), want 5 and done", n, more)
	}
}

func TestParseExpiration(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1": 1, "+7": 7, "4294967295": maxExpiration} {
		if got, err := parseExpiration([]byte(in)); err != nil || got != want {
			t.Errorf("parseExpiration(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]string{"": "no_integer", "x": "no_integer", "-1": "{value_negative,-1}", "4294967296": "{value_too_large,4294967296}", "5s": `{leftover_string,"s"}`} {
		if _, err := parseExpiration([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("parseExpiration(%q) error %v, want %s", in, err, want)
		}
	}
}

// A policy's settings reach the features through reconfigure: a new TTL
// expires what is due at once, a new byte limit drops from the head, and
// a queue TTL starts.
func TestReconfigureAppliesTTLAndLimits(t *testing.T) {
	v := openTestVHost(t)
	q := declareTestQueue(t, v, "p")
	old := time.Now().Add(-time.Minute).UnixMilli()
	q.mu.Lock()
	for range 3 {
		if _, err := q.st.append(Message{Props: []byte{0, 0}, Body: []byte("12345"), Timestamp: old}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.st.append(Message{Props: []byte{0, 0}, Body: []byte("12345"), Timestamp: time.Now().UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	s := q.cfg
	q.mu.Unlock()

	s.messageTTL = 30_000
	q.reconfigure(s)
	if n := q.Ready(); n != 1 {
		t.Fatalf("after a 30 s TTL, %d ready, want 1 (three were a minute old)", n)
	}
	s.maxLengthBytes = 0
	q.reconfigure(s)
	if n := q.Ready(); n != 0 {
		t.Fatalf("after a 0-byte limit, %d ready, want 0", n)
	}
	s.expires = 50
	q.reconfigure(s)
	deadline := time.Now().Add(30 * time.Second)
	for {
		v.mu.RLock()
		_, ok := v.queues["p"]
		v.mu.RUnlock()
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("queue with a 50 ms x-expires from a policy still there after 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Expiry into a dead-letter exchange moves large messages a bounded
// number of bytes at a time, not a whole batch of copies.
func TestExpiryDeadLetterBatchBounded(t *testing.T) {
	v := openTestVHost(t)
	declareTestQueue(t, v, "dlq")
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "big", Args: frame.Table{
		"x-message-ttl": int32(60_000), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dlq",
	}})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).UnixMilli()
	body := make([]byte, 1<<20)
	q.mu.Lock()
	defer q.mu.Unlock()
	for range 40 {
		if _, err := q.st.append(Message{Props: []byte{0, 0}, Body: body, Timestamp: old}); err != nil {
			t.Fatal(err)
		}
	}
	n, more := q.expireLocked(nowMilli(), expireBatch)
	if !more || n*len(body) > deadBatchBytes+len(body) {
		t.Fatalf("one batch took %d MiB messages (more %v), want about %d MiB and more", n, more, deadBatchBytes>>20)
	}
}

// A priority queue expires, dead letters and counts bytes like a classic
// one: its store shows the head next would hand out.
func TestExpiryPriorityQueue(t *testing.T) {
	v := openTestVHost(t)
	dlq := declareTestQueue(t, v, "dlq")
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "prio", Args: frame.Table{
		"x-max-priority": int32(5), "x-message-ttl": int32(50), "x-max-length-bytes": int32(1000),
		"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dlq",
	}})
	if err != nil {
		t.Fatal(err)
	}
	var cache PublishCache
	for _, prio := range []byte{0, 5, 3} {
		props := frame.AppendProperties(nil, &frame.Properties{Priority: prio})
		m := Message{RoutingKey: []byte("prio"), Props: props, Body: []byte("x"), Timestamp: time.Now().UnixMilli()}
		if _, _, err := v.Publish(guest, &m, &cache, nil); err != nil {
			t.Fatal(err)
		}
	}
	q.mu.Lock()
	b := q.readyBytesLocked()
	q.mu.Unlock()
	if b != 3 {
		t.Fatalf("ready bytes %d, want 3", b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for q.Ready() > 0 || dlq.Ready() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d ready in the priority queue, %d dead lettered; want 0 and 3", q.Ready(), dlq.Ready())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
