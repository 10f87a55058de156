package netio_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Length limits and x-overflow, as RabbitMQ 3.10 does them. Run against
// RabbitMQ with WARREN_IT_URL to check the expectations.

// TestMaxLengthBytesDropHead: x-max-length-bytes counts body bytes and
// drops from the head.
func TestMaxLengthBytesDropHead(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareArgs(t, ch, "", amqp.Table{"x-max-length-bytes": int32(10)})
	for _, b := range []string{"aaaaa", "bbbbb", "cc"} {
		publishText(t, ch, "", q, b)
	}
	if got := drain(t, ch, q); !reflect.DeepEqual(got, []string{"bbbbb", "cc"}) {
		t.Fatalf("queue holds %q, want the head dropped: [bbbbb cc]", got)
	}
}

// confirmAll publishes bodies with confirms on and returns the acks.
func confirmAll(t *testing.T, ch *amqp.Channel, q string, bodies ...string) []bool {
	t.Helper()
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	var out []bool
	for _, b := range bodies {
		conf, err := ch.PublishWithDeferredConfirm("", q, false, false, amqp.Publishing{Body: []byte(b)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		ok, err := conf.WaitContext(ctx)
		cancel()
		if err != nil {
			t.Fatalf("confirm of %q: %v", b, err)
		}
		out = append(out, ok)
	}
	return out
}

// TestOverflowRejectPublish: past the limit a confirming publisher gets a
// nack and the message is not stored; the queue keeps the older ones.
func TestOverflowRejectPublish(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareArgs(t, ch, "", amqp.Table{"x-max-length": int32(2), "x-overflow": "reject-publish"})
	if got := confirmAll(t, ch, q, "1", "2", "3"); !reflect.DeepEqual(got, []bool{true, true, false}) {
		t.Fatalf("confirms %v, want [true true false]", got)
	}
	if got := drain(t, ch, q); !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Fatalf("queue holds %q, want [1 2]", got)
	}
	// Room again: accepted.
	if got := confirmAll(t, ch, q, "4"); !got[0] {
		t.Fatal("publish into a drained reject-publish queue nacked")
	}

	qb := declareArgs(t, ch, "bytes", amqp.Table{"x-max-length-bytes": int32(6), "x-overflow": "reject-publish"})
	if got := confirmAll(t, ch, qb, "aaa", "bbb", "c"); !reflect.DeepEqual(got, []bool{true, true, false}) {
		t.Fatalf("byte-limit confirms %v, want [true true false]", got)
	}
}

// TestOverflowRejectPublishUnconfirmed: without confirms the rejected
// message is dropped silently and the channel carries on.
func TestOverflowRejectPublishUnconfirmed(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareArgs(t, ch, "", amqp.Table{"x-max-length": int32(1), "x-overflow": "reject-publish"})
	publishText(t, ch, "", q, "kept")
	publishText(t, ch, "", q, "dropped")
	waitMessages(t, c, q, 1)
	mustGet(t, ch, q, true, "kept")
	mustGetEmpty(t, ch, q)
}

// TestOverflowRejectPublishDLX: reject-publish-dlx also dead letters the
// rejected message, with reason maxlen.
func TestOverflowRejectPublishDLX(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	dlq := declareQueue(t, ch, "dlq")
	q := declareArgs(t, ch, "src", amqp.Table{"x-max-length": int32(1), "x-overflow": "reject-publish-dlx", "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
	if got := confirmAll(t, ch, q, "in", "over"); !reflect.DeepEqual(got, []bool{true, false}) {
		t.Fatalf("confirms %v, want [true false]", got)
	}
	got := waitGet(t, ch, dlq)
	if string(got.Body) != "over" {
		t.Fatalf("dead lettered %q, want %q", got.Body, "over")
	}
	wantDeath(t, xDeath(t, got)[0], 1, "maxlen", q, "", q)
	mustGet(t, ch, q, true, "in")
}

// TestLimitArgsInvalid: RabbitMQ's 406 texts for bad x-overflow and
// dead-letter arguments.
func TestLimitArgsInvalid(t *testing.T) {
	t.Parallel()
	c := dial(t)
	for _, tc := range []struct {
		args amqp.Table
		want string
	}{
		{amqp.Table{"x-overflow": "foo"}, "invalid arg 'x-overflow' for queue '%q' in vhost '/': invalid_overflow"},
		{amqp.Table{"x-overflow": int32(5)}, "invalid arg 'x-overflow' for queue '%q' in vhost '/': {unacceptable_type,signedint}"},
		{amqp.Table{"x-dead-letter-routing-key": "k"}, "invalid arg 'x-dead-letter-routing-key' for queue '%q' in vhost '/': routing_key_but_no_dlx_defined"},
		{amqp.Table{"x-dead-letter-exchange": int32(5)}, "invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue '%q' in vhost '/'"},
	} {
		q := name(t, "bad")
		ch := channel(t, c)
		_, err := ch.QueueDeclare(q, false, false, false, false, tc.args)
		wantCode(t, err, amqp.PreconditionFailed, "declare with "+tc.want)
		if want := strings.ReplaceAll(tc.want, "%q", q); !strings.Contains(err.Error(), want) {
			t.Fatalf("declare with %v: %v, want %q", tc.args, err, want)
		}
	}
}
