//go:build linux

package broker

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/warrenmq/warren/segment/smallfs"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuf) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestAckFailuresAtDiskFullAreRateLimited: with the disk full, every ack
// that needs a new ack file fails. That used to log one line per ack
// (7,944 lines for 30,500 acks): now each kind of storage error is logged
// once per interval and counted in warren_storage_errors_total.
func TestAckFailuresAtDiskFullAreRateLimited(t *testing.T) {
	mnt := smallfs.Mount(t, 4<<20)
	var logs syncBuf
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))

	b, err := Open(Config{DataDir: filepath.Join(mnt, "data"), SegmentSize: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	v, _ := b.VHost("/")
	q, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "acks", Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	var cache PublishCache
	body := make([]byte, 1000)
	published := 0
	for published < 10000 {
		m := Message{RoutingKey: []byte("acks"), Body: body, Persistent: true}
		res, _, err := v.Publish(guest, &m, &cache, nil)
		if err != nil {
			t.Fatalf("publish %d: %v", published, err)
		}
		if res.Unstored > 0 {
			break // the disk is full
		}
		published++
	}
	if published == 10000 {
		t.Fatal("a 4 MiB disk took 10 MB of messages")
	}
	acksBefore, appendsBefore := faultAck.count(), faultAppend.count()
	for range 200 { // more failed publishes: counted, not logged
		m := Message{RoutingKey: []byte("acks"), Body: body, Persistent: true}
		if res, _, _ := v.Publish(guest, &m, &cache, nil); res.Unstored == 0 {
			t.Fatal("a publish to a full disk was stored")
		}
	}
	// Every other message first: no segment completes (which would free
	// its disk), so each ack needs a new ack file on the full disk.
	tickets := make([]Ticket, published)
	for i := range tickets {
		if !q.Get(false, func(t Ticket, _ Delivery, _ int) { tickets[i] = t }) {
			t.Fatal("queue empty early")
		}
	}
	for i := 1; i < len(tickets); i += 2 {
		q.Ack(tickets[i])
	}
	for i := 0; i < len(tickets); i += 2 {
		q.Ack(tickets[i])
	}
	failedAcks := faultAck.count() - acksBefore
	if failedAcks < 10 {
		t.Fatalf("only %d of %d acks failed at disk full; the test needs many", failedAcks, published)
	}
	if n := faultAppend.count() - appendsBefore; n != 200 {
		t.Fatalf("counted %d failed appends, want 200", n)
	}
	out := logs.String()
	for _, msg := range []string{faultAck.msg, faultAppend.msg} {
		if n := strings.Count(out, msg); n > 1 {
			t.Errorf("%d lines %q; want at most one per %v", n, msg, faultLogInterval)
		}
	}
	t.Logf("%d messages, %d failed acks", published, failedAcks)
}
