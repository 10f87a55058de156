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
	runs, ok := ch.unacked.take(tag, multiple, ch.scratch[:0])
	ch.mu.Unlock()
	if !ok {
		return unknownTag(tag)
	}
	ch.entry.Acked.Add(uint64(ch.settle(runs, false)))
	ch.scratch = clearRuns(runs)
	return nil
}

func (ch *channel) nack(tag uint64, multiple, requeue bool) error {
	if ch.tx {
		return ch.txAck(txAck{tag: tag, multiple: multiple, nack: true, requeue: requeue})
	}
	ch.mu.Lock()
	runs, ok := ch.unacked.take(tag, multiple, ch.scratch[:0])
	ch.mu.Unlock()
	if !ok {
		return unknownTag(tag)
	}
	if err := ch.streamNackRefused(runs); err != nil { // stream_consumer.go
		return err
	}
	if requeue {
		ch.settle(runs, true)
	} else {
		ch.settleRejected(runs)
	}
	ch.scratch = clearRuns(runs)
	return nil
}

// clearRuns empties a scratch list of runs for reuse, dropping its
// pointers (queues, consumers) and a burst's capacity.
func clearRuns(rs []settledRun) []settledRun {
	if cap(rs) > keepUnacked {
		return nil
	}
	clear(rs)
	return rs[:0]
}

// settle gives the deliveries' credit back and acks or requeues them, one
// call per run of deliveries from the same queue. It returns how many
// deliveries it settled.
func (ch *channel) settle(runs []settledRun, requeue bool) int {
	total := ch.releaseRuns(runs)
	if requeue {
		ch.requeueRuns(runs)
	} else {
		ch.ackRuns(runs)
	}
	return total
}

// settleRejected is settle for a reject or nack without requeue: the
// queue dead letters them if it has a dead-letter exchange.
func (ch *channel) settleRejected(runs []settledRun) int {
	total := ch.releaseRuns(runs)
	ch.batchRuns(runs, (*broker.Queue).Reject)
	return total
}

// releaseRuns gives the runs' credit back and returns how many deliveries
// they hold.
func (ch *channel) releaseRuns(runs []settledRun) int {
	total, counted := 0, int32(0)
	for i := range runs {
		n := runs[i].t.Len()
		total += n
		if k := runs[i].k; k != nil {
			k.release(int32(n))
			counted += int32(n)
		}
	}
	ch.unackedN.Add(-counted)
	return total
}

// settleBatch bounds the tickets one Queue.Ack or Queue.Requeue call
// takes: a million deliveries settled at once (a multiple ack, a channel
// closing) go a batch at a time instead of being spelled out into a
// million tickets. Requeued in order, they join one run in the store
// (broker/requeued.go).
const settleBatch = 1024

func (ch *channel) ackRuns(runs []settledRun) {
	ch.batchRuns(runs, (*broker.Queue).Ack)
}

func (ch *channel) requeueRuns(runs []settledRun) {
	ch.batchRuns(runs, (*broker.Queue).Requeue)
}

// batchRuns calls give with the runs' tickets, per queue, settleBatch at a
// time.
func (ch *channel) batchRuns(runs []settledRun, give func(*broker.Queue, ...broker.Ticket)) {
	c := ch.c
	ts := c.scratchPosList[:0]
	var q *broker.Queue
	for i := range runs {
		if runs[i].q != q {
			if len(ts) > 0 {
				give(q, ts...)
			}
			q, ts = runs[i].q, ts[:0]
		}
		r := runs[i].t
		for x := range r.Len() {
			if len(ts) >= settleBatch {
				give(q, ts...)
				ts = ts[:0]
			}
			ts = append(ts, r.At(x))
		}
	}
	if len(ts) > 0 {
		give(q, ts...)
	}
	clear(ts)
	c.scratchPosList = ts[:0]
}

func (ch *channel) recover(requeue, sync bool) error {
	if !requeue {
		return frame.Errorf(frame.NotImplemented, "requeue=false")
	}
	ch.mu.Lock()
	runs, _ := ch.unacked.take(0, true, ch.scratch[:0])
	ch.mu.Unlock()
	ch.settle(runs, true)
	ch.scratch = clearRuns(runs)
	if sync {
		ch.c.sendMethod(ch.id, &frame.BasicRecoverOk{})
	}
	return nil
}
