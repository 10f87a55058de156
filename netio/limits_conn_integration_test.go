package netio_test

import (
	"fmt"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// consumerTimedOut is RabbitMQ's close text for a delivery not acked in time.
func consumerTimedOut(ch uint16, ms int) string {
	return fmt.Sprintf("PRECONDITION_FAILED - delivery acknowledgement on channel %d timed out. Timeout value used: %d ms. This timeout value can be configured, see consumers doc guide to learn more", ch, ms)
}

// expectTimedOut consumes n messages from q without acking them and waits
// for the channel to be closed for it; then they must be back in q,
// marked redelivered.
func expectTimedOut(t *testing.T, c *amqp.Connection, q string, qArgs, consumeArgs amqp.Table, ms int) {
	t.Helper()
	ch := channel(t, c)
	if _, err := ch.QueueDeclare(q, false, false, false, false, qArgs); err != nil {
		t.Fatalf("declare %s: %v", q, err)
	}
	cleanupQueue(t, q)
	for i := range 3 {
		publishText(t, ch, "", q, fmt.Sprint("m", i))
	}
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	ds, err := ch.Consume(q, "", false, false, false, false, consumeArgs)
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	for range 3 {
		recv(t, ds)
	}
	e := waitClosed(t, closes, amqp.PreconditionFailed, "channel holding unacked deliveries")
	if want := consumerTimedOut(1, ms); e.Reason != want {
		t.Fatalf("close reason %q, want %q", e.Reason, want)
	}
	ch2 := channel(t, c)
	for i := range 3 {
		d := mustGet(t, ch2, q, true, fmt.Sprint("m", i))
		if !d.Redelivered {
			t.Fatalf("message %d back in the queue without the redelivered flag", i)
		}
	}
}

// The queue's x-consumer-timeout (RabbitMQ 3.12) closes a channel whose
// oldest delivery from it stays unacked longer, and requeues what it held.
func TestConsumerTimeoutQueueArg(t *testing.T) {
	needLocal(t) // RabbitMQ 3.10 has only the global consumer_timeout
	expectTimedOut(t, dial(t), name(t, "q"), amqp.Table{"x-consumer-timeout": int32(300)}, nil, 300)
}

// A consumer's own x-consumer-timeout argument wins over the queue's.
func TestConsumerTimeoutConsumerArg(t *testing.T) {
	needLocal(t)
	expectTimedOut(t, dial(t), name(t, "q"), amqp.Table{"x-consumer-timeout": int32(3600000)}, amqp.Table{"x-consumer-timeout": int64(200)}, 200)
}

// Deliveries that are acked in time never close the channel, however long
// the consumer runs; a bad x-consumer-timeout is refused at consume.
func TestConsumerTimeoutAckedInTime(t *testing.T) {
	needLocal(t)
	c := dial(t)
	ch := channel(t, c)
	q := name(t, "q")
	if _, err := ch.QueueDeclare(q, false, false, false, false, amqp.Table{"x-consumer-timeout": int32(500)}); err != nil {
		t.Fatal(err)
	}
	cleanupQueue(t, q)
	ds, err := ch.Consume(q, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2500 * time.Millisecond)
	for i := 0; time.Now().Before(deadline); i++ {
		publishText(t, ch, "", q, fmt.Sprint("m", i))
		if err := recv(t, ds).Ack(false); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // pacing the consumer, not synchronisation
	}
	roundTrip(t, ch, q) // still open
	channelFails(t, c, amqp.PreconditionFailed, "consume with x-consumer-timeout 0", func(ch *amqp.Channel) error {
		_, err := ch.Consume(q, "", false, false, false, false, amqp.Table{"x-consumer-timeout": int32(0)})
		return err
	})
}
