package broker

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/warrenmq/warren/frame"
)

// Queue is a named message queue. Its contents live in a store (store.go; a
// classic queue's is a segment log + ack index); in memory it keeps only
// consumers and counters.
type Queue struct {
	Name       string
	Durable    bool
	Exclusive  bool
	AutoDelete bool
	Args       frame.Table
	Owner      uint64 // connection id of an exclusive queue's owner
	vhost      *VHost

	mu          sync.Mutex
	st          store
	consumers   []*Consumer
	next        int             // round-robin cursor into consumers
	cgroups     []consumerGroup // consumer priorities in use (consumer_priority.go); nil if all equal
	hadConsumer bool
	deleted     bool
	readRetry   bool            // a dispatch after a failed read is scheduled (queue_readfail.go)
	exclusiveC  bool            // a consumer holds exclusive access
	deferred    Deferred        // run by unlock once mu is released (deferred.go)
	cfg         queueSettings   // guarded by mu (settings.go)
	dedup       *dedupCache     // x-message-deduplication (dedup.go); nil: off
	exp         *queueExpiry    // message and queue TTL; nil when unused (expiry.go)
	dead        *deadBatch      // dead letters gathered under mu, moved after it (deadletter.go)
	propsBuf    []byte          // a redelivery's properties with x-delivery-count (limits_delivery.go)
	counts      *deliveryCounts // a durable quorum queue's delivery counts on disk (limits_delivery_counts.go)

	// Counters readable without the lock (stats, management).
	readyN     atomic.Int64
	unackedN   atomic.Int64
	consumersN atomic.Int32
	Published  atomic.Uint64
	Delivered  atomic.Uint64 // deliveries to consumers and gets
	Acked      atomic.Uint64 // acknowledged by clients (not no-ack deliveries)
	// For management's message_stats (get, get_no_ack, redeliver).
	Got         atomic.Uint64 // basic.get deliveries to be acknowledged
	GotNoAck    atomic.Uint64 // basic.get deliveries without acknowledgement
	Redelivered atomic.Uint64 // deliveries and gets of redelivered messages
}

// Ready is the number of messages waiting for a consumer.
func (q *Queue) Ready() int64 { return q.readyN.Load() }

// Unacked is the number of messages delivered and not yet acknowledged.
func (q *Queue) Unacked() int64 { return q.unackedN.Load() }

// ConsumerCount is the number of active consumers.
func (q *Queue) ConsumerCount() int { return int(q.consumersN.Load()) }

// publish stores m and delivers it if a consumer can take it. It returns the
// sync generation the message waits for (0: none) and false if the queue was
// deleted meanwhile.
func (q *Queue) publish(m *Message) (uint64, bool, error) {
	q.mu.Lock()
	if q.deleted {
		q.mu.Unlock()
		return 0, false, nil
	}
	if q.limited() && q.rejectPublishLocked(m) {
		q.unlock()
		return 0, false, errQueueFull
	}
	if q.dedup != nil && q.dedup.seen(m.Props) {
		q.mu.Unlock()
		return 0, true, nil // a duplicate is routed, not enqueued
	}
	// With a consumer waiting, the message may go out before publish
	// returns: the classic store then hands it over from m's buffers.
	// Not with a length limit or TTLs, whose paths drop or expire
	// messages between the append and the dispatch.
	cs, fresh := q.st.(*classicStore)
	direct := len(q.consumers) > 0 && q.exp == nil && !q.limited() && !hasExpiration(m.Props)
	if direct && q.canPassLocked(m) && q.passLocked(m) {
		q.unlock() // queue_pass.go: delivered, never stored
		return 0, true, nil
	}
	fresh = fresh && direct
	var gen uint64
	var err error
	if fresh {
		gen, err = cs.appendFresh(m)
	} else {
		gen, err = q.st.append(*m)
	}
	if err != nil {
		q.mu.Unlock()
		return 0, false, err
	}
	q.Published.Add(1)
	if q.limited() {
		q.dropOverflowLocked()
	}
	if q.exp != nil || hasExpiration(m.Props) {
		q.beforePublishLocked(m)
	}
	if len(q.consumers) > 0 {
		q.dispatchLocked(m.Origin)
	}
	if fresh {
		cs.dropFresh()
	}
	if q.exp != nil {
		q.afterPublishLocked()
	}
	q.readyN.Store(int64(q.st.readyCount()))
	q.unlock()
	if !q.Durable {
		gen = 0
	}
	return gen, true, nil
}

