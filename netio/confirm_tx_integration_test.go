package netio_test

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// collectConfirms reads n confirmations, which must be acks for tags 1..n.
func collectConfirms(t *testing.T, confirms <-chan amqp.Confirmation, n int) {
	t.Helper()
	timeout := time.After(2 * waitTimeout)
	for i := 1; i <= n; i++ {
		select {
		case cf, ok := <-confirms:
			if !ok {
				t.Fatalf("confirm channel closed after %d of %d confirms", i-1, n)
			}
			if cf.DeliveryTag != uint64(i) || !cf.Ack {
				t.Fatalf("confirm #%d: tag %d ack=%v, want tag %d acked", i, cf.DeliveryTag, cf.Ack, i)
			}
		case <-timeout:
			t.Fatalf("only %d of %d publishes confirmed", i-1, n)
		}
	}
}

func TestConfirmAllAcked(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	const n = 500
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, n))
	for i := 0; i < n; i++ {
		publishText(t, ch, "", q, itoa(i))
	}
	collectConfirms(t, confirms, n)
	waitMessages(t, c, q, n)
	// confirm.select again is harmless.
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("second confirm.select: %v", err)
	}
}

// TestConfirmPersistentDurable: persistent messages to a durable queue
// are all confirmed (after the group fsync) and all stored.
func TestConfirmPersistentDurable(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := name(t, "")
	cleanupQueue(t, q)
	if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	const n = 200
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
	defer cancel()
	dcs := make([]*amqp.DeferredConfirmation, 0, n)
	for i := 0; i < n; i++ {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", q, false, false,
			amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(itoa(i))})
		if err != nil {
			t.Fatal(err)
		}
		dcs = append(dcs, dc)
	}
	for i, dc := range dcs {
		ok, err := dc.WaitContext(ctx)
		if err != nil || !ok {
			t.Fatalf("persistent publish %d: acked=%v err=%v", i, ok, err)
		}
	}
	if st := queueState(t, c, q); st.Messages != n {
		t.Fatalf("durable queue holds %d, want %d", st.Messages, n)
	}
	// Mixed: persistent to durable plus transient in between keep order.
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 10))
	tq := declareQueue(t, ch, "transient")
	for i := 0; i < 10; i++ {
		if i%2 == 0 {
			publish(t, ch, "", q, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte("p")})
		} else {
			publishText(t, ch, "", tq, "t")
		}
	}
	for i := 1; i <= 10; i++ {
		select {
		case cf := <-confirms:
			if cf.DeliveryTag != uint64(n+i) || !cf.Ack {
				t.Fatalf("mixed confirm %+v, want tag %d acked", cf, n+i)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("mixed publishes: only %d of 10 confirmed", i-1)
		}
	}
}

func TestConfirmMissingExchange(t *testing.T) {
	t.Parallel()
	c := dial(t)
	channelFails(t, c, amqp.NotFound, "confirm-mode publish to a missing exchange", func(ch *amqp.Channel) error {
		if err := ch.Confirm(false); err != nil {
			t.Fatal(err)
		}
		return ch.Publish(name(t, "missing"), "k", false, false, amqp.Publishing{Body: []byte("x")})
	})
}

// TestConfirmUnroutable: unroutable publishes are acked; a mandatory one is
// returned first.
func TestConfirmUnroutable(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 2))
	publishOpts(t, ch, "amq.direct", name(t, "none"), true, false, amqp.Publishing{Body: []byte("m")})
	publishOpts(t, ch, "amq.direct", name(t, "none"), false, false, amqp.Publishing{Body: []byte("n")})
	select {
	case r := <-returns:
		if r.ReplyCode != amqp.NoRoute || string(r.Body) != "m" {
			t.Fatalf("return %d %q", r.ReplyCode, r.Body)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no basic.return in confirm mode")
	}
	collectConfirms(t, confirms, 2)
}

func TestConfirmTxExclusive(t *testing.T) {
	t.Parallel()
	c := dial(t)
	channelFails(t, c, amqp.PreconditionFailed, "tx.select on a confirm channel", func(ch *amqp.Channel) error {
		if err := ch.Confirm(false); err != nil {
			t.Fatal(err)
		}
		return ch.Tx()
	})
	channelFails(t, c, amqp.PreconditionFailed, "confirm.select on a tx channel", func(ch *amqp.Channel) error {
		if err := ch.Tx(); err != nil {
			t.Fatal(err)
		}
		return ch.Confirm(false)
	})
}

