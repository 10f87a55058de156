package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// vm_memory_high_watermark.absolute and disk_free_limit.absolute from the
// config file are in effect: with a threshold past what the machine has,
// the alarm is set at start (and logged in RabbitMQ's words), and a
// client that publishes hears connection.blocked with RabbitMQ's reason.
func TestConfigAlarmsBlockPublishers(t *testing.T) {
	for _, tc := range []struct{ name, conf, log, reason string }{
		{"memory", "vm_memory_high_watermark.absolute = 1\n", "memory resource limit alarm set", "low on memory"},
		{"disk", "disk_free_limit.absolute = 4000000000GB\n", "disk resource limit alarm set", "low on disk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := writeConf(t, tc.conf)
			p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", conf}})
			c, err := dialTune(p.url)
			if err != nil {
				t.Fatal(err)
			}
			// A blocked connection is not read, so its own close would
			// not be either: the process's end closes it.
			defer func() { _ = c.CloseDeadline(time.Now().Add(time.Second)) }()
			blocked := c.NotifyBlocked(make(chan amqp.Blocking, 1))
			ch, err := c.Channel()
			if err != nil {
				t.Fatal(err)
			}
			if err := ch.Publish("", "nowhere", false, false, amqp.Publishing{Body: []byte("x")}); err != nil {
				t.Fatal(err)
			}
			select {
			case b := <-blocked:
				if !b.Active || b.Reason != tc.reason {
					t.Fatalf("got %+v, want blocked %q", b, tc.reason)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no connection.blocked")
			}
			if log := p.log(); !strings.Contains(log, tc.log) || strings.Contains(log, "not yet in effect") {
				t.Fatalf("log lacks %q or reports the key as not in effect:\n%s", tc.log, log)
			}
		})
	}
}

// A publisher blocked by the disk alarm loses nothing, also across a kill
// -9 while blocked: every message confirmed before the block and while
// blocked is there after the restart, byte for byte, and publishing
// resumes once the alarm is gone.
func TestDiskAlarmKillWhileBlocked(t *testing.T) {
	dataDir := t.TempDir() + "/data"
	bodyOf := func(i int) []byte {
		b := make([]byte, 1000+i%3000)
		for j := range b {
			b[j] = byte(i*31 + j)
		}
		return b
	}
	// publishConfirmed publishes from..to-1 and returns the tags confirmed
	// within wait (all of them when not blocked).
	publishConfirmed := func(url string, from, to int, blockedWant bool) map[int]bool {
		c, err := dialTune(url)
		if err != nil {
			t.Fatal(err)
		}
		blocked := c.NotifyBlocked(make(chan amqp.Blocking, 1))
		ch, err := c.Channel()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch.QueueDeclare("alarm-kill", true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		if err := ch.Confirm(false); err != nil {
			t.Fatal(err)
		}
		confirms := ch.NotifyPublish(make(chan amqp.Confirmation, to-from))
		for i := from; i < to; i++ {
			if err := ch.Publish("", "alarm-kill", false, false, amqp.Publishing{DeliveryMode: 2, MessageId: strconv.Itoa(i), Body: bodyOf(i)}); err != nil {
				t.Fatal(err)
			}
		}
		got := map[int]bool{}
		wait := 30 * time.Second
		if blockedWant {
			select {
			case b := <-blocked:
				if !b.Active || b.Reason != "low on disk" {
					t.Fatalf("got %+v, want blocked low on disk", b)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no connection.blocked")
			}
			wait = time.Second // what was read before the block is confirmed by now
		}
		deadline := time.After(wait)
		for len(got) < to-from {
			select {
			case cf := <-confirms:
				if cf.Ack {
					got[from+int(cf.DeliveryTag)-1] = true
				}
			case <-deadline:
				return got
			}
		}
		if !blockedWant {
			_ = c.Close()
		}
		return got
	}

	p := startWarren(t, dataDir, procOptions{})
	confirmed := publishConfirmed(p.url, 0, 100, false)
	if len(confirmed) != 100 {
		t.Fatalf("%d of 100 confirmed without an alarm", len(confirmed))
	}
	p.kill()

	conf := writeConf(t, "disk_free_limit.absolute = 4000000000GB\n")
	p = startWarren(t, dataDir, procOptions{args: []string{"-config", conf}})
	for i := range publishConfirmed(p.url, 100, 300, true) {
		confirmed[i] = true
	}
	if len(confirmed) >= 300 {
		t.Fatalf("every publish confirmed although the publisher was blocked")
	}
	p.kill()

	p = startWarren(t, dataDir, procOptions{})
	for i := range publishConfirmed(p.url, 300, 310, false) {
		confirmed[i] = true
	}
	c := mustDial(t, p.url)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	seen := drainByMessageID(t, ch, "alarm-kill", bodyOf)
	for i := range confirmed {
		if !seen[i] {
			t.Errorf("confirmed message %d lost", i)
		}
	}
	for i := 300; i < 310; i++ {
		if !seen[i] {
			t.Errorf("message %d published after the alarm is missing", i)
		}
	}
	t.Logf("%d confirmed (100 before the block, %d while blocked), %d in the queue", len(confirmed), len(confirmed)-110, len(seen))
}

// drainByMessageID gets every message of queue (auto-ack), checks each body
// against bodyOf of its numeric message-id, and returns the ids seen.
func drainByMessageID(t *testing.T, ch *amqp.Channel, queue string, bodyOf func(int) []byte) map[int]bool {
	t.Helper()
	seen := map[int]bool{}
	for {
		d, ok, err := ch.Get(queue, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return seen
		}
		i, err := strconv.Atoi(d.MessageId)
		if err != nil || !bytes.Equal(d.Body, bodyOf(i)) {
			t.Fatalf("message %q: body differs from the one published", d.MessageId)
		}
		seen[i] = true
	}
}
