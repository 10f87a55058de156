package broker

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A second broker on a data dir in use refuses to start, saying why, and
// leaves the first one's transient queues alone.
func TestDataDirLocked(t *testing.T) {
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, v, q.Name, 1)
	transient := filepath.Join(b.Config().DataDir, "transient")
	before, _ := os.ReadDir(transient)

	_, err = Open(Config{DataDir: b.Config().DataDir})
	if err == nil || !strings.Contains(err.Error(), "in use by another Warren") {
		t.Fatalf("second Open on a data dir in use: %v", err)
	}
	after, _ := os.ReadDir(transient)
	if len(before) == 0 || len(after) != len(before) {
		t.Fatalf("transient dir had %d entries, %d after the refused Open", len(before), len(after))
	}
	// Once the first has closed, the dir is free.
	b.Close()
	b2, err := Open(Config{DataDir: b.Config().DataDir})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	b2.Close()
}

// A durable queue's directory names its vhost and queue, and a vhost's
// directory its vhost, in the files and format RabbitMQ 3.10 uses.
func TestQueueDirLabel(t *testing.T) {
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "orders/../eu", Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, v, q.Name, 1)
	data, err := os.ReadFile(filepath.Join(b.queueDir(v, q.Name, true), ".queue_name"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "VHOST: /\nQUEUE: orders/../eu\n"; string(data) != want {
		t.Fatalf(".queue_name holds %q, want %q (RabbitMQ's format)", data, want)
	}
	if data, err := os.ReadFile(filepath.Join(v.dir, ".vhost")); err != nil || string(data) != "/" {
		t.Fatalf(".vhost holds %q, %v", data, err)
	}
}

// Empty durable queues hold no file descriptor, before and after a
// restart, so 100,000 of them fit in the default limit of 1,024.
func TestIdleQueuesHoldNoFDs(t *testing.T) {
	const n = 1500 // more than the default fd limit
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	base := openFDs(t)
	for i := range n {
		if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: fmt.Sprintf("q%d", i), Durable: true}); err != nil {
			t.Fatal(err)
		}
	}
	if got := openFDs(t); got > base+20 {
		t.Fatalf("%d fds open with %d empty durable queues, %d before", got, n, base)
	}
	b = reopen(t, b)
	if got := openFDs(t); got > base+20 {
		t.Fatalf("%d fds open after a restart with %d empty durable queues, %d before", got, n, base)
	}
	// A queue that held messages and was drained keeps none either.
	v, _ = b.VHost("/")
	q, _ := v.Queue(guest, "q0", 0)
	publishN(t, v, "q0", 3)
	for range 3 {
		if !q.Get(true, func(Ticket, Delivery, int) {}) {
			t.Fatal("message missing")
		}
	}
	if got := openFDs(t); got > base+20 {
		t.Fatalf("%d fds open, %d before", got, base)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count fds: %v", err)
	}
	return len(ents)
}

// publishN publishes n persistent messages to queue through the default
// exchange and waits until they are on disk.
func publishN(t *testing.T, v *VHost, queue string, n int) {
	t.Helper()
	var last uint64
	for range n {
		m := Message{RoutingKey: []byte(queue), Props: []byte{0, 0}, Body: []byte("x"), Persistent: true, Timestamp: time.Now().UnixMilli()} // arrival time, as netio stamps it (message TTL counts from it)
		res, _, err := v.Publish(guest, &m, &PublishCache{}, nil)
		if err != nil || res.Routed != 1 {
			t.Fatalf("publish to %q: routed %d, %v", queue, res.Routed, err)
		}
		last = max(last, res.CommitGen)
	}
	for deadline := time.Now().Add(time.Minute); v.b.Watermark().Committed() < last; {
		if time.Now().After(deadline) {
			t.Fatalf("commit %d not reached in a minute", last)
		}
		time.Sleep(time.Millisecond)
	}
}
