package broker

import (
	"log/slog"

	"github.com/warrenmq/warren/frame"
)

// Consumer priorities (the x-priority consumer argument, RabbitMQ's
// semantics): a message goes to the highest-priority consumers that can
// take it, round-robin among equals; lower ones get messages only while
// every higher one is blocked (prefetch full, output over budget).
//
// q.consumers is kept sorted by priority, highest first, in subscription
// order within a priority. While every consumer has the same priority
// (the common case, all 0) q.cgroups is nil and dispatch takes the plain
// round-robin path; otherwise it names the runs of equal priority.

// consumerGroup is a run q.consumers[start:end] of one priority, with its
// own round-robin cursor.
type consumerGroup struct {
	start, end, next int
}

// validateConsumerArgs checks basic.consume's arguments as RabbitMQ 3.10
// does for a classic queue, with its texts: x-priority must be an integer
// and x-cancel-on-ha-failover a bool (it is accepted and ignored: there
// are no mirrors); a stream's x-stream-offset is refused; other arguments
// are ignored.
func validateConsumerArgs(q *Queue, args map[string]any) (priority int64, err error) {
	if a, ok := args["x-priority"]; ok {
		n, isInt := intArg(a)
		if !isInt {
			return 0, frame.Errorf(frame.PreconditionFailed, "invalid arg 'x-priority' for queue '%s' in vhost '%s': \"expected integer, got %s\"", q.Name, q.vhost.Name, tableType(a))
		}
		priority = n
	}
	if a, ok := args["x-cancel-on-ha-failover"]; ok {
		if _, isBool := a.(bool); !isBool {
			return 0, frame.Errorf(frame.PreconditionFailed, "invalid arg 'x-cancel-on-ha-failover' for queue '%s' in vhost '%s': {unacceptable_type,%s}", q.Name, q.vhost.Name, tableType(a))
		}
	}
	if _, ok := args["x-stream-offset"]; ok {
		return 0, frame.Errorf(frame.PreconditionFailed, "invalid arg 'x-stream-offset' for queue '%s' in vhost '%s' of queue type rabbit_classic_queue", q.Name, q.vhost.Name)
	}
	return priority, nil
}

// insertConsumerLocked adds c to q.consumers: after every consumer of its
// priority or higher, so equals keep subscription order. A single-active-
// consumer queue keeps pure subscription order (RabbitMQ 3.10 makes the
// first subscriber active whatever the priorities).
func (q *Queue) insertConsumerLocked(c *Consumer) {
	i := len(q.consumers)
	if !q.cfg.singleActive {
		for i > 0 && q.consumers[i-1].priority < c.priority {
			i--
		}
	}
	q.consumers = append(q.consumers, nil)
	copy(q.consumers[i+1:], q.consumers[i:])
	q.consumers[i] = c
	q.regroupLocked()
}

// regroupLocked recomputes q.cgroups after q.consumers changed: nil when
// all priorities are equal.
func (q *Queue) regroupLocked() {
	cs := q.consumers
	if q.cfg.singleActive || len(cs) == 0 || cs[0].priority == cs[len(cs)-1].priority {
		q.cgroups = nil
		return
	}
	q.cgroups = q.cgroups[:0]
	for i := 0; i < len(cs); {
		j := i + 1
		for j < len(cs) && cs[j].priority == cs[i].priority {
			j++
		}
		q.cgroups = append(q.cgroups, consumerGroup{start: i, end: j})
		i = j
	}
}

// dispatchByPriorityLocked is dispatchLocked when consumers have different
// priorities: each message goes to the first group, highest first, that
// has a consumer with credit, round-robin within the group.
func (q *Queue) dispatchByPriorityLocked(origin any) {
	g, blocked := 0, 0
	for g < len(q.cgroups) && q.st.readyCount() > 0 {
		if q.exp != nil && q.expireBeforeDeliveryLocked() {
			return
		}
		grp := &q.cgroups[g]
		size := grp.end - grp.start
		if blocked >= size {
			g, blocked = g+1, 0 // all of this group is blocked: try the next one down
			continue
		}
		if grp.next >= size {
			grp.next = 0
		}
		c := q.consumers[grp.start+grp.next]
		grp.next++
		if !c.D.Reserve() {
			blocked++
			continue
		}
		blocked = 0
		if !q.deliverReservedLocked(c, origin) {
			return
		}
		// A delivery to a lower group does not unblock a higher one
		// (only acks do, and they dispatch again), so g stays.
	}
}

// deliverReservedLocked hands the next ready message to c, which has
// reserved credit for it. It returns false if the store had nothing after
// all (damage on disk).
func (q *Queue) deliverReservedLocked(c *Consumer, origin any) bool {
	t, d, ok := q.st.next()
	if !ok {
		q.readFailedLocked(c)
		return false
	}
	q.Delivered.Add(1)
	if d.Redelivered {
		q.Redelivered.Add(1)
	}
	q.forgetLocked(d)
	q.restoreCountLocked(&t)
	if t.returns > 0 {
		d = q.withDeliveryCountLocked(d, t.returns)
	}
	c.D.Deliver(q, c, t, d, origin)
	if c.NoAck {
		q.ackLocked(t)
	} else {
		q.unackedN.Add(1)
	}
	return true
}

func logStoreInconsistent(q *Queue) {
	slog.Error("queue store inconsistent: ready count > 0 but no message", "queue", q.Name)
}
