package netio_test

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// RabbitMQ asks the alternate exchange of every exchange a message
// reaches that has no destination for it, not only of the one it was
// published to: an exchange reached through an exchange-to-exchange
// binding passes what it cannot route to its own alternate; an exchange
// bound to another has a destination, so its alternate is not asked even
// when the other routes nowhere; and with CC keys the alternate is asked
// only when none of the keys has a destination.
func TestAlternateExchangeThroughExchangeBinding(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	ae := declareExchange(t, ch, "ae", "fanout")
	aeq := declareQueue(t, ch, "aeq")
	bindQueue(t, ch, aeq, "", ae, nil)
	inner := declareExchangeArgs(t, ch, "inner", "direct", amqp.Table{"alternate-exchange": ae})
	q := declareQueue(t, ch, "q")
	bindQueue(t, ch, q, "known", inner, nil)
	front := declareExchange(t, ch, "front", "topic")
	if err := ch.ExchangeBind(inner, "#", front, false, nil); err != nil {
		t.Fatal(err)
	}
	returns := ch.NotifyReturn(make(chan amqp.Return, 8))
	noReturn := func(what string) {
		t.Helper()
		select {
		case r := <-returns:
			t.Fatalf("%s: return of %q", what, r.Body)
		case <-time.After(200 * time.Millisecond):
		}
	}

	publishOpts(t, ch, front, "known", true, false, amqp.Publishing{Body: []byte("routed")})
	publishOpts(t, ch, front, "unknown", true, false, amqp.Publishing{Body: []byte("to inner's alternate")})
	roundTrip(t, ch, q)
	mustGet(t, ch, q, true, "routed")
	mustGetEmpty(t, ch, q)
	mustGet(t, ch, aeq, true, "to inner's alternate")
	mustGetEmpty(t, ch, aeq)
	noReturn("inner's alternate took it")

	// front2 has an alternate and is bound to an exchange that routes
	// nowhere: the binding is a destination, so front2's alternate is not
	// asked, and the mandatory message comes back.
	ae2 := declareExchange(t, ch, "ae2", "fanout")
	ae2q := declareQueue(t, ch, "ae2q")
	bindQueue(t, ch, ae2q, "", ae2, nil)
	empty := declareExchange(t, ch, "empty", "direct")
	front2 := declareExchangeArgs(t, ch, "front2", "fanout", amqp.Table{"alternate-exchange": ae2})
	if err := ch.ExchangeBind(empty, "", front2, false, nil); err != nil {
		t.Fatal(err)
	}
	publishOpts(t, ch, front2, "k", true, false, amqp.Publishing{Body: []byte("nowhere")})
	select {
	case r := <-returns:
		if string(r.Body) != "nowhere" || r.ReplyCode != amqp.NoRoute {
			t.Fatalf("return %q code %d", r.Body, r.ReplyCode)
		}
	case <-time.After(waitTimeout):
		t.Fatal("a message its exchange bound onwards, routed nowhere, was not returned")
	}
	mustGetEmpty(t, ch, ae2q)

	// A routing key with a destination and a CC key without: inner's
	// alternate is not asked.
	publishOpts(t, ch, inner, "known", true, false, amqp.Publishing{Body: []byte("cc"), Headers: amqp.Table{"CC": []any{"unknown"}}})
	roundTrip(t, ch, q)
	mustGet(t, ch, q, true, "cc")
	mustGetEmpty(t, ch, aeq)
	noReturn("routed with its routing key")
}
