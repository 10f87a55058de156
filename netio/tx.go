package netio

import (
	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// txPublish is a publish held until tx.commit; it owns copies of its bytes
// because the read buffer is gone by then.
type txPublish struct {
	m         broker.Message
	mandatory bool
}

type txAck struct {
	tag      uint64
	multiple bool
	nack     bool
	requeue  bool
}

func copyPublish(m *broker.Message, mandatory bool) txPublish {
	buf := make([]byte, 0, len(m.Exchange)+len(m.RoutingKey)+len(m.Props)+len(m.Body))
	cp := *m
	buf = append(buf, m.Exchange...)
	cp.Exchange = buf[:len(m.Exchange):len(m.Exchange)]
	buf = append(buf, m.RoutingKey...)
	cp.RoutingKey = buf[len(cp.Exchange):len(buf):len(buf)]
	start := len(buf)
	buf = append(buf, m.Props...)
	cp.Props = buf[start:len(buf):len(buf)]
	start = len(buf)
	buf = append(buf, m.Body...)
	cp.Body = buf[start:]
	return txPublish{m: cp, mandatory: mandatory}
}

// txAck records an ack inside a transaction; the tag must be outstanding now.
func (ch *channel) txAck(a txAck) error {
	ch.mu.Lock()
	ok := ch.unacked.has(a.tag, a.multiple)
	ch.mu.Unlock()
	if !ok {
		return unknownTag(a.tag)
	}
	ch.txAcks = append(ch.txAcks, a)
	ch.tallyTxAck(a)
	ch.noteTx()
	return nil
}

// txCommit is a tx.commit on its way: the outcome of its publishes, and
// then the wait for them to be safe. Commit-ok means what confirms mean,
// as in RabbitMQ (which confirms a transaction's publishes before
// commit-ok): every publish was stored and its commit reached the disk.
type txCommit struct {
	from, gen uint64          // the generations its records can have (Watermark.Lost)
	qs        []*broker.Queue // the queues its persistent publishes went to
	unstored  bool            // a queue could not store a publish
	waiting   bool            // commit-ok waits for the watermark to pass gen
}

// note records what became of one of the commit's publishes, stored in qs.
func (w *txCommit) note(res broker.PublishResult, qs []*broker.Queue) {
	w.unstored = w.unstored || res.Unstored > 0
	if res.CommitGen == 0 {
		return
	}
	w.gen = max(w.gen, res.CommitGen)
	for _, q := range qs {
		// Duplicates only cost a second look; most transactions publish
		// to one queue.
		if n := len(w.qs); n == 0 || w.qs[n-1] != q {
			w.qs = append(w.qs, q)
		}
	}
}

// errPartialTx is RabbitMQ's answer to a transaction a queue could not
// take (it closes the channel).
func errPartialTx() *frame.Error {
	return frame.Errorf(frame.PreconditionFailed, "partial tx completion").WithMethod(frame.IDTxCommit)
}

func (ch *channel) commit() error {
	if !ch.tx {
		return frame.Errorf(frame.PreconditionFailed, "channel is not transactional")
	}
	wm := ch.c.b.Watermark()
	w := &txCommit{from: wm.Committed() + 1}
	pubs, acks := ch.txPubs, ch.txAcks
	ch.txPubs, ch.txAcks = nil, nil
	ch.noteTx()
	ch.tx = false // apply for real below
	ch.txCommit = w
	defer func() { ch.tx = true }()
	for i := range pubs {
		if err := ch.publish(&pubs[i].m, pubs[i].mandatory); err != nil {
			ch.txCommit = nil
			return err
		}
	}
	for _, a := range acks {
		var err error
		if a.nack {
			err = ch.nack(a.tag, a.multiple, a.requeue)
		} else {
			err = ch.ack(a.tag, a.multiple)
		}
		if err != nil {
			ch.txCommit = nil
			return err
		}
	}
	if w.unstored {
		ch.txCommit = nil
		return errPartialTx()
	}
	if w.gen > 0 {
		// Subscribed before looking, so a move in between is not missed.
		ch.c.subscribeConfirms()
		if w.gen > wm.Committed() {
			w.waiting = true
			return nil
		}
	}
	ch.finishCommit()
	return nil
}

// finishCommit answers the commit once its publishes are safe (or lost).
func (ch *channel) finishCommit() {
	w := ch.txCommit
	ch.txCommit = nil
	if w.gen > 0 && lostIn(ch.c.b.Watermark(), w.qs, w.from, w.gen) {
		ch.channelError(errPartialTx())
		return
	}
	ch.c.sendMethod(ch.id, &frame.TxCommitOk{})
}

// settleCommits answers the commits whose publishes the watermark passed.
func (c *Conn) settleCommits(done uint64) {
	for _, ch := range c.channels.open {
		w := ch.txCommit
		switch {
		case w == nil || !w.waiting:
		case ch.closing:
			ch.txCommit = nil // the channel went meanwhile: nobody to answer
		case w.gen <= done:
			ch.finishCommit()
		}
	}
}

// errCommitPending: RabbitMQ refuses any method on a channel whose
// tx.commit has not been answered yet.
func errCommitPending() *frame.Error {
	return frame.Errorf(frame.ChannelError, "unexpected command while processing 'tx.commit'")
}
