package netio_test

import (
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestExchangeDeclareEachType(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	for _, kind := range []string{"direct", "fanout", "topic", "headers"} {
		x := declareExchange(t, ch, kind, kind)
		// Redeclare with the same properties is fine; passive finds it.
		if err := ch.ExchangeDeclare(x, kind, false, false, false, false, nil); err != nil {
			t.Fatalf("redeclare %s: %v", kind, err)
		}
		if err := ch.ExchangeDeclarePassive(x, kind, false, false, false, false, nil); err != nil {
			t.Fatalf("passive declare %s: %v", kind, err)
		}
		// Passive ignores the type and other properties.
		if err := ch.ExchangeDeclarePassive(x, "fanout", true, true, false, false, nil); err != nil {
			t.Fatalf("passive declare %s with other properties: %v", kind, err)
		}
	}
	// Durable and auto-delete flavours.
	dx := name(t, "durable")
	cleanupExchange(t, dx)
	if err := ch.ExchangeDeclare(dx, "topic", true, false, false, false, nil); err != nil {
		t.Fatalf("declare durable: %v", err)
	}
	if err := ch.ExchangeDelete(dx, false, false); err != nil {
		t.Fatalf("delete durable: %v", err)
	}
	// The predeclared exchanges exist.
	for x, kind := range map[string]string{"amq.direct": "direct", "amq.fanout": "fanout", "amq.topic": "topic", "amq.headers": "headers", "amq.match": "headers"} {
		if err := ch.ExchangeDeclarePassive(x, kind, true, false, false, false, nil); err != nil {
			t.Fatalf("passive declare %s: %v", x, err)
		}
		// Redeclaring a predeclared exchange with its own properties is allowed.
		if err := ch.ExchangeDeclare(x, kind, true, false, false, false, nil); err != nil {
			t.Fatalf("redeclare %s with its properties: %v", x, err)
		}
	}
	connUsable(t, c)
}

func TestExchangeDeclarePassiveNotFound(t *testing.T) {
	t.Parallel()
	c := dial(t)
	channelFails(t, c, amqp.NotFound, "passive declare of a missing exchange", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclarePassive(name(t, "missing"), "direct", false, false, false, false, nil)
	})
}

func TestExchangeDeclareReservedName(t *testing.T) {
	t.Parallel()
	c := dial(t)
	channelFails(t, c, amqp.AccessRefused, "declare of amq.* exchange", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare("amq.it-"+runID, "direct", false, false, false, false, nil)
	})
}

func TestExchangeRedeclareInequivalent(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	x := declareExchange(t, ch, "", "direct")
	channelFails(t, c, amqp.PreconditionFailed, "redeclare with another type", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare(x, "fanout", false, false, false, false, nil)
	})
	channelFails(t, c, amqp.PreconditionFailed, "redeclare with another durable", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare(x, "direct", true, false, false, false, nil)
	})
	channelFails(t, c, amqp.PreconditionFailed, "redeclare with another auto-delete", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare(x, "direct", false, true, false, false, nil)
	})
	channelFails(t, c, amqp.PreconditionFailed, "redeclare amq.direct as fanout", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare("amq.direct", "fanout", true, false, false, false, nil)
	})
}

// TestExchangeUnknownType: an unknown exchange type is 503 COMMAND_INVALID,
// a connection error.
func TestExchangeUnknownType(t *testing.T) {
	t.Parallel()
	connectionFails(t, amqp.CommandInvalid, "declare with an unknown type", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare(name(t, ""), "no-such-type", false, false, false, false, nil)
	})
}

func TestExchangeDelete(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	x := declareExchange(t, ch, "", "fanout")
	q := declareQueue(t, ch, "")
	bindQueue(t, ch, q, "", x, nil)
	if err := ch.ExchangeDelete(x, false, false); err != nil {
		t.Fatalf("exchange.delete: %v", err)
	}
	channelFails(t, c, amqp.NotFound, "passive declare of a deleted exchange", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclarePassive(x, "fanout", false, false, false, false, nil)
	})
	// Its bindings went with it: publishing to it is now 404.
	channelFails(t, c, amqp.NotFound, "publish to a deleted exchange", func(ch *amqp.Channel) error {
		return ch.Publish(x, "", false, false, amqp.Publishing{Body: []byte("x")})
	})
	// Deleting a missing exchange succeeds, as in RabbitMQ 3.x.
	if err := ch.ExchangeDelete(x, false, false); err != nil {
		t.Fatalf("exchange.delete of a missing exchange: %v", err)
	}
	// The queue survives its exchange.
	roundTrip(t, ch, q)
}

