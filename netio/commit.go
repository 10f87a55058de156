package netio

import "github.com/warrenmq/warren/broker"

// afterCommit sends a declare or bind reply once the broker's Commit is
// durable, without blocking the loop: the connection reads no further
// frames until then, so replies keep their order and other connections on
// the loop carry on, their changes sharing the same fsync. A failed commit
// is a 541 connection error, as the change it reports was undone or may
// not have reached the disk. With noWait there is no reply to hold.
func (c *Conn) afterCommit(cm broker.Commit, chID uint16, noWait bool, reply func()) {
	if !cm.Pending() {
		if !noWait {
			reply()
		}
		return
	}
	if noWait {
		cm.Then(func(err error) {
			if err != nil {
				c.post(func() { c.commitDone(err, chID, nil) })
			}
		})
		return
	}
	c.holdInput = true
	cm.Then(func(err error) {
		c.post(func() {
			c.holdInput = false
			c.commitDone(err, chID, reply)
		})
	})
}

func (c *Conn) commitDone(err error, chID uint16, reply func()) {
	// Frames held back while waiting are still in the transport's buffer:
	// have the loop feed them again.
	c.work.Store(true)
	if c.state >= stateClosing {
		return // connection.close went out meanwhile: nothing else may follow it
	}
	if err != nil {
		c.fail(err, chID)
		return
	}
	if reply != nil {
		reply()
	}
}