// Dispatch delivers ready messages to consumers that have credit. Consumers
// call it when they regain credit (acks, drained output).
func (q *Queue) Dispatch() {
	q.mu.Lock()
	if !q.deleted {
		q.dispatchLocked(nil)
		q.readyN.Store(int64(q.st.readyCount()))
	}
	q.unlock()
}

// origin is the publish's Message.Origin when a publish triggers the
// dispatch, nil otherwise.
func (q *Queue) dispatchLocked(origin any) {
	n := len(q.consumers)
	if n == 0 {
		return
	}
	if q.cfg.singleActive {
		q.dispatchSingleActiveLocked(origin)
		return
	}
	if q.cgroups != nil {
		q.dispatchByPriorityLocked(origin)
		return
	}
	blocked := 0
	for blocked < n && q.st.readyCount() > 0 {
		if q.exp != nil && q.expireBeforeDeliveryLocked() {
			return
		}
		if q.next >= n {
			q.next = 0
		}
		c := q.consumers[q.next]
		q.next++
		if !c.D.Reserve() {
			blocked++
			continue
		}
		blocked = 0
		t, d, ok := q.st.next()
		if !ok {
			q.readFailedLocked(c)
			return
		}
		q.Delivered.Add(1)
		q.forgetLocked(d)
		if d.Redelivered {
			q.Redelivered.Add(1)
		}
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
	}
}

func (q *Queue) ackLocked(t Ticket) {
	if err := q.st.ack(t); err != nil {
		faultAck.report(q.Name, err)
	}
}

// Ack marks delivered messages done and delivers more to consumers that got
// credit back. Tickets must come from Deliver or Get of this queue, each
// given back once.
func (q *Queue) Ack(tickets ...Ticket) {
	q.mu.Lock()
	if !q.deleted {
		for _, t := range tickets {
			q.ackLocked(t)
		}
		q.Acked.Add(uint64(len(tickets))) // client acks only, as RabbitMQ's ack count
		q.unackedN.Add(-int64(len(tickets)))
		// The acks gave consumers credit back.
		q.dispatchLocked(nil)
		q.readyN.Store(int64(q.st.readyCount()))
	}
	q.unlock()
}

// Requeue puts delivered messages back at their original place, marked
// redelivered, and delivers them again if a consumer can take them.
func (q *Queue) Requeue(tickets ...Ticket) {
	q.mu.Lock()
	if !q.deleted {
		for _, t := range tickets {
			if q.quorum() {
				q.returnLocked(t)
				continue
			}
			q.st.requeue(t)
		}
		q.unackedN.Add(-int64(len(tickets)))
		q.rearmHeadLocked()
		q.dispatchLocked(nil)
		q.readyN.Store(int64(q.st.readyCount()))
	}
	q.unlock()
}

// Get takes the next ready message for basic.get. fn runs with the queue
// locked; d's slices are valid only during the call. It returns false when
// the queue is empty.
func (q *Queue) Get(noAck bool, fn func(t Ticket, d Delivery, remaining int)) bool {
	ok, _ := q.GetErr(noAck, fn)
	return ok
}

