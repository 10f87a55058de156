package netio_test

import (
	"reflect"
	"sort"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Dead lettering, with x-death as RabbitMQ 3.10 writes it. Run against
// RabbitMQ with WARREN_IT_URL to check the expectations.

// xDeath returns d's x-death entries, failing unless they have exactly
// RabbitMQ's fields and types.
func xDeath(t *testing.T, d amqp.Delivery) []amqp.Table {
	t.Helper()
	raw, ok := d.Headers["x-death"].([]any)
	if !ok {
		t.Fatalf("x-death is %T %v, want an array; headers %v", d.Headers["x-death"], d.Headers["x-death"], d.Headers)
	}
	var out []amqp.Table
	for i, e := range raw {
		tb, ok := e.(amqp.Table)
		if !ok {
			t.Fatalf("x-death[%d] is %T, want a table", i, e)
		}
		var keys []string
		for k := range tb {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		want := []string{"count", "exchange", "queue", "reason", "routing-keys", "time"}
		if _, ok := tb["original-expiration"]; ok {
			want = []string{"count", "exchange", "original-expiration", "queue", "reason", "routing-keys", "time"}
		}
		if !reflect.DeepEqual(keys, want) {
			t.Fatalf("x-death[%d] fields %v, want %v", i, keys, want)
		}
		if _, ok := tb["count"].(int64); !ok {
			t.Fatalf("x-death[%d] count is %T, want a long (int64)", i, tb["count"])
		}
		if ts, ok := tb["time"].(time.Time); !ok || time.Since(ts) > time.Hour || time.Until(ts) > time.Minute {
			t.Fatalf("x-death[%d] time is %T %v, want a timestamp of now", i, tb["time"], tb["time"])
		}
		for _, k := range []string{"exchange", "queue", "reason"} {
			if _, ok := tb[k].(string); !ok {
				t.Fatalf("x-death[%d] %s is %T, want a longstr", i, k, tb[k])
			}
		}
		if _, ok := tb["routing-keys"].([]any); !ok {
			t.Fatalf("x-death[%d] routing-keys is %T, want an array", i, tb["routing-keys"])
		}
		out = append(out, tb)
	}
	return out
}

func wantDeath(t *testing.T, e amqp.Table, count int64, reason, queue, exchange string, keys ...string) {
	t.Helper()
	rks := []any{}
	for _, k := range keys {
		rks = append(rks, k)
	}
	got := []any{e["count"], e["reason"], e["queue"], e["exchange"], e["routing-keys"]}
	want := []any{count, reason, queue, exchange, rks}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("x-death entry (count reason queue exchange routing-keys) %v, want %v", got, want)
	}
}

func wantFirstDeath(t *testing.T, d amqp.Delivery, reason, queue, exchange string) {
	t.Helper()
	got := []any{d.Headers["x-first-death-reason"], d.Headers["x-first-death-queue"], d.Headers["x-first-death-exchange"]}
	if want := []any{reason, queue, exchange}; !reflect.DeepEqual(got, want) {
		t.Fatalf("x-first-death-reason/queue/exchange %v, want %v", got, want)
	}
}

// waitGet polls basic.get on q until a message comes.
func waitGet(t *testing.T, ch *amqp.Channel, q string) amqp.Delivery {
	t.Helper()
	var d amqp.Delivery
	eventually(t, func() bool {
		var ok bool
		d, ok = get(t, ch, q, true)
		return ok
	}, "a message in %s", q)
	return d
}

// TestDeadLetterRejected: reject without requeue moves the message to the
// dead-letter exchange under its original routing keys (CC included),
// with x-death and the first-death headers, and without its expiration.
func TestDeadLetterRejected(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	dlx := declareExchange(t, ch, "dlx", "fanout")
	dlq := declareQueue(t, ch, "dlq")
	bindQueue(t, ch, dlq, "", dlx, nil)
	src := declareArgs(t, ch, "src", amqp.Table{"x-dead-letter-exchange": dlx})
	publish(t, ch, "", src, amqp.Publishing{
		Body: []byte("bad"), Expiration: "60000", MessageId: "m1", DeliveryMode: amqp.Persistent,
		Headers: amqp.Table{"CC": []any{"elsewhere"}, "app": "kept"},
	})
	d := mustGet(t, ch, src, false, "bad")
	if err := d.Reject(false); err != nil {
		t.Fatal(err)
	}
	got := waitGet(t, ch, dlq)
	if got.Exchange != dlx || got.RoutingKey != src {
		t.Fatalf("dead letter delivered from %q/%q, want %q/%q", got.Exchange, got.RoutingKey, dlx, src)
	}
	if got.Expiration != "" || got.MessageId != "m1" || got.DeliveryMode != amqp.Persistent || got.Headers["app"] != "kept" {
		t.Fatalf("properties expiration %q message-id %q delivery-mode %d app %v; want expiration removed, the rest kept", got.Expiration, got.MessageId, got.DeliveryMode, got.Headers["app"])
	}
	deaths := xDeath(t, got)
	if len(deaths) != 1 {
		t.Fatalf("%d x-death entries, want 1", len(deaths))
	}
	wantDeath(t, deaths[0], 1, "rejected", src, "", src, "elsewhere")
	if deaths[0]["original-expiration"] != "60000" {
		t.Fatalf("original-expiration %v, want 60000", deaths[0]["original-expiration"])
	}
	wantFirstDeath(t, got, "rejected", src, "")
}

// TestDeadLetterNackMultiple: basic.nack multiple without requeue dead
// letters every message it covers.
func TestDeadLetterNackMultiple(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	dlq := declareQueue(t, ch, "dlq")
	src := declareArgs(t, ch, "src", amqp.Table{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
	for _, b := range []string{"a", "b", "c"} {
		publishText(t, ch, "", src, b)
	}
	var last amqp.Delivery
	for _, b := range []string{"a", "b", "c"} {
		last = mustGet(t, ch, src, false, b)
	}
	if err := last.Nack(true, false); err != nil {
		t.Fatal(err)
	}
	waitMessages(t, c, dlq, 3)
	for _, b := range []string{"a", "b", "c"} {
		d := mustGet(t, ch, dlq, true, b)
		if d.RoutingKey != dlq {
			t.Fatalf("routing key %q, want the dead-letter routing key %q", d.RoutingKey, dlq)
		}
	}
}

// TestDeadLetterTTLChain: a message expires through two TTL queues into a
// third; x-death lists both deaths, the latest first, and the
// dead-letter routing key replaces CC.
func TestDeadLetterTTLChain(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	q3 := declareQueue(t, ch, "q3")
	q2 := declareArgs(t, ch, "q2", amqp.Table{"x-message-ttl": int32(30), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": q3})
	q1 := declareArgs(t, ch, "q1", amqp.Table{"x-message-ttl": int32(30), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": q2})
	publish(t, ch, "", q1, amqp.Publishing{Body: []byte("m"), Headers: amqp.Table{"CC": []any{"x"}}})
	got := waitGet(t, ch, q3)
	if _, ok := got.Headers["CC"]; ok {
		t.Fatalf("CC header %v kept, want it removed with a dead-letter routing key", got.Headers["CC"])
	}
	deaths := xDeath(t, got)
	if len(deaths) != 2 {
		t.Fatalf("%d x-death entries, want 2: %v", len(deaths), deaths)
	}
	wantDeath(t, deaths[0], 1, "expired", q2, "", q2)
	wantDeath(t, deaths[1], 1, "expired", q1, "", q1, "x")
	wantFirstDeath(t, got, "expired", q1, "")
}

// TestDeadLetterMaxLengthDropHead: the head x-max-length drops goes to the
// dead-letter exchange with reason maxlen.
func TestDeadLetterMaxLengthDropHead(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	dlq := declareQueue(t, ch, "dlq")
	src := declareArgs(t, ch, "src", amqp.Table{"x-max-length": int32(2), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
	for _, b := range []string{"1", "2", "3"} {
		publishText(t, ch, "", src, b)
	}
	got := waitGet(t, ch, dlq)
	if string(got.Body) != "1" {
		t.Fatalf("dead lettered %q, want the head %q", got.Body, "1")
	}
	wantDeath(t, xDeath(t, got)[0], 1, "maxlen", src, "", src)
	if n := queueState(t, c, src).Messages; n != 2 {
		t.Fatalf("source holds %d, want 2", n)
	}
}

// TestDeadLetterCycle: a message that expires back into its own queue
// cycles with no rejection and is dropped; a rejected one comes back, with
// the count of its x-death entry raised each time.
func TestDeadLetterCycle(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	loop := name(t, "expiring")
	if _, err := ch.QueueDeclare(loop, false, false, false, false, amqp.Table{"x-message-ttl": int32(20), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": loop}); err != nil {
		t.Fatal(err)
	}
	cleanupQueue(t, loop)
	publishText(t, ch, "", loop, "cycles")
	waitMessages(t, c, loop, 0)
	// Not a synchronisation: had the message come back, it would be
	// there again within a few TTLs.
	time.Sleep(200 * time.Millisecond)
	if n := queueState(t, c, loop).Messages; n != 0 {
		t.Fatalf("an expiry cycle left %d messages, want the message dropped", n)
	}

	self := name(t, "rejecting")
	if _, err := ch.QueueDeclare(self, false, false, false, false, amqp.Table{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": self}); err != nil {
		t.Fatal(err)
	}
	cleanupQueue(t, self)
	publishText(t, ch, "", self, "again")
	for round := int64(1); round <= 3; round++ {
		var d amqp.Delivery
		eventually(t, func() bool {
			var ok bool
			d, ok = get(t, ch, self, false)
			return ok
		}, "the rejected message back in %s", self)
		if round > 1 {
			deaths := xDeath(t, d)
			if len(deaths) != 1 {
				t.Fatalf("round %d: %d x-death entries, want 1", round, len(deaths))
			}
			wantDeath(t, deaths[0], round-1, "rejected", self, "", self)
		}
		if err := d.Reject(false); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeadLetterMissingExchange: with no such dead-letter exchange the
// message is dropped, as in RabbitMQ.
func TestDeadLetterMissingExchange(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	src := declareArgs(t, ch, "src", amqp.Table{"x-dead-letter-exchange": name(t, "nosuch")})
	publishText(t, ch, "", src, "m")
	d := mustGet(t, ch, src, false, "m")
	if err := d.Reject(false); err != nil {
		t.Fatal(err)
	}
	st := queueState(t, c, src)
	if st.Messages != 0 {
		t.Fatalf("source holds %d, want 0", st.Messages)
	}
}

// TestDeadLetterRoutesByCC: without a dead-letter routing key the dead
// letter is routed with its original routing key and its CC keys, so a
// direct dead-letter exchange delivers it to the queues bound to either.
func TestDeadLetterRoutesByCC(t *testing.T) {
	t.Parallel()
	_, ch := connChan(t)
	dlx := declareExchange(t, ch, "dlx", "direct")
	byKey := declareQueue(t, ch, "bykey")
	byCC := declareQueue(t, ch, "bycc")
	src := declareArgs(t, ch, "src", amqp.Table{"x-dead-letter-exchange": dlx})
	bindQueue(t, ch, byKey, src, dlx, nil)
	bindQueue(t, ch, byCC, "cc-key", dlx, nil)
	publish(t, ch, "", src, amqp.Publishing{Body: []byte("m"), Headers: amqp.Table{"CC": []any{"cc-key"}}})
	d := mustGet(t, ch, src, false, "m")
	if err := d.Nack(false, false); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{byKey, byCC} {
		got := waitGet(t, ch, q)
		wantDeath(t, xDeath(t, got)[0], 1, "rejected", src, "", src, "cc-key")
	}
}
