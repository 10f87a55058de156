package netio

import "github.com/warrenmq/warren/frame"

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
// committed.
func (c *Conn) settleConfirms() {
	if c.confirmSub == nil {
		return
	}
	done := c.b.Watermark().Committed()
	for _, ch := range c.channels.open {
		if !ch.confirm || len(ch.pendingSync) == 0 {
			continue
		}
		i := 0
		for i < len(ch.pendingSync) && ch.pendingSync[i].gen <= done {
			i++
		}
		if i == 0 {
			continue
		}
		n := copy(ch.pendingSync, ch.pendingSync[i:])
		ch.pendingSync = ch.pendingSync[:n]
		if n == 0 {
			ch.confirmedUpTo = ch.pubSeq
		} else {
			ch.confirmedUpTo = ch.pendingSync[0].seq - 1
		}
	}
}

// flushConfirms sends one basic.ack (multiple when it covers several) per
// channel whose confirmed window moved.
func (c *Conn) flushConfirms() {
	for _, ch := range c.channels.open {
		if !ch.confirm || ch.confirmedUpTo <= ch.ackedUpTo {
			continue
		}
		upTo, multiple := ch.confirmedUpTo, ch.confirmedUpTo-ch.ackedUpTo > 1
		ch.ackedUpTo = upTo
		chID := ch.id
		c.appendLoop(func(b []byte) []byte { return frame.AppendBasicAck(b, chID, upTo, multiple) })
	}
}
