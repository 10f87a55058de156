package broker

import "time"

// Queue TTL (x-expires): a queue unused for that long is deleted. Unused
// is RabbitMQ's definition: no consumers, and no queue.declare (active or
// passive) and no basic.get for the period. One timer entry per queue,
// armed for the moment the queue would have been unused long enough; a use
// only moves usedAt, and the entry re-arms itself when it finds the queue
// used since.

// applyQueueExpiryLocked (re)starts or stops the queue TTL after q.cfg
// changed. REQUIRES: q.mu held, q.exp != nil.
func (q *Queue) applyQueueExpiryLocked() {
	e := q.exp
	if e.idle != nil {
		e.idle.Cancel()
		e.idle = nil
	}
	if q.cfg.expires > 0 {
		e.usedAt = nowMilli()
		q.armIdleLocked()
	}
}

// touchLocked records a use of the queue (declare, basic.get, the last
// consumer leaving). REQUIRES: q.mu held.
func (q *Queue) touchLocked() {
	if q.exp == nil || q.cfg.expires <= 0 {
		return
	}
	q.exp.usedAt = nowMilli()
	q.armIdleLocked()
}

// Touch records a queue.declare of an existing queue.
func (q *Queue) Touch() {
	q.mu.Lock()
	q.touchLocked()
	q.mu.Unlock()
}

func (q *Queue) armIdleLocked() {
	e := q.exp
	if e.idle != nil || len(q.consumers) > 0 {
		return // a consumer leaving touches and arms again
	}
	e.idle = q.vhost.b.Timer().At(time.UnixMilli(e.usedAt+q.cfg.expires), e.fireIdle)
}

// idleTick runs on the broker's timer: it deletes the queue if it has been
// unused for x-expires, or re-arms for the end of the new period.
func (e *queueExpiry) idleTick() {
	q := e.q
	if !e.lockCurrent() {
		return
	}
	e.idle = nil
	if q.cfg.expires <= 0 || len(q.consumers) > 0 {
		q.mu.Unlock()
		return
	}
	if nowMilli() < e.usedAt+q.cfg.expires {
		q.armIdleLocked()
		q.mu.Unlock()
		return
	}
	q.mu.Unlock()
	q.vhost.deleteIfUnused(q)
}

// deleteIfUnused deletes q for its x-expires unless it was used after the
// timer looked (a consumer or a declare that came in between).
func (v *VHost) deleteIfUnused(q *Queue) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.queues[q.Name] != q {
		return
	}
	q.mu.Lock()
	unused := !q.deleted && len(q.consumers) == 0 && q.cfg.expires > 0 && nowMilli() >= q.exp.usedAt+q.cfg.expires
	if !unused {
		q.armIdleLocked()
	}
	q.mu.Unlock()
	if !unused {
		return
	}
	_, _, err := v.deleteQueueLocked(q)
	logErr("expire unused queue", err, "queue", q.Name, "vhost", v.Name)
}

// lockCurrent locks e's queue for one of e's timer runs and says whether
// e is still the queue's expiry (the queue not deleted, its expiry not
// replaced); when not, the run has nothing to do and the lock is released.
func (e *queueExpiry) lockCurrent() bool {
	q := e.q
	q.mu.Lock()
	if q.deleted || q.exp != e {
		q.mu.Unlock()
		return false
	}
	return true
}
