package netio_test

import (
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

const replyTo = "amq.rabbitmq.reply-to"

// The RPC of RabbitMQ's tutorial, over direct reply-to: the client's
// reply_to is rewritten to name its channel, and the server's reply,
// published on another connection, arrives without any queue.
func TestDirectReplyToRPC(t *testing.T) {
	t.Parallel()
	_, client := connChan(t)
	_, server := connChan(t)
	rpcq := declareQueue(t, server, "rpc")
	replies := consume(t, client, replyTo, "", true)
	requests := consume(t, server, rpcq, "", false)

	for i, body := range []string{"one", "two"} {
		publish(t, client, "", rpcq, amqp.Publishing{Body: []byte(body), ReplyTo: replyTo, CorrelationId: body})
		req := recv(t, requests)
		if !strings.HasPrefix(req.ReplyTo, replyTo+".") || len(req.ReplyTo) < len(replyTo)+20 {
			t.Fatalf("request reply_to %q, want the pseudo-queue with a token", req.ReplyTo)
		}
		if req.CorrelationId != body {
			t.Fatalf("request correlation_id %q, want %q: other properties must stay", req.CorrelationId, body)
		}
		publish(t, server, "", req.ReplyTo, amqp.Publishing{Body: []byte("re:" + body), CorrelationId: req.CorrelationId})
		if err := req.Ack(false); err != nil {
			t.Fatal(err)
		}
		rep := recv(t, replies)
		if string(rep.Body) != "re:"+body || rep.CorrelationId != body || rep.RoutingKey != req.ReplyTo || rep.Exchange != "" {
			t.Fatalf("reply %d: %q corr %q key %q exchange %q", i, rep.Body, rep.CorrelationId, rep.RoutingKey, rep.Exchange)
		}
	}
	// The pseudo-queue and a live reply key exist for queue.declare passive.
	if st, err := server.QueueDeclarePassive(replyTo, false, false, false, false, nil); err != nil || st.Messages != 0 {
		t.Fatalf("passive declare of %s: %v %+v", replyTo, err, st)
	}
}

func TestDirectReplyToConsumeChecks(t *testing.T) {
	t.Parallel()
	c := dial(t)
	for _, tc := range []struct {
		what, text string
		op         func(ch *amqp.Channel) error
	}{
		{"consume with acks", "reply consumer cannot acknowledge", func(ch *amqp.Channel) error {
			_, err := ch.Consume(replyTo, "", false, false, false, false, nil)
			return err
		}},
		{"second reply consumer", "reply consumer already set", func(ch *amqp.Channel) error {
			if _, err := ch.Consume(replyTo, "", true, false, false, false, nil); err != nil {
				return err
			}
			_, err := ch.Consume(replyTo, "", true, false, false, false, nil)
			return err
		}},
		{"request without a reply consumer", "fast reply consumer does not exist", func(ch *amqp.Channel) error {
			closes := ch.NotifyClose(make(chan *amqp.Error, 1))
			publish(t, ch, "", "nowhere", amqp.Publishing{ReplyTo: replyTo})
			return waitClosed(t, closes, amqp.PreconditionFailed, "request without a reply consumer")
		}},
	} {
		channelFails(t, c, amqp.PreconditionFailed, tc.what, func(ch *amqp.Channel) error {
			err := tc.op(ch)
			if err != nil && !strings.Contains(err.Error(), tc.text) {
				t.Errorf("%s: %v, want %q", tc.what, err, tc.text)
			}
			return err
		})
	}
	channelFails(t, c, amqp.NotFound, "passive declare of an unknown reply key", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclarePassive(replyTo+".nosuchtoken", false, false, false, false, nil)
		return err
	})
}

// A reply whose channel has gone is dropped; a mandatory one comes back.
// (RabbitMQ 3.10 also returns a mandatory reply it did deliver; Warren
// returns only what it could not deliver.)
func TestDirectReplyToGoneChannel(t *testing.T) {
	t.Parallel()
	cc, client := connChan(t)
	sc, server := connChan(t)
	rpcq := declareQueue(t, server, "rpc")
	consume(t, client, replyTo, "", true)
	publish(t, client, "", rpcq, amqp.Publishing{Body: []byte("req"), ReplyTo: replyTo})
	waitMessages(t, sc, rpcq, 1)
	req := mustGet(t, server, rpcq, true, "req")
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	connUsable(t, cc)

	returns := server.NotifyReturn(make(chan amqp.Return, 2))
	publishOpts(t, server, "", req.ReplyTo, true, false, amqp.Publishing{Body: []byte("late")})
	select {
	case r := <-returns:
		if string(r.Body) != "late" || r.ReplyCode != amqp.NoRoute {
			t.Fatalf("return %q code %d, want late with 312", r.Body, r.ReplyCode)
		}
	case <-time.After(waitTimeout):
		t.Fatal("mandatory reply to a gone channel not returned")
	}
	publish(t, server, "", req.ReplyTo, amqp.Publishing{Body: []byte("dropped")})
	// A guessed key is no better than a gone one.
	publishOpts(t, server, "", replyTo+".guess", true, false, amqp.Publishing{Body: []byte("guess")})
	select {
	case r := <-returns:
		if string(r.Body) != "guess" {
			t.Fatalf("return %q, want guess (the dropped one is not returned)", r.Body)
		}
	case <-time.After(waitTimeout):
		t.Fatal("mandatory reply to a guessed key not returned")
	}
	if _, err := server.QueueDeclarePassive(rpcq, false, false, false, false, nil); err != nil {
		t.Fatalf("server channel after replies: %v", err)
	}
}

