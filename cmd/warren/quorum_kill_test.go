package main

import (
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// A quorum queue's messages that were delivered and not acked when the
// broker was killed come back after the restart counted once more, as
// RabbitMQ 3.10's quorum queue counts them (rabbit_fifo, on becoming
// leader again, finds the old consumers down and returns what they had
// checked out, adding one to each delivery count), and x-delivery-limit
// applies to that count: a message that then exceeds the limit is dead
// lettered with reason delivery_limit instead of being delivered again.
// (RabbitMQ counts the same on a closed consumer connection, checked
// against 3.10.8: redelivered with x-delivery-count 1; with a limit of 1,
// gone after the second such return.)
func TestQuorumDeliveryCountAfterKill(t *testing.T) {
	dir := t.TempDir() + "/data"
	p := startWarren(t, dir, procOptions{})
	c := mustDial(t, p.url)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	const qq, dlq = "qq-kill", "qq-kill-dlq"
	args := amqp.Table{"x-queue-type": "quorum", "x-delivery-limit": int32(1), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq}
	if _, err := ch.QueueDeclare(dlq, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(qq, true, false, false, false, args); err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"returned-once", "never-returned"} {
		dc, err := ch.PublishWithDeferredConfirm("", qq, false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := dc.WaitContext(t.Context()); !ok || err != nil {
			t.Fatalf("publish of %s not confirmed: %v %v", body, ok, err)
		}
	}
	if err := ch.Qos(2, 0, false); err != nil {
		t.Fatal(err)
	}
	ds, err := ch.Consume(qq, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	next := func(ds <-chan amqp.Delivery, what string) amqp.Delivery {
		t.Helper()
		select {
		case d, ok := <-ds:
			if !ok {
				t.Fatalf("%s: consumer closed", what)
			}
			return d
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no delivery in 30 s", what)
		}
		panic("unreachable")
	}
	count := func(d amqp.Delivery) int64 { n, _ := d.Headers["x-delivery-count"].(int64); return n }
	// returned-once goes back once (count 1, the limit), and both are in
	// flight when the broker dies.
	held := map[string]int64{}
	for len(held) < 2 || held["returned-once"] != 1 {
		d := next(ds, "before the kill")
		if string(d.Body) == "returned-once" && count(d) == 0 {
			if err := d.Nack(false, true); err != nil {
				t.Fatal(err)
			}
			continue
		}
		held[string(d.Body)] = count(d)
	}
	if held["never-returned"] != 0 {
		t.Fatalf("before the kill: never-returned has x-delivery-count %d", held["never-returned"])
	}
	if _, exited := p.signal(syscall.SIGKILL, 30*time.Second); !exited {
		t.Fatal("warren still running 30 s after SIGKILL")
	}

	p2 := startWarren(t, dir, procOptions{})
	ch2, err := mustDial(t, p2.url).Channel()
	if err != nil {
		t.Fatal(err)
	}
	ds2, err := ch2.Consume(qq, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := next(ds2, "after the restart")
	if string(d.Body) != "never-returned" || count(d) != 1 || !d.Redelivered {
		t.Fatalf("after the restart: %q with x-delivery-count %d, redelivered %v; want never-returned with 1, redelivered", d.Body, count(d), d.Redelivered)
	}
	if err := d.Ack(false); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-ds2:
		t.Fatalf("after the restart, also delivered %q with x-delivery-count %d: returned-once is past its limit of 1", d.Body, count(d))
	case <-time.After(300 * time.Millisecond):
	}
	var dl amqp.Delivery
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ok bool
		if dl, ok, err = ch2.Get(dlq, true); err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("returned-once was not dead lettered within 30 s of the restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
	deaths, _ := dl.Headers["x-death"].([]any)
	if string(dl.Body) != "returned-once" || len(deaths) != 1 {
		t.Fatalf("dead letter %q with x-death %v", dl.Body, dl.Headers["x-death"])
	}
	if death := deaths[0].(amqp.Table); death["reason"] != "delivery_limit" || death["queue"] != qq {
		t.Fatalf("x-death %v, want reason delivery_limit from %s", death, qq)
	}
	if _, has := dl.Headers["x-delivery-count"]; has {
		t.Fatalf("dead letter carries x-delivery-count %v", dl.Headers["x-delivery-count"])
	}
	q, err := ch2.QueueDeclarePassive(qq, true, false, false, false, args)
	if err != nil {
		t.Fatal(err)
	}
	if q.Messages != 0 {
		t.Fatalf("%d messages left in %s, want 0", q.Messages, qq)
	}
}
