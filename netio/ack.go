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
	ch.settle(runs, requeue)
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
	if requeue {
		ch.requeueRuns(runs)
	} else {
		ch.ackRuns(runs)
	}
	return total
}

// requeueRuns hands the runs back to their queues whole.
func (ch *channel) requeueRuns(runs []settledRun) {
	c := ch.c
	for i := 0; i < len(runs); {
		q := runs[i].q
		ts := c.scratchRuns[:0]
		j := i
		for ; j < len(runs) && runs[j].q == q; j++ {
			ts = append(ts, runs[j].t)
		}
		q.RequeueRuns(ts...)
		c.scratchRuns = ts[:0]
		i = j
	}
}

// ackBatch bounds the tickets one Queue.Ack call takes: a multiple ack of
// a million deliveries is acked a batch at a time instead of being spelled
// out into a million tickets at once.
const ackBatch = 1024

func (ch *channel) ackRuns(runs []settledRun) {
	c := ch.c
	ts := c.scratchPosList[:0]
	var q *broker.Queue
	for i := range runs {
		if runs[i].q != q || len(ts) >= ackBatch {
			if len(ts) > 0 {
				q.Ack(ts...)
			}
			q, ts = runs[i].q, ts[:0]
		}
		r := runs[i].t
		for x := range r.Len() {
			if len(ts) >= ackBatch {
				q.Ack(ts...)
				ts = ts[:0]
			}
			ts = append(ts, r.At(x))
		}
	}
	if len(ts) > 0 {
		q.Ack(ts...)
	}
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
