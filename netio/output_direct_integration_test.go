package netio_test

import (
	"fmt"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/netio"
)

// At a moderate rate a publish writes its delivery to the idle consumer's
// socket itself instead of waking the consumer's loop to do it: each of
// those wakes cost a context switch, half of the broker's CPU at 10 k
// msg/s. Messages published one at a time, each waiting for its delivery,
// used to send one wake per message; now most send none, and every message
// arrives, in order.
func TestModerateDeliveryNeedsNoWake(t *testing.T) {
	needLocal(t)
	pc, pch := connChan(t)
	defer pc.Close()
	q := declareQueue(t, pch, "direct")
	cc, cch := connChan(t)
	defer cc.Close()
	ds, err := cch.Consume(q, "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	before, _ := peerCounters(t, cc)
	for i := range n {
		body := fmt.Sprintf("m%03d", i)
		if err := pch.Publish("", q, false, false, amqp.Publishing{Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-ds:
			if string(d.Body) != body {
				t.Fatalf("delivery %d: %q, want %q", i, d.Body, body)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d not delivered", i)
		}
	}
	after, _ := peerCounters(t, cc)
	wakes := after - before
	t.Logf("%d loop wakes for %d messages", wakes, n)
	if wakes > n/2 {
		t.Errorf("%d loop wakes for %d messages published one at a time, want at most %d", wakes, n, n/2)
	}
}

// Direct writes from publishers' loops and the consumer's own flushes (its
// acks let more deliveries out) interleave on one socket: every message
// must still arrive whole and in each publisher's order.
//
// Whether a flush goes direct depends on timing; on a loaded machine a round
// can pass with none, so rounds repeat (at most 3) until one mixed both.
func TestDirectAndLoopFlushesKeepOrder(t *testing.T) {
	needLocal(t)
	for round := range 3 {
		if n := mixedFlushRound(t, round); n > 0 {
			t.Logf("round %d: %d of the flushes were written by publishers' loops", round, n)
			return
		}
	}
	t.Error("no delivery was written by a publisher's loop in 3 rounds: the test did not mix the two kinds of flush")
}

// mixedFlushRound runs 4 publishers into one acking consumer, checks every
// message, and returns how many flushes publishers wrote directly.
func mixedFlushRound(t *testing.T, round int) uint64 {
	t.Helper()
	cc, cch := connChan(t)
	defer cc.Close()
	q := declareQueue(t, cch, fmt.Sprintf("directorder%d", round))
	if err := cch.Qos(200, 0, false); err != nil {
		t.Fatal(err)
	}
	ds, err := cch.Consume(q, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	const pubs, each = 4, 1500
	body := func(p, i int) []byte {
		n := 10 + (i*7919+p*104729)%(6<<10) // 10 B to 6 KiB
		b := make([]byte, n)
		for k := range b {
			b[k] = byte('a' + (p+i+k)%26)
		}
		return b
	}
	errc := make(chan error, pubs)
	for p := range pubs {
		go func() {
			c, err := dialURL(t, amqpURL, amqp.Config{})
			if err != nil {
				errc <- err
				return
			}
			defer c.Close()
			ch, err := c.Channel()
			if err != nil {
				errc <- err
				return
			}
			for i := range each {
				msg := amqp.Publishing{Body: body(p, i), Headers: amqp.Table{"p": int32(p), "i": int32(i)}}
				if err := ch.Publish("", q, false, false, msg); err != nil {
					errc <- err
					return
				}
				if i%(1+p*10) == 0 {
					time.Sleep(50 * time.Microsecond) // some publishers trickle, some burst
				}
			}
			errc <- nil
		}()
	}
	_, direct := peerCounters(t, cc)
	next := make([]int, pubs)
	deadline := time.After(60 * time.Second)
	for got := 0; got < pubs*each; got++ {
		select {
		case d := <-ds:
			p, i := int(d.Headers["p"].(int32)), int(d.Headers["i"].(int32))
			if i != next[p] {
				t.Fatalf("publisher %d: message %d arrived, want %d", p, i, next[p])
			}
			if string(d.Body) != string(body(p, i)) {
				t.Fatalf("publisher %d message %d: body of %d bytes differs", p, i, len(d.Body))
			}
			next[p]++
			if err := d.Ack(false); err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatalf("after 60 s: %v of %d each", next, each)
		}
	}
	for range pubs {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	_, after := peerCounters(t, cc)
	return after - direct
}

// peerCounters are the wakes sent to the loop of the broker's side of c and
// the flushes other connections wrote to its socket.
func peerCounters(t *testing.T, c *amqp.Connection) (wakes, direct uint64) {
	t.Helper()
	wakes, direct, ok := netio.PeerCounters(shared.srv, c.LocalAddr().String())
	if !ok {
		t.Fatalf("the broker has no connection from %s", c.LocalAddr())
	}
	return wakes, direct
}
