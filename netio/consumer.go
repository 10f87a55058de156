package netio

import (
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// consumer is a basic.consume subscription; it implements broker.Deliverer.
type consumer struct {
	bc       broker.Consumer
	ch       *channel
	prefetch int32 // 0: unlimited (basic.qos global=false at consume time)
	unacked  atomic.Int32
	timeout  time.Duration // x-consumer-timeout; 0: the queue's or the server's
	stream   *streamSub    // a stream queue's consumer (stream_consumer.go); nil otherwise
}

// Reserve takes credit for one delivery: the connection must be under its
// output budget and the prefetch windows open.
func (k *consumer) Reserve() bool {
	ch := k.ch
	c := ch.c
	if c.overBudget() {
		c.out.starved.Store(true)
		return false
	}
	if k.bc.NoAck {
		return true
	}
	if k.prefetch > 0 {
		if k.unacked.Add(1) > k.prefetch {
			k.unacked.Add(-1)
			return false
		}
	} else {
		k.unacked.Add(1)
	}
	if g := ch.globalPrefetch.Load(); g > 0 {
		if ch.unackedN.Add(1) > g {
			ch.unackedN.Add(-1)
			k.unacked.Add(-1)
			return false
		}
	} else {
		ch.unackedN.Add(1)
	}
	return true
}

// Unreserve gives back the credit Reserve took for a delivery the queue
// could not make (a failed read: broker/queue_readfail.go).
func (k *consumer) Unreserve() {
	if k.bc.NoAck {
		return
	}
	k.unacked.Add(-1)
	k.ch.unackedN.Add(-1)
}

// Deliver writes basic.deliver, the content header and body frames into the
// connection's output, copying the body out of the store's mapping.
func (k *consumer) Deliver(q *broker.Queue, _ *broker.Consumer, t broker.Ticket, d broker.Delivery, origin any) {
	ch := k.ch
	c := ch.c
	ch.mu.Lock()
	ch.deliveryTag++
	tag := ch.deliveryTag
	ch.entry.CountDeliver(k.bc.NoAck, d.Redelivered)
	if !k.bc.NoAck && ch.unacked.push(tag, q, k, t) {
		c.noteUnacked()
	}
	b := c.lockOutFor(deliverOverhead + len(k.bc.Tag) + len(d.Exchange) + len(d.RoutingKey) + len(d.Props) +
		frame.BodyFramesLen(len(d.Body), c.frameMax))
	b = frame.AppendBasicDeliver(b, ch.id, k.bc.Tag, tag, d.Redelivered, d.Exchange, d.RoutingKey)
	b = frame.AppendContentHeader(b, ch.id, 60, uint64(len(d.Body)), d.Props)
	b = frame.AppendBody(b, ch.id, d.Body, c.frameMax)
	c.unlockOutFrom(b, origin)
	ch.mu.Unlock()
}

// deliverOverhead is what basic.deliver and the content header frame take
// besides their variable fields: two frame headers and ends, method and
// class ids, the shortstr lengths, delivery tag, redelivered flag, body
// size (a little over, so the estimate never falls short).
const deliverOverhead = 64

// Cancelled sends basic.cancel when the queue went away, to clients that
// said they understand it.
func (k *consumer) Cancelled(*broker.Consumer) {
	ch := k.ch
	ch.c.post(func() {
		if ch.consumers[k.bc.Tag] != k {
			return
		}
		delete(ch.consumers, k.bc.Tag)
		ch.entry.RemoveConsumer(&k.bc)
		if b, _ := ch.c.clientCaps["consumer_cancel_notify"].(bool); b {
			ch.c.sendMethod(ch.id, &frame.BasicCancel{ConsumerTag: k.bc.Tag, NoWait: true})
		}
	})
}

// release gives back the credit of acked or requeued deliveries.
func (k *consumer) release(n int32) {
	k.unacked.Add(-n)
	if k.stream != nil {
		k.stream.wake()
	}
}