func TestTxCommitRollback(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	tch := channel(t, c)
	if err := tch.Tx(); err != nil {
		t.Fatalf("tx.select: %v", err)
	}
	publishText(t, tch, "", q, "rolled-1")
	publishText(t, tch, "", q, "rolled-2")
	roundTrip(t, tch, q)
	mustGetEmpty(t, ch, q) // not visible before commit
	if err := tch.TxRollback(); err != nil {
		t.Fatalf("tx.rollback: %v", err)
	}
	mustGetEmpty(t, ch, q)

	publishText(t, tch, "", q, "c1")
	publishText(t, tch, "", q, "c2")
	if err := tch.TxCommit(); err != nil {
		t.Fatalf("tx.commit: %v", err)
	}
	mustGet(t, ch, q, true, "c1")
	mustGet(t, ch, q, true, "c2")
	mustGetEmpty(t, ch, q)

	// The channel stays transactional after a commit.
	publishText(t, tch, "", q, "c3")
	roundTrip(t, tch, q)
	mustGetEmpty(t, ch, q)
	if err := tch.TxCommit(); err != nil {
		t.Fatal(err)
	}
	mustGet(t, ch, q, true, "c3")

	// An empty commit and rollback are fine.
	if err := tch.TxCommit(); err != nil {
		t.Fatal(err)
	}
	if err := tch.TxRollback(); err != nil {
		t.Fatal(err)
	}
}

// TestTxAcks: an ack inside a rolled-back transaction leaves the message
// unacked (it comes back when the channel closes); a committed ack is final.
func TestTxAcks(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	publishText(t, ch, "", q, "m")
	roundTrip(t, ch, q)

	tch := channel(t, c)
	if err := tch.Tx(); err != nil {
		t.Fatal(err)
	}
	d := mustGet(t, tch, q, false, "m")
	if err := d.Ack(false); err != nil {
		t.Fatal(err)
	}
	if err := tch.TxRollback(); err != nil {
		t.Fatal(err)
	}
	if err := tch.Close(); err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, ch, q, false, "m")
	if !got.Redelivered {
		t.Fatal("message whose ack was rolled back not redelivered")
	}
	if err := got.Nack(false, true); err != nil {
		t.Fatal(err)
	}

	tch2 := channel(t, c)
	if err := tch2.Tx(); err != nil {
		t.Fatal(err)
	}
	d = mustGet(t, tch2, q, false, "m")
	if err := d.Ack(false); err != nil {
		t.Fatal(err)
	}
	// Before the commit the message is still unacked: a close would bring
	// it back. Commit instead.
	if err := tch2.TxCommit(); err != nil {
		t.Fatal(err)
	}
	if err := tch2.Close(); err != nil {
		t.Fatal(err)
	}
	if st := queueState(t, c, q); st.Messages != 0 {
		t.Fatalf("committed ack: %d messages back in the queue, want 0", st.Messages)
	}
}

// TestTxMandatoryReturn: an unroutable mandatory publish in a transaction
// is returned at commit.
func TestTxMandatoryReturn(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	if err := ch.Tx(); err != nil {
		t.Fatal(err)
	}
	publishOpts(t, ch, "amq.direct", name(t, "none"), true, false, amqp.Publishing{Body: []byte("r")})
	if err := ch.TxCommit(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-returns:
		if r.ReplyCode != amqp.NoRoute {
			t.Fatalf("return code %d", r.ReplyCode)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no basic.return for a committed unroutable mandatory publish")
	}
}

func TestTxWithoutSelect(t *testing.T) {
	t.Parallel()
	c := dial(t)
	channelFails(t, c, amqp.PreconditionFailed, "tx.commit without tx.select", func(ch *amqp.Channel) error {
		return ch.TxCommit()
	})
	channelFails(t, c, amqp.PreconditionFailed, "tx.rollback without tx.select", func(ch *amqp.Channel) error {
		return ch.TxRollback()
	})
}

// TestChannelFlow: as in RabbitMQ 3.10, channel.flow active=true from a
// client is answered with flow-ok (deliveries go on), and active=false is
// refused with 540 NOT_IMPLEMENTED "active=false", a connection error.
func TestChannelFlow(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	cch := channel(t, c)
	ds := consume(t, cch, q, "", true)
	if err := cch.Flow(true); err != nil {
		t.Fatalf("channel.flow active=true: %v", err)
	}
	for i := 0; i < 3; i++ {
		publishText(t, ch, "", q, itoa(i))
	}
	for i := 0; i < 3; i++ {
		if d := recv(t, ds); string(d.Body) != itoa(i) {
			t.Fatalf("after flow-ok got %q, want %d", d.Body, i)
		}
	}
	connectionFails(t, amqp.NotImplemented, "channel.flow active=false", func(ch *amqp.Channel) error {
		return ch.Flow(false)
	})
}
