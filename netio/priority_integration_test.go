package netio_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// declarePriorityQueue declares a non-durable queue with x-max-priority max.
func declarePriorityQueue(t *testing.T, ch *amqp.Channel, suffix string, max int32) string {
	t.Helper()
	q := name(t, suffix)
	cleanupQueue(t, q)
	if _, err := ch.QueueDeclare(q, false, false, false, false, amqp.Table{"x-max-priority": max}); err != nil {
		t.Fatalf("declare %s with x-max-priority %d: %v", q, max, err)
	}
	return q
}

// publishPrio publishes body with a priority property (prio < 0: none).
func publishPrio(t *testing.T, ch *amqp.Channel, q, body string, prio int) {
	t.Helper()
	m := amqp.Publishing{Body: []byte(body)}
	if prio >= 0 {
		m.Priority = uint8(prio)
	}
	publish(t, ch, "", q, m)
}

// TestPriorityQueueOrder: basic.get takes the highest priority first, FIFO
// within a priority; a priority above x-max-priority counts as the maximum,
// none as 0; a requeued message goes back to the head of its priority.
func TestPriorityQueueOrder(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declarePriorityQueue(t, ch, "", 5)
	for _, m := range []struct {
		body string
		prio int
	}{{"a0", 0}, {"b3", 3}, {"c9", 9}, {"d5", 5}, {"e1", 1}, {"f0", 0}, {"g-", -1}, {"h200", 200}} {
		publishPrio(t, ch, q, m.body, m.prio)
	}
	waitMessages(t, c, q, 8)
	top := mustGet(t, ch, q, false, "c9")
	if top.Priority != 9 {
		t.Fatalf("priority property %d, want 9 as published", top.Priority)
	}
	if err := top.Nack(false, true); err != nil {
		t.Fatal(err)
	}
	if d := mustGet(t, ch, q, true, "c9"); !d.Redelivered {
		t.Fatal("requeued message not flagged redelivered")
	}
	want := []string{"d5", "h200", "b3", "e1", "a0", "f0", "g-"}
	if got := drain(t, ch, q); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("priority order %q, want %q", got, want)
	}
}

// TestPriorityQueuePrefetchRequeue: a consumer with a prefetch window gets
// a backlog in priority order, and a message it requeues comes back before
// the rest of the backlog (its level's head), not after it.
func TestPriorityQueuePrefetchRequeue(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declarePriorityQueue(t, ch, "", 10)
	for i := 1; i <= 3; i++ {
		publishPrio(t, ch, q, "low"+itoa(i), 1)
	}
	for i := 1; i <= 3; i++ {
		publishPrio(t, ch, q, "high"+itoa(i), 7)
	}
	waitMessages(t, c, q, 6)
	cch := channel(t, c)
	if err := cch.Qos(2, 0, false); err != nil {
		t.Fatal(err)
	}
	ds := consume(t, cch, q, "", false)
	expect := func(body string, redelivered bool) amqp.Delivery {
		t.Helper()
		d := recv(t, ds)
		if string(d.Body) != body || d.Redelivered != redelivered {
			t.Fatalf("delivery %q (redelivered %v), want %q (redelivered %v)", d.Body, d.Redelivered, body, redelivered)
		}
		return d
	}
	d1 := expect("high1", false)
	d2 := expect("high2", false)
	noDelivery(t, ds, 100*time.Millisecond) // the window is full
	if err := d1.Nack(false, true); err != nil {
		t.Fatal(err)
	}
	d3 := expect("high1", true)
	if err := d2.Ack(false); err != nil {
		t.Fatal(err)
	}
	d4 := expect("high3", false)
	if err := d3.Ack(false); err != nil {
		t.Fatal(err)
	}
	d5 := expect("low1", false)
	// A new high-priority message overtakes what is left of the backlog.
	publishPrio(t, ch, q, "high4", 9)
	roundTrip(t, ch, q)
	if err := d4.Ack(false); err != nil {
		t.Fatal(err)
	}
	expect("high4", false).Ack(false)
	if err := d5.Ack(false); err != nil {
		t.Fatal(err)
	}
	expect("low2", false).Ack(false)
	expect("low3", false).Ack(false)
}

// TestPriorityQueueArgs: x-max-priority's checks and texts are RabbitMQ's;
// 0 declares a plain FIFO queue; redeclaring with another maximum fails.
func TestPriorityQueueArgs(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	for _, tc := range []struct {
		v    any
		text string
	}{
		{int32(256), "{max_value_exceeded,256}"},
		{int32(-1), "{value_negative,-1}"},
		{"5", `"expected integer, got longstr"`},
		{1.5, `"expected integer, got double"`},
	} {
		q := name(t, fmt.Sprintf("bad-%v", tc.v))
		channelFails(t, c, amqp.PreconditionFailed, fmt.Sprintf("x-max-priority %v", tc.v), func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclare(q, false, false, false, false, amqp.Table{"x-max-priority": tc.v})
			want := "invalid arg 'x-max-priority' for queue '" + q + "' in vhost '/': " + tc.text
			if e, ok := err.(*amqp.Error); ok && !strings.Contains(e.Reason, want) {
				t.Errorf("x-max-priority %v: %v, want text %q", tc.v, err, want)
			}
			return err
		})
	}
	q0 := name(t, "zero")
	cleanupQueue(t, q0)
	if _, err := ch.QueueDeclare(q0, false, false, false, false, amqp.Table{"x-max-priority": int32(0)}); err != nil {
		t.Fatalf("x-max-priority 0: %v", err)
	}
	publishPrio(t, ch, q0, "first", 0)
	publishPrio(t, ch, q0, "second", 9)
	waitMessages(t, c, q0, 2)
	if got := drain(t, ch, q0); strings.Join(got, " ") != "first second" {
		t.Fatalf("x-max-priority 0 queue delivered %q, want FIFO", got)
	}
	q255 := declarePriorityQueue(t, ch, "max", 255)
	publishPrio(t, ch, q255, "p1", 1)
	publishPrio(t, ch, q255, "p255", 255)
	waitMessages(t, c, q255, 2)
	if got := drain(t, ch, q255); strings.Join(got, " ") != "p255 p1" {
		t.Fatalf("x-max-priority 255 delivered %q", got)
	}
	channelFails(t, c, amqp.PreconditionFailed, "redeclare with another x-max-priority", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(q255, false, false, false, false, amqp.Table{"x-max-priority": int32(10)})
		return err
	})
}

