package netio_test

import (
	"fmt"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Message deduplication as LavinMQ and the community plugin define it. The
// RabbitMQ here has no such plugin, so these tests need the local broker.

func dedupMsg(body string, key any, extra amqp.Table) amqp.Publishing {
	h := amqp.Table{"x-deduplication-header": key}
	for k, v := range extra {
		h[k] = v
	}
	return amqp.Publishing{Body: []byte(body), Headers: h}
}

// An exchange drops duplicates before routing (a mandatory one comes back),
// remembers at most x-cache-size values (the oldest goes first), and a
// message's x-cache-ttl header bounds how long its value is remembered.
func TestDedupExchange(t *testing.T) {
	needLocal(t)
	_, ch := connChan(t)
	x := name(t, "x")
	if err := ch.ExchangeDeclare(x, "direct", false, false, false, false, amqp.Table{"x-message-deduplication": true, "x-cache-size": int32(2)}); err != nil {
		t.Fatal(err)
	}
	q := declareQueue(t, ch, "q")
	bindQueue(t, ch, q, "k", x, nil)
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))

	publish(t, ch, x, "k", dedupMsg("a1", "a", nil))
	publishOpts(t, ch, x, "k", true, false, dedupMsg("a2", "a", nil))
	select {
	case r := <-returns:
		if string(r.Body) != "a2" || r.ReplyCode != amqp.NoRoute {
			t.Fatalf("returned %q (%d), want the duplicate a2 with 312", r.Body, r.ReplyCode)
		}
	case <-time.After(waitTimeout):
		t.Fatal("a mandatory duplicate was not returned")
	}
	publish(t, ch, x, "k", dedupMsg("n1", int32(7), nil))
	publish(t, ch, x, "k", dedupMsg("n2", int64(7), nil)) // the same number
	publish(t, ch, x, "k", amqp.Publishing{Body: []byte("nokey")})
	publish(t, ch, x, "k", amqp.Publishing{Body: []byte("nokey")})
	// The cache holds "a" and 7; "b" evicts "a", so "a" is new again.
	publish(t, ch, x, "k", dedupMsg("b1", "b", nil))
	publish(t, ch, x, "k", dedupMsg("a3", "a", nil))
	publish(t, ch, x, "k", dedupMsg("b2", "b", nil))
	publish(t, ch, x, "k", dedupMsg("t1", "t", amqp.Table{"x-cache-ttl": int32(100)}))
	publish(t, ch, x, "k", dedupMsg("t2", "t", nil))
	roundTrip(t, ch, q)
	time.Sleep(150 * time.Millisecond) // let t's 100 ms entry expire
	publish(t, ch, x, "k", dedupMsg("t3", "t", nil))
	roundTrip(t, ch, q)
	got := fmt.Sprint(drain(t, ch, q))
	if want := "[a1 n1 nokey nokey b1 a3 t1 t3]"; got != want {
		t.Fatalf("queue got %s, want %s", got, want)
	}
}

// x-cache-ttl on the exchange, and x-deduplication-header naming the header.
func TestDedupExchangeTTLAndHeaderName(t *testing.T) {
	needLocal(t)
	_, ch := connChan(t)
	x := name(t, "x")
	args := amqp.Table{"x-message-deduplication": true, "x-cache-ttl": int32(100), "x-deduplication-header": "msg-id"}
	if err := ch.ExchangeDeclare(x, "fanout", false, false, false, false, args); err != nil {
		t.Fatal(err)
	}
	q := declareQueue(t, ch, "q")
	bindQueue(t, ch, q, "", x, nil)
	id := func(body string) amqp.Publishing {
		return amqp.Publishing{Body: []byte(body), Headers: amqp.Table{"msg-id": "1"}}
	}
	publish(t, ch, x, "", id("1"))
	publish(t, ch, x, "", id("2"))
	publish(t, ch, x, "", dedupMsg("other-header", "1", nil))
	roundTrip(t, ch, q)
	time.Sleep(150 * time.Millisecond)
	publish(t, ch, x, "", id("3"))
	roundTrip(t, ch, q)
	if got, want := fmt.Sprint(drain(t, ch, q)), "[1 other-header 3]"; got != want {
		t.Fatalf("queue got %s, want %s", got, want)
	}
}

// A queue keeps a duplicate out while the first one waits in it; once that
// one is delivered the value is accepted again. A duplicate still counts as
// routed (no basic.return) and is confirmed.
func TestDedupQueue(t *testing.T) {
	needLocal(t)
	_, ch := connChan(t)
	q := name(t, "q")
	if _, err := ch.QueueDeclare(q, false, false, false, false, amqp.Table{"x-message-deduplication": true}); err != nil {
		t.Fatal(err)
	}
	cleanupQueue(t, q)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 4))
	publishOpts(t, ch, "", q, true, false, dedupMsg("a1", "a", nil))
	publishOpts(t, ch, "", q, true, false, dedupMsg("a2", "a", nil))
	for range 2 {
		if c := <-confirms; !c.Ack {
			t.Fatal("nacked")
		}
	}
	if st := roundTrip(t, ch, q); st.Messages != 1 {
		t.Fatalf("queue holds %d, want 1", st.Messages)
	}
	mustGet(t, ch, q, true, "a1")
	publish(t, ch, "", q, dedupMsg("a3", "a", nil))
	mustGet(t, ch, q, true, "a3")
	select {
	case r := <-returns:
		t.Fatalf("queue-level duplicate returned: %q", r.Body)
	default:
	}
}