func TestExchangeDeleteIfUnused(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	x := declareExchange(t, ch, "", "direct")
	q := declareQueue(t, ch, "")
	bindQueue(t, ch, q, "k", x, nil)
	channelFails(t, c, amqp.PreconditionFailed, "exchange.delete if-unused of a bound exchange", func(ch *amqp.Channel) error {
		return ch.ExchangeDelete(x, true, false)
	})
	// Still there, still routing.
	publishText(t, ch, x, "k", "m")
	mustGet(t, ch, q, true, "m")
	if err := ch.QueueUnbind(q, "k", x, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDelete(x, true, false); err != nil {
		t.Fatalf("exchange.delete if-unused of an unbound exchange: %v", err)
	}
}

// TestExchangeDefaultForbidden: the default exchange cannot be declared,
// deleted or bound to.
func TestExchangeDefaultForbidden(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	channelFails(t, c, amqp.AccessRefused, "exchange.declare of the default exchange", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare("", "direct", true, false, false, false, nil)
	})
	channelFails(t, c, amqp.AccessRefused, "passive exchange.declare of the default exchange", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclarePassive("", "direct", true, false, false, false, nil)
	})
	channelFails(t, c, amqp.AccessRefused, "exchange.delete of the default exchange", func(ch *amqp.Channel) error {
		return ch.ExchangeDelete("", false, false)
	})
	channelFails(t, c, amqp.AccessRefused, "queue.bind to the default exchange", func(ch *amqp.Channel) error {
		return ch.QueueBind(q, "k", "", false, nil)
	})
	channelFails(t, c, amqp.AccessRefused, "queue.unbind from the default exchange", func(ch *amqp.Channel) error {
		return ch.QueueUnbind(q, q, "", nil)
	})
	channelFails(t, c, amqp.AccessRefused, "exchange.delete of amq.direct", func(ch *amqp.Channel) error {
		return ch.ExchangeDelete("amq.direct", false, false)
	})
	// Publishing through the default exchange by queue name works.
	publishText(t, ch, "", q, "via-default")
	mustGet(t, ch, q, true, "via-default")
}

func TestExchangeInternalPublish(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	ix := name(t, "internal")
	cleanupExchange(t, ix)
	if err := ch.ExchangeDeclare(ix, "fanout", false, false, true, false, nil); err != nil {
		t.Fatalf("declare internal: %v", err)
	}
	channelFails(t, c, amqp.AccessRefused, "publish to an internal exchange", func(ch *amqp.Channel) error {
		return ch.Publish(ix, "", false, false, amqp.Publishing{Body: []byte("x")})
	})
	// An internal exchange still receives through an exchange binding.
	front := declareExchange(t, ch, "front", "fanout")
	q := declareQueue(t, ch, "")
	bindQueue(t, ch, q, "", ix, nil)
	if err := ch.ExchangeBind(ix, "", front, false, nil); err != nil {
		t.Fatalf("exchange.bind: %v", err)
	}
	publishText(t, ch, front, "", "through")
	mustGet(t, ch, q, true, "through")
}

// TestExchangeBindChain routes topic -> direct -> fanout -> queue, then
// unbinds the first link.
func TestExchangeBindChain(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	tx := declareExchange(t, ch, "topic", "topic")
	dx := declareExchange(t, ch, "direct", "direct")
	fx := declareExchange(t, ch, "fanout", "fanout")
	q := declareQueue(t, ch, "")
	if err := ch.ExchangeBind(dx, "a.*", tx, false, nil); err != nil {
		t.Fatalf("exchange.bind topic->direct: %v", err)
	}
	if err := ch.ExchangeBind(fx, "a.b", dx, false, nil); err != nil {
		t.Fatalf("exchange.bind direct->fanout: %v", err)
	}
	bindQueue(t, ch, q, "ignored", fx, nil)
	for _, k := range []string{"a.b", "a.c", "x.b", "a.b.c", "a.b"} {
		publishText(t, ch, tx, k, k)
	}
	// Only "a.b" matches a.* and then the direct key a.b.
	waitMessages(t, c, q, 2)
	if got := drain(t, ch, q); len(got) != 2 || got[0] != "a.b" || got[1] != "a.b" {
		t.Fatalf("through the chain got %q, want [a.b a.b]", got)
	}
	// Publishing to the middle exchange works too.
	publishText(t, ch, dx, "a.b", "middle")
	mustGet(t, ch, q, true, "middle")

	if err := ch.ExchangeUnbind(dx, "a.*", tx, false, nil); err != nil {
		t.Fatalf("exchange.unbind: %v", err)
	}
	publishText(t, ch, tx, "a.b", "after-unbind")
	publishText(t, ch, dx, "a.b", "direct-still")
	waitMessages(t, c, q, 1)
	mustGet(t, ch, q, true, "direct-still")
	// Unbinding again is not an error.
	if err := ch.ExchangeUnbind(dx, "a.*", tx, false, nil); err != nil {
		t.Fatalf("exchange.unbind of a missing binding: %v", err)
	}
}