// Cancelling the reply consumer ends its key; a new one gets a new key.
func TestDirectReplyToCancel(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "q")
	consume(t, ch, replyTo, "rep", true)
	publish(t, ch, "", q, amqp.Publishing{Body: []byte("1"), ReplyTo: replyTo})
	waitMessages(t, c, q, 1)
	first := mustGet(t, ch, q, true, "1").ReplyTo
	if err := ch.Cancel("rep", false); err != nil {
		t.Fatal(err)
	}
	consume(t, ch, replyTo, "rep2", true)
	publish(t, ch, "", q, amqp.Publishing{Body: []byte("2"), ReplyTo: replyTo})
	waitMessages(t, c, q, 1)
	second := mustGet(t, ch, q, true, "2").ReplyTo
	if first == second {
		t.Fatalf("reply key %q reused after cancel", first)
	}
}

// A reply published in a transaction goes to its consumer at once, as
// RabbitMQ 3.10 hands it over when it routes it (at basic.publish), and a
// rollback does not take it back; a mandatory reply nobody consumes comes
// back at the commit, not before, and not at all after a rollback.
func TestDirectReplyToInTransaction(t *testing.T) {
	t.Parallel()
	c, client := connChan(t)
	_, server := connChan(t)
	q := declareQueue(t, server, "rpc")
	replies := consume(t, client, replyTo, "", true)
	publish(t, client, "", q, amqp.Publishing{Body: []byte("req"), ReplyTo: replyTo})
	waitMessages(t, c, q, 1)
	req := mustGet(t, server, q, true, "req")
	returns := server.NotifyReturn(make(chan amqp.Return, 4))
	if err := server.Tx(); err != nil {
		t.Fatal(err)
	}
	publish(t, server, "", req.ReplyTo, amqp.Publishing{Body: []byte("rep")})
	publishOpts(t, server, "", req.ReplyTo+"gone", true, false, amqp.Publishing{Body: []byte("gone")})
	if d := recv(t, replies); string(d.Body) != "rep" {
		t.Fatalf("reply %q before the commit", d.Body)
	}
	noReturn := func(what string) {
		t.Helper()
		select {
		case r := <-returns:
			t.Fatalf("%s: return of %q", what, r.Body)
		case <-time.After(200 * time.Millisecond):
		}
	}
	noReturn("before the commit")
	if err := server.TxCommit(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-returns:
		if string(r.Body) != "gone" || r.ReplyCode != amqp.NoRoute {
			t.Fatalf("return %q code %d at the commit, want gone with 312", r.Body, r.ReplyCode)
		}
	case <-time.After(waitTimeout):
		t.Fatal("mandatory reply to a gone key not returned at the commit")
	}
	noDelivery(t, replies, 200*time.Millisecond)

	publish(t, server, "", req.ReplyTo, amqp.Publishing{Body: []byte("rolled back")})
	publishOpts(t, server, "", req.ReplyTo+"gone", true, false, amqp.Publishing{Body: []byte("gone too")})
	if d := recv(t, replies); string(d.Body) != "rolled back" {
		t.Fatalf("reply %q before the rollback", d.Body)
	}
	if err := server.TxRollback(); err != nil {
		t.Fatal(err)
	}
	if err := server.TxCommit(); err != nil {
		t.Fatal(err)
	}
	noReturn("after a rollback")
	noDelivery(t, replies, 100*time.Millisecond)
}

// The reply consumer's tag is taken like any consumer's: reusing it is the
// connection error a reused tag always is. (RabbitMQ 3.10 never answers
// this consume, so the test is Warren's only.)
func TestDirectReplyToConsumerTagShared(t *testing.T) {
	needLocal(t)
	t.Parallel()
	connectionFails(t, amqp.NotAllowed, "a queue consumer with the reply consumer's tag", func(ch *amqp.Channel) error {
		q := declareQueue(t, ch, "q")
		consume(t, ch, replyTo, "tag", true)
		_, err := ch.Consume(q, "tag", true, false, false, false, nil)
		return err
	})
}
