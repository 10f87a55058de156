package netio

import (
	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// subscribeConfirms asks the broker's commit watermark to tell this
// connection when it moves, so waiting confirms can be sent.
func (c *Conn) subscribeConfirms() {
	if c.confirmSub != nil {
		return
	}
	c.confirmSub = c.b.Watermark().Subscribe(func(uint64) {
		c.work.Store(true)
		c.kick()
	})
}

// kick wakes the loop unless a flush is already on its way.
func (c *Conn) kick() {
	c.outMu.Lock()
	wake := !c.out.scheduled
	c.out.scheduled = true
	c.outMu.Unlock()
	if wake {
		c.t.Wake()
	}
}

// settleConfirms moves confirm windows past publishes the watermark has
// committed, and sends the nacks that waited behind them or whose commit
// failed.
func (c *Conn) settleConfirms() {
	if c.confirmSub == nil {
		return
	}
	wm := c.b.Watermark()
	done := wm.Committed()
	c.settleCommits(done)
	for _, ch := range c.channels.open {
		if !ch.confirm || len(ch.pendingSync) == 0 {
			continue
		}
		i, qi := 0, 0
		for i < len(ch.pendingSync) && ch.pendingSync[i].gen <= done {
			w := ch.pendingSync[i]
			qs := ch.pendingQs[qi : qi+int(w.nq)]
			qi += int(w.nq)
			if w.nack || lostIn(wm, qs, w.from, w.gen) {
				c.sendNack(ch, w.seq)
			}
			i++
		}
		if i == 0 {
			continue
		}
		n := copy(ch.pendingSync, ch.pendingSync[i:])
		ch.pendingSync = ch.pendingSync[:n]
		nq := copy(ch.pendingQs, ch.pendingQs[qi:])
		clear(ch.pendingQs[nq:])
		ch.pendingQs = ch.pendingQs[:nq]
		if n == 0 {
			ch.confirmedUpTo = ch.pubSeq
		} else {
			ch.confirmedUpTo = max(ch.confirmedUpTo, ch.pendingSync[0].seq-1)
		}
	}
}

// waitSync holds publish seq's confirm until the watermark passes gen; qs
// are the queues it was stored in, whose commits decide ack or nack.
func (ch *channel) waitSync(seq, from, gen uint64, qs []*broker.Queue) {
	ch.pendingSync = append(ch.pendingSync, syncWait{seq: seq, from: from, gen: gen, nq: uint32(len(qs))})
	ch.pendingQs = append(ch.pendingQs, qs...)
}

// lostIn reports whether a publish stored in qs, with records of
// generations [from, gen], lost one of them: only a failure in a file of
// one of its own queues counts, not another queue's in the same round.
func lostIn(wm broker.Watermark, qs []*broker.Queue, from, gen uint64) bool {
	if !wm.Lost(from, gen) {
		return false
	}
	for _, q := range qs {
		if wm.LostIn(q, from, gen) {
			return true
		}
	}
	return false
}

// nackPublish answers publish seq with basic.nack: it could not be stored.
// Confirms go out in publish order, so a nack behind publishes still
// waiting for the watermark waits with them (at the last one's generation).
func (ch *channel) nackPublish(seq uint64) {
	if n := len(ch.pendingSync); n > 0 {
		ch.pendingSync = append(ch.pendingSync, syncWait{seq: seq, gen: ch.pendingSync[n-1].gen, nack: true})
		return
	}
	ch.c.sendNack(ch, seq)
}

// sendNack acks what is confirmed below seq, then nacks seq alone: a
// multiple ack must not cover a publish that failed.
func (c *Conn) sendNack(ch *channel, seq uint64) {
	ch.confirmedUpTo = max(ch.confirmedUpTo, seq-1)
	c.flushChannelConfirms(ch)
	chID := ch.id
	c.appendLoop(func(b []byte) []byte { return frame.AppendBasicNack(b, chID, seq, false, false) })
	ch.entry.Nacked.Add(1)
	ch.confirmedUpTo, ch.ackedUpTo = seq, seq
}

// flushConfirms sends one basic.ack (multiple when it covers several) per
// channel whose confirmed window moved.
func (c *Conn) flushConfirms() {
	for _, ch := range c.channels.open {
		c.flushChannelConfirms(ch)
	}
}

func (c *Conn) flushChannelConfirms(ch *channel) {
	if !ch.confirm || ch.confirmedUpTo <= ch.ackedUpTo {
		return
	}
	upTo, multiple := ch.confirmedUpTo, ch.confirmedUpTo-ch.ackedUpTo > 1
	ch.entry.Confirmed.Add(upTo - ch.ackedUpTo)
	ch.ackedUpTo = upTo
	chID := ch.id
	c.appendLoop(func(b []byte) []byte { return frame.AppendBasicAck(b, chID, upTo, multiple) })
}
