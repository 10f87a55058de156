//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// TestBacklogWithinFDLimit: under a limit of 256 fds, a transient backlog
// over 2,000 segments and 300 queues each holding a backlog must be stored
// and delivered byte for byte, with warren's descriptor count staying well
// under the limit. Every segment of a non-durable queue used to hold an fd
// (an unlinked file kept open), so the backlog alone ran warren out of fds
// and publishing failed; every queue with a backlog held at least one.
func TestBacklogWithinFDLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes 130 MB")
	}
	const (
		limit   = 256
		segSize = 64 << 10
		bodyLen = 1000
		big     = 2000 * segSize / 1024 // 1 KiB records: 2,000 segments
		queues  = 300
	)
	p := startWarren(t, t.TempDir()+"/data", procOptions{nofile: limit, args: []string{"-segment-size", fmt.Sprint(segSize)}})
	fdDir := fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid)
	peak := 0
	check := func(what string) {
		t.Helper()
		ents, err := os.ReadDir(fdDir)
		if err != nil {
			t.Skipf("cannot list %s: %v", fdDir, err)
		}
		peak = max(peak, len(ents))
		// A quarter of the limit for queue files, plus warren's own
		// (listeners, pollers, log, lock) and this test's connection.
		if len(ents) > limit/2 {
			t.Fatalf("%s: warren holds %d fds (limit %d)", what, len(ents), limit)
		}
	}
	conn, err := dialAMQP(p.url, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	msg := func(q string, i int) []byte {
		b := bytes.Repeat([]byte{byte('a' + i%26)}, bodyLen)
		copy(b, fmt.Sprintf("%s;%d;", q, i))
		return b
	}
	// publish sends messages [from, to) to q and waits for every confirm.
	publish := func(q string, from, to int, persistent bool) {
		t.Helper()
		mode := amqp.Transient
		if persistent {
			mode = amqp.Persistent
		}
		for i := from; i < to; i++ {
			dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", q, false, false,
				amqp.Publishing{DeliveryMode: mode, Body: msg(q, i)})
			if err != nil {
				t.Fatalf("publish %d to %s: %v", i, q, err)
			}
			if i%1000 == 999 || i == to-1 {
				if ok, err := dc.WaitContext(ctx); !ok || err != nil {
					t.Fatalf("publish %d to %s not confirmed: ok=%v err=%v", i, q, ok, err)
				}
			}
		}
	}
	name := func(i int) string { return fmt.Sprint("fd-q-", i) }
	for i := range queues {
		durable := i%2 == 0
		if _, err := ch.QueueDeclare(name(i), durable, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		publish(name(i), 0, 3, durable)
	}
	check("300 queues with a backlog")
	if _, err := ch.QueueDeclare("fd-big", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	for done := 0; done < big; done += 8000 {
		publish("fd-big", done, min(done+8000, big), false)
		check(fmt.Sprintf("%d messages in the transient backlog", done))
	}
	check("backlog written")

	get := func(q string, n int) {
		t.Helper()
		for i := range n {
			d, ok, err := ch.Get(q, true)
			if err != nil || !ok {
				t.Fatalf("get %d from %s: ok=%v err=%v", i, q, ok, err)
			}
			if want := msg(q, i); !bytes.Equal(d.Body, want) {
				t.Fatalf("%s message %d: %.24q, want %.24q", q, i, d.Body, want)
			}
			if i%10000 == 0 {
				check(fmt.Sprintf("%d messages read back", i))
			}
		}
	}
	// A consumer reads the big queue (faster than basic.get).
	if err := ch.Qos(1000, 0, false); err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume("fd-big", "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range big {
		var d amqp.Delivery
		select {
		case d = <-deliveries:
		case <-ctx.Done():
			t.Fatalf("delivery %d of %d: %v", i, big, ctx.Err())
		}
		if want := msg("fd-big", i); !bytes.Equal(d.Body, want) {
			t.Fatalf("fd-big message %d: %.24q, want %.24q", i, d.Body, want)
		}
		if i%100 == 99 {
			if err := d.Ack(true); err != nil {
				t.Fatal(err)
			}
		}
		if i%20000 == 0 {
			check(fmt.Sprintf("%d messages consumed", i))
		}
	}
	for i := range queues {
		get(name(i), 3)
	}
	check("everything read back")
	if p.exited() {
		t.Fatalf("warren exited: %v", p.waitErr)
	}
	t.Logf("warren's peak fd count: %d (limit %d)", peak, limit)
}
