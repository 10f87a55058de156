package netio

import (
	"sync"
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

// drainPoll is how often connections with held output are woken.
const drainPoll = time.Millisecond

var drains struct {
	once  sync.Once
	mu    sync.Mutex
	conns []*Conn
	kick  chan struct{}
}

// holdOutput keeps the pending output for a later flush: the transport
// still holds backlog bytes of the previous one. Called on the loop
// instead of TakeOutput.
func (c *Conn) holdOutput(backlog int) {
	c.outMu.Lock()
	c.out.scheduled = false // later output wakes the loop again
	c.outMu.Unlock()
	c.out.backlog.Store(int64(backlog))
	if int64(backlog) > c.out.peakBacklog.Load() {
		c.out.peakBacklog.Store(int64(backlog))
	}
	if c.work.Load() || len(c.afterFlush) > 0 {
		c.kick()
	}
	c.drainLater()
}

// drainLater has the drain poller wake c soon, once per hold.
func (c *Conn) drainLater() {
	if c.out.draining.Swap(true) {
		return
	}
	drains.once.Do(func() {
		drains.kick = make(chan struct{}, 1)
		go drainPoller()
	})
	drains.mu.Lock()
	drains.conns = append(drains.conns, c)
	drains.mu.Unlock()
	select {
	case drains.kick <- struct{}{}:
	default:
	}
}

// drainPoller wakes every connection that held output, each drainPoll,
// and sleeps while there are none.
func drainPoller() {
	var batch []*Conn
	for {
		drains.mu.Lock()
		batch, drains.conns = drains.conns, batch[:0]
		drains.mu.Unlock()
		if len(batch) == 0 {
			<-drains.kick
			continue
		}
		time.Sleep(drainPoll)
		for i, c := range batch {
			c.out.draining.Store(false)
			if !c.closed.Load() {
				c.t.Wake()
			}
			batch[i] = nil
		}
	}
}
