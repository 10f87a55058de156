package netio_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// The delayed-message exchange (rabbitmq-delayed-message-exchange). The
// RabbitMQ here has no such plugin, so these tests need the local broker.

func declareDelayed(t *testing.T, ch *amqp.Channel, suffix, typ string, durable bool) string {
	t.Helper()
	x := name(t, suffix)
	if err := ch.ExchangeDeclare(x, "x-delayed-message", durable, false, false, false, amqp.Table{"x-delayed-type": typ}); err != nil {
		t.Fatalf("declare delayed exchange %s (%s): %v", x, typ, err)
	}
	cleanupExchange(t, x)
	return x
}

func delayed(body string, delay any) amqp.Publishing {
	p := amqp.Publishing{Body: []byte(body)}
	if delay != nil {
		p.Headers = amqp.Table{"x-delay": delay}
	}
	return p
}

func TestDelayedExchangeDeclareErrors(t *testing.T) {
	needLocal(t)
	c := dial(t)
	for _, tc := range []struct {
		args amqp.Table
		code uint16
	}{
		{nil, amqp.PreconditionFailed},
		{amqp.Table{"x-delayed-type": int32(1)}, amqp.PreconditionFailed},
		{amqp.Table{"x-delayed-type": "x-delayed-message"}, amqp.PreconditionFailed},
	} {
		channelFails(t, c, tc.code, fmt.Sprintf("declare with %v", tc.args), func(ch *amqp.Channel) error {
			return ch.ExchangeDeclare(name(t, "bad"), "x-delayed-message", false, false, false, false, tc.args)
		})
	}
	connectionFails(t, amqp.CommandInvalid, "unknown x-delayed-type", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare(name(t, "unknown"), "x-delayed-message", false, false, false, false, amqp.Table{"x-delayed-type": "nope"})
	})
}

// Messages wait for their x-delay, come out in due order (not publish
// order) with x-delay negated, and those with no, a negative or a zero
// delay go at once.
func TestDelayedExchangeOrderAndHeader(t *testing.T) {
	needLocal(t)
	c, ch := connChan(t)
	x := declareDelayed(t, ch, "x", "direct", false)
	q := declareQueue(t, ch, "q")
	bindQueue(t, ch, q, "k", x, nil)
	ds := consume(t, ch, q, "", true)

	start := time.Now()
	publish(t, ch, x, "k", delayed("600", int32(600)))
	publish(t, ch, x, "k", delayed("200", int64(200)))
	publish(t, ch, x, "k", delayed("400", "400"))
	publish(t, ch, x, "k", delayed("now", nil))
	publish(t, ch, x, "k", delayed("neg", int32(-5)))
	publish(t, ch, x, "k", delayed("zero", int32(0)))
	publish(t, ch, x, "other", delayed("unrouted", int32(100)))

	for _, want := range []string{"now", "neg", "zero"} {
		if d := recv(t, ds); string(d.Body) != want {
			t.Fatalf("got %q, want %q first (no delay)", d.Body, want)
		}
	}
	for _, want := range []int{200, 400, 600} {
		d := recv(t, ds)
		if string(d.Body) != fmt.Sprint(want) {
			t.Fatalf("got %q, want %d (due order)", d.Body, want)
		}
		if el := time.Since(start); el < time.Duration(want)*time.Millisecond {
			t.Fatalf("message delayed %d ms arrived after %v", want, el)
		}
		if got, _ := d.Headers["x-delay"].(int32); got != int32(-want) {
			t.Fatalf("x-delay header %v (%T), want %d", d.Headers["x-delay"], d.Headers["x-delay"], -want)
		}
	}
	noDelivery(t, ds, 300*time.Millisecond)
	connUsable(t, c)
}

