package netio

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// DefaultConsumerTimeout is RabbitMQ's consumer_timeout: a delivery left
// unacknowledged longer than this closes its channel.
const DefaultConsumerTimeout = 30 * time.Minute

// timeoutClock is a coarse clock for delivery times, in timeoutTick units
// since clockEpoch, advanced by every server's ticker: deliveries stamp
// their run with one atomic load instead of reading the time.
var (
	clockEpoch   = time.Now()
	timeoutClock atomic.Uint32
)

const (
	timeoutTick = 100 * time.Millisecond
	// timeoutSlack (in ticks) is how long one unacked run keeps taking
	// deliveries: a steady consumer costs a run per second, and a timeout
	// fires at most this much late, never early.
	timeoutSlack = 10
	// consumerTimeoutEvery is how often a connection with unacked
	// deliveries has them checked (RabbitMQ 3.10 checks on its channel
	// tick, every 60 s).
	consumerTimeoutEvery = time.Second
)

// advanceTimeoutClock moves the clock forward only: several servers in
// one process tick it, and a delivery time must never pass the present.
func advanceTimeoutClock(now time.Time) {
	t := uint32(now.Sub(clockEpoch) / timeoutTick)
	for {
		cur := timeoutClock.Load()
		if t <= cur || timeoutClock.CompareAndSwap(cur, t) {
			return
		}
	}
}

// consumerTimeoutArg reads a consumer's x-consumer-timeout argument (ms).
func consumerTimeoutArg(args frame.Table) (time.Duration, error) {
	v, ok := args["x-consumer-timeout"]
	if !ok {
		return 0, nil
	}
	n, ok := broker.IntArg(v)
	if !ok || n <= 0 {
		return 0, frame.Errorf(frame.PreconditionFailed, "invalid arg 'x-consumer-timeout' for consumer: %v", v)
	}
	return time.Duration(n) * time.Millisecond, nil
}

// noteUnacked is called (under ch.mu) when a channel's unacked list goes
// from empty to not: the ticker then checks the connection's timeouts.
func (c *Conn) noteUnacked() { c.hasUnacked.Store(true) }

// tickConsumerTimeout runs on the ticker goroutine: at most once per
// consumerTimeoutEvery, a connection that has unacked deliveries gets its
// channels checked on its own loop. Idle connections cost one atomic load.
func (c *Conn) tickConsumerTimeout(now time.Time) {
	if !c.hasUnacked.Load() || now.UnixNano() < c.nextTimeoutCheck {
		return
	}
	c.nextTimeoutCheck = now.Add(consumerTimeoutEvery).UnixNano()
	c.post(c.checkConsumerTimeouts)
}

// checkConsumerTimeouts closes, as RabbitMQ does, every channel whose
// oldest unacked delivery is older than the timeout that applies to it:
// the consumer's x-consumer-timeout, else its queue's, else the server's.
// Only the oldest delivery is looked at, as in RabbitMQ.
func (c *Conn) checkConsumerTimeouts() {
	if c.state != stateOpened {
		return
	}
	c.hasUnacked.Store(false) // before the scan: a push racing it sets it again
	now := timeoutClock.Load()
	for _, ch := range c.channels.open {
		if ch.closing {
			continue
		}
		ch.mu.Lock()
		r := ch.unacked.oldest()
		var q *broker.Queue
		var k *consumer
		var at uint32
		if r != nil {
			q, k, at = r.q, r.k, r.at
		}
		ch.mu.Unlock()
		if r == nil {
			continue
		}
		c.hasUnacked.Store(true)
		limit := c.consumerTimeout(q, k)
		// The delivery left in [at, at+slack): firing only past at+slack
		// plus the limit is never early.
		if time.Duration(now-at-min(now-at, timeoutSlack))*timeoutTick <= limit {
			continue
		}
		ms := limit.Milliseconds()
		slog.Warn(fmt.Sprintf("Consumer on channel %d has timed out waiting for delivery acknowledgement. Timeout used: %d ms. This timeout value can be configured, see consumers doc guide to learn more", ch.id, ms), "conn", c.id, "queue", q.Name)
		ch.channelError(frame.Errorf(frame.PreconditionFailed,
			"delivery acknowledgement on channel %d timed out. Timeout value used: %d ms. This timeout value can be configured, see consumers doc guide to learn more", ch.id, ms))
	}
}

func (c *Conn) consumerTimeout(q *broker.Queue, k *consumer) time.Duration {
	if k != nil && k.timeout > 0 {
		return k.timeout
	}
	if d, ok := q.ConsumerTimeout(); ok {
		return d
	}
	return c.srv.cfg.ConsumerTimeout
}
