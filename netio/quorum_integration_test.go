package netio_test

import (
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Quorum queues with what one node honours. Run against RabbitMQ with
// WARREN_IT_URL to check the expectations (TestQuorumDefaultDeliveryLimit
// is RabbitMQ 4's default, which 3.10 does not have).

var quorum = amqp.Table{"x-queue-type": "quorum"}

func withArgs(base amqp.Table, kv ...any) amqp.Table {
	t := amqp.Table{}
	for k, v := range base {
		t[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		t[kv[i].(string)] = kv[i+1]
	}
	return t
}

// TestQuorumDeclareRefusals: RabbitMQ's 406s for what a quorum queue
// cannot be.
func TestQuorumDeclareRefusals(t *testing.T) {
	t.Parallel()
	c := dial(t)
	for _, tc := range []struct {
		durable, autoDelete, exclusive bool
		args                           amqp.Table
		want                           string
	}{
		{false, false, false, quorum, "invalid property 'non-durable' for queue '%q' in vhost '/'"},
		{true, true, false, quorum, "invalid property 'auto-delete' for queue '%q' in vhost '/'"},
		{true, false, true, quorum, "invalid property 'exclusive-owner' for queue '%q' in vhost '/'"},
		{true, false, false, withArgs(quorum, "x-max-priority", int32(5)), "invalid arg 'x-max-priority' for queue '%q' in vhost '/' of queue type rabbit_quorum_queue"},
		{true, false, false, withArgs(quorum, "x-queue-mode", "lazy"), "invalid arg 'x-queue-mode' for queue '%q' in vhost '/' of queue type rabbit_quorum_queue"},
	} {
		q := name(t, "q")
		ch := channel(t, c)
		_, err := ch.QueueDeclare(q, tc.durable, tc.autoDelete, tc.exclusive, false, tc.args)
		if err == nil {
			cleanupQueue(t, q)
		}
		want := strings.ReplaceAll(tc.want, "%q", q)
		wantCode(t, err, amqp.PreconditionFailed, want)
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want %q", err, want)
		}
	}
}

func declareQuorum(t *testing.T, ch *amqp.Channel, suffix string, args amqp.Table) string {
	t.Helper()
	q := name(t, suffix)
	if _, err := ch.QueueDeclare(q, true, false, false, false, withArgs(quorum, flatten(args)...)); err != nil {
		t.Fatalf("declare quorum queue %s: %v", q, err)
	}
	cleanupQueue(t, q)
	return q
}

func flatten(t amqp.Table) []any {
	var kv []any
	for k, v := range t {
		kv = append(kv, k, v)
	}
	return kv
}

// TestQuorumDeliveryLimit: each requeue counts; redeliveries carry
// x-delivery-count; past x-delivery-limit the message is dead lettered
// with reason delivery_limit.
func TestQuorumDeliveryLimit(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	dlq := declareQueue(t, ch, "dlq")
	q := declareQuorum(t, ch, "q", amqp.Table{"x-delivery-limit": int32(2), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
	publishText(t, ch, "", q, "poison")
	ds := consume(t, ch, q, "", false)
	for i := int64(0); i <= 2; i++ {
		d := recv(t, ds)
		count, has := d.Headers["x-delivery-count"]
		switch {
		case i == 0 && (has || d.Redelivered):
			t.Fatalf("first delivery: x-delivery-count %v redelivered %v, want neither", count, d.Redelivered)
		case i > 0 && (count != i || !d.Redelivered):
			t.Fatalf("delivery %d: x-delivery-count %v (%T) redelivered %v, want %d and redelivered", i+1, count, count, d.Redelivered, i)
		}
		if err := d.Nack(false, true); err != nil {
			t.Fatal(err)
		}
	}
	got := waitGet(t, ch, dlq)
	if _, has := got.Headers["x-delivery-count"]; has {
		t.Fatalf("dead letter carries x-delivery-count %v", got.Headers["x-delivery-count"])
	}
	wantDeath(t, xDeath(t, got)[0], 1, "delivery_limit", q, "", q)
}

// TestQuorumDefaultDeliveryLimit: without x-delivery-limit a quorum queue
// takes a message back 20 times (RabbitMQ 4's default), then drops it.
func TestQuorumDefaultDeliveryLimit(t *testing.T) {
	needLocal(t)
	t.Parallel()
	_, ch := connChan(t)
	q := declareQuorum(t, ch, "q", nil)
	publishText(t, ch, "", q, "poison")
	for i := 0; i <= 20; i++ {
		d := mustGet(t, ch, q, false, "poison")
		if n, _ := d.Headers["x-delivery-count"].(int64); n != int64(i) {
			t.Fatalf("get %d: x-delivery-count %v, want %d", i+1, d.Headers["x-delivery-count"], i)
		}
		if err := d.Nack(false, true); err != nil {
			t.Fatal(err)
		}
	}
	mustGetEmpty(t, ch, q)
}