// Every routing type works behind the delay.
func TestDelayedExchangeTypes(t *testing.T) {
	needLocal(t)
	_, ch := connChan(t)
	for _, tc := range []struct {
		typ, bindKey, key string
		bindArgs, hdr     amqp.Table
	}{
		{"direct", "k", "k", nil, nil},
		{"fanout", "", "anything", nil, nil},
		{"topic", "a.*", "a.b", nil, nil},
		{"headers", "", "", amqp.Table{"x-match": "all", "k": "v"}, amqp.Table{"k": "v"}},
	} {
		x := declareDelayed(t, ch, tc.typ, tc.typ, false)
		q := declareQueue(t, ch, tc.typ)
		bindQueue(t, ch, q, tc.bindKey, x, tc.bindArgs)
		ds := consume(t, ch, q, "", true)
		h := amqp.Table{"x-delay": int32(150)}
		for k, v := range tc.hdr {
			h[k] = v
		}
		start := time.Now()
		publish(t, ch, x, tc.key, amqp.Publishing{Headers: h, Body: []byte(tc.typ)})
		d := recv(t, ds)
		if el := time.Since(start); string(d.Body) != tc.typ || el < 150*time.Millisecond {
			t.Fatalf("%s: got %q after %v, want %q after 150ms", tc.typ, d.Body, el, tc.typ)
		}
	}
}

// The plugin cannot know at publish time where a delayed message will go,
// so a mandatory delayed publish comes back at once (its route is empty)
// and is still delivered when due; confirms come once it is stored.
func TestDelayedExchangeMandatoryAndConfirm(t *testing.T) {
	needLocal(t)
	_, ch := connChan(t)
	x := declareDelayed(t, ch, "x", "direct", false)
	q := declareQueue(t, ch, "q")
	bindQueue(t, ch, q, "k", x, nil)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 1))
	ds := consume(t, ch, q, "", true)
	publishOpts(t, ch, x, "k", true, false, delayed("m", int32(100)))
	select {
	case r := <-returns:
		if r.ReplyCode != amqp.NoRoute || string(r.Body) != "m" {
			t.Fatalf("return %d %q, want 312 for %q", r.ReplyCode, r.ReplyText, "m")
		}
	case <-time.After(waitTimeout):
		t.Fatal("no basic.return for a mandatory delayed publish")
	}
	if c := <-confirms; !c.Ack {
		t.Fatal("delayed publish nacked")
	}
	if d := recv(t, ds); string(d.Body) != "m" {
		t.Fatalf("got %q", d.Body)
	}
}

// Deleting the exchange drops what waits in it; a new exchange of the same
// name starts empty.
func TestDelayedExchangeDeleteRedeclare(t *testing.T) {
	needLocal(t)
	_, ch := connChan(t)
	x := declareDelayed(t, ch, "x", "fanout", true)
	q := declareQueue(t, ch, "q")
	bindQueue(t, ch, q, "", x, nil)
	publish(t, ch, x, "", amqp.Publishing{Body: []byte("old"), DeliveryMode: amqp.Persistent, Headers: amqp.Table{"x-delay": int32(300)}})
	if err := ch.ExchangeDelete(x, false, false); err != nil {
		t.Fatal(err)
	}
	declareDelayed(t, ch, "x", "fanout", true)
	bindQueue(t, ch, q, "", x, nil)
	publish(t, ch, x, "", delayed("new", int32(600)))
	ds := consume(t, ch, q, "", true)
	if d := recv(t, ds); string(d.Body) != "new" {
		t.Fatalf("got %q, want only %q (the deleted exchange's message must not fire)", d.Body, "new")
	}
	noDelivery(t, ds, 200*time.Millisecond)
}

