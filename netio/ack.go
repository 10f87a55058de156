package netio

import (
	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// unknownTag leaves class and method to the channel's dispatcher, which
// fills in the method being handled (ack, nack, reject).
func unknownTag(tag uint64) *frame.Error {
	return frame.Errorf(frame.PreconditionFailed, "unknown delivery tag %d", tag)
}

func (ch *channel) ack(tag uint64, multiple bool) error {
	if ch.tx {
		return ch.txAck(txAck{tag: tag, multiple: multiple})
	}
	ch.mu.Lock()
	entries, ok := ch.unacked.take(tag, multiple, ch.scratch[:0])
	ch.mu.Unlock()
	if !ok {
		return unknownTag(tag)
	}
	ch.entry.Acked.Add(uint64(len(entries)))
	ch.settle(entries, false)
	ch.scratch = entries[:0]
	return nil
}

func (ch *channel) nack(tag uint64, multiple, requeue bool) error {
	if ch.tx {
		return ch.txAck(txAck{tag: tag, multiple: multiple, nack: true, requeue: requeue})
	}
	ch.mu.Lock()
	entries, ok := ch.unacked.take(tag, multiple, ch.scratch[:0])
	ch.mu.Unlock()
	if !ok {
		return unknownTag(tag)
	}
	ch.settle(entries, requeue)
	ch.scratch = entries[:0]
	return nil
}

// settle gives the entries' credit back and acks or requeues them, one call
// per run of entries from the same queue.
func (ch *channel) settle(entries []unackedEntry, requeue bool) {
	counted := int32(0)
	for i := range entries {
		if k := entries[i].k; k != nil {
			k.release(1)
			counted++
		}
	}
	ch.unackedN.Add(-counted)
	if requeue {
		ch.requeueEntries(entries)
		return
	}
	ch.forEachQueueRun(entries, func(q *broker.Queue, ts []broker.Ticket) { q.Ack(ts...) })
}

func (ch *channel) requeueEntries(entries []unackedEntry) {
	ch.forEachQueueRun(entries, func(q *broker.Queue, ts []broker.Ticket) { q.Requeue(ts...) })
}

func (ch *channel) forEachQueueRun(entries []unackedEntry, f func(*broker.Queue, []broker.Ticket)) {
	c := ch.c
	for i := 0; i < len(entries); {
		q := entries[i].q
		ps := c.scratchPosList[:0]
		j := i
		for ; j < len(entries) && entries[j].q == q; j++ {
			ps = append(ps, entries[j].t)
		}
		f(q, ps)
		c.scratchPosList = ps[:0]
		i = j
	}
}

func (ch *channel) recover(requeue, sync bool) error {
	if !requeue {
		return frame.Errorf(frame.NotImplemented, "requeue=false")
	}
	ch.mu.Lock()
	entries, _ := ch.unacked.take(0, true, ch.scratch[:0])
	ch.mu.Unlock()
	ch.settle(entries, true)
	ch.scratch = entries[:0]
	if sync {
		ch.c.sendMethod(ch.id, &frame.BasicRecoverOk{})
	}
	return nil
}
