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

// A client that opens channel_max channels and one more gets RabbitMQ's
// 530: the connection closes, so a channel flood is bounded per connection.
func TestChannelMaxEnforced(t *testing.T) {
	r := dialRaw(t)
	r.handshake(handshakeOpts{chanMax: 3})
	for id := uint16(1); id <= 3; id++ {
		r.openChannel(id)
	}
	r.sendMethod(4, 20, 10, shortstr(""))
	text, _, _ := r.expectConnectionClose(amqp.NotAllowed)
	if want := "NOT_ALLOWED - number of channels opened (3) has reached the negotiated channel_max (3)"; text != want {
		t.Fatalf("close text %q, want %q", text, want)
	}
}

// RabbitMQ counts channels, not ids: a channel number above channel_max
// opens while fewer than channel_max are open.
func TestChannelMaxCountsChannels(t *testing.T) {
	r := dialRaw(t)
	r.handshake(handshakeOpts{chanMax: 2})
	r.openChannel(1)
	r.sendMethod(9, 20, 10, shortstr(""))
	f := r.next()
	if f.isMethod(10, 50) {
		code, text, _, _ := parseClose(f.payload[4:])
		t.Fatalf("channel 9 with channel_max 2: connection closed %d %q", code, text)
	}
	if f.ch != 9 || !f.isMethod(20, 11) {
		t.Fatalf("channel 9 with channel_max 2: got %s", f)
	}
}

// frame_max as RabbitMQ enforces it: a payload may reach frame_max (8 bytes
// of slack for clients that forget the header), one byte more is a 501
// with RabbitMQ's text.
func TestFrameMaxTextAndSlack(t *testing.T) {
	r := dialRaw(t)
	r.handshake(handshakeOpts{frameMax: 4096})
	r.openChannel(1)
	r.send(3, 1, make([]byte, 4096)) // accepted, then refused as a body without a header
	text, _, _ := r.expectConnectionClose(505)
	if want := "UNEXPECTED_FRAME - expected method frame, got non method frame instead"; text != want {
		t.Fatalf("payload of frame_max bytes: close %q, want %q", text, want)
	}
	r = dialRaw(t)
	r.handshake(handshakeOpts{frameMax: 4096})
	r.openChannel(1)
	r.send(3, 1, make([]byte, 4097))
	f := r.next()
	if !f.isMethod(10, 50) {
		t.Fatalf("payload of frame_max+1 bytes: got %s, want connection.close", f)
	}
	code, text, _, _ := parseClose(f.payload[4:])
	if want := "FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,4097,4088}"; code != 501 || text != want {
		t.Fatalf("payload of frame_max+1 bytes: close %d %q, want 501 %q", code, text, want)
	}
}
