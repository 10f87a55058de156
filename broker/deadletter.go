package broker

import (
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/frame"
)

// Dead lettering (x-dead-letter-exchange, x-dead-letter-routing-key), as
// RabbitMQ 3.10's rabbit_dead_letter does it: a message rejected or
// nacked without requeue, expired, dropped by a length limit or over its
// delivery limit is republished to the dead-letter exchange with an x-death
// entry, without its expiration, under the dead-letter routing key if set
// (which also drops CC) or its original routing keys (the publish's plus
// CC) otherwise.
//
// The move runs after the source queue's lock is released (q.deferLocked),
// a batch of messages at a time, through the vhost's routing. Until every
// target queue has stored its copy (committed to disk, for a persistent
// message in a durable queue) the source message stays in flight in its
// queue, not done: a kill -9 in between brings it back and it is dead
// lettered again. So durable dead lettering is at least once, never
// lossy; a crash can duplicate a message, as RabbitMQ's at-least-once
// mode can.

// deathReason is why a message left its queue without being acked: the
// reason x-death records.
type deathReason uint8

const (
	reasonRejected deathReason = iota
	reasonExpired
	reasonMaxlen
	reasonDeliveryLimit
)

func (r deathReason) String() string {
	switch r {
	case reasonExpired:
		return "expired"
	case reasonMaxlen:
		return "maxlen"
	case reasonDeliveryLimit:
		return "delivery_limit"
	}
	return "rejected"
}

// deadMessage is one message on its way to the dead-letter exchange: a
// copy, since the store's views do not outlive the lock.
type deadMessage struct {
	t          Ticket
	props      []byte
	body       []byte
	keys       [][]byte // routing keys to route with
	persistent bool
	deaths     []any // the new x-death, for cycle detection
	bcc        bool  // props keep the BCC header (storeBCCFlag), for the next dead lettering
	rejected   bool
	unstored   bool // never stored in the source (reject-publish-dlx): nothing to settle
}

// deadBatch gathers a queue's dead-lettered messages under one lock hold;
// it is moved once the lock is released.
type deadBatch struct {
	q        *Queue
	exchange string
	msgs     []deadMessage
	all      []deadMessage // msgs as move found them, for retry
	bytes    int           // bodies and props in msgs
}

// deadBatchBytes bounds the copies one batch holds: expiry ends a batch
// there, so a backlog of large messages is moved a few MiB at a time.
const deadBatchBytes = 16 << 20

// deadFullLocked says whether q's batch is as large as one should get.
// REQUIRES: q.mu held.
func (q *Queue) deadFullLocked() bool {
	return q.dead != nil && q.dead.bytes >= deadBatchBytes
}

// discardLocked removes an in-flight message that is not coming back: it
// is dead lettered when the queue says so, dropped otherwise. d is the
// message as the store handed it out; when that view cut a BCC header
// (expiry and drop-head take the store's delivery view) the record is read
// again with it, since RabbitMQ routes every dead letter with its BCC keys,
// whatever the reason. REQUIRES: q.mu held.
func (q *Queue) discardLocked(t Ticket, d *Delivery, r deathReason) {
	if !q.cfg.hasDLX {
		q.ackLocked(t)
		return
	}
	if d.bccCut {
		if full, ok := q.readTicketLocked(t); ok {
			d = &full
		}
	}
	dm, ok := q.deadMessage(t, d, r)
	if !ok {
		q.ackLocked(t)
		return
	}
	q.addDeadLocked(dm)
}

// addDeadLocked adds dm to the batch moved once q's lock is released.
// REQUIRES: q.mu held.
func (q *Queue) addDeadLocked(dm deadMessage) {
	if q.dead == nil {
		b := &deadBatch{q: q, exchange: q.cfg.deadLetterX}
		q.dead = b
		q.deferLocked(b.move)
	}
	q.dead.msgs = append(q.dead.msgs, dm)
	q.dead.bytes += len(dm.body) + len(dm.props)
}

// Reject settles delivered messages rejected or nacked without requeue:
// dead lettered when the queue has a dead-letter exchange, else as Ack.
func (q *Queue) Reject(tickets ...Ticket) {
	q.mu.Lock()
	if !q.deleted {
		for _, t := range tickets {
			q.discardTicketLocked(t, reasonRejected)
		}
		q.unackedN.Add(-int64(len(tickets)))
		q.dispatchLocked(nil)
		q.readyN.Store(int64(q.st.readyCount()))
	}
	q.unlock()
}

