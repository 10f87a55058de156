package netio

import (
	"sync"
	"sync/atomic"
	"time"
)

// Output held back while the socket is full.
//
// gnet copies whatever a write leaves over into buffers from its byte-slice
// pool, one per write made while it still holds bytes, and puts a
// partially written buffer back into the next smaller size class: under a
// consumer slower than its publisher the pool filled with buffers far
// larger than the backlog ever was (RSS 160-260 MB with one amqp091-go
// pair at 1 KiB). So a connection writes to the transport only when the
// transport holds nothing: the transport keeps at most what one flush left
// over, and everything after it waits in the connection's own buffer,
// which deliveries stop filling at outputBudget.
//
// gnet has no "drained" event, so a connection that held output is woken
// by the drain poller every drainPoll until the transport is empty and the
// held bytes are written. The socket's send buffer (megabytes on loopback)
// covers the poll interval.

// drainPoll is how soon a connection with held output is woken while its
// socket drains; a connection whose backlog did not shrink since the last
// poll waits twice as long each time, up to drainPollMax, so clients that
// stopped reading cost a wake-up every 64 ms, not every millisecond.
const (
	drainPoll    = time.Millisecond
	drainPollMax = 64 * time.Millisecond
)

type drainEntry struct {
	c   *Conn
	due int64 // unix nanoseconds
}

// drainWakes counts the poller's wake-ups (tests).
var drainWakes atomic.Uint64

var drains struct {
	once    sync.Once
	mu      sync.Mutex
	entries []drainEntry
	kick    chan struct{}
}

// holdOutput keeps the pending output for a later flush: the transport
// still holds backlog bytes of the previous one. Called on the loop
// instead of TakeOutput.
func (c *Conn) holdOutput(backlog int) {
	c.outMu.Lock()
	c.out.scheduled = false // later output wakes the loop again
	c.out.backlog.Store(int64(backlog))
	c.noteBusyLocked(c.out.pending.Load() + int64(backlog))
	c.outMu.Unlock()
	// Only the poller's wakes count as polls that found no progress. A
	// held connection is also woken by every publish that delivers to it,
	// far more often than drainPoll, and when each of those that found the
	// socket not drained yet counted, a consumer behind for a moment got
	// polled only every drainPollMax: in case 2 (1 KiB, 1p/1c) its output
	// was held 10-35% of the time, in holds of 10-25 ms, while the socket
	// had drained long before and the queue filled up behind the budget.
	if !c.out.draining.Load() {
		if c.out.polledBacklog == 0 || int64(backlog) < c.out.polledBacklog {
			c.out.drainStalls = 0
		} else if c.out.drainStalls < 6 {
			c.out.drainStalls++
		}
		c.out.polledBacklog = int64(backlog)
	}
	if int64(backlog) > c.out.peakBacklog.Load() {
		c.out.peakBacklog.Store(int64(backlog))
	}
	if c.work.Load() || len(c.afterFlush) > 0 {
		c.kick()
	}
	c.drainLater(drainPoll << c.out.drainStalls)
}

// drainLater has the drain poller wake c in about d, once per hold.
func (c *Conn) drainLater(d time.Duration) {
	if c.out.draining.Swap(true) {
		return
	}
	drains.once.Do(func() {
		drains.kick = make(chan struct{}, 1)
		go drainPoller()
	})
	drains.mu.Lock()
	drains.entries = append(drains.entries, drainEntry{c: c, due: time.Now().Add(d).UnixNano()})
	drains.mu.Unlock()
	select {
	case drains.kick <- struct{}{}:
	default:
	}
}

// drainPoller wakes each connection that held output when its time
// comes, and sleeps while there are none.
func drainPoller() {
	var batch, keep []drainEntry
	timer := time.NewTimer(drainPollMax)
	for {
		drains.mu.Lock()
		batch, drains.entries = append(batch[:0], drains.entries...), drains.entries[:0]
		drains.mu.Unlock()
		if len(batch) == 0 && len(keep) == 0 {
			<-drains.kick
			continue
		}
		batch = append(batch, keep...)
		keep = keep[:0]
		now := time.Now().UnixNano()
		next := now + int64(drainPollMax)
		for _, e := range batch {
			if e.due > now {
				keep = append(keep, e)
				next = min(next, e.due)
				continue
			}
			e.c.out.draining.Store(false)
			if !e.c.closed.Load() {
				drainWakes.Add(1)
				e.c.t.Wake()
			}
		}
		clear(batch)
		timer.Reset(time.Duration(max(next-now, int64(drainPoll))))
		select {
		case <-timer.C:
		case <-drains.kick:
		}
	}
}
