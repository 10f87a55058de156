package netio_test

import (
	"strconv"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Acks in every order settle exactly the deliveries they name, when the
// deliveries sit in one run (one consumer reading a queue in order): single
// acks in the middle and at the front, multiple acks over gaps, a nack that
// requeues one delivery out of a run, an ack of a settled tag (406), and
// the requeue of what is left when that closes the channel.
func TestAcksInAnyOrderWithinARun(t *testing.T) {
	t.Parallel()
	const n = 300
	c, pub := connChan(t)
	q := declareQueue(t, pub, "ack-order")
	for i := 1; i <= n; i++ {
		publishText(t, pub, "", q, strconv.Itoa(i))
	}
	waitMessages(t, c, q, n)

	ch := channel(t, c)
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	ds := consume(t, ch, q, "", false)
	tags := map[string]uint64{}
	for range n {
		d := recv(t, ds)
		tags[string(d.Body)] = d.DeliveryTag
	}
	tag := func(i int) uint64 { return tags[strconv.Itoa(i)] }
	ack := func(i int, multiple bool) {
		t.Helper()
		if err := ch.Ack(tag(i), multiple); err != nil {
			t.Fatalf("ack %d: %v", i, err)
		}
	}
	ack(150, false)
	ack(1, false)
	for i := 3; i < 100; i += 2 {
		ack(i, false)
	}
	ack(100, true) // the even ones up to 100
	if err := ch.Nack(tag(200), false, true); err != nil {
		t.Fatalf("nack 200: %v", err)
	}
	again := recv(t, ds) // 200 comes straight back: no prefetch limit
	if string(again.Body) != "200" || !again.Redelivered {
		t.Fatalf("after nack: got %q redelivered=%v, want 200 redelivered", again.Body, again.Redelivered)
	}
	ack(250, false)
	ack(260, true) // 101..260 but 150 and 200 (settled), and 250
	roundTrip(t, ch, q)
	if got := queueState(t, c, q); got.Messages != 0 {
		t.Fatalf("ready = %d while everything is delivered, want 0", got.Messages)
	}
	// 150 was acked already: 406 closes the channel and requeues the rest.
	_ = ch.Ack(tag(150), false)
	waitClosed(t, closes, 406, "ack of a settled tag")

	want := []string{"200"}
	for i := 261; i <= n; i++ {
		want = append(want, strconv.Itoa(i))
	}
	waitMessages(t, c, q, len(want))
	got := drain(t, channel(t, c), q)
	if len(got) != len(want) {
		t.Fatalf("left in queue: %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("left in queue: %v, want %v", got, want)
		}
	}
}
