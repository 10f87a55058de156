package netio_test

import (
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Message and queue TTL, as RabbitMQ 3.10 does them. Run against RabbitMQ
// with WARREN_IT_URL to check the expectations.

// declareArgs declares a plain named queue with arguments.
func declareArgs(t *testing.T, ch *amqp.Channel, suffix string, args amqp.Table) string {
	t.Helper()
	q := name(t, suffix)
	if _, err := ch.QueueDeclare(q, false, false, false, false, args); err != nil {
		t.Fatalf("queue.declare %s %v: %v", q, args, err)
	}
	cleanupQueue(t, q)
	return q
}

// TestMessageTTLExpiresWithoutConsumer: expired messages leave the queue by
// themselves, and basic.get never returns one.
func TestMessageTTLExpiresWithoutConsumer(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareArgs(t, ch, "", amqp.Table{"x-message-ttl": int32(100)})
	for i := 0; i < 50; i++ {
		publishText(t, ch, "", q, "m")
	}
	waitMessages(t, c, q, 0)
	mustGetEmpty(t, ch, q)
}

// TestMessageTTLNotDeliveredAfterExpiry: a message that expired while the
// consumer's prefetch was full is never delivered; a live one still is.
func TestMessageTTLNotDeliveredAfterExpiry(t *testing.T) {
	t.Parallel()
	// Plain, single-active-consumer and consumer-priority dispatch.
	for _, tc := range []struct {
		name      string
		args      amqp.Table
		consumerX amqp.Table
	}{
		{"plain", nil, nil},
		{"single-active", amqp.Table{"x-single-active-consumer": true}, nil},
		{"consumer-priority", nil, amqp.Table{"x-priority": int32(5)}},
	} {
		t.Run(tc.name, func(t *testing.T) { ttlNotDeliveredAfterExpiry(t, tc.args, tc.consumerX) })
	}
}

func ttlNotDeliveredAfterExpiry(t *testing.T, extra, consumerArgs amqp.Table) {
	c, ch := connChan(t)
	args := amqp.Table{"x-message-ttl": int32(150)}
	for k, v := range extra {
		args[k] = v
	}
	q := declareArgs(t, ch, "", args)
	if err := ch.Qos(1, 0, false); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "", q, amqp.Publishing{Body: []byte("first"), Expiration: "60000"})
	if consumerArgs != nil {
		// A second consumer at another priority puts the queue on the
		// priority dispatch path; it has no credit to take anything.
		idle := channel(t, c)
		if err := idle.Qos(1, 0, false); err != nil {
			t.Fatal(err)
		}
		if _, err := idle.Consume(q, "low", false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		publish(t, ch, "", q, amqp.Publishing{Body: []byte("for low"), Expiration: "60000"})
	}
	ds, err := ch.Consume(q, "", false, false, false, false, consumerArgs)
	if err != nil {
		t.Fatal(err)
	}
	first := recv(t, ds)
	publishText(t, ch, "", q, "expires")
	waitMessages(t, c, q, 0)
	pub := channel(t, c)
	publish(t, pub, "", q, amqp.Publishing{Body: []byte("live"), Expiration: "60000"})
	if err := first.Ack(false); err != nil {
		t.Fatal(err)
	}
	if d := recv(t, ds); string(d.Body) != "live" {
		t.Fatalf("after the ack got %q, want %q (the expired message must never be delivered)", d.Body, "live")
	}
}

// TestMessageTTLZero: x-message-ttl 0 delivers only to a consumer that can
// take the message at once.
func TestMessageTTLZero(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareArgs(t, ch, "", amqp.Table{"x-message-ttl": int32(0)})
	publishText(t, ch, "", q, "nobody")
	mustGetEmpty(t, ch, q)

	ds := consume(t, ch, q, "", true)
	publishText(t, ch, "", q, "taken")
	if d := recv(t, ds); string(d.Body) != "taken" {
		t.Fatalf("got %q, want %q", d.Body, "taken")
	}
}

// TestMessageExpirationAtHeadOnly: a per-message expiration behind a
// message without one waits for the head, then expires; the smaller of
// the queue's TTL and the message's wins.
func TestMessageExpirationAtHeadOnly(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	publishText(t, ch, "", q, "head")
	publish(t, ch, "", q, amqp.Publishing{Body: []byte("short"), Expiration: "1"})
	// Not a synchronisation: "short" must still be there after well over
	// its 1 ms, because it is not at the head.
	time.Sleep(200 * time.Millisecond)
	if n := queueState(t, c, q).Messages; n != 2 {
		t.Fatalf("queue holds %d messages, want 2 (only the head expires)", n)
	}
	mustGet(t, ch, q, true, "head")
	mustGetEmpty(t, ch, q)

	q2 := declareArgs(t, ch, "ttl", amqp.Table{"x-message-ttl": int32(60000)})
	publish(t, ch, "", q2, amqp.Publishing{Body: []byte("msg wins"), Expiration: "50"})
	waitMessages(t, c, q2, 0)
	q3 := declareArgs(t, ch, "ttl3", amqp.Table{"x-message-ttl": int32(50)})
	publish(t, ch, "", q3, amqp.Publishing{Body: []byte("queue wins"), Expiration: "60000"})
	waitMessages(t, c, q3, 0)
}

// TestMessageTTLRequeueKeepsExpiry: a requeued message keeps its original
// expiry time.
func TestMessageTTLRequeueKeepsExpiry(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareArgs(t, ch, "", amqp.Table{"x-message-ttl": int32(300)})
	publishText(t, ch, "", q, "m")
	d := mustGet(t, ch, q, false, "m")
	if err := d.Nack(false, true); err != nil {
		t.Fatal(err)
	}
	waitMessages(t, c, q, 0)
}

// TestMessageExpirationInvalid: RabbitMQ closes the channel with 406 for an
// expiration that is not a non-negative integer.
func TestMessageExpirationInvalid(t *testing.T) {
	t.Parallel()
	c := dial(t)
	for _, exp := range []string{"abc", "-5", "12x"} {
		ch := channel(t, c)
		closes := ch.NotifyClose(make(chan *amqp.Error, 1))
		q := declareQueue(t, ch, "q"+exp)
		_ = ch.Publish("", q, false, false, amqp.Publishing{Body: []byte("x"), Expiration: exp})
		e := waitClosed(t, closes, amqp.PreconditionFailed, "publish with expiration "+exp)
		if !strings.Contains(e.Reason, "invalid expiration '"+exp+"'") {
			t.Fatalf("expiration %q: reason %q", exp, e.Reason)
		}
	}
}

// queueGone polls, without using the queue (a passive declare would count
// as a use and keep it alive), until a bind to it fails with 404.
func queueGone(t *testing.T, c *amqp.Connection, q string) {
	t.Helper()
	eventually(t, func() bool {
		ch := channel(t, c)
		defer ch.Close()
		err := ch.QueueBind(q, "k", "amq.direct", false, nil)
		if err == nil {
			_ = ch.QueueUnbind(q, "k", "amq.direct", nil)
			return false
		}
		wantCode(t, err, amqp.NotFound, "queue.bind to an expired queue")
		return true
	}, "queue %s to expire", q)
}

// TestQueueExpiresUnused: an unused queue goes after x-expires; one with
// a consumer stays, and goes once the consumer has been gone that long.
func TestQueueExpiresUnused(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareArgs(t, ch, "idle", amqp.Table{"x-expires": int32(200)})
	publishText(t, ch, "", q, "kept until the queue goes")
	queueGone(t, c, q)

	q2 := declareArgs(t, ch, "used", amqp.Table{"x-expires": int32(200)})
	cch := channel(t, c)
	consume(t, cch, q2, "holder", false)
	// Not a synchronisation: the queue must outlive x-expires while consumed.
	time.Sleep(600 * time.Millisecond)
	if err := ch.QueueBind(q2, "k", "amq.direct", false, nil); err != nil {
		t.Fatalf("queue with a consumer expired: %v", err)
	}
	if err := cch.Cancel("holder", false); err != nil {
		t.Fatal(err)
	}
	queueGone(t, c, q2)
}
