package netio_test

import (
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// declareExchangeArgs declares a non-durable exchange with arguments and
// deletes it at cleanup.
func declareExchangeArgs(t *testing.T, ch *amqp.Channel, suffix, kind string, args amqp.Table) string {
	t.Helper()
	x := name(t, suffix)
	if err := ch.ExchangeDeclare(x, kind, false, false, false, false, args); err != nil {
		t.Fatalf("exchange.declare %s (%s, %v): %v", x, kind, args, err)
	}
	cleanupExchange(t, x)
	return x
}

func TestAlternateExchangeTakesUnroutable(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	ae := declareExchange(t, ch, "ae", "fanout")
	aeq := declareQueue(t, ch, "aeq")
	bindQueue(t, ch, aeq, "", ae, nil)
	x := declareExchangeArgs(t, ch, "x", "direct", amqp.Table{"alternate-exchange": ae})
	q := declareQueue(t, ch, "q")
	bindQueue(t, ch, q, "k", x, nil)

	returns := ch.NotifyReturn(make(chan amqp.Return, 4))
	publishOpts(t, ch, x, "k", true, false, amqp.Publishing{Body: []byte("routed")})
	publishOpts(t, ch, x, "other", true, false, amqp.Publishing{Body: []byte("unroutable")})
	roundTrip(t, ch, q)
	mustGet(t, ch, q, true, "routed")
	mustGetEmpty(t, ch, q)
	d := mustGet(t, ch, aeq, true, "unroutable")
	// The message keeps the exchange and key it was published with.
	if d.Exchange != x || d.RoutingKey != "other" {
		t.Fatalf("alternate delivery: exchange %q key %q, want %q %q", d.Exchange, d.RoutingKey, x, "other")
	}
	mustGetEmpty(t, ch, aeq)
	select {
	case r := <-returns:
		t.Fatalf("mandatory message taken by the alternate exchange was returned: %q", r.Body)
	case <-time.After(200 * time.Millisecond):
	}
}

// A chain of alternates is followed until one routes; a cycle in it ends
// without a route, and a mandatory message is then returned.
func TestAlternateExchangeChainAndCycle(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	a, b, c := name(t, "a"), name(t, "b"), name(t, "c")
	for _, p := range [][2]string{{a, b}, {b, c}, {c, a}} {
		if err := ch.ExchangeDeclare(p[0], "direct", false, false, false, false, amqp.Table{"alternate-exchange": p[1]}); err != nil {
			t.Fatalf("declare %s: %v", p[0], err)
		}
		cleanupExchange(t, p[0])
	}
	q := declareQueue(t, ch, "q")
	bindQueue(t, ch, q, "k", c, nil)

	returns := ch.NotifyReturn(make(chan amqp.Return, 4))
	publishOpts(t, ch, a, "k", true, false, amqp.Publishing{Body: []byte("via b to c")})
	publishOpts(t, ch, a, "none", true, false, amqp.Publishing{Body: []byte("cycle")})
	select {
	case r := <-returns:
		if string(r.Body) != "cycle" || r.ReplyCode != amqp.NoRoute || r.Exchange != a {
			t.Fatalf("return: %q code %d exchange %q, want the cycling message from %q with 312", r.Body, r.ReplyCode, r.Exchange, a)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the message no alternate routes was not returned")
	}
	mustGet(t, ch, q, true, "via b to c")
	mustGetEmpty(t, ch, q)
}

// An alternate that does not exist is no error: the message is unroutable.
func TestAlternateExchangeMissing(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	x := declareExchangeArgs(t, ch, "x", "topic", amqp.Table{"alternate-exchange": name(t, "nowhere")})
	returns := ch.NotifyReturn(make(chan amqp.Return, 4))
	publishOpts(t, ch, x, "k", true, false, amqp.Publishing{Body: []byte("lost")})
	select {
	case r := <-returns:
		if string(r.Body) != "lost" {
			t.Fatalf("return of %q, want lost", r.Body)
		}
	case <-time.After(waitTimeout):
		t.Fatal("unroutable mandatory message not returned")
	}
	connUsable(t, c)
}

func TestAlternateExchangeArgChecks(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	channelFails(t, c, amqp.PreconditionFailed, "alternate-exchange of type signedint", func(ch *amqp.Channel) error {
		err := ch.ExchangeDeclare(name(t, "int"), "direct", false, true, false, false, amqp.Table{"alternate-exchange": int32(5)})
		if err != nil && !strings.Contains(err.Error(), "invalid type 'signedint' for arg 'alternate-exchange'") {
			t.Errorf("error %v, want RabbitMQ's invalid type text", err)
		}
		return err
	})
	x := declareExchangeArgs(t, ch, "x", "direct", amqp.Table{"alternate-exchange": "a"})
	channelFails(t, c, amqp.PreconditionFailed, "redeclare with another alternate-exchange", func(ch *amqp.Channel) error {
		err := ch.ExchangeDeclare(x, "direct", false, false, false, false, amqp.Table{"alternate-exchange": "b"})
		if err != nil && !strings.Contains(err.Error(), "inequivalent arg 'alternate-exchange'") {
			t.Errorf("error %v, want RabbitMQ's inequivalent arg text", err)
		}
		return err
	})
	// Other arguments are not compared, as in RabbitMQ.
	if err := ch.ExchangeDeclare(x, "direct", false, false, false, false, amqp.Table{"alternate-exchange": "a", "other": 1}); err != nil {
		t.Fatalf("redeclare with the same alternate: %v", err)
	}
}
