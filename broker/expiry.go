package broker

import (
	"fmt"
	"strconv"
	"time"

	"github.com/warrenmq/warren/frame"
)

// Message TTL, as RabbitMQ defines it: a message expires at its arrival
// time plus the smaller of the queue's x-message-ttl and its own expiration
// property; only the head is checked, so a message with a short expiration
// behind one without waits until it reaches the head; an expired message
// is never delivered. x-message-ttl 0 delivers a message only if a
// consumer can take it at once.
//
// Per queue, not per message: one timer entry, armed for the head's expiry
// time, and nothing in RAM for the backlog (the arrival time and
// expiration are in the record). Expired heads go in batches of
// expireBatch per lock hold, with the timer re-armed at once between
// batches, so expiring a million messages lets publishers, consumers and
// other queues' timers in between. An expired message is marked done in
// the ack index like an acked one, so its segment is reclaimed.
type queueExpiry struct {
	q *Queue

	// msgs: messages in the queue may expire (x-message-ttl is set, or a
	// message with an expiration property arrived), so heads are checked
	// before every delivery.
	msgs    bool
	head    *TimerEntry // armed for the head's expiry; nil when none
	headDue int64       // unix ms head fires at
	// pubNow is the arriving message's timestamp while publish dispatches
	// it: during that dispatch a message expires only if it is strictly
	// older, so x-message-ttl 0 still reaches a consumer that can take it.
	pubNow int64

	// Queue TTL (x-expires, expiry_queue.go).
	idle   *TimerEntry
	usedAt int64 // unix ms the queue was last used

	fireHead, fireIdle func() // bound once: arming allocates no closure
}

// expireBatch bounds the messages expired under one hold of a queue's lock.
const expireBatch = 4096

// maxExpiration is RabbitMQ's ?MAX_EXPIRY_TIMER.
const maxExpiration = 4294967295

func nowMilli() int64 { return time.Now().UnixMilli() }

// hasExpiration tells from the flags word alone whether raw props carry an
// expiration, so publish can skip parsing for messages without one.
func hasExpiration(props []byte) bool {
	return len(props) >= 2 && props[0]&byte(frame.PropExpiration>>8) != 0
}

// parseExpiration reads an expiration property as RabbitMQ does
// (rabbit_basic:parse_expiration): a decimal integer of ms, from 0 to
// 2^32-1. The error text is RabbitMQ's reason term.
func parseExpiration(v []byte) (int64, error) {
	s := string(v)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("no_integer")
	}
	if j < len(s) {
		return 0, fmt.Errorf("{leftover_string,%q}", s[j:])
	}
	n, err := strconv.ParseInt(s[:j], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("{value_too_large,%s}", s[:j])
	}
	if n < 0 {
		return 0, fmt.Errorf("{value_negative,%d}", n)
	}
	if n > maxExpiration {
		return 0, fmt.Errorf("{value_too_large,%d}", n)
	}
	return n, nil
}

// checkExpiration refuses a publish whose expiration RabbitMQ refuses
// (406, channel closed). Called only when hasExpiration says there is one.
func checkExpiration(props []byte) error {
	v, ok := frame.PropsShortstr(props, frame.PropExpiration)
	if !ok {
		return nil
	}
	if _, err := parseExpiration(v); err != nil {
		return frame.Errorf(frame.PreconditionFailed, "invalid expiration '%s': %s", v, err)
	}
	return nil
}

// expiresAt is when d expires, unix ms; false if never. REQUIRES: q.mu held.
func (q *Queue) expiresAt(d *Delivery) (int64, bool) {
	ttl := q.cfg.messageTTL
	if hasExpiration(d.Props) {
		if v, ok := frame.PropsShortstr(d.Props, frame.PropExpiration); ok {
			if n, err := parseExpiration(v); err == nil && (ttl < 0 || n < ttl) {
				ttl = n
			}
		}
	}
	if ttl < 0 {
		return 0, false
	}
	return d.Timestamp + ttl, true
}

func (q *Queue) expiryLocked() *queueExpiry {
	if q.exp == nil {
		e := &queueExpiry{q: q, usedAt: nowMilli()}
		e.fireHead, e.fireIdle = e.headTick, e.idleTick
		q.exp = e
	}
	return q.exp
}

// applyExpirySettingsLocked reacts to q.cfg's message and queue TTL: a new
// or shorter TTL expires what is due now and re-arms. REQUIRES: q.mu held.
func (q *Queue) applyExpirySettingsLocked() {
	if q.exp == nil && q.cfg.messageTTL < 0 && q.cfg.expires <= 0 {
		return
	}
	e := q.expiryLocked()
	if q.cfg.messageTTL >= 0 {
		e.msgs = true
	}
	if e.msgs {
		e.cancelHead()
		if _, more := q.expireLocked(nowMilli(), expireBatch); more {
			e.armHeadAt(nowMilli())
		} else {
			q.armHeadLocked()
		}
	}
	q.applyQueueExpiryLocked()
}

