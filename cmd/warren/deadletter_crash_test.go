package main

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Persistent messages dead lettered from one durable queue into another
// survive a kill -9 in the middle of the move: a source message is marked
// done only once its copy is committed in the target, so after the restart
// every message is in one queue or the other (a few maybe in both: at
// least once), and the ones left in the source are dead lettered then.
func TestDeadLetterSurvivesKill(t *testing.T) {
	dir := t.TempDir() + "/data"
	p := startWarren(t, dir, procOptions{})
	c := mustDial(t, p.url)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	const src, dlq, n = "dl-src", "dl-target", 3000
	if _, err := ch.QueueDeclare(dlq, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	srcArgs := amqp.Table{"x-message-ttl": int32(300), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq}
	if _, err := ch.QueueDeclare(src, true, false, false, false, srcArgs); err != nil {
		t.Fatal(err)
	}
	var last *amqp.DeferredConfirmation
	for i := range n {
		last, err = ch.PublishWithDeferredConfirm("", src, false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: fmt.Appendf(nil, "%d", i)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := last.WaitContext(t.Context()); err != nil || !ok {
		t.Fatalf("publishes not confirmed: ok=%v err=%v", ok, err)
	}
	// Kill as soon as the move has started.
	deadline := time.Now().Add(60 * time.Second)
	for {
		q, err := ch.QueueDeclarePassive(dlq, true, false, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if q.Messages > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing dead lettered within 60 s")
		}
		time.Sleep(time.Millisecond)
	}
	if _, exited := p.signal(syscall.SIGKILL, 30*time.Second); !exited {
		t.Fatal("warren still running 30 s after SIGKILL")
	}

	p2 := startWarren(t, dir, procOptions{})
	ch2, err := mustDial(t, p2.url).Channel()
	if err != nil {
		t.Fatal(err)
	}
	// What was left in the source expires into the target after the restart.
	deadline = time.Now().Add(60 * time.Second)
	for {
		q, err := ch2.QueueDeclarePassive(src, true, false, false, false, srcArgs)
		if err != nil {
			t.Fatal(err)
		}
		if q.Messages == 0 && q.Consumers == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still in the source 60 s after the restart", q.Messages)
		}
		time.Sleep(10 * time.Millisecond)
	}
	seen := make(map[string]int)
	for {
		d, ok, err := ch2.Get(dlq, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		seen[string(d.Body)]++
	}
	dups := 0
	for i := range n {
		switch k := seen[fmt.Sprint(i)]; {
		case k == 0:
			t.Fatalf("message %d lost: in neither queue after kill -9 (%d distinct of %d arrived)", i, len(seen), n)
		case k > 1:
			dups++
		}
	}
	t.Logf("%d messages dead lettered, %d twice (at least once across the kill)", n, dups)
	p2.checkLog(t, "restart")
}
