package netio_test

import (
	"context"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// dialInstance connects to a private instance; closed at cleanup.
func dialInstance(t *testing.T, in *instance) (*amqp.Connection, *amqp.Channel) {
	t.Helper()
	c, err := dialURL(t, in.url, amqp.Config{})
	if err != nil {
		t.Fatalf("dial %s: %v", in.url, err)
	}
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return c, ch
}

// TestDurabilityRestart: durable exchange, queue, binding and confirmed
// persistent messages survive a restart on the same data dir; transient
// messages and non-durable queues and exchanges do not.
func TestDurabilityRestart(t *testing.T) {
	needLocal(t)
	t.Parallel()
	dir := t.TempDir()

	in := startTestInstance(t, dir)
	c, ch := dialInstance(t, in)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ch.ExchangeDeclare("dx", "direct", true, false, false, false, nil))
	must(ch.ExchangeDeclare("tx", "fanout", false, false, false, false, nil))
	_, err := ch.QueueDeclare("dq", true, false, false, false, amqp.Table{"x-max-length": int32(1000)})
	must(err)
	_, err = ch.QueueDeclare("dq-empty", true, false, false, false, nil)
	must(err)
	_, err = ch.QueueDeclare("tq", false, false, false, false, nil)
	must(err)
	must(ch.QueueBind("dq", "k", "dx", false, nil))
	must(ch.QueueBind("tq", "k", "dx", false, nil))
	must(ch.Confirm(false))

	ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
	defer cancel()
	var dcs []*amqp.DeferredConfirmation
	pub := func(body string, mode uint8) {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "dx", "k", false, false, amqp.Publishing{
			DeliveryMode: mode, ContentType: "text/plain", MessageId: "id-" + body, Headers: amqp.Table{"n": body},
			Body: []byte(body),
		})
		must(err)
		dcs = append(dcs, dc)
	}
	for i := 0; i < 5; i++ {
		pub("p"+itoa(i), amqp.Persistent)
		if i%2 == 0 {
			pub("t"+itoa(i), amqp.Transient)
		}
	}
	for i, dc := range dcs {
		if ok, err := dc.WaitContext(ctx); !ok || err != nil {
			t.Fatalf("publish %d not confirmed: %v %v", i, ok, err)
		}
	}
	// One persistent message consumed and acked before the restart: gone.
	gch, err := c.Channel()
	must(err)
	d, ok, err := gch.Get("dq", false)
	must(err)
	if !ok || string(d.Body) != "p0" {
		t.Fatalf("get before restart: %q %v", d.Body, ok)
	}
	must(d.Ack(false))
	// One delivered but unacked at shutdown: it stays.
	d, ok, err = gch.Get("dq", false)
	must(err)
	if !ok || string(d.Body) != "t0" {
		t.Fatalf("second get before restart: %q %v", d.Body, ok)
	}
	if st, err := ch.QueueDeclarePassive("dq", true, false, false, false, nil); err != nil || st.Messages != 6 {
		t.Fatalf("before restart dq: %+v %v, want 6 ready", st, err)
	}

	if err := in.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	in2 := startTestInstance(t, dir)
	c2, ch2 := dialInstance(t, in2)
	st, err := ch2.QueueDeclarePassive("dq", true, false, false, false, nil)
	if err != nil {
		t.Fatalf("durable queue after restart: %v", err)
	}
	// p1..p4 survive; p0 was acked; transient t0 (unacked), t2, t4 are gone.
	if st.Messages != 4 {
		t.Errorf("durable queue after restart holds %d messages, want 4 (the unacked persistent ones)", st.Messages)
	}
	// The queue's arguments survived: redeclare with others is refused.
	ch3, err := c2.Channel()
	must(err)
	if _, err := ch3.QueueDeclare("dq", true, false, false, false, nil); amqpCode(err) != amqp.PreconditionFailed {
		t.Errorf("redeclare of dq without its x-max-length after restart: %v, want 406", err)
	}
	if _, err := ch2.QueueDeclarePassive("dq-empty", true, false, false, false, nil); err != nil {
		t.Errorf("empty durable queue after restart: %v", err)
	}
	if err := ch2.ExchangeDeclarePassive("dx", "direct", true, false, false, false, nil); err != nil {
		t.Fatalf("durable exchange after restart: %v", err)
	}
	ch4, err := c2.Channel()
	must(err)
	if err := ch4.ExchangeDeclarePassive("tx", "fanout", false, false, false, false, nil); amqpCode(err) != amqp.NotFound {
		t.Errorf("transient exchange after restart: %v, want 404", err)
	}
	ch5, err := c2.Channel()
	must(err)
	if _, err := ch5.QueueDeclarePassive("tq", false, false, false, false, nil); amqpCode(err) != amqp.NotFound {
		t.Errorf("non-durable queue after restart: %v, want 404", err)
	}
	// The messages, in order, with their properties.
	for i := 1; i < 5; i++ {
		d, ok, err := ch2.Get("dq", false)
		must(err)
		want := "p" + itoa(i)
		if !ok {
			t.Fatalf("after restart: queue empty, want %s", want)
		}
		if string(d.Body) != want || d.DeliveryMode != amqp.Persistent || d.MessageId != "id-"+want ||
			d.ContentType != "text/plain" || d.Headers["n"] != want {
			t.Fatalf("after restart got %q mode %d id %q type %q headers %v, want %s persistent with its properties",
				d.Body, d.DeliveryMode, d.MessageId, d.ContentType, d.Headers, want)
		}
		if d.Exchange != "dx" || d.RoutingKey != "k" {
			t.Errorf("after restart exchange %q key %q, want dx k", d.Exchange, d.RoutingKey)
		}
		if i == 1 {
			must(d.Ack(false)) // acked after restart: gone for good
		}
	}
	if _, ok, _ := ch2.Get("dq", true); ok {
		t.Fatal("more messages than expected after restart")
	}
	// The binding survived: a new publish to dx/k lands in dq.
	must(ch2.Publish("dx", "k", false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte("new")}))
	// p2..p4 are unacked on ch2; "new" is the one ready message.
	if st := roundTrip(t, ch2, "dq"); st.Messages != 1 {
		t.Fatalf("after publishing through the recovered binding dq has %d ready, want 1", st.Messages)
	}
	must(ch2.Close()) // p2..p4 back to ready

	// Restart once more: acks made after the first restart stick.
	if err := in2.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	in3 := startTestInstance(t, dir)
	_, ch6 := dialInstance(t, in3)
	var got []string
	for {
		d, ok, err := ch6.Get("dq", true)
		must(err)
		if !ok {
			break
		}
		got = append(got, string(d.Body))
	}
	if len(got) != 4 || got[0] != "p2" || got[1] != "p3" || got[2] != "p4" || got[3] != "new" {
		t.Fatalf("after the second restart dq holds %q, want [p2 p3 p4 new]", got)
	}
}