// expireLocked removes expired heads (expiry <= now), at most limit of
// them; more says the limit cut it short. REQUIRES: q.mu held.
func (q *Queue) expireLocked(now int64, limit int) (n int, more bool) {
	hs, ok := q.st.(headStore)
	if !ok {
		return 0, false
	}
	for n < limit {
		if q.deadFullLocked() {
			return n, true // the rest once this batch has moved
		}
		d, ok := hs.head()
		if !ok {
			return n, false
		}
		reason := reasonExpired
		if at, ok := q.expiresAt(&d); !ok || at > now {
			// Not expired; a quorum queue's message may still be past
			// its delivery limit from before a restart
			// (limits_delivery_counts.go).
			if !q.headOverDeliveryLimitLocked() {
				return n, false
			}
			reason = reasonDeliveryLimit
		}
		t, d, ok := q.st.next()
		if !ok {
			return n, false
		}
		q.forgetLocked(d)
		if reason == reasonDeliveryLimit {
			q.restoreCountLocked(&t)
		}
		q.discardLocked(t, &d, reason)
		n++
	}
	return n, true
}

// beforePublishLocked notes that m, about to be dispatched, may expire.
// Publish calls it when q.exp != nil or m has an expiration. REQUIRES: q.mu held.
func (q *Queue) beforePublishLocked(m *Message) {
	e := q.expiryLocked()
	if hasExpiration(m.Props) {
		e.msgs = true
	}
	e.pubNow = m.Timestamp
}

// afterPublishLocked drops what the publish left expired (a TTL 0 message
// no consumer took) and arms the timer. REQUIRES: q.mu held.
func (q *Queue) afterPublishLocked() {
	e := q.exp
	now := e.pubNow
	e.pubNow = 0
	if !e.msgs {
		return
	}
	if _, more := q.expireLocked(now, expireBatch); more {
		e.armHeadAt(nowMilli())
		return
	}
	if e.head == nil {
		q.armHeadLocked()
	}
}

// expireBeforeDeliveryLocked runs before each delivery in dispatch: it
// reports whether dispatch must stop (nothing ready once expired heads are
// gone, or a long run of them is left to the timer).
// REQUIRES: q.mu held, q.exp != nil.
func (q *Queue) expireBeforeDeliveryLocked() (stop bool) {
	e := q.exp
	if !e.msgs {
		return false
	}
	now := e.pubNow - 1
	if e.pubNow == 0 {
		now = nowMilli()
	}
	if _, more := q.expireLocked(now, expireBatch); more {
		e.armHeadAt(nowMilli())
		return true
	}
	return q.st.readyCount() == 0
}

// expireAllLocked removes every expired head, for basic.get, which must
// not answer with an expired message nor get-empty while a live one
// waits. It reports false when it had to stop with expired heads left (a
// batch of dead letters as large as one may get, to be moved once the
// lock is released): basic.get then answers get-empty. REQUIRES: q.mu held.
func (q *Queue) expireAllLocked() bool {
	if q.exp == nil || !q.exp.msgs {
		return true
	}
	now := nowMilli()
	for {
		if _, more := q.expireLocked(now, expireBatch); !more {
			return true
		}
		if q.deadFullLocked() {
			q.exp.armHeadAt(nowMilli())
			return false
		}
	}
}

// rearmHeadLocked re-arms after the head may have moved earlier (a
// requeue puts an older message in front). REQUIRES: q.mu held.
func (q *Queue) rearmHeadLocked() {
	if q.exp == nil || !q.exp.msgs {
		return
	}
	q.exp.cancelHead()
	q.armHeadLocked()
}

// armHeadLocked arms the timer for the head's expiry, if it has one.
// REQUIRES: q.mu held.
func (q *Queue) armHeadLocked() {
	e := q.exp
	hs, ok := q.st.(headStore)
	if !ok || e.head != nil {
		return
	}
	d, ok := hs.head()
	if !ok {
		return
	}
	if at, ok := q.expiresAt(&d); ok {
		e.armHeadAt(at)
	}
}

func (e *queueExpiry) armHeadAt(at int64) {
	if e.head != nil {
		if e.headDue <= at {
			return
		}
		e.head.Cancel()
	}
	e.headDue = at
	e.head = e.q.vhost.b.Timer().At(time.UnixMilli(at), e.fireHead)
}

func (e *queueExpiry) cancelHead() {
	if e.head != nil {
		e.head.Cancel()
		e.head = nil
	}
}

// headTick runs on the broker's timer when the head is due.
func (e *queueExpiry) headTick() {
	q := e.q
	if !e.lockCurrent() {
		return
	}
	e.head = nil
	_, more := q.expireLocked(nowMilli(), expireBatch)
	if !more && len(q.consumers) > 0 {
		q.dispatchLocked(nil)
	}
	q.readyN.Store(int64(q.st.readyCount()))
	if more {
		e.armHeadAt(nowMilli()) // behind the timer's other due work
	} else {
		q.armHeadLocked()
	}
	q.unlock()
}

// stopExpiryLocked cancels the queue's timer entries (queue deleted or
// closed). REQUIRES: q.mu held.
func (q *Queue) stopExpiryLocked() {
	if q.exp == nil {
		return
	}
	q.exp.cancelHead()
	if q.exp.idle != nil {
		q.exp.idle.Cancel()
		q.exp.idle = nil
	}
}