// discardTicketLocked is discardLocked for an in-flight message the
// caller holds only the ticket of: read again from the store when it is to
// be dead lettered (as stored: with its BCC header), acked when it cannot
// be read. REQUIRES: q.mu held.
func (q *Queue) discardTicketLocked(t Ticket, r deathReason) {
	if !q.cfg.hasDLX {
		q.ackLocked(t)
		return
	}
	d, ok := q.readTicketLocked(t)
	if !ok {
		q.ackLocked(t)
		return
	}
	q.discardLocked(t, &d, r)
}

// readTicketLocked reads an in-flight message. REQUIRES: q.mu held.
func (q *Queue) readTicketLocked(t Ticket) (Delivery, bool) {
	s, ok := q.st.(ticketStore)
	if !ok {
		return Delivery{}, false
	}
	return s.readTicket(t)
}

// ticketStore is a store that can read an in-flight message again, which
// dead lettering a rejected message needs. A store without it drops
// rejected messages instead.
type ticketStore interface {
	readTicket(t Ticket) (Delivery, bool)
}

// readTicket reads an in-flight message for dead lettering: as stored,
// with a BCC header kept (storeBCCFlag), whose keys route the dead letter.
func (s *classicStore) readTicket(t Ticket) (Delivery, bool) {
	rec, err := s.read(t.pos)
	if err != nil {
		return Delivery{}, false
	}
	rec.Flags &^= storeBCCFlag
	return delivery(&rec, false), true
}

// deadMessage builds the dead-lettered copy of d (rabbit_dead_letter:make_msg).
func (q *Queue) deadMessage(t Ticket, d *Delivery, r deathReason) (deadMessage, bool) {
	p, err := frame.DecodeProperties(d.Props)
	if err != nil {
		slog.Error("dead letter: message properties unreadable; dropping it", "queue", q.Name, "err", err)
		return deadMessage{}, false
	}
	h := p.Headers
	if h == nil {
		h = frame.Table{}
	}
	// The first routing key is the publish's; the others are its CC and
	// BCC headers, as RabbitMQ's message keeps them in its routing keys.
	// The BCC header is in the stored copy only (storeBCCFlag: no
	// delivery shows it), so x-death's routing-keys, which RabbitMQ takes
	// from the headers it delivers, leave its keys out.
	keys := [][]byte{append([]byte(nil), d.RoutingKey...)}
	rks := []string{string(d.RoutingKey)}
	hasBCC := false
	for _, hk := range [...]string{"CC", "BCC"} {
		if a, ok := h[hk].([]any); ok {
			hasBCC = hasBCC || hk == "BCC"
			for _, v := range a {
				if s, ok := v.(string); ok {
					keys = append(keys, []byte(s))
					if hk == "CC" {
						rks = append(rks, s)
					}
				}
			}
		}
	}
	info := deathInfo{
		reason: r.String(), queue: q.Name, exchange: string(d.Exchange),
		time: time.Now().UTC().Truncate(time.Second), routingKeys: rks, expiration: p.Expiration,
	}
	props, deaths, err := deadLetterProps(d.Props, p, &info, q.cfg.hasDLRK)
	if err != nil {
		slog.Error("dead letter: message headers unreadable; dropping it", "queue", q.Name, "err", err)
		return deadMessage{}, false
	}
	if q.cfg.hasDLRK {
		keys = [][]byte{[]byte(q.cfg.deadLetterRK)}
		hasBCC = false // cut with CC (deadLetterProps): only the key routes it
	}
	return deadMessage{
		bcc: hasBCC,
		t:   t, props: props, body: append([]byte(nil), d.Body...),
		keys: keys, persistent: d.Persistent, deaths: deaths, rejected: r == reasonRejected,
	}, true
}

// isCycle says whether dead lettering into queue would go round a cycle
// with no rejection in it (rabbit_dead_letter:is_cycle): then RabbitMQ
// drops the message for that queue instead of looping forever.
func isCycle(queue string, deaths []any) bool {
	for i, e := range deaths {
		t, ok := e.(frame.Table)
		if !ok {
			return false // not ours: a client put it there
		}
		if t["queue"] != queue {
			continue
		}
		for _, c := range deaths[:i+1] {
			if ct, ok := c.(frame.Table); !ok || ct["reason"] == "rejected" {
				return false
			}
		}
		return true
	}
	return false
}

