//go:build linux

package netio_test

import (
	"context"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// TestCommitFailureNacksOnlyItsQueue: when one queue's file fails in the
// group commit, only the publishes stored in that queue are nacked; a
// publish to another durable queue whose records shared the round (or the
// window of rounds it waited on) is on disk and gets basic.ack. It used to
// be nacked with the whole generation.
func TestCommitFailureNacksOnlyItsQueue(t *testing.T) {
	needLocal(t)
	in, _, ch := brokenStorageChannel(t)
	const broken, good = "lost-broken", "lost-good"
	for _, q := range []string{broken, good} {
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	// A first message gives the broken queue its segment file.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", broken, false, false,
		amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := dc.WaitContext(ctx); err != nil || !ok {
		t.Fatalf("first publish: ok=%v err=%v", ok, err)
	}
	failSegmentWrites(t, openSegmentFD(t, in.dir))
	r := confirmChannel(t, in.addr)
	// One write: the publishes to the good queue are stored while the
	// broken queue's commit is under way, so their confirms wait on the
	// generation that fails.
	targets := []string{broken, good, good, good, good}
	publishPersistentBatch(r, targets)
	for i, ack := range readConfirms(t, r, len(targets)) {
		if want := targets[i] == good; ack != want {
			t.Fatalf("publish %d to %s: ack=%v, want ack=%v", i+1, targets[i], ack, want)
		}
	}
	ch2, err := amqp.Dial(in.url)
	if err != nil {
		t.Fatal(err)
	}
	defer ch2.Close()
	if got := queueState(t, ch2, good).Messages; got != len(targets)-1 {
		t.Fatalf("%s holds %d messages, want the %d acked", good, got, len(targets)-1)
	}
}
