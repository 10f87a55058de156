package broker

import (
	"os"
	"path/filepath"
	"testing"
)

// A queue that never held a message has no store open; its first message
// opens one (directory, label) and the queue keeps it, across a restart.
// Purge and delete of a queue still unopened are no-ops that work.
func TestUnopenedStore(t *testing.T) {
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	for _, name := range []string{"empty", "used", "gone"} {
		if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: name, Durable: true}); err != nil {
			t.Fatal(err)
		}
	}
	q, _ := v.Queue(guest, "used", 0)
	if _, ok := q.st.(*unopenedStore); !ok {
		t.Fatalf("a new queue's store is %T, want *unopenedStore", q.st)
	}
	dir := b.queueDir(v, "used", true)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a new queue has a directory: %v", err)
	}
	publishN(t, v, "used", 2)
	if _, ok := q.st.(*classicStore); !ok || q.Ready() != 2 {
		t.Fatalf("after a publish: store %T, %d ready", q.st, q.Ready())
	}
	if _, err := os.Stat(filepath.Join(dir, queueLabelFile)); err != nil {
		t.Fatalf("no label once the directory exists: %v", err)
	}

	empty, _ := v.Queue(guest, "empty", 0)
	if n := empty.Purge(); n != 0 || empty.Ready() != 0 {
		t.Fatalf("purge of an unopened queue: %d", n)
	}
	if _, err := v.QueueDelete(guest, "gone", QueueDeleteOptions{}, 0); err != nil {
		t.Fatal(err)
	}

	b = reopen(t, b)
	v, _ = b.VHost("/")
	q, _ = v.Queue(guest, "used", 0)
	empty, _ = v.Queue(guest, "empty", 0)
	if _, ok := q.st.(*classicStore); !ok || q.Ready() != 2 {
		t.Fatalf("after a restart: store %T, %d ready", q.st, q.Ready())
	}
	if _, ok := empty.st.(*unopenedStore); !ok {
		t.Fatalf("an empty queue after a restart has store %T", empty.st)
	}
	if _, err := v.Queue(guest, "gone", 0); err == nil {
		t.Fatal("deleted queue back after a restart")
	}
	publishN(t, v, "empty", 1)
	if !empty.Get(true, func(Ticket, Delivery, int) {}) {
		t.Fatal("no message from a queue opened after a restart")
	}
}