// GetErr is Get that also says why nothing came although messages were
// ready: a read the store could not do now (queue_readfail.go), as the
// AMQP exception basic.get answers with.
func (q *Queue) GetErr(noAck bool, fn func(t Ticket, d Delivery, remaining int)) (bool, error) {
	q.mu.Lock()
	defer q.unlock()
	if q.deleted {
		return false, nil
	}
	q.touchLocked()
	if !q.expireAllLocked() {
		return false, nil
	}
	ready := q.st.readyCount()
	t, d, ok := q.st.next()
	if !ok {
		var err error
		if ready > 0 {
			if err = q.readFailedLocked(nil); err != nil {
				err = getFailure(q, err)
			}
		}
		q.readyN.Store(int64(q.st.readyCount()))
		return false, err
	}
	q.Delivered.Add(1)
	q.forgetLocked(d)
	if noAck {
		q.GotNoAck.Add(1)
	} else {
		q.Got.Add(1)
	}
	if d.Redelivered {
		q.Redelivered.Add(1)
	}
	remaining := q.st.readyCount()
	q.readyN.Store(int64(remaining))
	if q.quorum() {
		q.restoreCountLocked(&t)
		d = q.withDeliveryCountLocked(d, t.returns) // RabbitMQ 3.10 sends it on every basic.get
	}
	fn(t, d, remaining)
	if noAck {
		q.ackLocked(t)
	} else {
		q.unackedN.Add(1)
	}
	return true, nil
}

// Purge drops every ready message and returns how many.
func (q *Queue) Purge() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return 0
	}
	n := q.st.purge()
	if q.dedup != nil {
		q.dedup.reset()
	}
	q.readyN.Store(int64(q.st.readyCount()))
	return n
}

// AddConsumer subscribes c. before, if not nil, runs once c is accepted
// (consume-ok). Deliveries start with the next Dispatch, which the caller
// makes once consume-ok is on its way: filling a consumer's window from a
// big backlog can take a while, and the client waits for consume-ok.
func (q *Queue) AddConsumer(c *Consumer, before func()) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return frame.Errorf(frame.NotFound, "no queue '%s' in vhost '%s'", q.Name, q.vhost.Name)
	}
	if q.exclusiveC || (c.Exclusive && len(q.consumers) > 0) {
		return frame.Errorf(frame.AccessRefused, "queue '%s' in vhost '%s' in exclusive use", q.Name, q.vhost.Name)
	}
	if err := q.checkSingleActiveConsumeLocked(c); err != nil {
		return err
	}
	prio, err := validateConsumerArgs(q, c.Args)
	if err != nil {
		return err
	}
	c.Queue, c.priority = q, prio
	q.insertConsumerLocked(c)
	q.exclusiveC = c.Exclusive
	q.hadConsumer = true
	q.consumersN.Store(int32(len(q.consumers)))
	if before != nil {
		before()
	}
	return nil
}

// RemoveConsumer unsubscribes c. It reports whether the queue is auto-delete
// and has lost its last consumer, so the caller should delete it. The
// caller calls Dispatch once it has requeued what c left unacked (if it
// does), so the next single active consumer takes over with those first.
func (q *Queue) RemoveConsumer(c *Consumer) (autoDelete bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, x := range q.consumers {
		if x == c {
			copy(q.consumers[i:], q.consumers[i+1:])
			q.consumers[len(q.consumers)-1] = nil
			q.consumers = q.consumers[:len(q.consumers)-1]
			if c.Exclusive {
				q.exclusiveC = false
			}
			q.regroupLocked()
			break
		}
	}
	q.consumersN.Store(int32(len(q.consumers)))
	if len(q.consumers) == 0 {
		q.touchLocked()
	}
	return !q.deleted && q.AutoDelete && q.hadConsumer && len(q.consumers) == 0
}

// markDeleted stops the queue, tells its consumers, and removes its files.
func (q *Queue) markDeleted() (int, error) {
	q.mu.Lock()
	if q.deleted {
		q.mu.Unlock()
		return 0, nil
	}
	q.deleted = true
	q.stopExpiryLocked()
	n := q.st.readyCount()
	cs := q.consumers
	q.consumers = nil
	q.consumersN.Store(0)
	for _, c := range cs {
		c.D.Cancelled(c)
	}
	q.counts.close()
	err := q.st.destroy()
	q.readyN.Store(0)
	q.mu.Unlock()
	if err != nil {
		return n, fmt.Errorf("delete queue %q: %w", q.Name, err)
	}
	return n, nil
}

// close releases the store without deleting it (shutdown).
func (q *Queue) close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return nil
	}
	q.deleted = true
	q.stopExpiryLocked()
	q.counts.close()
	return q.st.close()
}
