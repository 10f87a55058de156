package netio

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// blockState is a connection's part in the resource alarms, as RabbitMQ's
// reader has it: while an alarm is on, a connection that publishes is
// blocked (its input is no longer read), and told so with
// connection.blocked if it announced that capability; one that only
// consumes keeps being read and drains. When the alarms clear it is read
// again, after connection.unblocked.
type blockState struct {
	// blocked stops Feed before the next frame; loop only.
	blocked bool
	// sent: connection.blocked went out, connection.unblocked is owed.
	sent bool
	// since is when the input stopped (unix nanos; 0 when read): the
	// ticker skips the missed-heartbeat check meanwhile, as RabbitMQ
	// pauses its heartbeat monitor, and wakes a gnet connection that still
	// has to move off its loop (blocked_move.go).
	since atomic.Int64
	// moving: the connection leaves gnet for its own goroutine; gnet's
	// OnClose for it is the move, not the end. Loop only.
	moving bool
	// input is what gnet held unread when the connection moved.
	input []byte
}

// publishedUnderAlarm is called once a message is published while an
// alarm is on: the connection stops being read after this frame.
func (c *Conn) publishedUnderAlarm(active uint32) {
	if c.flow.blocked {
		return
	}
	c.flow.blocked = true
	c.flow.since.Store(time.Now().UnixNano())
	slog.Info("publisher blocked by resource alarm", "conn", c.id, "reason", blockedReason(active))
	if c.blockedCapable() {
		c.sendMethod(0, &frame.ConnectionBlocked{Reason: blockedReason(active)})
		c.flow.sent = true
	}
}

// alarmsChanged runs on the loop when the alarms change: a blocked
// connection is read again once none is on. One that is blocked stays
// so while any alarm is on (RabbitMQ sends no second connection.blocked).
func (c *Conn) alarmsChanged(active uint32) {
	if !c.flow.blocked || active != 0 || c.state >= stateClosing {
		return
	}
	c.readAgain()
	if c.flow.sent {
		c.sendMethod(0, &frame.ConnectionUnblocked{})
		c.flow.sent = false
	}
	slog.Info("publisher unblocked", "conn", c.id)
}

// readAgain lifts the block on input. A connection we close is read
// again too, whatever the alarms: its close-ok must get through, and all
// else it sends is dropped unread.
func (c *Conn) readAgain() {
	if !c.flow.blocked {
		return
	}
	c.flow.blocked = false
	// The peer was not read while blocked: its silence says nothing.
	c.lastRecv.Store(time.Now().UnixNano())
	c.flow.since.Store(0)
}

// blockedCapable reports whether the client announced connection.blocked.
func (c *Conn) blockedCapable() bool {
	v, _ := c.clientCaps["connection.blocked"].(bool)
	return v
}

// inputBlocked is the ticker's view of flow.blocked.
func (c *Conn) inputBlocked() bool { return c.flow.since.Load() != 0 }

// blockedReason is RabbitMQ's text (rabbit_reader blocked_by_message).
func blockedReason(active uint32) string {
	switch active & (broker.AlarmMemory | broker.AlarmDisk) {
	case broker.AlarmMemory:
		return "low on memory"
	case broker.AlarmDisk:
		return "low on disk"
	}
	return "low on disk & memory"
}

// watchAlarms tells every connection when the alarms change.
func (s *Server) watchAlarms() (cancel func()) {
	return s.b.Alarms().Subscribe(func(uint32) {
		s.mu.Lock()
		for c := range s.conns {
			c.post(func() { c.alarmsChanged(c.b.Alarms().Active()) })
		}
		s.mu.Unlock()
	})
}
