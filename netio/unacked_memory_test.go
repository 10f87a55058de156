package netio_test

import (
	"runtime"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Unacked deliveries cost memory per run of contiguous deliveries, not per
// message: a consumer with no prefetch limit that acks nothing holds
// unackedMessages deliveries for a few bytes each, and closing its channel
// requeues them without spelling them out (issue 14: 1 M unacked cost
// ~170 B each and the requeue on close peaked at 341 MB).
const (
	unackedMessages      = 200_000
	unackedMaxPerMessage = 32 // bytes of live heap per unacked delivery
	requeueMaxPerMessage = 8  // bytes allocated per delivery to requeue them all
)

func TestUnackedDeliveriesAreCompact(t *testing.T) {
	if raceEnabled {
		t.Skip("heap figures are meaningless under -race")
	}
	needLocal(t)
	c := dial(t)
	pub := channel(t, c)
	q := declareQueue(t, pub, "unacked-mem")
	body := make([]byte, 16)
	for range unackedMessages {
		publish(t, pub, "", q, amqp.Publishing{Body: body})
	}
	waitMessages(t, c, q, unackedMessages)

	before := liveHeap()
	ch := channel(t, c)
	ds, err := ch.Consume(q, "", false, false, false, false, nil)
	if err != nil {
		t.Fatalf("basic.consume: %v", err)
	}
	deadline := time.After(2 * waitTimeout)
	for n := 0; n < unackedMessages; n++ {
		select {
		case _, ok := <-ds:
			if !ok {
				t.Fatalf("deliveries closed after %d", n)
			}
		case <-deadline:
			t.Fatalf("only %d of %d delivered", n, unackedMessages)
		}
	}
	// The consumer's connection keeps its output buffer (a few MB after
	// such a burst) until it has been idle for a while: wait for that, so
	// only what stays per delivery is counted.
	perMsg := 0.0
	for start := time.Now(); ; {
		held := liveHeap()
		perMsg = (float64(held) - float64(before)) / unackedMessages
		if perMsg <= unackedMaxPerMessage {
			t.Logf("live heap %d -> %d with %d unacked: %.1f B per delivery", before, held, unackedMessages, perMsg)
			break
		}
		// releaseIdle runs 2 s after the last write; the connection
		// watchdog (30 s) ends the test's connections before waitTimeout.
		if time.Since(start) > 15*time.Second {
			t.Fatalf("%.1f B of live heap per unacked delivery (%d -> %d), want <= %d", perMsg, before, held, unackedMaxPerMessage)
		}
		time.Sleep(100 * time.Millisecond)
	}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	allocBefore := ms.TotalAlloc
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	waitMessages(t, c, q, unackedMessages)
	runtime.ReadMemStats(&ms)
	requeueAlloc := ms.TotalAlloc - allocBefore
	t.Logf("requeueing %d deliveries on channel close allocated %d B", unackedMessages, requeueAlloc)
	if per := float64(requeueAlloc) / unackedMessages; per > requeueMaxPerMessage {
		t.Errorf("requeue on close allocated %.1f B per delivery (%d B), want <= %d", per, requeueAlloc, requeueMaxPerMessage)
	}
	if after := liveHeap(); after > before+unackedMessages*unackedMaxPerMessage {
		t.Errorf("live heap %d after the requeue, %d before the deliveries", after, before)
	}
	// Every message is back and goes out again, redelivered, in order.
	ch2 := channel(t, c)
	d, ok, err := ch2.Get(q, true)
	if err != nil || !ok || !d.Redelivered {
		t.Fatalf("basic.get after requeue: ok=%v redelivered=%v err=%v", ok, d.Redelivered, err)
	}
}