// TestExchangeBindCycle: e2e bindings in a cycle deliver a message once
// per queue and do not loop.
func TestExchangeBindCycle(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	a := declareExchange(t, ch, "a", "fanout")
	b := declareExchange(t, ch, "b", "fanout")
	q := declareQueue(t, ch, "")
	for _, e := range [][2]string{{b, a}, {a, b}} {
		if err := ch.ExchangeBind(e[0], "", e[1], false, nil); err != nil {
			t.Fatal(err)
		}
	}
	bindQueue(t, ch, q, "", a, nil)
	bindQueue(t, ch, q, "", b, nil)
	publishText(t, ch, a, "", "once")
	waitMessages(t, c, q, 1)
	if got := drain(t, ch, q); len(got) != 1 {
		t.Fatalf("cycle delivered %d copies, want 1", len(got))
	}
}

func TestExchangeBindMissing(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	x := declareExchange(t, ch, "", "direct")
	channelFails(t, c, amqp.NotFound, "exchange.bind from a missing source", func(ch *amqp.Channel) error {
		return ch.ExchangeBind(x, "k", name(t, "missing"), false, nil)
	})
	channelFails(t, c, amqp.NotFound, "exchange.bind to a missing destination", func(ch *amqp.Channel) error {
		return ch.ExchangeBind(name(t, "missing"), "k", x, false, nil)
	})
}

// TestExchangeAutoDelete: an auto-delete exchange goes when its last
// binding is removed, not before it ever had one.
func TestExchangeAutoDelete(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	x := name(t, "")
	cleanupExchange(t, x)
	if err := ch.ExchangeDeclare(x, "direct", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclarePassive(x, "direct", false, true, false, false, nil); err != nil {
		t.Fatalf("auto-delete exchange gone before its first binding: %v", err)
	}
	q := declareQueue(t, ch, "")
	bindQueue(t, ch, q, "a", x, nil)
	bindQueue(t, ch, q, "b", x, nil)
	if err := ch.QueueUnbind(q, "a", x, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclarePassive(x, "direct", false, true, false, false, nil); err != nil {
		t.Fatalf("auto-delete exchange gone with a binding left: %v", err)
	}
	if err := ch.QueueUnbind(q, "b", x, nil); err != nil {
		t.Fatal(err)
	}
	channelFails(t, c, amqp.NotFound, "passive declare of an auto-delete exchange after its last unbind", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclarePassive(x, "direct", false, true, false, false, nil)
	})
}

// TestExchangeAutoDeleteCascade: deleting an exchange removes the
// exchange-to-exchange bindings into it, so an auto-delete source that had
// only those goes too, down a chain (outer -> inner -> queue: deleting
// the queue deletes inner, which deletes outer), as in RabbitMQ.
func TestExchangeAutoDeleteCascade(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	outer, inner := name(t, "outer"), name(t, "inner")
	cleanupExchange(t, outer)
	cleanupExchange(t, inner)
	for _, x := range []string{outer, inner} {
		if err := ch.ExchangeDeclare(x, "fanout", false, true, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := ch.ExchangeBind(inner, "", outer, false, nil); err != nil {
		t.Fatal(err)
	}
	q := declareQueue(t, ch, "")
	bindQueue(t, ch, q, "", inner, nil)
	if _, err := ch.QueueDelete(q, false, false, false); err != nil {
		t.Fatal(err)
	}
	for _, x := range []string{inner, outer} {
		channelFails(t, c, amqp.NotFound, "passive declare of "+x+" after the chain lost its queue", func(ch *amqp.Channel) error {
			return ch.ExchangeDeclarePassive(x, "fanout", false, true, false, false, nil)
		})
	}
}
