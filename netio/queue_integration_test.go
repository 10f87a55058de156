package netio_test

import (
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestQueueServerNamed(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatalf("queue.declare with an empty name: %v", err)
	}
	if !hasPrefix(q.Name, "amq.gen-") || len(q.Name) <= len("amq.gen-") {
		t.Fatalf("server-named queue %q, want amq.gen-...", q.Name)
	}
	q2, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q2.Name == q.Name {
		t.Fatalf("two server-named queues share the name %q", q.Name)
	}
	// The name works with the default exchange.
	publishText(t, ch, "", q.Name, "hi")
	mustGet(t, ch, q.Name, true, "hi")
}

// TestQueueDeclareReservedName: a client may not name a queue amq.*.
func TestQueueDeclareReservedName(t *testing.T) {
	t.Parallel()
	c := dial(t)
	channelFails(t, c, amqp.AccessRefused, "queue.declare amq.*", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare("amq.it-"+runID, false, false, false, false, nil)
		return err
	})
}

func TestQueuePassiveNotFound(t *testing.T) {
	t.Parallel()
	c := dial(t)
	channelFails(t, c, amqp.NotFound, "passive queue.declare of a missing queue", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclarePassive(name(t, "missing"), false, false, false, false, nil)
		return err
	})
}

func TestQueueRedeclareInequivalent(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := name(t, "")
	cleanupQueue(t, q)
	if _, err := ch.QueueDeclare(q, false, false, false, false, amqp.Table{"x-max-length": int32(10)}); err != nil {
		t.Fatal(err)
	}
	// Same properties: fine, also with the number in another integer type.
	if _, err := ch.QueueDeclare(q, false, false, false, false, amqp.Table{"x-max-length": int64(10)}); err != nil {
		t.Fatalf("equivalent redeclare: %v", err)
	}
	channelFails(t, c, amqp.PreconditionFailed, "redeclare with durable=true", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(q, true, false, false, false, amqp.Table{"x-max-length": int32(10)})
		return err
	})
	channelFails(t, c, amqp.PreconditionFailed, "redeclare with auto-delete=true", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(q, false, true, false, false, amqp.Table{"x-max-length": int32(10)})
		return err
	})
	channelFails(t, c, amqp.PreconditionFailed, "redeclare with another x-max-length", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(q, false, false, false, false, amqp.Table{"x-max-length": int32(20)})
		return err
	})
	channelFails(t, c, amqp.PreconditionFailed, "redeclare without x-max-length", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(q, false, false, false, false, nil)
		return err
	})
	// Passive declare ignores the properties.
	if _, err := ch.QueueDeclarePassive(q, true, true, false, false, nil); err != nil {
		t.Fatalf("passive declare: %v", err)
	}
}

// TestQueueExclusiveLocked: another connection may not use an exclusive
// queue (405 RESOURCE_LOCKED), passive declare included.
func TestQueueExclusiveLocked(t *testing.T) {
	t.Parallel()
	_, owner := connChan(t)
	q := name(t, "")
	if _, err := owner.QueueDeclare(q, false, false, true, false, nil); err != nil {
		t.Fatal(err)
	}
	c2 := dial(t)
	ops := map[string]func(ch *amqp.Channel) error{
		"passive declare": func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclarePassive(q, false, false, true, false, nil)
			return err
		},
		"declare": func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclare(q, false, false, true, false, nil)
			return err
		},
		"consume": func(ch *amqp.Channel) error {
			_, err := ch.Consume(q, "", false, false, false, false, nil)
			return err
		},
		"get": func(ch *amqp.Channel) error {
			_, _, err := ch.Get(q, false)
			return err
		},
		"bind": func(ch *amqp.Channel) error { return ch.QueueBind(q, "k", "amq.direct", false, nil) },
		"purge": func(ch *amqp.Channel) error {
			_, err := ch.QueuePurge(q, false)
			return err
		},
		"delete": func(ch *amqp.Channel) error {
			_, err := ch.QueueDelete(q, false, false, false)
			return err
		},
	}
	for what, op := range ops {
		channelFails(t, c2, amqp.ResourceLocked, what+" of another connection's exclusive queue", op)
	}
	// Publishing to it is not restricted; the owner still consumes.
	pch := channel(t, c2)
	// Two connections' publishes have no order between them: one at a time.
	publishText(t, pch, "", q, "from-other")
	// A round trip on the same channel: the publish before it is done.
	if err := pch.ExchangeDeclarePassive("amq.direct", "direct", true, false, false, false, nil); err != nil {
		t.Fatalf("exchange.declare passive: %v", err)
	}
	mustGet(t, owner, q, true, "from-other")
	publishText(t, owner, "", q, "mine")
	mustGet(t, owner, q, true, "mine")
}

