package netio_test

import (
	"math/rand/v2"
	"slices"
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

// Random acks, multiple acks, rejects and requeueing nacks over 2,000
// deliveries settle exactly what a simple model says; what is left when the
// channel closes comes back in its original order.
func TestRandomAcksMatchModel(t *testing.T) {
	t.Parallel()
	const n = 2000
	c, pub := connChan(t)
	q := declareQueue(t, pub, "ack-model")
	for i := range n {
		publishText(t, pub, "", q, strconv.Itoa(i))
	}
	waitMessages(t, c, q, n)
	ch := channel(t, c)
	ds := consume(t, ch, q, "", false)
	out := map[uint64]int{} // outstanding tag -> message
	var tags []uint64       // outstanding tags, ascending
	take := func() {
		d := recv(t, ds)
		m, _ := strconv.Atoi(string(d.Body))
		out[d.DeliveryTag] = m
		tags = append(tags, d.DeliveryTag)
	}
	for range n {
		take()
	}
	remove := func(i int) { delete(out, tags[i]); tags = append(tags[:i], tags[i+1:]...) }
	rng := rand.New(rand.NewPCG(14, uint64(len(runID))))
	gone := map[int]bool{}
	for step := 0; step < 1500 && len(tags) > 0; step++ {
		i := rng.IntN(len(tags))
		tag := tags[i]
		var err error
		switch op := rng.IntN(10); {
		case op < 5:
			err = ch.Ack(tag, false)
			gone[out[tag]] = true
			remove(i)
		case op < 6:
			err = ch.Ack(tag, true)
			for j := i; j >= 0; j-- {
				gone[out[tags[j]]] = true
				remove(j)
			}
		case op < 8:
			err = ch.Reject(tag, false)
			gone[out[tag]] = true
			remove(i)
		default:
			err = ch.Nack(tag, false, true)
			remove(i)
			take() // back to us at once, with a new tag
		}
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for m := range n {
		if !gone[m] {
			want = append(want, strconv.Itoa(m))
		}
	}
	waitMessages(t, c, q, len(want))
	got := drain(t, channel(t, c), q)
	if !slices.Equal(got, want) {
		t.Fatalf("left in queue (%d): %v\nwant (%d): %v", len(got), got, len(want), want)
	}
}
