package main

import (
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// A durable auto-delete queue whose consumer is still there when the broker
// stops: RabbitMQ 3.10.8 deletes it on an orderly node stop (rabbitmqctl
// stop: 404 after the restart) and keeps it, with its persistent messages,
// after kill -9 of the node (checked side by side on 2026-12-02 with pika).
// Warren does the same on SIGTERM and SIGKILL.
func TestDurableAutoDeleteQueueAtShutdown(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sig      syscall.Signal
		survives bool
	}{
		{"sigterm", syscall.SIGTERM, false},
		{"sigkill", syscall.SIGKILL, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
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
			const q = "durable-auto-delete"
			if _, err := ch.QueueDeclare(q, true, true, false, false, nil); err != nil {
				t.Fatal(err)
			}
			conf, err := ch.PublishWithDeferredConfirm("", q, false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte("kept?")})
			if err != nil {
				t.Fatal(err)
			}
			if ok, err := conf.WaitContext(t.Context()); err != nil || !ok {
				t.Fatalf("publish not confirmed: ok=%v err=%v", ok, err)
			}
			// A consumer that never acks: the message stays unacked, and the
			// queue is in use when the broker goes.
			if _, err := ch.Consume(q, "holder", false, false, false, false, nil); err != nil {
				t.Fatal(err)
			}
			if _, exited := p.signal(tc.sig, 30*time.Second); !exited {
				t.Fatalf("warren still running 30 s after %v", tc.sig)
			}
			p2 := startWarren(t, dir, procOptions{})
			ch2, err := mustDial(t, p2.url).Channel()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ch2.QueueDeclarePassive(q, true, true, false, false, nil)
			switch {
			case tc.survives && err != nil:
				t.Fatalf("after %v the queue is gone (%v); RabbitMQ keeps it", tc.sig, err)
			case tc.survives && got.Messages != 1:
				t.Fatalf("after %v the queue holds %d messages, want the 1 confirmed", tc.sig, got.Messages)
			case !tc.survives && err == nil:
				t.Fatalf("after %v the queue is still there (%d messages); RabbitMQ deletes it on an orderly stop", tc.sig, got.Messages)
			case !tc.survives:
				if e, ok := err.(*amqp.Error); !ok || e.Code != amqp.NotFound {
					t.Fatalf("after %v: passive declare got %v, want 404", tc.sig, err)
				}
			}
			p2.checkLog(t, "restart")
		})
	}
}