// A durable delayed exchange keeps its persistent messages across a
// restart (confirmed once on disk); those due during the downtime fire at
// once, the others at their time; transient ones are gone, as in RabbitMQ.
func TestDelayedExchangeSurvivesRestart(t *testing.T) {
	needLocal(t)
	dir := t.TempDir()
	in := startTestInstance(t, dir)
	c, err := dialURL(t, in.url, amqp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ch := channel(t, c)
	x, q := name(t, "x"), name(t, "q")
	if err := ch.ExchangeDeclare(x, "x-delayed-message", true, false, false, false, amqp.Table{"x-delayed-type": "direct"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	bindQueue(t, ch, q, "k", x, nil)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	pers := func(body string, d int32) amqp.Publishing {
		return amqp.Publishing{Body: []byte(body), DeliveryMode: amqp.Persistent, Headers: amqp.Table{"x-delay": d}}
	}
	for _, p := range []amqp.Publishing{pers("soon", 300), pers("later", 4000), delayed("transient", int32(4000))} {
		dc, err := ch.PublishWithDeferredConfirmWithContext(context.Background(), x, "k", false, false, p)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := dc.WaitContext(context.Background()); !ok || err != nil {
			t.Fatalf("confirm: %v %v", ok, err)
		}
	}
	c.Close()
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	// Let "soon" fall due while the broker is down.
	for time.Since(start) < 400*time.Millisecond {
		time.Sleep(20 * time.Millisecond)
	}
	in2 := startTestInstance(t, dir)
	c2, err := dialURL(t, in2.url, amqp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ch2 := channel(t, c2)
	ds := consume(t, ch2, q, "", true)
	if d := recv(t, ds); string(d.Body) != "soon" {
		t.Fatalf("got %q, want %q (due during the downtime)", d.Body, "soon")
	}
	d := recv(t, ds)
	if string(d.Body) != "later" {
		t.Fatalf("got %q, want %q", d.Body, "later")
	}
	if el := time.Since(start); el < 4*time.Second {
		t.Fatalf("%q fired after %v, before its 4s", d.Body, el)
	}
	noDelivery(t, ds, 300*time.Millisecond)
	// The exchange came back as it was declared.
	if err := ch2.ExchangeDeclare(x, "x-delayed-message", true, false, false, false, amqp.Table{"x-delayed-type": "direct"}); err != nil {
		t.Fatalf("redeclare after restart: %v", err)
	}
}

// Firing accuracy with many timers pending: every message fires no earlier
// than due, and late by at most a generous bound on a busy machine. The
// figures are logged; docs/BENCHMARKS.md records a quiet run's.
func TestDelayedExchangeAccuracy(t *testing.T) {
	needLocal(t)
	const n = 3000
	c, ch := connChan(t)
	x := declareDelayed(t, ch, "x", "direct", false)
	q := declareQueue(t, ch, "q")
	bindQueue(t, ch, q, "k", x, nil)
	cch := channel(t, c)
	ds := consume(t, cch, q, "", true)

	var mu sync.Mutex
	due := make(map[string]time.Time, n)
	for i := range n {
		d := 200 + rand.IntN(2500)
		body := fmt.Sprint(i)
		mu.Lock()
		due[body] = time.Now().Add(time.Duration(d) * time.Millisecond)
		mu.Unlock()
		publish(t, ch, x, "k", delayed(body, int32(d)))
	}
	late := make([]time.Duration, 0, n)
	for range n {
		m := recv(t, ds)
		now := time.Now()
		mu.Lock()
		want := due[string(m.Body)]
		mu.Unlock()
		// The due time was taken before the publish went out, so a
		// message is early only if it beats that by more than the
		// clock's granularity (the broker counts whole milliseconds).
		if early := want.Sub(now); early > 2*time.Millisecond {
			t.Fatalf("message %s fired %v early", m.Body, early)
		}
		late = append(late, now.Sub(want))
	}
	slices.Sort(late)
	p50, p99, worst := late[n/2], late[n*99/100], late[n-1]
	t.Logf("lateness over %d messages: p50 %v, p99 %v, max %v", n, p50, p99, worst)
	if p99 > 2*time.Second {
		t.Fatalf("p99 lateness %v, want well under 2s even on a busy machine", p99)
	}
}

// A fired message that routes nowhere goes to the delayed exchange's
// alternate exchange, like any publish.
func TestDelayedExchangeAlternateOnFire(t *testing.T) {
	needLocal(t)
	_, ch := connChan(t)
	ae := declareExchange(t, ch, "ae", "fanout")
	aq := declareQueue(t, ch, "aq")
	bindQueue(t, ch, aq, "", ae, nil)
	x := name(t, "x")
	if err := ch.ExchangeDeclare(x, "x-delayed-message", false, false, false, false, amqp.Table{"x-delayed-type": "direct", "alternate-exchange": ae}); err != nil {
		t.Fatal(err)
	}
	cleanupExchange(t, x)
	ds := consume(t, ch, aq, "", true)
	start := time.Now()
	publish(t, ch, x, "nobody", delayed("lost?", int32(200)))
	d := recv(t, ds)
	if string(d.Body) != "lost?" || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("got %q after %v, want it in the alternate exchange's queue after 200ms", d.Body, time.Since(start))
	}
}
