package netio_test

import (
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// An alternate-exchange argument of "" names the default exchange, and
// RabbitMQ 3.10 (checked against 3.10.8) does not route through it: the
// default exchange is a special case of the top-level publish only, not an
// exchange with bindings that an alternate lookup can route with ("the
// default exchange ... does not support the alternate exchange feature",
// rabbitmq.com/ae). So a message the exchange cannot route is unroutable
// even when its key names a queue, and a mandatory one comes back with 312.
// Warren matches that: its router has no default exchange to visit.
func TestAlternateExchangeDefaultExchangeRoutesNothing(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	x := declareExchangeArgs(t, ch, "x", "direct", amqp.Table{"alternate-exchange": ""})
	q := declareQueue(t, ch, "q")
	bound := declareQueue(t, ch, "bound")
	bindQueue(t, ch, bound, "k", x, nil)

	returns := ch.NotifyReturn(make(chan amqp.Return, 2))
	publishOpts(t, ch, x, "k", true, false, amqp.Publishing{Body: []byte("routed")})
	publishOpts(t, ch, x, q, true, false, amqp.Publishing{Body: []byte("key names a queue")})
	select {
	case r := <-returns:
		if string(r.Body) != "key names a queue" || r.ReplyCode != amqp.NoRoute || r.Exchange != x || r.RoutingKey != q {
			t.Fatalf("return: %q code %d exchange %q key %q, want the second message from %q/%q with 312", r.Body, r.ReplyCode, r.Exchange, r.RoutingKey, x, q)
		}
	case <-timeAfter():
		t.Fatal("a message only the default exchange could route was not returned")
	}
	roundTrip(t, ch, q)
	mustGet(t, ch, bound, true, "routed")
	mustGetEmpty(t, ch, bound)
	mustGetEmpty(t, ch, q)
}
