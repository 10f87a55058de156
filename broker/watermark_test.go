package broker

import (
	"testing"
	"time"
)

// A persistent publish to a durable queue names a commit generation that the
// broker's watermark reaches, and subscribers hear of it: publisher confirms
// rest on exactly this.
func TestWatermarkCommitsPersistentPublish(t *testing.T) {
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "wm", Durable: true}); err != nil {
		t.Fatal(err)
	}
	heard := make(chan uint64, 64)
	cancel := b.Watermark().Subscribe(func(g uint64) {
		select {
		case heard <- g:
		default:
		}
	})
	defer cancel()
	m := Message{Exchange: []byte(""), RoutingKey: []byte("wm"), Props: []byte{0, 0}, Body: []byte("x"), Persistent: true}
	res, _, err := v.Publish(guest, &m, &PublishCache{}, nil)
	if err != nil || res.Routed != 1 || res.CommitGen == 0 {
		t.Fatalf("publish: %+v %v", res, err)
	}
	deadline := time.After(30 * time.Second)
	var last uint64
	for last < res.CommitGen {
		select {
		case last = <-heard:
		case <-deadline:
			t.Fatalf("subscriber heard %d, never %d", last, res.CommitGen)
		}
	}
	if got := b.Watermark().Committed(); got < res.CommitGen {
		t.Fatalf("subscriber heard %d but Committed() is %d", last, got)
	}
}

// Transient messages and non-durable queues wait for no commit.
func TestWatermarkTransientNeedsNoCommit(t *testing.T) {
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	for _, o := range []QueueDeclareOptions{{Name: "wm-d", Durable: true}, {Name: "wm-t"}} {
		if _, err := v.QueueDeclare(guest, o); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		queue      string
		persistent bool
	}{{"wm-d", false}, {"wm-t", true}} {
		m := Message{RoutingKey: []byte(c.queue), Props: []byte{0, 0}, Body: []byte("x"), Persistent: c.persistent}
		res, _, err := v.Publish(guest, &m, &PublishCache{}, nil)
		if err != nil || res.Routed != 1 || res.CommitGen != 0 {
			t.Fatalf("%s persistent=%v: %+v %v", c.queue, c.persistent, res, err)
		}
	}
}
