package netio_test

import (
	"errors"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestQueueTypeAndModeAccepted(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	for _, tc := range []struct {
		suffix string
		args   amqp.Table
		redecl amqp.Table // an equivalent redeclaration
	}{
		{"classic", amqp.Table{"x-queue-type": "classic"}, nil},
		{"untyped", nil, amqp.Table{"x-queue-type": "classic"}},
		{"lazy", amqp.Table{"x-queue-mode": "lazy"}, amqp.Table{"x-queue-mode": "lazy"}},
		{"default", amqp.Table{"x-queue-mode": "default"}, amqp.Table{"x-queue-mode": "default"}},
	} {
		q := name(t, tc.suffix)
		if _, err := ch.QueueDeclare(q, false, true, false, false, tc.args); err != nil {
			t.Fatalf("declare %v: %v", tc.args, err)
		}
		cleanupQueue(t, q)
		if _, err := ch.QueueDeclare(q, false, true, false, false, tc.redecl); err != nil {
			t.Fatalf("redeclare %v as %v: %v", tc.args, tc.redecl, err)
		}
		publishText(t, ch, "", q, "m")
		waitMessages(t, c, q, 1)
	}
}

func TestQueueTypeAndModeRefused(t *testing.T) {
	t.Parallel()
	c := dial(t)
	for _, tc := range []struct {
		args amqp.Table
		text string
	}{
		{amqp.Table{"x-queue-type": "bogus"}, `"unsupported queue type 'bogus'"`},
		{amqp.Table{"x-queue-type": "Classic"}, `"unsupported queue type 'Classic'"`},
		{amqp.Table{"x-queue-type": int32(1)}, "{unacceptable_type,signedint}"},
		{amqp.Table{"x-queue-mode": "bogus"}, `"unsupported queue mode 'bogus'"`},
		{amqp.Table{"x-queue-mode": int32(3)}, "{unacceptable_type,signedint}"},
	} {
		channelFails(t, c, amqp.PreconditionFailed, "declare with "+tc.text, func(ch *amqp.Channel) error {
			q := name(t, "refused")
			_, err := ch.QueueDeclare(q, false, true, false, false, tc.args)
			var e *amqp.Error
			if errors.As(err, &e) && (!strings.Contains(e.Reason, "invalid arg 'x-queue-") || !strings.Contains(e.Reason, tc.text)) {
				t.Errorf("%v: %v, want RabbitMQ's text %s", tc.args, err, tc.text)
			}
			return err
		})
	}
	// A queue's type is fixed: classic and quorum are not equivalent.
	_, ch := connChan(t)
	q := name(t, "classic")
	if _, err := ch.QueueDeclare(q, false, true, false, false, amqp.Table{"x-queue-type": "classic"}); err != nil {
		t.Fatal(err)
	}
	cleanupQueue(t, q)
	channelFails(t, c, amqp.PreconditionFailed, "redeclare classic as quorum", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(q, false, true, false, false, amqp.Table{"x-queue-type": "quorum"})
		if err != nil && !strings.Contains(err.Error(), "received 'quorum' but current is 'classic'") {
			t.Errorf("%v, want RabbitMQ's text", err)
		}
		return err
	})
}
