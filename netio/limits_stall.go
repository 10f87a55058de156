package netio

import (
	"fmt"
	"time"
)

// DefaultWriteStallTimeout is how long a connection may have output
// waiting in the socket without a byte of it leaving before it is closed:
// a client that stops reading but still sends heartbeats would otherwise
// hold its consumers' deliveries (bounded by outputBudget) for ever.
const DefaultWriteStallTimeout = 60 * time.Second

// tickWriteStall runs on the ticker goroutine. Progress is the bytes that
// left for the socket: handed to the transport minus what it still holds.
func (c *Conn) tickWriteStall(now time.Time) {
	backlog := c.out.backlog.Load()
	sent := c.entry.BytesOut.Load() - uint64(backlog)
	if backlog <= 0 || sent != c.stallSent || c.stallSince == 0 {
		c.stallSent, c.stallSince = sent, now.UnixNano()
		return
	}
	if d := c.srv.cfg.WriteStallTimeout; now.Sub(time.Unix(0, c.stallSince)) > d {
		c.closeFor(fmt.Sprintf("client stopped reading: %d bytes waiting and none written for %v", backlog, d))
	}
}