// TestDurabilityDeletedQueueStaysDeleted: a durable queue deleted before a
// restart does not come back, and neither do its messages.
func TestDurabilityDeletedQueueStaysDeleted(t *testing.T) {
	needLocal(t)
	t.Parallel()
	dir := t.TempDir()
	in := startTestInstance(t, dir)
	c, ch := dialInstance(t, in)
	if _, err := ch.QueueDeclare("gone", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare("gone-x", "topic", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind("gone", "#", "gone-x", false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Publish("", "gone", false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDelete("gone", false, false, false); err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDelete("gone-x", false, false); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	in2 := startTestInstance(t, dir)
	c2, ch2 := dialInstance(t, in2)
	if _, err := ch2.QueueDeclarePassive("gone", true, false, false, false, nil); amqpCode(err) != amqp.NotFound {
		t.Fatalf("deleted durable queue after restart: %v, want 404", err)
	}
	ch3, err := c2.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch3.ExchangeDeclarePassive("gone-x", "topic", true, false, false, false, nil); amqpCode(err) != amqp.NotFound {
		t.Fatalf("deleted durable exchange after restart: %v, want 404", err)
	}
	// Redeclared, it is empty.
	ch4, err := c2.Channel()
	if err != nil {
		t.Fatal(err)
	}
	st, err := ch4.QueueDeclare("gone", true, false, false, false, nil)
	if err != nil || st.Messages != 0 {
		t.Fatalf("redeclared queue: %+v %v, want empty", st, err)
	}
}