// move republishes the batch through the vhost's routing, then settles the
// source messages: acked once every copy is safe, requeued if a target
// could not store one. REQUIRES: no queue lock held.
func (b *deadBatch) move() {
	q := b.q
	q.mu.Lock()
	if q.dead == b {
		q.dead = nil
	}
	q.mu.Unlock()
	b.all = b.msgs
	v := q.vhost
	v.mu.RLock()
	x := v.exchanges[b.exchange]
	v.mu.RUnlock()
	var (
		gen     uint64
		failed  []Ticket
		settled = make([]Ticket, 0, len(b.msgs))
		targets []*Queue
		now     = nowMilli()
	)
	for i := range b.msgs {
		dm := &b.msgs[i]
		targets = targets[:0]
		switch {
		case x == nil:
		case x.Name == "":
			for _, k := range dm.keys {
				targets = b.route(x, k, dm, targets)
			}
		default:
			// All keys at once, as RabbitMQ routes them: the exchange's
			// alternate is asked only when none has a destination.
			headers := func() frame.Table { t, _ := frame.PropsHeaders(dm.props); return t }
			targets = v.router.RouteKeys(x.Name, dm.keys, headers, targets)
		}
		m := Message{Exchange: []byte(b.exchange), RoutingKey: dm.keys[0], Props: dm.props, Body: dm.body, Persistent: dm.persistent, Timestamp: now, bcc: dm.bcc}
		ok := true
		for _, tq := range targets {
			if !dm.rejected && isCycle(tq.Name, dm.deaths) {
				slog.Debug("dead letter: cycle without a rejection; dropped for this queue", "queue", q.Name, "target", tq.Name)
				continue
			}
			g, _, err := tq.publish(&m)
			if err != nil {
				faultAppend.report(tq.Name, err)
				ok = false
				continue
			}
			if dm.persistent && g > gen {
				gen = g
			}
		}
		switch {
		case dm.unstored:
		case ok:
			settled = append(settled, dm.t)
		default:
			failed = append(failed, dm.t)
		}
	}
	b.msgs = nil
	if len(failed) > 0 {
		b.retry(failed)
	}
	if len(settled) == 0 {
		return
	}
	if gen == 0 || v.b.Watermark().Committed() >= gen {
		q.settleDead(settled)
		return
	}
	waitCommitted(v.b, gen, func(lost bool) {
		if lost {
			b.retry(settled)
			return
		}
		q.settleDead(settled)
	})
}

// retry moves again, a second later, the messages of the batch whose
// copies some target could not store (a full disk, an I/O error): they
// stay in flight in the source queue meanwhile. Targets that had stored
// a copy get another one: at least once.
func (b *deadBatch) retry(ts []Ticket) {
	nb := &deadBatch{q: b.q, exchange: b.exchange}
	for _, dm := range b.all {
		for _, t := range ts {
			if dm.t == t {
				nb.msgs = append(nb.msgs, dm)
				break
			}
		}
	}
	nb.all = nb.msgs
	b.q.vhost.b.Timer().After(time.Second, nb.move)
}

// route appends the queue the default exchange routes key to, without
// duplicates.
func (b *deadBatch) route(x *Exchange, key []byte, dm *deadMessage, dst []*Queue) []*Queue {
	v := b.q.vhost
	v.mu.RLock()
	tq := v.queues[string(key)]
	v.mu.RUnlock()
	if tq != nil && !slices.Contains(dst, tq) {
		dst = append(dst, tq)
	}
	return dst
}

// settleDead marks dead-lettered source messages done.
func (q *Queue) settleDead(ts []Ticket) {
	q.mu.Lock()
	if !q.deleted {
		for _, t := range ts {
			q.ackLocked(t)
		}
	}
	q.unlock()
}

// waitCommitted calls fn on the broker's timer goroutine once the
// watermark has committed gen; lost says the commit failed.
func waitCommitted(b *Broker, gen uint64, fn func(lost bool)) {
	w := b.Watermark()
	from := w.Committed() + 1
	var (
		fired     atomic.Bool
		subscribe sync.WaitGroup
		cancel    func()
	)
	run := func() {
		subscribe.Wait() // cancel is set
		cancel()
		fn(w.Lost(from, gen))
	}
	fire := func() {
		if fired.CompareAndSwap(false, true) {
			b.Timer().At(time.Time{}, run)
		}
	}
	subscribe.Add(1)
	cancel = w.Subscribe(func(c uint64) {
		if c >= gen {
			fire()
		}
	})
	subscribe.Done()
	if w.Committed() >= gen {
		fire() // committed before the subscription took
	}
}

// unlockDeferringLater releases q.mu and leaves the work deferred under
// it to the broker's timer goroutine, for callers that hold the vhost's
// lock (queue creation and restore): dead lettering routes through the
// vhost and must not run under it.
func (q *Queue) unlockDeferringLater() {
	pending := q.deferred.Len() > 0
	q.mu.Unlock()
	if pending {
		q.vhost.b.Timer().At(time.Time{}, func() {
			q.mu.Lock()
			q.unlock()
		})
	}
}