// TestPriorityQueuePurgeDelete: purge and delete count and drop every
// level, and the queue works on after a purge.
func TestPriorityQueuePurgeDelete(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declarePriorityQueue(t, ch, "", 3)
	for i := 0; i < 8; i++ {
		publishPrio(t, ch, q, "m"+itoa(i), i%5)
	}
	waitMessages(t, c, q, 8)
	held := mustGet(t, ch, q, false, "m3") // unacked: not purged
	if n, err := ch.QueuePurge(q, false); err != nil || n != 7 {
		t.Fatalf("purge: %d %v, want 7", n, err)
	}
	if st := queueState(t, c, q); st.Messages != 0 {
		t.Fatalf("after purge: %d ready", st.Messages)
	}
	if err := held.Nack(false, true); err != nil {
		t.Fatal(err)
	}
	publishPrio(t, ch, q, "after", 0)
	waitMessages(t, c, q, 2)
	if got := drain(t, ch, q); strings.Join(got, " ") != "m3 after" {
		t.Fatalf("after purge: %q, want [m3 after]", got)
	}
	for i := 0; i < 4; i++ {
		publishPrio(t, ch, q, "d"+itoa(i), i)
	}
	waitMessages(t, c, q, 4)
	if n, err := ch.QueueDelete(q, false, false, false); err != nil || n != 4 {
		t.Fatalf("delete: %d %v, want 4", n, err)
	}
}

// TestPriorityQueueRestart: a durable priority queue's persistent backlog,
// spread over several levels, comes back after a restart, in priority
// order; what was delivered and not acked comes back flagged redelivered.
func TestPriorityQueueRestart(t *testing.T) {
	needLocal(t)
	t.Parallel()
	dir := t.TempDir()
	in := startTestInstance(t, dir)
	c, ch := dialInstance(t, in)
	const q, n = "prio-durable", 300
	if _, err := ch.QueueDeclare(q, true, false, false, false, amqp.Table{"x-max-priority": int32(10)}); err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
	defer cancel()
	var dcs []*amqp.DeferredConfirmation
	for i := 0; i < n; i++ {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", q, false, false, amqp.Publishing{
			DeliveryMode: amqp.Persistent, Priority: uint8(i % 12), Body: []byte(itoa(i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		dcs = append(dcs, dc)
	}
	for i, dc := range dcs {
		if ok, err := dc.WaitContext(ctx); !ok || err != nil {
			t.Fatalf("publish %d not confirmed: %v %v", i, ok, err)
		}
	}
	gch := channel(t, c)
	acked := mustGet(t, gch, q, false, "10") // priority 10 (10 and 11 share the top level), first of them
	if err := acked.Ack(false); err != nil {
		t.Fatal(err)
	}
	mustGet(t, gch, q, false, "11") // delivered, never acked
	roundTrip(t, gch, q)
	_ = c.Close()
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}

	in2 := startTestInstance(t, dir)
	c2, ch2 := dialInstance(t, in2)
	if st := queueState(t, c2, q); st.Messages != n-1 {
		t.Fatalf("after restart: %d messages, want %d", st.Messages, n-1)
	}
	first := mustGet(t, ch2, q, true, "11")
	if !first.Redelivered {
		t.Fatal("message delivered before the restart not flagged redelivered")
	}
	prev, count := 10, 1
	for {
		d, ok := get(t, ch2, q, true)
		if !ok {
			break
		}
		count++
		var i int
		fmt.Sscan(string(d.Body), &i)
		level := min(i%12, 10)
		if level > prev {
			t.Fatalf("after restart %q (level %d) came after level %d", d.Body, level, prev)
		}
		prev = level
	}
	if count != n-1 {
		t.Fatalf("after restart drained %d, want %d", count, n-1)
	}
}

// TestPriorityQueueMaxLength: x-max-length's drop-head on a priority queue
// drops the head of the highest priority, as RabbitMQ 3.10 does (checked:
// publishing p5 p1 p3 p0 into a queue of length 2 leaves p1 p0).
func TestPriorityQueueMaxLength(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := name(t, "")
	cleanupQueue(t, q)
	if _, err := ch.QueueDeclare(q, false, false, false, false, amqp.Table{"x-max-priority": int32(5), "x-max-length": int32(2)}); err != nil {
		t.Fatal(err)
	}
	// Confirmed, so every publish is in before the count.
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 4))
	for _, p := range []int{5, 1, 3, 0} {
		publishPrio(t, ch, q, "p"+itoa(p), p)
	}
	for range 4 {
		select {
		case cf := <-confirms:
			if !cf.Ack {
				t.Fatalf("publish %d nacked", cf.DeliveryTag)
			}
		case <-time.After(waitTimeout):
			t.Fatal("no confirm")
		}
	}
	waitMessages(t, c, q, 2)
	if got := drain(t, ch, q); strings.Join(got, " ") != "p1 p0" {
		t.Fatalf("kept %q, want [p1 p0]", got)
	}
}