func TestDedupBadArgs(t *testing.T) {
	needLocal(t)
	c := dial(t)
	for _, args := range []amqp.Table{
		{"x-message-deduplication": "yes"},
		{"x-message-deduplication": true, "x-cache-size": "big"},
		{"x-message-deduplication": true, "x-cache-size": int32(-1)},
		{"x-message-deduplication": true, "x-cache-ttl": int32(-1)},
		{"x-message-deduplication": true, "x-deduplication-header": int32(1)},
	} {
		channelFails(t, c, amqp.PreconditionFailed, fmt.Sprintf("exchange with %v", args), func(ch *amqp.Channel) error {
			return ch.ExchangeDeclare(name(t, "x"), "direct", false, false, false, false, args)
		})
		channelFails(t, c, amqp.PreconditionFailed, fmt.Sprintf("queue with %v", args), func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclare(name(t, "q"), false, false, false, false, args)
			return err
		})
	}
}

// Dedup before the delay: a duplicate is dropped at publish, and the
// message that fired later is not taken for a duplicate of itself.
func TestDedupDelayedExchange(t *testing.T) {
	needLocal(t)
	_, ch := connChan(t)
	x := name(t, "x")
	args := amqp.Table{"x-delayed-type": "direct", "x-message-deduplication": true}
	if err := ch.ExchangeDeclare(x, "x-delayed-message", false, false, false, false, args); err != nil {
		t.Fatal(err)
	}
	q := declareQueue(t, ch, "q")
	bindQueue(t, ch, q, "k", x, nil)
	ds := consume(t, ch, q, "", true)
	publish(t, ch, x, "k", dedupMsg("d1", "d", amqp.Table{"x-delay": int32(100)}))
	publish(t, ch, x, "k", dedupMsg("d2", "d", amqp.Table{"x-delay": int32(100)}))
	if m := recv(t, ds); string(m.Body) != "d1" {
		t.Fatalf("got %q", m.Body)
	}
	noDelivery(t, ds, 300*time.Millisecond)
}

// x-cache-persistence = disk keeps a durable exchange's cache across a
// restart; the default (memory) starts empty again, as LavinMQ's does.
func TestDedupPersistenceAcrossRestart(t *testing.T) {
	needLocal(t)
	dir := t.TempDir()
	in := startTestInstance(t, dir)
	c, err := dialURL(t, in.url, amqp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ch := channel(t, c)
	xDisk, xMem, q := name(t, "disk"), name(t, "mem"), name(t, "q")
	if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	for x, persistence := range map[string]string{xDisk: "disk", xMem: "memory"} {
		args := amqp.Table{"x-message-deduplication": true, "x-cache-size": int32(3), "x-cache-persistence": persistence}
		if err := ch.ExchangeDeclare(x, "fanout", true, false, false, false, args); err != nil {
			t.Fatal(err)
		}
		bindQueue(t, ch, q, "", x, nil)
	}
	for _, k := range []string{"a", "b", "c", "d"} { // "a" is evicted by "d"
		publish(t, ch, xDisk, "", dedupMsg("disk-"+k, k, nil))
	}
	publish(t, ch, xMem, "", dedupMsg("mem-a", "a", nil))
	roundTrip(t, ch, q)
	drain(t, ch, q)
	c.Close()
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	in2 := startTestInstance(t, dir)
	c2, err := dialURL(t, in2.url, amqp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ch2 := channel(t, c2)
	for _, k := range []string{"b", "c", "d", "a", "e"} { // b, c, d remembered; a, e new
		publish(t, ch2, xDisk, "", dedupMsg("disk-"+k+"2", k, nil))
	}
	publish(t, ch2, xMem, "", dedupMsg("mem-a2", "a", nil))
	roundTrip(t, ch2, q)
	if got, want := fmt.Sprint(drain(t, ch2, q)), "[disk-a2 disk-e2 mem-a2]"; got != want {
		t.Fatalf("after restart got %s, want %s (b, c, d remembered on disk)", got, want)
	}
}

// Delivery to a consumer frees the value too, whichever way the queue
// dispatches (round robin, single active consumer, consumer priorities).
func TestDedupQueueConsumers(t *testing.T) {
	needLocal(t)
	_, ch := connChan(t)
	for _, tc := range []struct {
		name     string
		args     amqp.Table
		consArgs amqp.Table
	}{
		{"round-robin", nil, nil},
		{"single-active", amqp.Table{"x-single-active-consumer": true}, nil},
		{"priority", nil, amqp.Table{"x-priority": int32(5)}},
	} {
		q := name(t, tc.name)
		args := amqp.Table{"x-message-deduplication": true}
		for k, v := range tc.args {
			args[k] = v
		}
		if _, err := ch.QueueDeclare(q, false, false, false, false, args); err != nil {
			t.Fatal(err)
		}
		cleanupQueue(t, q)
		ds, err := ch.Consume(q, "", true, false, false, false, tc.consArgs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			body := fmt.Sprintf("%s-%d", tc.name, i)
			publish(t, ch, "", q, dedupMsg(body, "same", nil))
			if d := recv(t, ds); string(d.Body) != body {
				t.Fatalf("%s: got %q, want %q (delivered values are free again)", tc.name, d.Body, body)
			}
		}
	}
}
