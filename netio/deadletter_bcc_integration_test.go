package netio_test

import (
	"slices"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// bccDeadLetters is a source queue dead lettering into a direct exchange
// with three queues bound: one by the source's name (the publish key),
// one by the BCC key and one by the CC key.
type bccDeadLetters struct {
	src, bcc           string // the source queue; the queue the BCC key names
	byKey, byBCC, byCC string // the dead-letter exchange's queues
	headers            amqp.Table
}

func newBCCDeadLetters(t *testing.T, ch *amqp.Channel, args amqp.Table) *bccDeadLetters {
	t.Helper()
	dlx := declareExchange(t, ch, "dlx", "direct")
	s := &bccDeadLetters{bcc: declareQueue(t, ch, "bcc-target"), src: name(t, "src")}
	a := amqp.Table{"x-dead-letter-exchange": dlx}
	for k, v := range args {
		a[k] = v
	}
	if _, err := ch.QueueDeclare(s.src, false, false, false, false, a); err != nil {
		t.Fatal(err)
	}
	cleanupQueue(t, s.src)
	s.byKey, s.byBCC, s.byCC = declareQueue(t, ch, "dl-key"), declareQueue(t, ch, "dl-bcc"), declareQueue(t, ch, "dl-cc")
	bindQueue(t, ch, s.byKey, s.src, dlx, nil)
	bindQueue(t, ch, s.byBCC, s.bcc, dlx, nil)
	bindQueue(t, ch, s.byCC, "cc-key", dlx, nil)
	s.headers = amqp.Table{"BCC": []any{s.bcc}, "CC": []any{"cc-key"}}
	return s
}

// check takes the dead letter "m" from each of the three queues: routed
// with the publish key, CC and BCC, as RabbitMQ routes a dead letter
// without a dead-letter routing key; no copy shows BCC, and x-death's
// routing-keys holds the key and CC only, with the reason given.
func (s *bccDeadLetters) check(t *testing.T, c *amqp.Connection, ch *amqp.Channel, reason string) {
	t.Helper()
	if d := mustGet(t, ch, s.bcc, true, "m"); d.Headers["BCC"] != nil {
		t.Fatalf("the BCC target's copy shows BCC: %v", d.Headers)
	}
	for _, q := range []string{s.byKey, s.byBCC, s.byCC} {
		waitMessages(t, c, q, 1)
		dl := mustGet(t, ch, q, true, "m")
		if dl.Headers["BCC"] != nil {
			t.Errorf("dead letter in %s shows BCC: %v", q, dl.Headers)
		}
		if !slices.Equal(dl.Headers["CC"].([]any), []any{"cc-key"}) {
			t.Errorf("dead letter in %s: CC %v, want it kept", q, dl.Headers["CC"])
		}
		deaths, _ := dl.Headers["x-death"].([]any)
		if len(deaths) != 1 {
			t.Fatalf("dead letter in %s: x-death %v", q, dl.Headers["x-death"])
		}
		death := deaths[0].(amqp.Table)
		if death["reason"] != reason || death["queue"] != s.src {
			t.Errorf("dead letter in %s: x-death %v, want reason %s from %s", q, death, reason, s.src)
		}
		rks, _ := death["routing-keys"].([]any)
		if !slices.Equal(rks, []any{s.src, "cc-key"}) {
			t.Errorf("x-death routing-keys %v, want the key and CC only", rks)
		}
		mustGetEmpty(t, ch, q)
	}
}

// A message published with BCC, rejected into a dead-letter exchange with
// no dead-letter routing key, is routed there with its routing key and
// its CC and BCC keys, as RabbitMQ 3.10 routes it (its message keeps all
// of them as routing keys).
func TestDeadLetterRoutesWithBCCKeys(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	s := newBCCDeadLetters(t, ch, nil)
	publish(t, ch, "", s.src, amqp.Publishing{Body: []byte("m"), Headers: s.headers})
	roundTrip(t, ch, s.src)
	d := mustGet(t, ch, s.src, false, "m")
	if d.Headers["BCC"] != nil {
		t.Fatalf("delivery shows BCC: %v", d.Headers)
	}
	if err := d.Reject(false); err != nil {
		t.Fatal(err)
	}
	s.check(t, c, ch, "rejected")
}

// Expiry dead letters the same way: a message that expires in the queue
// (x-message-ttl, no consumer) keeps its BCC keys for routing, as RabbitMQ
// 3.10's expired message does.
func TestDeadLetterExpiredRoutesWithBCCKeys(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	s := newBCCDeadLetters(t, ch, amqp.Table{"x-message-ttl": int32(50)})
	publish(t, ch, "", s.src, amqp.Publishing{Body: []byte("m"), Headers: s.headers})
	s.check(t, c, ch, "expired")
	mustGetEmpty(t, ch, s.src)
}

// So does a per-message expiration on a queue with a TTL of its own that
// has not run out: the message's own expiration is what expires it.
func TestDeadLetterMessageExpirationRoutesWithBCCKeys(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	s := newBCCDeadLetters(t, ch, amqp.Table{"x-message-ttl": int32(600000)})
	publish(t, ch, "", s.src, amqp.Publishing{Body: []byte("m"), Headers: s.headers, Expiration: "50"})
	s.check(t, c, ch, "expired")
	mustGetEmpty(t, ch, s.src)
}

// And a message x-max-length drops from the head (drop-head, the default
// overflow) when a newer one arrives.
func TestDeadLetterMaxlenRoutesWithBCCKeys(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	s := newBCCDeadLetters(t, ch, amqp.Table{"x-max-length": int32(1)})
	publish(t, ch, "", s.src, amqp.Publishing{Body: []byte("m"), Headers: s.headers})
	publishText(t, ch, "", s.src, "newer")
	s.check(t, c, ch, "maxlen")
	mustGet(t, ch, s.src, true, "newer")
}

// reject-publish-dlx dead letters the refused publish itself, BCC keys
// included.
func TestDeadLetterRejectPublishDLXRoutesWithBCCKeys(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	s := newBCCDeadLetters(t, ch, amqp.Table{"x-max-length": int32(1), "x-overflow": "reject-publish-dlx"})
	publishText(t, ch, "", s.src, "older")
	publish(t, ch, "", s.src, amqp.Publishing{Body: []byte("m"), Headers: s.headers})
	s.check(t, c, ch, "maxlen")
	mustGet(t, ch, s.src, true, "older")
}
