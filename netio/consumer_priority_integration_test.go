package netio_test

import (
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// consumeArgs subscribes with arguments on a channel with prefetch
// prefetch (0: unlimited), manual acks.
func consumeArgs(t *testing.T, c *amqp.Connection, q, tag string, prefetch int, args amqp.Table) (*amqp.Channel, <-chan amqp.Delivery) {
	t.Helper()
	ch := channel(t, c)
	if prefetch > 0 {
		if err := ch.Qos(prefetch, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := ch.Consume(q, tag, false, false, false, false, args)
	if err != nil {
		t.Fatalf("basic.consume %s %v: %v", q, args, err)
	}
	return ch, ds
}

// expectBody receives one delivery and checks its body.
func expectBody(t *testing.T, ds <-chan amqp.Delivery, body string) amqp.Delivery {
	t.Helper()
	d := recv(t, ds)
	if string(d.Body) != body {
		t.Fatalf("delivery %q, want %q", d.Body, body)
	}
	return d
}

// TestConsumerPriority: messages go to the highest-priority consumer while
// it has credit, to lower ones only while it is blocked, round-robin among
// consumers of the same priority.
func TestConsumerPriority(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	_, low := consumeArgs(t, c, q, "low", 0, amqp.Table{"x-priority": int32(1)})
	hch, high := consumeArgs(t, c, q, "high", 2, amqp.Table{"x-priority": int64(10)})
	publishText(t, ch, "", q, "m1")
	publishText(t, ch, "", q, "m2")
	h1 := expectBody(t, high, "m1")
	h2 := expectBody(t, high, "m2")
	noDelivery(t, low, 100*time.Millisecond)
	// high's window is full: the lower consumer takes over.
	for _, b := range []string{"m3", "m4", "m5"} {
		publishText(t, ch, "", q, b)
		expectBody(t, low, b).Ack(false)
	}
	if err := h1.Ack(false); err != nil {
		t.Fatal(err)
	}
	if err := h2.Ack(false); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, hch, q) // the acks are in before the next publish
	roundTrip(t, ch, q)
	publishText(t, ch, "", q, "m6")
	expectBody(t, high, "m6").Ack(false)
	noDelivery(t, low, 100*time.Millisecond)

	// Two consumers at the top priority share; the lower one waits.
	q2 := declareQueue(t, ch, "equal")
	_, a := consumeArgs(t, c, q2, "a", 0, amqp.Table{"x-priority": int16(5)})
	_, b := consumeArgs(t, c, q2, "b", 0, amqp.Table{"x-priority": uint8(5)})
	_, z := consumeArgs(t, c, q2, "z", 0, nil)
	for i := 0; i < 6; i++ {
		publishText(t, ch, "", q2, itoa(i))
	}
	var gotA, gotB []string
	for i := 0; i < 3; i++ {
		gotA = append(gotA, string(recv(t, a).Body))
		gotB = append(gotB, string(recv(t, b).Body))
	}
	if strings.Join(gotA, " ") != "0 2 4" || strings.Join(gotB, " ") != "1 3 5" {
		t.Fatalf("equal priorities: a got %q, b got %q, want round-robin", gotA, gotB)
	}
	noDelivery(t, z, 100*time.Millisecond)
}

// TestConsumerPriorityCancel: when the high-priority consumer goes, the
// lower one gets what it could not take.
func TestConsumerPriorityCancel(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	_, low := consumeArgs(t, c, q, "low", 0, amqp.Table{"x-priority": int32(-3)})
	hch, high := consumeArgs(t, c, q, "high", 1, amqp.Table{"x-priority": int32(3)})
	publishText(t, ch, "", q, "m1")
	held := expectBody(t, high, "m1")
	if err := hch.Cancel("high", false); err != nil {
		t.Fatal(err)
	}
	publishText(t, ch, "", q, "m2")
	expectBody(t, low, "m2").Ack(false)
	// The cancelled consumer's delivery stays unacked on its channel.
	if err := held.Ack(false); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, hch, q)
}

// TestConsumerArgs: basic.consume's arguments are checked as RabbitMQ 3.10
// checks them on a classic queue, with its texts; the ones it ignores are
// accepted.
func TestConsumerArgs(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	for _, args := range []amqp.Table{
		{"x-priority": int32(-5)},
		{"x-priority": int64(1) << 40},
		{"x-cancel-on-ha-failover": true},
		{"x-credit": amqp.Table{"credit": int32(1), "drain": false}},
		{"x-unknown-to-everyone": "yes"},
	} {
		cch, _ := consumeArgs(t, c, q, "", 0, args)
		if err := cch.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args amqp.Table
		text string
	}{
		{amqp.Table{"x-priority": "5"}, `invalid arg 'x-priority' for queue '` + q + `' in vhost '/': "expected integer, got longstr"`},
		{amqp.Table{"x-priority": true}, `invalid arg 'x-priority' for queue '` + q + `' in vhost '/': "expected integer, got bool"`},
		{amqp.Table{"x-priority": 1.5}, `invalid arg 'x-priority' for queue '` + q + `' in vhost '/': "expected integer, got double"`},
		{amqp.Table{"x-cancel-on-ha-failover": "yes"}, `invalid arg 'x-cancel-on-ha-failover' for queue '` + q + `' in vhost '/': {unacceptable_type,longstr}`},
		{amqp.Table{"x-stream-offset": "first"}, `invalid arg 'x-stream-offset' for queue '` + q + `' in vhost '/' of queue type rabbit_classic_queue`},
	} {
		channelFails(t, c, amqp.PreconditionFailed, "consume with "+tc.text, func(ch *amqp.Channel) error {
			_, err := ch.Consume(q, "", false, false, false, false, tc.args)
			if e, ok := err.(*amqp.Error); ok && !strings.Contains(e.Reason, tc.text) {
				t.Errorf("consume %v: %q, want %q", tc.args, e.Reason, tc.text)
			}
			return err
		})
	}
	if st := queueState(t, c, q); st.Consumers != 0 {
		t.Fatalf("%d consumers left, want 0", st.Consumers)
	}
}