// TestQueueExclusiveGoneWithConnection: an exclusive queue is deleted when
// its connection closes.
func TestQueueExclusiveGoneWithConnection(t *testing.T) {
	t.Parallel()
	c1, ch1 := connChan(t)
	q := name(t, "")
	if _, err := ch1.QueueDeclare(q, false, false, true, false, nil); err != nil {
		t.Fatal(err)
	}
	publishText(t, ch1, "", q, "x")
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := dial(t)
	eventually(t, func() bool {
		ch := channel(t, c2)
		_, err := ch.QueueDeclarePassive(q, false, false, true, false, nil)
		if err == nil {
			_ = ch.Close()
			return false
		}
		// 405: the owner's close is still being processed (RabbitMQ
		// deletes exclusive queues just after the close-ok too).
		if amqpCode(err) == amqp.ResourceLocked {
			return false
		}
		if amqpCode(err) != amqp.NotFound {
			t.Fatalf("passive declare after the owner left: %v, want 404", err)
		}
		return true
	}, "exclusive queue %s to go with its connection", q)
	// The name is free again.
	ch := channel(t, c2)
	if _, err := ch.QueueDeclare(q, false, false, true, false, nil); err != nil {
		t.Fatalf("redeclare by another connection: %v", err)
	}
}

// TestQueueAutoDelete: an auto-delete queue lives until its last consumer
// cancels, not before its first consumer.
func TestQueueAutoDelete(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := name(t, "")
	cleanupQueue(t, q)
	if _, err := ch.QueueDeclare(q, false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, ch, q) // no consumer yet: still there
	cch := channel(t, c)
	consume(t, cch, q, "c1", false)
	consume(t, cch, q, "c2", false)
	if err := cch.Cancel("c1", false); err != nil {
		t.Fatal(err)
	}
	if st := roundTrip(t, ch, q); st.Consumers != 1 {
		t.Fatalf("after one of two cancels: %d consumers, want 1", st.Consumers)
	}
	if err := cch.Cancel("c2", false); err != nil {
		t.Fatal(err)
	}
	channelFails(t, c, amqp.NotFound, "passive declare after the last consumer cancelled", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclarePassive(q, false, true, false, false, nil)
		return err
	})
}

// TestQueueAutoDeleteOnChannelClose: closing the consuming channel counts
// as the last cancel.
func TestQueueAutoDeleteOnChannelClose(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := name(t, "")
	cleanupQueue(t, q)
	if _, err := ch.QueueDeclare(q, false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	cch := channel(t, c)
	consume(t, cch, q, "", false)
	if err := cch.Close(); err != nil {
		t.Fatal(err)
	}
	channelFails(t, c, amqp.NotFound, "passive declare after the consuming channel closed", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclarePassive(q, false, true, false, false, nil)
		return err
	})
}

func TestQueueBindUnbind(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	bindQueue(t, ch, q, "k1", "amq.direct", nil)
	bindQueue(t, ch, q, "k2", "amq.direct", nil)
	bindQueue(t, ch, q, "k1", "amq.direct", nil) // duplicate: no second copy
	publishText(t, ch, "amq.direct", "k1", "one")
	publishText(t, ch, "amq.direct", "k2", "two")
	publishText(t, ch, "amq.direct", "k3", "three")
	waitMessages(t, c, q, 2)
	if got := drain(t, ch, q); len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Fatalf("bound queue got %q, want [one two]", got)
	}
	if err := ch.QueueUnbind(q, "k1", "amq.direct", nil); err != nil {
		t.Fatalf("queue.unbind: %v", err)
	}
	publishText(t, ch, "amq.direct", "k1", "one-again")
	publishText(t, ch, "amq.direct", "k2", "two-again")
	waitMessages(t, c, q, 1)
	mustGet(t, ch, q, true, "two-again")
	// Unbinding a binding that does not exist is fine.
	if err := ch.QueueUnbind(q, "nope", "amq.direct", nil); err != nil {
		t.Fatalf("queue.unbind of a missing binding: %v", err)
	}
	channelFails(t, c, amqp.NotFound, "queue.bind to a missing exchange", func(ch *amqp.Channel) error {
		return ch.QueueBind(q, "k", name(t, "missing-x"), false, nil)
	})
	channelFails(t, c, amqp.NotFound, "queue.bind of a missing queue", func(ch *amqp.Channel) error {
		return ch.QueueBind(name(t, "missing-q"), "k", "amq.direct", false, nil)
	})
}

