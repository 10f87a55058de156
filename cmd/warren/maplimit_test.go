package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// countMappings counts the mappings of process pid of files under dir.
func countMappings(t *testing.T, pid int, dir string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Skipf("cannot read the broker's mappings: %v", err)
	}
	return strings.Count(string(b), dir+"/")
}

// warren.max_mappings bounds the segment and ack file mappings across all
// queues: 200 durable queues, each with a backlog over several segments
// read by a consumer acking every message, hold about the budget between
// them while every message is delivered once, in order. Before, each
// queue kept its head, a read segment and its ack files mapped for as
// long as it lived (here 600-800 mappings; with tens of thousands of
// queues, past vm.max_map_count, after which every read failed).
func TestMaxMappingsAcrossQueues(t *testing.T) {
	const (
		budget   = 16
		queues   = 200
		perQueue = 120
		consumer = 4 // channels, each consuming queues/consumer queues
	)
	conf := writeConf(t, fmt.Sprintf("warren.max_mappings = %d\nwarren.segment_size = 32KiB\n", budget))
	dir := t.TempDir() + "/data"
	p := startWarren(t, dir, procOptions{args: []string{"-config", conf}})
	pid := p.cmd.Process.Pid
	c := mustDial(t, p.url)
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	name := func(i int) string { return fmt.Sprintf("maps-%03d", i) }
	body := func(q, i int) string { return fmt.Sprintf("%03d/%04d/%s", q, i, strings.Repeat("x", 400)) }
	for q := range queues {
		if _, err := ch.QueueDeclare(name(q), true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	var last *amqp.DeferredConfirmation
	for i := range perQueue {
		for q := range queues {
			last, err = ch.PublishWithDeferredConfirm("", name(q), false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(body(q, i))})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if ok, err := last.WaitContext(t.Context()); err != nil || !ok {
		t.Fatalf("publishes not confirmed: ok=%v err=%v", ok, err)
	}

	var mu sync.Mutex
	peak := 0
	sample := func() {
		n := countMappings(t, pid, dir)
		mu.Lock()
		peak = max(peak, n)
		mu.Unlock()
	}
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				sample()
			}
		}
	}()
	errs := make(chan error, consumer)
	for k := range consumer {
		go func() {
			errs <- consumeQueues(c, k, consumer, queues, perQueue, name, body)
		}()
	}
	for range consumer {
		if err := <-errs; err != nil {
			close(stop)
			t.Fatal(err)
		}
	}
	close(stop)
	<-sampled
	sample()
	// The budget is a target: the queues being read at the moment a
	// mapping is made are not evicted (each holds up to a head, two read
	// segments and two ack files).
	limit := budget + 2*5
	t.Logf("%d queues × %d messages delivered; segment and ack file mappings: peak %d, now %d, budget %d", queues, perQueue, peak, countMappings(t, pid, dir), budget)
	if peak > limit {
		t.Fatalf("%d mappings of the data dir at once, budget %d (+%d for queues in use)", peak, budget, limit-budget)
	}
	p.checkLog(t, "mappings")
}

// consumeQueues consumes, on its own channel, every queue i with
// i%step == k, checking that each delivers its messages once and in
// order, acking each.
func consumeQueues(c *amqp.Connection, k, step, queues, perQueue int, name func(int) string, body func(q, i int) string) error {
	ch, err := c.Channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	if err := ch.Qos(50, 0, false); err != nil {
		return err
	}
	type sub struct {
		q    int
		d    <-chan amqp.Delivery
		next int
	}
	var subs []*sub
	for q := k; q < queues; q += step {
		d, err := ch.Consume(name(q), fmt.Sprint("c", q), false, false, false, false, nil)
		if err != nil {
			return err
		}
		subs = append(subs, &sub{q: q, d: d})
	}
	deadline := time.After(60 * time.Second)
	for _, s := range subs {
		for s.next < perQueue {
			select {
			case d, ok := <-s.d:
				if !ok {
					return fmt.Errorf("queue %s: consumer closed after %d messages", name(s.q), s.next)
				}
				if want := body(s.q, s.next); string(d.Body) != want {
					return fmt.Errorf("queue %s message %d: %.12q, want %.12q", name(s.q), s.next, d.Body, want)
				}
				if err := d.Ack(false); err != nil {
					return err
				}
				s.next++
			case <-deadline:
				return fmt.Errorf("queue %s: %d of %d messages after 60 s", name(s.q), s.next, perQueue)
			}
		}
	}
	return nil
}