func TestQueuePurge(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q := declareQueue(t, ch, "")
	for i := 0; i < 5; i++ {
		publishText(t, ch, "", q, itoa(i))
	}
	// One delivered and unacked message is not purged.
	d := mustGet(t, ch, q, false, "0")
	n, err := ch.QueuePurge(q, false)
	if err != nil {
		t.Fatalf("queue.purge: %v", err)
	}
	if n != 4 {
		t.Fatalf("queue.purge-ok message count %d, want 4", n)
	}
	mustGetEmpty(t, ch, q)
	if err := d.Nack(false, true); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, ch, q, true, "0"); !got.Redelivered {
		t.Fatal("requeued message after purge not marked redelivered")
	}
	n, err = ch.QueuePurge(q, false)
	if err != nil || n != 0 {
		t.Fatalf("purge of an empty queue: %d, %v", n, err)
	}
}

func TestQueueDelete(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	publishText(t, ch, "", q, "a")
	publishText(t, ch, "", q, "b")
	bindQueue(t, ch, q, "kdel", "amq.direct", nil)
	roundTrip(t, ch, q)

	channelFails(t, c, amqp.PreconditionFailed, "queue.delete if-empty of a queue with messages", func(ch *amqp.Channel) error {
		_, err := ch.QueueDelete(q, false, true, false)
		return err
	})
	cch := channel(t, c)
	consume(t, cch, q, "holder", false)
	channelFails(t, c, amqp.PreconditionFailed, "queue.delete if-unused of a queue with a consumer", func(ch *amqp.Channel) error {
		_, err := ch.QueueDelete(q, true, false, false)
		return err
	})
	if err := cch.Close(); err != nil { // both messages back to ready
		t.Fatal(err)
	}
	n, err := ch.QueueDelete(q, false, false, false)
	if err != nil {
		t.Fatalf("queue.delete: %v", err)
	}
	if n != 2 {
		t.Fatalf("queue.delete-ok message count %d, want 2", n)
	}
	channelFails(t, c, amqp.NotFound, "passive declare of a deleted queue", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
		return err
	})
	// Its binding went too: a mandatory publish to the old key is returned.
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	publishOpts(t, ch, "amq.direct", "kdel", true, false, amqp.Publishing{Body: []byte("x")})
	select {
	case r := <-returns:
		if r.ReplyCode != amqp.NoRoute {
			t.Fatalf("return code %d, want 312", r.ReplyCode)
		}
	case <-timeAfter():
		t.Fatal("binding of a deleted queue still routes")
	}
	// Deleting a missing queue succeeds with 0.
	if n, err := ch.QueueDelete(q, false, false, false); err != nil || n != 0 {
		t.Fatalf("delete of a missing queue: %d, %v", n, err)
	}
	// A deleted queue can be declared again, empty.
	if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	mustGetEmpty(t, ch, q)
}

func TestQueueDeclareOkCounts(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	for i := 0; i < 3; i++ {
		publishText(t, ch, "", q, itoa(i))
	}
	waitMessages(t, c, q, 3) // RabbitMQ's counts lag the publishes a little
	st, err := ch.QueueDeclare(q, false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != q || st.Messages != 3 || st.Consumers != 0 {
		t.Fatalf("declare-ok %+v, want name %s, 3 messages, 0 consumers", st, q)
	}
	cch := channel(t, c)
	if err := cch.Qos(1, 0, false); err != nil {
		t.Fatal(err)
	}
	ds := consume(t, cch, q, "", false)
	recv(t, ds) // one unacked, two ready
	eventually(t, func() bool {
		st = queueState(t, c, q)
		return st.Messages == 2 && st.Consumers == 1
	}, "declare-ok to count 2 ready messages and 1 consumer")
}

// TestQueueMaxLength: x-max-length drops from the head once full.
func TestQueueMaxLength(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := name(t, "")
	cleanupQueue(t, q)
	if _, err := ch.QueueDeclare(q, false, false, false, false, amqp.Table{"x-max-length": int32(2)}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		publishText(t, ch, "", q, itoa(i))
	}
	waitMessages(t, c, q, 2)
	if got := drain(t, ch, q); len(got) != 2 || got[0] != "3" || got[1] != "4" {
		t.Fatalf("x-max-length 2 kept %q, want [3 4]", got)
	}
	channelFails(t, c, amqp.PreconditionFailed, "x-max-length of the wrong type", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(name(t, "bad"), false, false, false, false, amqp.Table{"x-max-length": "ten"})
		return err
	})
}
